import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Attributes } from '@opentelemetry/api';
import type { ResourceDetectorName } from '../config/index.ts';

/** The environment variables cloud platforms set; read by config, never probed over the network. */
export const CLOUD_HINT_VARIABLES = [
  'K_SERVICE',
  'K_REVISION',
  'K_CONFIGURATION',
  'CLOUD_RUN_JOB',
  'CLOUD_RUN_EXECUTION',
  'CLOUD_RUN_TASK_INDEX',
  'GOOGLE_CLOUD_PROJECT',
  'GOOGLE_CLOUD_REGION',
  'FUNCTION_TARGET',
  'GAE_SERVICE',
  'GAE_VERSION',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_REGION',
  'ECS_CONTAINER_METADATA_URI_V4',
  'WEBSITE_SITE_NAME',
  'WEBSITE_INSTANCE_ID',
  'REGION_NAME',
] as const;
export type CloudHints = Readonly<Partial<Record<(typeof CLOUD_HINT_VARIABLES)[number], string>>>;

type Detector = (hints: CloudHints) => Attributes;

/**
 * Synchronous, local-only detectors. Cloud detectors look at the variables the
 * platform sets and return nothing elsewhere: no metadata-server probe, so no
 * start-up delay and no traffic to 169.254.169.254 on a laptop or in CI.
 */
const DETECTORS: Readonly<Record<ResourceDetectorName, Detector>> = {
  env: () => ({}), // OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME: applied last, by the caller.
  host: () => ({ 'host.name': os.hostname(), 'host.arch': normaliseArch(process.arch) }),
  os: () => ({ 'os.type': normaliseOsType(process.platform), 'os.version': os.release() }),
  process: () => ({
    'process.pid': process.pid,
    'process.executable.name': process.title,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    'process.runtime.description': 'Node.js',
  }),
  serviceinstance: () => ({ 'service.instance.id': randomUUID() }),
  container: detectContainer,
  gcp: detectGoogleCloud,
  aws: detectAws,
  azure: detectAzure,
};

export function detectResourceAttributes(names: readonly ResourceDetectorName[], hints: CloudHints): Attributes {
  const attributes: Attributes = {};
  for (const name of names) {
    try {
      Object.assign(attributes, DETECTORS[name](hints));
    } catch {
      // A detector that cannot read its source contributes nothing.
    }
  }
  return attributes;
}

function detectGoogleCloud(hints: CloudHints): Attributes {
  const common = { 'cloud.provider': 'gcp', ...(hints.GOOGLE_CLOUD_PROJECT ? { 'cloud.account.id': hints.GOOGLE_CLOUD_PROJECT } : {}), ...(hints.GOOGLE_CLOUD_REGION ? { 'cloud.region': hints.GOOGLE_CLOUD_REGION } : {}) };
  if (hints.K_SERVICE !== undefined && hints.FUNCTION_TARGET === undefined) {
    return {
      ...common,
      'cloud.platform': 'gcp_cloud_run',
      'faas.name': hints.K_SERVICE,
      ...(hints.K_REVISION ? { 'faas.version': hints.K_REVISION } : {}),
      ...(hints.K_CONFIGURATION ? { 'gcp.cloud_run.configuration': hints.K_CONFIGURATION } : {}),
    };
  }
  if (hints.CLOUD_RUN_JOB !== undefined) {
    return {
      ...common,
      'cloud.platform': 'gcp_cloud_run',
      'faas.name': hints.CLOUD_RUN_JOB,
      ...(hints.CLOUD_RUN_EXECUTION ? { 'gcp.cloud_run.job.execution': hints.CLOUD_RUN_EXECUTION } : {}),
      ...(hints.CLOUD_RUN_TASK_INDEX ? { 'gcp.cloud_run.job.task_index': Number(hints.CLOUD_RUN_TASK_INDEX) } : {}),
    };
  }
  if (hints.FUNCTION_TARGET !== undefined) {
    return { ...common, 'cloud.platform': 'gcp_cloud_functions', 'faas.name': hints.K_SERVICE ?? hints.FUNCTION_TARGET, ...(hints.K_REVISION ? { 'faas.version': hints.K_REVISION } : {}) };
  }
  if (hints.GAE_SERVICE !== undefined) {
    return { ...common, 'cloud.platform': 'gcp_app_engine', 'faas.name': hints.GAE_SERVICE, ...(hints.GAE_VERSION ? { 'faas.version': hints.GAE_VERSION } : {}) };
  }
  return {};
}

function detectAws(hints: CloudHints): Attributes {
  if (hints.AWS_LAMBDA_FUNCTION_NAME !== undefined) {
    return {
      'cloud.provider': 'aws',
      'cloud.platform': 'aws_lambda',
      'faas.name': hints.AWS_LAMBDA_FUNCTION_NAME,
      ...(hints.AWS_LAMBDA_FUNCTION_VERSION ? { 'faas.version': hints.AWS_LAMBDA_FUNCTION_VERSION } : {}),
      ...(hints.AWS_REGION ? { 'cloud.region': hints.AWS_REGION } : {}),
    };
  }
  if (hints.ECS_CONTAINER_METADATA_URI_V4 !== undefined) {
    return { 'cloud.provider': 'aws', 'cloud.platform': 'aws_ecs', ...(hints.AWS_REGION ? { 'cloud.region': hints.AWS_REGION } : {}) };
  }
  return {};
}

function detectAzure(hints: CloudHints): Attributes {
  if (hints.WEBSITE_SITE_NAME === undefined) return {};
  return {
    'cloud.provider': 'azure',
    'cloud.platform': 'azure_app_service',
    'service.name': hints.WEBSITE_SITE_NAME,
    ...(hints.REGION_NAME ? { 'cloud.region': hints.REGION_NAME } : {}),
    ...(hints.WEBSITE_INSTANCE_ID ? { 'host.id': hints.WEBSITE_INSTANCE_ID } : {}),
  };
}

const CONTAINER_ID = /[0-9a-f]{64}/;

/** cgroup v1 names the container in /proc/self/cgroup; v2 in mountinfo. Local files only. */
function detectContainer(): Attributes {
  for (const file of ['/proc/self/cgroup', '/proc/self/mountinfo']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (file.endsWith('mountinfo') && !line.includes('/containers/')) continue;
      const match = CONTAINER_ID.exec(line);
      if (match !== null) return { 'container.id': match[0] };
    }
  }
  return {};
}

function normaliseArch(arch: string): string {
  const map: Record<string, string> = { x64: 'amd64', arm: 'arm32', ia32: 'x86', ppc: 'ppc32' };
  return map[arch] ?? arch;
}

function normaliseOsType(platform: string): string {
  const map: Record<string, string> = { sunos: 'solaris', win32: 'windows' };
  return map[platform] ?? platform;
}
