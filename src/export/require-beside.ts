import { createRequire } from 'node:module';

/** A require() that resolves as the named package does: the transport and encoder versions its exporter uses. */
export function requireBeside(exporterPackage: string): NodeJS.Require {
  return createRequire(require.resolve(exporterPackage));
}

/** Upstream's OTLP serializers, in the version the named exporter encodes with (resolved, not loaded: the exporter itself never loads). */
export function transformerOf(exporterPackage: string): typeof import('@opentelemetry/otlp-transformer') {
  return requireBeside(exporterPackage)('@opentelemetry/otlp-transformer') as typeof import('@opentelemetry/otlp-transformer');
}
