/**
 * Application handlers as an HTTP proxy backend (Centrifugo's HTTP proxy protocol): each event is
 * POSTed as JSON to its own URL, whose last path segment names the event (`.../connect`,
 * `.../refresh`, `.../subscribe`, `.../publish`, `.../rpc`, `.../sub_refresh`), and answered with
 * 200 and `{result}` / `{error}` / `{disconnect}`. Served as a Node request listener (http.Server,
 * Express) or as a fetch-style handler (Hono, Bun, Deno, workers).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Handlers } from '../../handlers/pipeline.js';
import { BodyTooLargeError, declaresTooLarge, readRequestText, readText } from '../../http/body.js';
import { sendJson } from '../../http/respond.js';
import type { JsonMessage } from '../codec.js';
import { EVENT_PATHS, ProxyBackend, type BackendHeaders, type ProxyBackendOptions } from './core.js';

export interface HttpProxyBackendOptions extends ProxyBackendOptions {
  /** Largest request body read, in bytes (default 1 MiB); a bigger one is answered 413. */
  maxBodySize?: number;
}

/** Headers of the proxy request itself, not of the client connection it describes. */
const TRANSPORT_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-type',
  'content-length',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'accept-encoding',
]);

interface Answer {
  status: number;
  body: unknown;
}

function backendOf(handlers: Handlers | ProxyBackend, options: ProxyBackendOptions): ProxyBackend {
  return handlers instanceof Handlers ? new ProxyBackend(handlers, options) : handlers;
}

/** The event named by the last path segment of `path`. */
function eventOf(path: string) {
  const segments = path.split('/').filter((s) => s !== '');
  const last = segments[segments.length - 1];
  return last === undefined ? undefined : EVENT_PATHS[last];
}

async function answer(backend: ProxyBackend, method: string, path: string, headers: BackendHeaders, body: () => Promise<string>): Promise<Answer> {
  if (method !== 'POST') return { status: 405, body: { error: 'method not allowed' } };
  const event = eventOf(path);
  if (event === undefined) return { status: 404, body: { error: 'not a proxy event path (…/connect, …/refresh, …/subscribe, …/publish, …/rpc, …/sub_refresh)' } };
  if (!backend.handles(event)) {
    backend.log.warn({ type: event }, 'proxy backend: no service handles this request type (answering 501)');
    return { status: 501, body: { error: `no service handles ${event}` } };
  }
  let req: unknown;
  try {
    req = JSON.parse(await body());
  } catch (e) {
    if (e instanceof BodyTooLargeError) return { status: 413, body: { error: 'request body too large' } };
    return { status: 400, body: { error: 'bad request: body is not JSON' } };
  }
  if (typeof req !== 'object' || req === null || Array.isArray(req)) return { status: 400, body: { error: 'bad request: body is not a JSON object' } };
  return { status: 200, body: await backend.handle(event, req as JsonMessage, headers) };
}

function connectionHeaders(entries: Iterable<[string, string | string[] | undefined]>): BackendHeaders {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of entries) {
    const key = name.toLowerCase();
    if (value === undefined || TRANSPORT_HEADERS.has(key)) continue;
    out[key] = value;
  }
  return out;
}

/**
 * A Node request listener answering proxy requests (any path whose last segment names an event).
 * `handlers`: the application's handlers, or a {@link ProxyBackend} built from them.
 */
export function proxyRequestListener(handlers: Handlers | ProxyBackend, options: HttpProxyBackendOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const backend = backendOf(handlers, options);
  const max = options.maxBodySize ?? 1024 * 1024;
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const read = async (): Promise<string> => {
      if (declaresTooLarge(req, max)) throw new BodyTooLargeError(max);
      return readText(req, max);
    };
    answer(backend, req.method ?? 'GET', path, connectionHeaders(Object.entries(req.headers)), read)
      .catch((e: unknown): Answer => {
        backend.log.error({ err: e }, 'proxy backend: request failed');
        return { status: 500, body: { error: 'internal server error' } };
      })
      .then(({ status, body }) => {
        if (res.headersSent) return;
        // A body too large is left unread: the connection cannot carry another request.
        if (status === 413) res.setHeader('Connection', 'close');
        sendJson(res, status, body);
      });
  };
}

/** A fetch-style handler (`Request` → `Response`) answering proxy requests. */
export function proxyFetchHandler(handlers: Handlers | ProxyBackend, options: HttpProxyBackendOptions = {}): (request: Request) => Promise<Response> {
  const backend = backendOf(handlers, options);
  const max = options.maxBodySize ?? 1024 * 1024;
  return async (request) => {
    const read = (): Promise<string> => readRequestText(request, max);
    const headers = connectionHeaders([...request.headers.entries()]);
    let a: Answer;
    try {
      a = await answer(backend, request.method, new URL(request.url).pathname, headers, read);
    } catch (e) {
      backend.log.error({ err: e }, 'proxy backend: request failed');
      a = { status: 500, body: { error: 'internal server error' } };
    }
    return new Response(JSON.stringify(a.body), { status: a.status, headers: { 'content-type': 'application/json' } });
  };
}
