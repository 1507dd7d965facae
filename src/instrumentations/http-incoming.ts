import { EventEmitter, errorMonitor } from 'node:events';
import path from 'node:path';
import { context, propagation, SpanKind, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { RPCType, setRPCMetadata, suppressTracing } from '@opentelemetry/core';
import type { UpstreamClientUtils } from './http-outgoing.ts';
import { incomingRequestAttributes, type IncomingRequestLike } from './http-request-attributes.ts';
import { REQUEST_ROOT_CONTEXT } from '../linked-context.ts';

type Listener = (...args: unknown[]) => void;
type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => unknown;
/** What upstream's RPC metadata holds for HTTP; frameworks set `route`. */
interface HTTPMetadata {
  type: RPCType.HTTP;
  route?: string;
  span: Span;
}
type ObserveEmit = (emitter: EventEmitter, event: string | symbol, listener: Listener) => void;

/** What we use of instrumentation-http's own helpers (dist/utils.cjs, not exported by the package). */
interface UpstreamHttpUtils extends UpstreamClientUtils {
  getIncomingRequestAttributes(request: unknown, options: Record<string, unknown>, logger: unknown): Attributes;
  parseResponseStatus(kind: SpanKind, statusCode: number | undefined): number;
  parseErrorType(kind: SpanKind, statusCode: number | undefined): string | undefined;
  setSpanWithError(span: Span, error: Error): void;
}

/** The members of upstream's HttpInstrumentation the SERVER path reads. */
export interface IncomingInstrumentation {
  getConfig(): Record<string, unknown>;
  readonly tracer: { startSpan(name: string, options: { kind: SpanKind; attributes: Attributes }, parent: Context): Span };
  readonly _diag: unknown;
  readonly _headerCapture: { server: { captureRequestHeaders(get: (name: string) => unknown): Attributes; captureResponseHeaders(get: (name: string) => unknown): Attributes } };
  _callStartSpanHook(request: unknown, hook: unknown): Attributes | undefined;
}

const DEFAULT_QUERY_STRINGS_TO_REDACT = ['sig', 'Signature', 'AWSAccessKeyId', 'X-Goog-Signature'];

let upstreamUtils: UpstreamHttpUtils | null | undefined;

/** instrumentation-http's utils, from the copy that is installed; null when its layout is not the one we know. */
export function loadUpstreamHttpUtils(): UpstreamHttpUtils | null {
  if (upstreamUtils !== undefined) return upstreamUtils;
  try {
    const utils = require(path.join(path.dirname(require.resolve('@opentelemetry/instrumentation-http')), 'utils.cjs')) as Partial<UpstreamHttpUtils>;
    const complete = ['getIncomingRequestAttributes', 'parseResponseStatus', 'parseErrorType', 'setSpanWithError', 'getOutgoingRequestAttributesOnResponse', 'getOutgoingStableRequestMetricAttributesOnResponse'].every((name) => typeof utils[name as keyof UpstreamHttpUtils] === 'function');
    upstreamUtils = complete ? (utils as UpstreamHttpUtils) : null;
  } catch {
    upstreamUtils = null;
  }
  return upstreamUtils;
}

/**
 * instrumentation-http's incomingRequest (0.301), the same span, attributes,
 * context and hooks, at a lower cost per request:
 * - the response's 'close' and errorMonitor are observed (observeEmit) rather
 *   than listened to, without defining and deleting an own `on` on every
 *   response (which also turned each response into a dictionary-mode object);
 * - upstream's own http.server.request.duration is not measured: our views
 *   drop it (src/metrics/index.ts), ours comes from the span;
 * - the span is ended by a flag of the request's closure, not a WeakSet entry.
 */
export function createIncomingRequestFunction(instrumentation: IncomingInstrumentation, utils: UpstreamHttpUtils, observeEmit: ObserveEmit, component: string, original: Emit): Emit {
  return function incomingRequest(this: unknown, event: string | symbol) {
    // The server's emit arguments, handed on as they came (no rest array and copy of it per request).
    const emitArgs = arguments as unknown as [string | symbol, ...unknown[]];
    if (event !== 'request') return original.apply(this, emitArgs);
    const request = emitArgs[1] as { method?: string; headers: Record<string, unknown> } & EventEmitter;
    const response = emitArgs[2] as { statusCode?: number; getHeader(name: string): unknown } & EventEmitter;
    const config = instrumentation.getConfig();
    const ignore = config.ignoreIncomingRequestHook as ((request: unknown) => boolean) | undefined;
    if (ignore !== undefined && ignoredSafely(ignore, request, instrumentation._diag)) {
      return context.with(suppressTracing(context.active()), () => {
        context.bind(context.active(), request);
        context.bind(context.active(), response);
        return original.apply(this, emitArgs);
      });
    }
    const method = request.method || 'GET';
    const options = {
      component,
      hookAttributes: instrumentation._callStartSpanHook(request, config.startIncomingSpanHook),
      enableSyntheticSourceDetection: Boolean(config.enableSyntheticSourceDetection),
      redactedQueryParams: config.redactedQueryParamsServer ?? DEFAULT_QUERY_STRINGS_TO_REDACT,
    };
    const attributes = incomingRequestAttributes(request as unknown as IncomingRequestLike, options) ?? utils.getIncomingRequestAttributes(request, options, instrumentation._diag);
    Object.assign(attributes, instrumentation._headerCapture.server.captureRequestHeaders((header) => request.headers[header]));
    const parent = propagation.extract(REQUEST_ROOT_CONTEXT, request.headers);
    const span = instrumentation.tracer.startSpan(method, { kind: SpanKind.SERVER, attributes }, parent);
    const rpcMetadata: HTTPMetadata = { type: RPCType.HTTP, span };
    let ended = false;
    let hasError = false;
    const endWithError = (error: Error) => {
      if (ended) return;
      ended = true;
      utils.setSpanWithError(span, error);
      span.end();
    };
    const requestContext = setRPCMetadata(trace.setSpan(parent, span), rpcMetadata);
    return context.with(requestContext, () => {
      context.bind(requestContext, request);
      context.bind(requestContext, response);
      if (typeof config.requestHook === 'function') callHook(config.requestHook, span, request);
      if (typeof config.responseHook === 'function') callHook(config.responseHook, span, response);
      observeEmit(response, 'close', () => {
        if (hasError || ended) return;
        ended = true;
        finishServerSpan(instrumentation, utils, config, span, rpcMetadata, request, response);
      });
      observeEmit(response, errorMonitor, (error: unknown) => {
        hasError = true;
        endWithError(error as Error);
      });
      try {
        return original.apply(this, emitArgs);
      } catch (error) {
        if (error) endWithError(error as Error);
        throw error;
      }
    });
  } as Emit;
}

/** Upstream's _onServerResponseFinish, with the route read from the request's own RPC metadata (what the active context holds then). */
function finishServerSpan(
  instrumentation: IncomingInstrumentation,
  utils: UpstreamHttpUtils,
  config: Record<string, unknown>,
  span: Span,
  rpcMetadata: HTTPMetadata,
  request: { method?: string },
  response: { statusCode?: number; getHeader(name: string): unknown },
): void {
  const statusCode = response.statusCode;
  const attributes: Attributes = { 'http.response.status_code': statusCode };
  const route = rpcMetadata.route;
  if (route !== undefined) attributes['http.route'] = route;
  span.setAttributes(instrumentation._headerCapture.server.captureResponseHeaders((header) => response.getHeader(header)));
  span.setAttributes(attributes).setStatus({ code: utils.parseResponseStatus(SpanKind.SERVER, statusCode) });
  const errorType = utils.parseErrorType(SpanKind.SERVER, statusCode);
  if (errorType !== undefined) span.setAttribute('error.type', errorType);
  if (route) span.updateName(`${request.method || 'GET'} ${route}`);
  const applyCustomAttributes = config.applyCustomAttributesOnSpan;
  if (typeof applyCustomAttributes === 'function') {
    try {
      applyCustomAttributes(span, request, response);
    } catch {
      // as upstream's safeExecuteInTheMiddle: a hook's error never reaches the app
    }
  }
  span.end();
}

function ignoredSafely(ignore: (request: unknown) => boolean, request: unknown, diag: unknown): boolean {
  try {
    return Boolean(ignore(request));
  } catch (error) {
    (diag as { error?(message: string, error: unknown): void }).error?.('caught ignoreIncomingRequestHook error: ', error);
    return false;
  }
}

function callHook(hook: unknown, span: Span, target: unknown): void {
  try {
    (hook as (span: Span, target: unknown) => void)(span, target);
  } catch {
    // as upstream: hooks run in safeExecuteInTheMiddle
  }
}
