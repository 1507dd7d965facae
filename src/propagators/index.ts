import Module from 'node:module';
import path from 'node:path';
import type { TextMapPropagator } from '@opentelemetry/api';
import { W3CBaggagePropagator } from '@opentelemetry/core';
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

/**
 * b3, xray and ottrace come from upstream packages (a dozen files at start-up):
 * loaded only when OTEL_PROPAGATORS names them. dist/ is CommonJS; the unit
 * tests load this file as an ES module, which has no `require` of its own.
 */
function loadUpstream<T>(packageName: string): T {
  const load = typeof require === 'function' ? require : Module.createRequire(path.join(process.cwd(), 'noop.js'));
  return load(packageName) as T;
}
const b3 = () => loadUpstream<typeof import('@opentelemetry/propagator-b3')>('@opentelemetry/propagator-b3');

const FACTORIES: Readonly<Record<Exclude<PropagatorName, 'none'>, PropagatorFactory>> = {
  tracecontext: { create: () => new TraceContextPropagator(), carriesTraceContext: true },
  baggage: { create: () => new W3CBaggagePropagator(), carriesTraceContext: false },
  b3: { create: () => new (b3().B3Propagator)(), carriesTraceContext: true },
  b3multi: { create: () => new (b3().B3Propagator)({ injectEncoding: b3().B3InjectEncoding.MULTI_HEADER }), carriesTraceContext: true },
  jaeger: { create: () => new JaegerPropagator(), carriesTraceContext: true },
  xray: { create: () => new (loadUpstream<typeof import('@opentelemetry/propagator-aws-xray')>('@opentelemetry/propagator-aws-xray').AWSXRayPropagator)(), carriesTraceContext: true },
  ottrace: { create: () => new (loadUpstream<typeof import('@opentelemetry/propagator-ot-trace')>('@opentelemetry/propagator-ot-trace').OTTracePropagator)(), carriesTraceContext: true },
  kontur: { create: () => new KonturPropagator(), carriesTraceContext: true },
  vostok: { create: () => new VostokPropagator(), carriesTraceContext: true },
  cloudtrace: { create: () => new CloudTracePropagator(), carriesTraceContext: true },
};

/**
 * One format's propagator on its own, without the containment of
 * FirstMatchPropagator: what createPropagator combines, and what the fuzz
 * test feeds directly so that a throw inside a format is seen, not swallowed.
 */
export function createFormatPropagator(name: Exclude<PropagatorName, 'none'>): TextMapPropagator {
  return FACTORIES[name].create();
}

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
    entries.push({ name, propagator: createFormatPropagator(name), carriesTraceContext: FACTORIES[name].carriesTraceContext });
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
