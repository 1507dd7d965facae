import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { Config } from '../config/index.ts';
import { detectResourceAttributes } from './detectors.ts';

const SDK_ATTRIBUTES = {
  'telemetry.sdk.name': 'opentelemetry',
  'telemetry.sdk.language': 'nodejs',
  'telemetry.distro.name': '@acme/otel-register',
};

/**
 * Precedence, lowest first: SDK facts, detectors, OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_SERVICE_NAME (the spec's order). The variables apply whatever
 * OTEL_NODE_RESOURCE_DETECTORS says: naming the service is not detection.
 */
export function buildResource(config: Config, distroVersion: string): Resource {
  const serviceName = config.serviceName ?? config.resourceAttributes['service.name'];
  return resourceFromAttributes({
    'service.name': `unknown_service:${process.title}`,
    ...SDK_ATTRIBUTES,
    'telemetry.distro.version': distroVersion,
    ...detectResourceAttributes(config.resourceDetectors, config.cloudHints),
    ...config.resourceAttributes,
    ...(serviceName !== undefined ? { 'service.name': serviceName } : {}),
  });
}
