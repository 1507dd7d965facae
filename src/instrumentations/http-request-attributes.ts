import type { Attributes } from '@opentelemetry/api';

/** The parts of an IncomingMessage the SERVER span's attributes come from. */
export interface IncomingRequestLike {
  method?: string;
  url?: string;
  httpVersion?: string;
  headers: Record<string, string | string[] | undefined>;
  socket: { remoteAddress?: string; remotePort?: number };
}

/** Methods instrumentation-http 0.301 keeps as they are (normalizeMethod's KNOWN_METHODS), when already upper case. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);
/**
 * A path WHATWG URL leaves exactly as written: starts with one '/', only
 * characters outside the path percent-encode set, no '%' (decoding of %2e),
 * no '\\' (a '/' for http), no query or fragment.
 */
const PLAIN_PATH = /^\/(?!\/)[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
/** '.' and '..' segments, which URL resolves. */
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;
/** host or host:port, no IPv6 brackets, no credentials. */
const PLAIN_HOST = /^[A-Za-z0-9.-]+(?::[0-9]{1,5})?$/;
/** Host headers URL accepted as a base (validity depends on the host only); bounded, as hosts come from clients. */
const acceptedHosts = new Map<string, boolean>();
const MAX_REMEMBERED_HOSTS = 256;

/**
 * instrumentation-http's getIncomingRequestAttributes for the request most
 * servers see: no Forwarded/X-Forwarded-* headers, a plain Host, a known
 * method in upper case and a path without query, percent-escapes or dot
 * segments. Those take neither a URL parse nor a forwarded-header parse; the
 * result is the same object, key for key and in the same order
 * (test/unit/instrumentations/http-request-attributes.test.ts compares both).
 * Anything else returns undefined: the caller uses upstream's function.
 */
export function incomingRequestAttributes(
  request: IncomingRequestLike,
  options: { component: string; hookAttributes?: Attributes; enableSyntheticSourceDetection?: boolean },
): Attributes | undefined {
  const { headers, method, url } = request;
  const component = options.component;
  if (options.enableSyntheticSourceDetection === true || (component !== 'http' && component !== 'https')) return undefined;
  if (method === undefined || !KNOWN_METHODS.has(method)) return undefined;
  if (headers.forwarded || headers['x-forwarded-host'] !== undefined || headers['x-forwarded-for']) return undefined;
  const host = headers.host;
  if (typeof host !== 'string' || url === undefined || !PLAIN_PATH.test(url) || DOT_SEGMENT.test(url) || !isAcceptedHost(host, component)) return undefined;
  const colon = host.indexOf(':');
  const serverAddress = colon === -1 ? host : host.slice(0, colon);
  const serverPort = colon === -1 ? (component === 'http' ? '80' : '443') : host.slice(colon + 1);
  const remoteAddress = request.socket.remoteAddress;
  const attributes: Attributes = {
    'http.request.method': method,
    'url.scheme': component,
    'server.address': serverAddress,
    'network.peer.address': remoteAddress,
    'network.peer.port': request.socket.remotePort,
    'network.protocol.version': request.httpVersion,
    'user_agent.original': headers['user-agent'] as string | undefined,
    'url.path': url,
  };
  if (remoteAddress) attributes['client.address'] = remoteAddress;
  attributes['server.port'] = Number(serverPort);
  return Object.assign(attributes, options.hookAttributes);
}

/** The last answer: a server mostly sees one Host, so most requests are settled by a string compare. */
let lastHost = '';
let lastComponent = '';
let lastAccepted = false;

function isAcceptedHost(host: string, component: string): boolean {
  if (host === lastHost && component === lastComponent) return lastAccepted;
  const key = `${component}://${host}`;
  let accepted = acceptedHosts.get(key);
  if (accepted === undefined) {
    accepted = PLAIN_HOST.test(host) && URL.canParse('/', key);
    if (acceptedHosts.size >= MAX_REMEMBERED_HOSTS) acceptedHosts.clear();
    acceptedHosts.set(key, accepted);
  }
  lastHost = host;
  lastComponent = component;
  lastAccepted = accepted;
  return accepted;
}
