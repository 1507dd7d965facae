/**
 * The lazy table: which modules each instrumentation targets. Nothing here loads
 * an instrumentation; `lazy-loader.ts` does, the first time a target module is
 * required or imported. Module lists were read off each instrumentation's own
 * `init()` (see test/unit/instrumentations/table.test.ts, which checks them).
 */
import { correlationOnlyBunyan, correlationOnlyWinston, withPinoLogRecords, type InstrumentationClass } from './log-correlation.ts';

export interface InstrumentationEntry {
  /** The name users write in OTEL_NODE_(ENABLED|DISABLED)_INSTRUMENTATIONS. */
  readonly name: string;
  readonly packageName: string;
  readonly exportName: string;
  /** Bare module names (package names or Node builtins) that trigger loading it. */
  readonly modules: readonly string[];
  /** Noisy ones (a span per fs call) stay off unless asked for. */
  readonly enabledByDefault: boolean;
  /** Triggered by first use of global fetch rather than by a module load. */
  readonly globalFetch?: boolean;
  /**
   * Files inside the package that the instrumentation patches: an ES module
   * package imports them by relative path, so the ESM hook must be told to
   * wrap them by URL.
   */
  readonly esmInternalFiles?: readonly string[];
  /** Our documented widening of upstream's supported version range (see README). */
  readonly supportedVersions?: string;
  /**
   * Patches the AWS Lambda handler file that `_HANDLER` names under
   * `LAMBDA_TASK_ROOT`. The runtime loads that file by absolute path, never by a
   * bare name we could wait for, so the instrumentation is loaded at start when
   * both variables are set, and not at all elsewhere (upstream's init() does
   * nothing without them either).
   */
  readonly lambdaHandler?: boolean;
  /**
   * Ours, in src/instrumentations/own.ts (packageName is then this package):
   * it listens on the library's diagnostics channels and patches no module, so
   * the ESM hook need not wrap the library.
   */
  readonly own?: boolean;
  /**
   * Our subclass of the upstream class, in src/instrumentations/<file>.ts,
   * used in its place; loaded as lazily as upstream's would be.
   */
  readonly implementation?: { readonly file: string; readonly exportName: string };
  /**
   * A subclass of upstream's class, made in the start-up bundle (it shares the
   * bundle's state, e.g. the logs pipeline), that leaves out parts that change
   * what the app sees.
   */
  readonly narrow?: (Base: InstrumentationClass) => InstrumentationClass;
}

function entry(name: string, exportName: string, modules: readonly string[], extra: Partial<InstrumentationEntry> = {}): InstrumentationEntry {
  return Object.freeze({
    name,
    packageName: `@opentelemetry/instrumentation-${name}`,
    exportName,
    modules: Object.freeze([...modules]),
    enabledByDefault: true,
    ...extra,
  });
}

export const INSTRUMENTATIONS: readonly InstrumentationEntry[] = Object.freeze([
  // Ours adds no listeners to the server response (see http.ts).
  entry('http', 'HttpInstrumentation', ['http', 'https'], { implementation: { file: 'http', exportName: 'ListenerFreeHttpInstrumentation' } }),
  entry('undici', 'UndiciInstrumentation', ['undici'], { globalFetch: true }),
  // Ours keep next, layer functions, req and res as Express hands them out (see express.ts).
  entry('express', 'ExpressInstrumentation', ['express'], { implementation: { file: 'express', exportName: 'IdentityPreservingExpressInstrumentation' } }),
  // Ours: @fastify/otel's wrappers changed what Fastify hands to the app (README, Instrumentations).
  entry('fastify', 'FastifyDiagnosticsInstrumentation', ['fastify'], { packageName: '@acme/otel-register', own: true }),
  // Ours leaves app.use, app.middleware and @koa/router's stacks as the app made them (see koa.ts).
  entry('koa', 'KoaInstrumentation', ['koa'], { implementation: { file: 'koa', exportName: 'KoaComposeTracingInstrumentation' } }),
  // Upstream stops at Nest < 12; Nest 12's patched files and methods are unchanged.
  entry('nestjs-core', 'NestInstrumentation', ['@nestjs/core'], {
    esmInternalFiles: ['nest-factory.js', 'router/router-execution-context.js'],
    supportedVersions: '>=4.0.0 <13',
  }),
  entry('connect', 'ConnectInstrumentation', ['connect']),
  entry('hapi', 'HapiInstrumentation', ['@hapi/hapi']),
  entry('restify', 'RestifyInstrumentation', ['restify']),
  // Express 5 runs on the 'router' package: both instrumentations together double every
  // handler span and name middlewares after the other's wrapper ('middleware - patched').
  entry('router', 'RouterInstrumentation', ['router'], { enabledByDefault: false }),
  entry('graphql', 'GraphQLInstrumentation', ['graphql']),
  entry('dataloader', 'DataloaderInstrumentation', ['dataloader']),
  entry('socket.io', 'SocketIoInstrumentation', ['socket.io']),
  entry('grpc', 'GrpcInstrumentation', ['@grpc/grpc-js']),
  entry('pg', 'PgInstrumentation', ['pg', 'pg-pool']),
  entry('mysql', 'MySQLInstrumentation', ['mysql']),
  entry('mysql2', 'MySQL2Instrumentation', ['mysql2']),
  entry('mongodb', 'MongoDBInstrumentation', ['mongodb']),
  entry('mongoose', 'MongooseInstrumentation', ['mongoose']),
  entry('tedious', 'TediousInstrumentation', ['tedious']),
  entry('oracledb', 'OracleInstrumentation', ['oracledb']),
  entry('cassandra-driver', 'CassandraDriverInstrumentation', ['cassandra-driver']),
  entry('knex', 'KnexInstrumentation', ['knex']),
  entry('generic-pool', 'GenericPoolInstrumentation', ['generic-pool']),
  entry('ioredis', 'IORedisInstrumentation', ['ioredis']),
  entry('redis', 'RedisInstrumentation', ['redis', '@redis/client', '@node-redis/client']),
  entry('memcached', 'MemcachedInstrumentation', ['memcached']),
  entry('lru-memoizer', 'LruMemoizerInstrumentation', ['lru-memoizer']),
  entry('amqplib', 'AmqplibInstrumentation', ['amqplib']),
  entry('kafkajs', 'KafkaJsInstrumentation', ['kafkajs']),
  entry('aws-sdk', 'AwsInstrumentation', ['@aws-sdk/middleware-stack', '@smithy/middleware-stack', '@smithy/core', '@aws-sdk/smithy-client', '@smithy/smithy-client']),
  entry('aws-lambda', 'AwsLambdaInstrumentation', [], { lambdaHandler: true }),
  // Prompts and completions stay out of spans unless OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true (read by upstream).
  entry('openai', 'OpenAIInstrumentation', ['openai']),
  // Spans per feature/scenario/step of a cucumber-js run; on by default as upstream has it.
  entry('cucumber', 'CucumberInstrumentation', ['@cucumber/cucumber']),
  // Log correlation only, never a stream, transport or export of the app's replaced: see log-correlation.ts.
  entry('pino', 'PinoInstrumentation', ['pino'], { narrow: withPinoLogRecords }),
  entry('winston', 'WinstonInstrumentation', ['winston'], { narrow: correlationOnlyWinston }),
  entry('bunyan', 'BunyanInstrumentation', ['bunyan'], { narrow: correlationOnlyBunyan }),
  entry('fs', 'FsInstrumentation', ['fs', 'fs/promises'], { enabledByDefault: false }),
  entry('dns', 'DnsInstrumentation', ['dns', 'dns/promises'], { enabledByDefault: false }),
  entry('net', 'NetInstrumentation', ['net'], { enabledByDefault: false }),
]);

/**
 * Instrumentations of @opentelemetry/auto-instrumentations-node we do not
 * offer, with the reason. test/unit/instrumentations/table.test.ts fails on
 * any upstream instrumentation that is neither in the table nor here.
 */
export const UPSTREAM_SKIPPED: Readonly<Record<string, string>> = Object.freeze({
  // Metrics only, so not lazily loaded instrumentations: src/metrics/runtime.ts starts
  // runtime-node's collectors with the MeterProvider; host metrics are the collector's job.
  'runtime-node': 'metrics only (event loop delay, GC, heap): started by src/metrics/runtime.ts when metrics are on',
  'host-metrics': 'metrics only (CPU, memory, network of the host); a host-level collector reports these better',
});

export const INSTRUMENTATION_NAMES: readonly string[] = INSTRUMENTATIONS.map((e) => e.name);
