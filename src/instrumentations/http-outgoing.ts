import { EventEmitter, errorMonitor } from 'node:events';
import { context, SpanKind, SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';

type Listener = (...args: unknown[]) => void;
type ObserveEmit = (emitter: EventEmitter, event: string | symbol, listener: Listener) => void;

/** What the CLIENT path uses of instrumentation-http's utils (see loadUpstreamHttpUtils). */
export interface UpstreamClientUtils {
  getOutgoingRequestAttributesOnResponse(response: unknown): Attributes;
  getOutgoingStableRequestMetricAttributesOnResponse(attributes: Attributes): Attributes;
  parseResponseStatus(kind: SpanKind, statusCode: number | undefined): number;
  parseErrorType(kind: SpanKind, statusCode: number | undefined): string | undefined;
}

/** The members of upstream's HttpInstrumentation its _traceClientRequest uses. */
export interface ClientInstrumentation {
  getConfig(): Record<string, unknown>;
  readonly _headerCapture: { client: { captureRequestHeaders(get: (name: string) => unknown): Attributes; captureResponseHeaders(get: (name: string) => unknown): Attributes } };
  _callRequestHook(span: Span, request: unknown): void;
  _callResponseHook(span: Span, response: unknown): void;
  _closeHttpSpan(span: Span, kind: SpanKind, startTime: unknown, metricAttributes: Attributes): void;
  _onOutgoingRequestError(span: Span, metricAttributes: Attributes, startTime: unknown, error: unknown): void;
}

interface ClientRequestLike extends EventEmitter {
  aborted?: boolean;
  getHeader(name: string): unknown;
}
interface ClientResponseLike extends EventEmitter {
  aborted?: boolean;
  complete?: boolean;
  statusCode?: number;
  headers: Record<string, unknown>;
  resume(): void;
}

/**
 * instrumentation-http's _traceClientRequest (0.301) with its four listeners
 * (request 'response', 'close', errorMonitor; response 'end', errorMonitor)
 * added as observers (observeEmit) directly. The earlier way, an own `on` and
 * `prependListener` defined on each request and response for the duration of
 * upstream's call and then deleted, left every ClientRequest and its
 * IncomingMessage a dictionary-mode object.
 */
export function traceClientRequest(
  instrumentation: ClientInstrumentation,
  utils: UpstreamClientUtils,
  observeEmit: ObserveEmit,
  request: ClientRequestLike,
  span: Span,
  startTime: unknown,
  metricAttributes: Attributes,
): ClientRequestLike {
  const config = instrumentation.getConfig();
  if (config.requestHook) instrumentation._callRequestHook(span, request);
  let responseFinished = false;
  observeEmit(request, 'response', (received: unknown) => {
    const response = received as ClientResponseLike;
    // Upstream drained the response when its own listener was the only one; an observer is not counted.
    if (request.listenerCount('response') === 0) response.resume();
    const responseAttributes = utils.getOutgoingRequestAttributesOnResponse(response);
    span.setAttributes(responseAttributes);
    metricAttributes = Object.assign(metricAttributes, utils.getOutgoingStableRequestMetricAttributesOnResponse(responseAttributes));
    if (config.responseHook) instrumentation._callResponseHook(span, response);
    span.setAttributes(instrumentation._headerCapture.client.captureRequestHeaders((header) => request.getHeader(header)));
    span.setAttributes(instrumentation._headerCapture.client.captureResponseHeaders((header) => response.headers[header]));
    context.bind(context.active(), response);
    observeEmit(response, 'end', () => {
      if (responseFinished) return;
      responseFinished = true;
      let status: { code: number };
      if (response.aborted && !response.complete) status = { code: SpanStatusCode.ERROR };
      else {
        status = { code: utils.parseResponseStatus(SpanKind.CLIENT, response.statusCode) };
        const errorType = utils.parseErrorType(SpanKind.CLIENT, response.statusCode);
        if (errorType !== undefined) span.setAttribute('error.type', errorType);
      }
      span.setStatus(status);
      const applyCustomAttributes = config.applyCustomAttributesOnSpan;
      if (typeof applyCustomAttributes === 'function') {
        try {
          applyCustomAttributes(span, request, response);
        } catch {
          // as upstream's safeExecuteInTheMiddle
        }
      }
      instrumentation._closeHttpSpan(span, SpanKind.CLIENT, startTime, metricAttributes);
    });
    observeEmit(response, errorMonitor, (error: unknown) => {
      if (responseFinished) return;
      responseFinished = true;
      instrumentation._onOutgoingRequestError(span, metricAttributes, startTime, error);
    });
  });
  observeEmit(request, 'close', () => {
    if (request.aborted || responseFinished) return;
    responseFinished = true;
    instrumentation._closeHttpSpan(span, SpanKind.CLIENT, startTime, metricAttributes);
  });
  observeEmit(request, errorMonitor, (error: unknown) => {
    if (responseFinished) return;
    responseFinished = true;
    instrumentation._onOutgoingRequestError(span, metricAttributes, startTime, error);
  });
  return request;
}
