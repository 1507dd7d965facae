import type { TextMapPropagator } from '@opentelemetry/api';
import { W3CBaggagePropagator } from '@opentelemetry/core';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { OTTracePropagator } from '@opentelemetry/propagator-ot-trace';
import { CloudTracePropagator } from './cloud-trace.ts';
import { FirstMatchPropagator, type PropagatorEntry } from './first-match-propagator.ts';
import { JaegerPropagator } from './jaeger.ts';
import { KonturPropagator } from './kontur.ts';
import { TraceContextPropagator } from './tracecontext.ts';
import { VostokPropagator } from './vostok.ts';

/** The OTEL_PROPAGATORS values we accept. */
export const PROPAGATOR_NAMES = [
  'tracecontext',
  'baggage',
  'b3',
  'b3multi',
  'jaeger',
  'xray',
  'ottrace',
  'kontur',
  'vostok',
  'cloudtrace',
  'none',
] as const;
export type PropagatorName = (typeof PROPAGATOR_NAMES)[number];

/**
 * Other spellings users write for a propagator. No prototype, so a lookup of
 * `constructor` or `__proto__` finds nothing.
 */
export const PROPAGATOR_ALIASES: Readonly<Record<string, PropagatorName>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, PropagatorName>, {
    xcloud: 'cloudtrace',
    gcp: 'cloudtrace',
  }),
);

interface PropagatorFactory {
  readonly create: () => TextMapPropagator;
  readonly carriesTraceContext: boolean;
}

const FACTORIES: Readonly<Record<Exclude<PropagatorName, 'none'>, PropagatorFactory>> = {
  tracecontext: { create: () => new TraceContextPropagator(), carriesTraceContext: true },
  baggage: { create: () => new W3CBaggagePropagator(), carriesTraceContext: false },
  b3: { create: () => new B3Propagator(), carriesTraceContext: true },
  b3multi: { create: () => new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }), carriesTraceContext: true },
  jaeger: { create: () => new JaegerPropagator(), carriesTraceContext: true },
  xray: { create: () => new AWSXRayPropagator(), carriesTraceContext: true },
  ottrace: { create: () => new OTTracePropagator(), carriesTraceContext: true },
  kontur: { create: () => new KonturPropagator(), carriesTraceContext: true },
  vostok: { create: () => new VostokPropagator(), carriesTraceContext: true },
  cloudtrace: { create: () => new CloudTracePropagator(), carriesTraceContext: true },
};

/**
 * The propagator for OTEL_PROPAGATORS: the named formats combined by
 * FirstMatchPropagator (inject writes them all; extract keeps the first
 * trace-context format that matches, in list order, and always applies
 * baggage). `none` anywhere, as in upstream's SDK, or an empty list gives a
 * propagator that does nothing. Names are expected validated by config;
 * unknown ones are skipped, duplicates count once.
 */
export function createPropagator(names: readonly PropagatorName[]): TextMapPropagator {
  const resolved = resolveNames(names);
  if (resolved.includes('none')) return new FirstMatchPropagator([]);
  const entries: PropagatorEntry[] = [];
  for (const name of resolved) {
    if (name === 'none') continue;
    const factory = FACTORIES[name];
    entries.push({ name, propagator: factory.create(), carriesTraceContext: factory.carriesTraceContext });
  }
  return new FirstMatchPropagator(entries);
}

function resolveNames(names: readonly unknown[]): PropagatorName[] {
  const resolved: PropagatorName[] = [];
  if (!Array.isArray(names)) return resolved;
  for (const raw of names) {
    if (typeof raw !== 'string') continue;
    const name = raw.trim().toLowerCase();
    const known = (PROPAGATOR_NAMES as readonly string[]).includes(name) ? (name as PropagatorName) : PROPAGATOR_ALIASES[name];
    if (known !== undefined && !resolved.includes(known)) resolved.push(known);
  }
  return resolved;
}
