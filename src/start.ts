// First: everything imported after it is compiled through Node's compile cache.
import './compile-cache.ts';
import Module from 'node:module';
import { context, propagation, trace } from '@opentelemetry/api';
import { EmitterBindingContextManager } from './context-manager.ts';
import { shareBundledPackages } from './bundled-packages.ts';
import { readConfig, type Config } from './config/index.ts';
import { installDiagLogger, variablesNamedIn } from './diag-logger.ts';
import { createSpanPipeline } from './export/index.ts';
import { createMetricsPipeline } from './metrics/index.ts';
import { RecordHttpSpansSampler } from './metrics/record-http-sampler.ts';
import { lambdaHandlerFilePattern } from './instrumentations/aws-lambda.ts';
import { createConfigFor } from './instrumentations/configs.ts';
import { LazyInstrumentationLoader } from './instrumentations/lazy-loader.ts';
import { registerWithParentlessRequireGuard } from './instrumentations/parentless-require-guard.ts';
import { SqlStatementSanitizingProcessor } from './instrumentations/sql-statement-processor.ts';
import { INSTRUMENTATIONS } from './instrumentations/table.ts';
import { installExitFlush } from './lifecycle/exit-flush.ts';
import { EndedSpanCounter, installShutdownHandlers, type Flushable } from './lifecycle/shutdown.ts';
import { createLogsPipeline } from './logs/index.ts';
import { printLine, registerSecrets } from './logging.ts';
import { createPropagator } from './propagators/index.ts';
import { PooledRandomIdGenerator } from './pooled-random-id-generator.ts';
import { RandomTraceIdFlagTracerProvider } from './random-trace-id-flag.ts';
import { buildResource } from './resource/index.ts';
import { createSampler } from './sampler.ts';

/**
 * The one place that wires config -> SDK -> hooks -> shutdown. Anything that
 * goes wrong here leaves the app running untraced, with one line saying why.
 */
export function start(env: Readonly<Record<string, string | undefined>> = process.env): void {
  try {
    shareBundledPackages();
    const warnings: string[] = [];
    const config = readConfig(env, (line) => {
      warnings.push(line);
      printLine(line);
    });
    registerSecrets([...Object.values(config.otlp.headers), ...Object.values(config.metrics.otlp.headers), ...Object.values(config.logs.otlp.headers)]);
    installDiagLogger(config.logLevel, variablesNamedIn(warnings));
    const counter = new EndedSpanCounter();
    const resource = buildResource(config, readOwnVersion());
    // Before the instrumentations load: they take the global MeterProvider when created.
    const metricsPipeline = config.metrics.exporters.length > 0 ? createMetricsPipeline(config, resource) : undefined;
    // The last metric collection leaves with the OTLP exit flush of the spans.
    const pipeline = createSpanPipeline(config, metricsPipeline?.exitMetrics);
    // Before the instrumentations load: the log libraries' taps hand their records to it.
    // A log record counts as new work for the flush at beforeExit, as an ended span does.
    const logsPipeline = config.logs.exporters.length > 0 ? createLogsPipeline(config, resource, () => counter.ended++) : undefined;
    // Carries the W3C random-trace-id flag, which the SDK's own provider drops.
    const provider = new RandomTraceIdFlagTracerProvider({
      resource,
      sampler: metricsPipeline === undefined ? createSampler(config.sampler, config.samplerRatio) : new RecordHttpSpansSampler(createSampler(config.sampler, config.samplerRatio)),
      // Cheaper than the SDK's Math.random() per 4 bytes, and from the CSPRNG.
      idGenerator: new PooledRandomIdGenerator(),
      spanLimits: { ...config.spanLimits },
      // The sanitizer first: it must rewrite statements before any processor sees the span.
      spanProcessors: [new SqlStatementSanitizingProcessor(), counter, ...(metricsPipeline === undefined ? [] : [metricsPipeline.spanProcessor]), ...pipeline.processors],
    });
    context.setGlobalContextManager(new EmitterBindingContextManager().enable());
    propagation.setGlobalPropagator(createPropagator(config.propagators));
    trace.setGlobalTracerProvider(provider);
    installInstrumentations(config);
    installShutdownHandlers(allSignals(provider, metricsPipeline?.provider, logsPipeline?.provider), counter, config.shutdownTimeoutMs);
    installExitFlush([...pipeline.exitFlushers, ...(logsPipeline?.exitFlushers ?? [])]);
  } catch (error) {
    printLine(`tracing is off for this process: ${(error as Error).message}`);
  }
}

/**
 * SIGTERM, SIGINT and beforeExit flush spans, then the last metric collection
 * and the queued log records together, within the one deadline. Spans first:
 * an app that exits on its own shortly after SIGTERM must not lose them to the
 * other exporters' first load; what those flushes do not deliver by then, the
 * exit flush still sends.
 */
function allSignals(traces: Flushable, metrics: Flushable | undefined, logs: Flushable | undefined): Flushable {
  const settle = (work: () => Promise<void>) => work().catch(() => {});
  const others = (shutdown: boolean) =>
    Promise.all([
      // Metrics are flushed, not shut down: an instrumentation loaded after this (a
      // module first required during the shutdown) would get a warning from a shut-down MeterProvider.
      metrics === undefined ? undefined : settle(() => metrics.forceFlush()),
      logs === undefined ? undefined : settle(() => (shutdown ? logs.shutdown() : logs.forceFlush())),
    ]);
  return {
    forceFlush: async () => {
      await settle(() => traces.forceFlush());
      await others(false);
    },
    shutdown: async () => {
      await settle(() => traces.shutdown());
      await others(true);
    },
  };
}

function installInstrumentations(config: Config): void {
  const entries = INSTRUMENTATIONS.filter(
    (entry) => config.instrumentations.includes(entry.name) && (entry.lambdaHandler !== true || config.awsLambda !== undefined),
  );
  const loader = new LazyInstrumentationLoader(entries, createConfigFor(config));
  loader.hookRequire();
  const lambdaHandler = config.awsLambda !== undefined && entries.some((entry) => entry.lambdaHandler) ? [lambdaHandlerFilePattern(config.awsLambda)] : [];
  installEsmHooks(loader, lambdaHandler);
}

/**
 * ESM imports bypass require(), so import-in-the-middle wraps the target
 * modules. Where Node can run its hooks in-thread (module.registerHooks with
 * the fix of nodejs/node#59929) our resolve hook loads each instrumentation
 * just before its module; elsewhere the loader thread cannot wait for us, so
 * every enabled instrumentation is loaded up front.
 */
function installEsmHooks(loader: LazyInstrumentationLoader, extraFiles: readonly RegExp[]): void {
  const include: (string | RegExp)[] = [
    ...loader.targetModules().flatMap((name) => (Module.isBuiltin(name) ? [name, `node:${name}`] : [name])),
    ...loader.targetFilePatterns(),
    ...extraFiles,
  ];
  try {
    const syncHooks = require('import-in-the-middle/register-hooks.mjs') as SyncHooksModule;
    if (syncHooks.supportsSyncHooks()) {
      registerWithParentlessRequireGuard(() => syncHooks.register({ include }));
      loader.hookResolve();
      return;
    }
    Module.register('import-in-the-middle/hook.mjs', require('node:url').pathToFileURL(__filename), { data: { include } });
    loader.loadAll();
  } catch (error) {
    printLine(`ESM instrumentation is off (${(error as Error).message}); CommonJS modules are still traced`);
  }
}

/** The part of import-in-the-middle/register-hooks.mjs we use (an ES module, loaded with require(esm)). */
interface SyncHooksModule {
  supportsSyncHooks(): boolean;
  register(options: { include: (string | RegExp)[] }): void;
}

function readOwnVersion(): string {
  // dist/src/start.js when installed (dist/ mirrors the repository root), src/start.ts here.
  for (const candidate of ['../../package.json', '../package.json']) {
    try {
      const manifest = require(candidate) as { name?: string; version: string };
      if (manifest.name === '@acme/otel-register') return manifest.version;
    } catch {
      // try the next
    }
  }
  return 'unknown';
}
