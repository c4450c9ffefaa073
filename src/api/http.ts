/**
 * The HTTP server API: `POST /api/<method>` with a JSON body, or the legacy `POST /api` with
 * `{"method", "params"}`. Authorised by API key (constant-time compare); answers
 * `{"result": ...}` or `{"error": ...}` with HTTP 200, or, in transport error mode, the error
 * object with a mapped HTTP status.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HttpApiConfig } from '../config/types.js';
import type { GyreNode } from '../node/node.js';
import { ProtocolException } from '../protocol/codes.js';
import { jsonTooDeep, MAX_JSON_DEPTH } from '../protocol/json-depth.js';
import { errorOf, type CommandExecutor } from './executor.js';

const TRANSPORT_STATUS: Readonly<Record<number, number>> = { 100: 500, 102: 404, 104: 404, 107: 400, 108: 400, 112: 416, 113: 409 };

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export class HttpApi {
  private readonly keyDigest: Buffer | undefined;

  constructor(
    private readonly node: GyreNode,
    private readonly executor: CommandExecutor,
    private readonly config: HttpApiConfig,
  ) {
    this.keyDigest = config.key !== '' ? digest(config.key) : undefined;
  }

  /** True when `path` belongs to the API. */
  matches(path: string): boolean {
    const prefix = this.config.handler_prefix;
    return path === prefix || path.startsWith(prefix + '/');
  }

  private authorized(req: IncomingMessage, url: URL): boolean {
    if (this.config.insecure) return true;
    if (this.keyDigest === undefined) return false;
    let key = req.headers['x-api-key'];
    if (typeof key !== 'string') {
      const auth = req.headers.authorization;
      const m = typeof auth === 'string' ? /^apikey\s+(.+)$/i.exec(auth) : null;
      key = m?.[1] ?? url.searchParams.get('api_key') ?? undefined;
    }
    if (typeof key !== 'string' || key === '') return false;
    return timingSafeEqual(digest(key), this.keyDigest);
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    // Refusals answer at once and close the connection: the body is never read.
    if (req.method !== 'POST') return refuse(res, 405, 'method not allowed');
    if (!this.authorized(req, url)) {
      this.node.log.info({ path: url.pathname }, 'server API: unauthorized request');
      return refuse(res, 401, 'unauthorized');
    }
    const limit = this.config.max_request_body_size;
    if (limit > 0 && Number(req.headers['content-length'] ?? 0) > limit) {
      this.node.log.info({ path: url.pathname, limit }, 'server API: request body too large');
      return refuse(res, 413, 'request body too large');
    }
    let body: unknown;
    try {
      body = await readJson(req, limit);
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        this.node.log.info({ path: url.pathname, limit }, 'server API: request body too large');
        return refuse(res, 413, 'request body too large');
      }
      const reason = e instanceof TooDeep ? e.message : 'malformed JSON';
      this.node.log.info({ path: url.pathname, reason }, 'server API: bad request');
      return send(res, 400, { error: e instanceof TooDeep ? `bad request: ${reason}` : 'bad request' });
    }
    let method = url.pathname.slice(this.config.handler_prefix.length + 1);
    let params: unknown = body;
    if (method === '') {
      const legacy = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
      method = typeof legacy['method'] === 'string' ? legacy['method'] : '';
      params = legacy['params'];
    } else if (!this.executor.has(method)) {
      return send(res, 404, { error: 'not found' });
    }
    const transportMode =
      this.config.error_mode === 'transport' || req.headers['x-centrifugo-error-mode'] === 'transport';
    try {
      const result = await this.executor.execute(method, params);
      send(res, 200, { result });
    } catch (e) {
      const error = errorOf(e, this.node);
      if (e instanceof ProtocolException && e.log !== undefined) this.node.log.info({ method, code: error.code, ...e.log.fields }, e.log.msg);
      else this.node.log.debug({ method, code: error.code }, 'server API error');
      if (transportMode && method !== 'batch' && method !== 'broadcast') {
        send(res, TRANSPORT_STATUS[error.code] ?? 400, error);
      } else {
        send(res, 200, { error });
      }
    }
  }
}

class BodyTooLarge extends Error {}
class TooDeep extends Error {}

/** Reads a JSON body of at most `limit` bytes (0 = no limit). */
function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (limit > 0 && size > limit) {
        failed = true;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (jsonTooDeep(text)) return reject(new TooDeep(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`));
      try {
        resolve(text.trim() === '' ? {} : JSON.parse(text));
      } catch (e) {
        reject(e);
      }
    });
    req.on('error', reject);
  });
}

/**
 * Answers a request that failed before any handler saw it (Node's `clientError`): 408 when it did
 * not arrive within `http_server.read_header_timeout` / `read_timeout`, 400 when it is not HTTP.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) return void socket.destroy();
  const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Answers `{"error": message}` and closes the connection after it, leaving the request body unread. */
function refuse(res: ServerResponse, status: number, message: string): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
  send(res, status, { error: message });
}

/** Writes a JSON response. */
export function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
