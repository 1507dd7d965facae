import { existsSync } from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import type { Meter, MeterProvider } from '@opentelemetry/api';

/** The collectors of @opentelemetry/instrumentation-runtime-node, by the file each lives in. */
const COLLECTORS: Readonly<Record<string, string>> = {
  EventLoopUtilizationCollector: 'eventLoopUtilizationCollector.cjs',
  EventLoopTimeCollector: 'eventLoopTimeCollector.cjs',
  EventLoopDelayCollector: 'eventLoopDelayCollector.cjs',
  GCCollector: 'gcCollector.cjs',
  HeapSpacesSizeAndUsedCollector: 'heapSpacesSizeAndUsedCollector.cjs',
  ActiveResourcesCollector: 'activeResourcesCollector.cjs',
};

interface Collector {
  enable(): void;
  updateMetricInstruments(meter: Meter): void;
}

/** Upstream's default: the event-loop delay histogram samples every 10 ms. */
const MONITORING_PRECISION_MS = 10;

/**
 * Node runtime metrics (event-loop delay, utilization and time, heap spaces,
 * GC durations, active resources) from instrumentation-runtime-node's own
 * collectors. Its RuntimeNodeInstrumentation class would do the same but
 * extends InstrumentationBase, which loads a second copy of
 * @opentelemetry/instrumentation, require-in-the-middle and debug (about 25
 * more files at every start) for a module it never patches. The collector
 * files are taken from the installed package, whose version is pinned
 * (test/unit/metrics/runtime.test.ts checks they are all there).
 */
export function startRuntimeMetrics(provider: MeterProvider): number {
  // `require` is there when built (CommonJS); the unit tests run this file as an ES module.
  const load = typeof require === 'function' ? require : Module.createRequire(path.join(process.cwd(), 'noop.js'));
  const entry = load.resolve('@opentelemetry/instrumentation-runtime-node');
  const directory = path.join(path.dirname(entry), 'metrics');
  const meter = provider.getMeter('@opentelemetry/instrumentation-runtime-node');
  const files = Object.entries(COLLECTORS).map(([exportName, file]) => [exportName, path.join(directory, file)] as const);
  if (!files.every(([, file]) => existsSync(file))) {
    // Repackaged as one file (the Kubernetes image bundles each package): its public class does the same.
    const { RuntimeNodeInstrumentation } = load(entry) as typeof import('@opentelemetry/instrumentation-runtime-node');
    new RuntimeNodeInstrumentation().setMeterProvider(provider);
    return files.length;
  }
  let started = 0;
  for (const [exportName, file] of files) {
    const Class = (load(file) as Record<string, new (config: Record<string, unknown>) => Collector>)[exportName];
    if (Class === undefined) throw new Error(`${file} has no ${exportName}`);
    const collector = new Class({ enabled: true, monitoringPrecision: MONITORING_PRECISION_MS });
    collector.enable();
    collector.updateMetricInstruments(meter);
    started++;
  }
  return started;
}
