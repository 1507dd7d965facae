import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { quote, readChoice, readNumber, readRaw, type Warn } from './parse.ts';

type Env = Readonly<Record<string, string | undefined>>;

export const OTLP_PROTOCOLS = ['grpc', 'http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];
export const OTLP_COMPRESSIONS = ['gzip', 'none'] as const;
export type OtlpCompression = (typeof OTLP_COMPRESSIONS)[number];

/** The signals with OTEL_EXPORTER_OTLP_<SIGNAL>_* variables of their own. */
export type OtlpSignal = 'TRACES' | 'METRICS' | 'LOGS';

/** OTLP/HTTP path appended to the generic endpoint (OTLP exporter spec). */
const HTTP_PATHS: Readonly<Record<OtlpSignal, string>> = { TRACES: 'v1/traces', METRICS: 'v1/metrics', LOGS: 'v1/logs' };

export interface OtlpConfig {
  readonly protocol: OtlpProtocol;
  /** Full URL the exporter talks to (for HTTP protocols it includes /v1/traces, /v1/metrics or /v1/logs). */
  readonly url: string;
  /** Never printed: these are API keys more often than not. */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly compression: OtlpCompression;
  readonly certificateFile?: string;
  readonly clientKeyFile?: string;
  readonly clientCertificateFile?: string;
  readonly insecure?: boolean;
}

/** The signal-specific variable wins over the generic one (OTLP exporter spec). */
function pickFor(env: Env, signal: OtlpSignal, suffix: string): { name: string; value: string | undefined } {
  const specific = `OTEL_EXPORTER_OTLP_${signal}_${suffix}`;
  if (readRaw(env, specific) !== undefined) return { name: specific, value: readRaw(env, specific) };
  const generic = `OTEL_EXPORTER_OTLP_${suffix}`;
  return { name: generic, value: readRaw(env, generic) };
}

export function readOtlpConfig(env: Env, warn: Warn, signal: OtlpSignal = 'TRACES'): OtlpConfig {
  const pick = (suffix: string) => pickFor(env, signal, suffix);
  const protocolVar = pick('PROTOCOL').name;
  const protocol = readChoice(env, protocolVar, OTLP_PROTOCOLS, 'grpc', warn);
  const compressionVar = pick('COMPRESSION').name;
  const compression = readChoice(env, compressionVar, OTLP_COMPRESSIONS, 'gzip', warn);
  const timeoutVar = pick('TIMEOUT').name;
  const timeoutMs = readNumber(env, timeoutVar, 10_000, warn, { min: 1, max: 600_000 });
  const url = readEndpoint(env, protocol, signal, warn);
  const headers = { ...parseOtlpHeaders(env, 'OTEL_EXPORTER_OTLP_HEADERS', warn), ...parseOtlpHeaders(env, `OTEL_EXPORTER_OTLP_${signal}_HEADERS`, warn) };
  const insecureVar = pick('INSECURE');
  let insecure: boolean | undefined;
  if (insecureVar.value !== undefined) {
    const lower = insecureVar.value.toLowerCase();
    if (lower === 'true' || lower === 'false') insecure = lower === 'true';
    else warn(`${insecureVar.name}=${quote(insecureVar.value)} is not true or false; ignored`);
  }
  const certificateFile = readableFile(pick('CERTIFICATE'), warn);
  const clientKeyFile = readableFile(pick('CLIENT_KEY'), warn);
  const clientCertificateFile = readableFile(pick('CLIENT_CERTIFICATE'), warn);
  if ((clientKeyFile === undefined) !== (clientCertificateFile === undefined)) {
    warn(`${pick('CLIENT_KEY').name} and ${pick('CLIENT_CERTIFICATE').name} must be set together for mTLS; client authentication is off`);
  }
  warnIfUnencrypted(url, warn);
  return Object.freeze({
    protocol,
    url,
    headers: Object.freeze(headers),
    timeoutMs,
    compression,
    certificateFile,
    clientKeyFile: clientCertificateFile === undefined ? undefined : clientKeyFile,
    clientCertificateFile: clientKeyFile === undefined ? undefined : clientCertificateFile,
    insecure,
  });
}

/**
 * The gRPC exporter reads these files itself, at the first export, and says only
 * "Failed to read root certificate file": name the variable and the path now.
 */
function readableFile(variable: { name: string; value: string | undefined }, warn: Warn): string | undefined {
  if (variable.value === undefined) return undefined;
  try {
    accessSync(path.resolve(variable.value), constants.R_OK);
  } catch (error) {
    warn(`${variable.name}=${quote(variable.value)} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); TLS goes on without it`);
  }
  return variable.value;
}

const DEFAULT_GRPC_URL = 'http://localhost:4317';
const DEFAULT_HTTP_BASE = 'http://localhost:4318';
function readEndpoint(env: Env, protocol: OtlpProtocol, signal: OtlpSignal, warn: Warn): string {
  const isGrpc = protocol === 'grpc';
  const signalPath = HTTP_PATHS[signal];
  const fallback = isGrpc ? DEFAULT_GRPC_URL : `${DEFAULT_HTTP_BASE}/${signalPath}`;
  const specificName = `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`;
  const specific = readRaw(env, specificName);
  if (specific !== undefined) {
    return validUrl(specific, specificName, warn) ?? fallback;
  }
  const generic = readRaw(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (generic === undefined) return fallback;
  const base = validUrl(generic, 'OTEL_EXPORTER_OTLP_ENDPOINT', warn);
  if (base === undefined) return fallback;
  // Spec: for OTLP/HTTP the generic endpoint is a base URL and the signal path is appended.
  return isGrpc ? base : `${base.endsWith('/') ? base : `${base}/`}${signalPath}`;
}

function validUrl(value: string, name: string, warn: Warn): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    warn(`${name}=${quote(value)} is not a URL (expected e.g. http://collector:4317); using the default`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    warn(`${name}=${quote(value)} must start with http:// or https://; using the default`);
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    // Credentials in the URL would end up in logs; headers are the place for them.
    warn(`${name} contains credentials, which are not supported (use OTEL_EXPORTER_OTLP_HEADERS); using the default`);
    return undefined;
  }
  return value;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function warnIfUnencrypted(url: string, warn: Warn): void {
  const parsed = new URL(url);
  if (parsed.protocol === 'http:' && !LOOPBACK_HOSTS.has(parsed.hostname) && !parsed.hostname.startsWith('127.')) {
    warn(`exporting to ${parsed.protocol}//${parsed.host} without TLS: telemetry and headers cross the network unencrypted`);
  }
}

/**
 * `key1=value1,key2=value2` with percent-encoded values (W3C baggage-like format
 * the spec uses). A malformed entry is skipped and named by its key only: the
 * value is likely a secret.
 */
export function parseOtlpHeaders(env: Env, name: string, warn: Warn): Record<string, string> {
  const raw = readRaw(env, name);
  const headers: Record<string, string> = {};
  if (raw === undefined) return headers;
  raw.split(',').forEach((entry, index) => {
    if (entry.trim() === '') return;
    const separator = entry.indexOf('=');
    const key = (separator === -1 ? entry : entry.slice(0, separator)).trim().toLowerCase();
    if (separator === -1 || !/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(key)) {
      const label = /^[!#$%&'*+\-.^_`|~0-9a-z]{1,64}$/.test(key) ? `"${key}"` : `#${index + 1}`;
      warn(`${name}: entry ${label} is not key=value with a valid header name; skipped`);
      return;
    }
    let value: string;
    try {
      value = decodeURIComponent(entry.slice(separator + 1).trim());
    } catch {
      warn(`${name}: the value of "${key}" is not valid percent-encoding; skipped`);
      return;
    }
    if (/[\r\n\0]/.test(value)) {
      warn(`${name}: the value of "${key}" contains control characters; skipped`);
      return;
    }
    headers[key] = value;
  });
  return headers;
}
