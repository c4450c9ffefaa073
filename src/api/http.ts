/**
 * The HTTP server API: `POST /api/<method>` with a JSON body, or the legacy `POST /api` with
 * `{"method", "params"}`. Authorised by API key (constant-time compare); answers
 * `{"result": ...}` or `{"error": ...}` with HTTP 200, or, in transport error mode, the error
 * object with a mapped HTTP status.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpApiConfig } from '../config/types.js';
import type { GyreNode } from '../node/node.js';
import { errorOf, type CommandExecutor } from './executor.js';

/** Largest request body the API reads. */
export const MAX_API_BODY = 16 * 1024 * 1024;

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
    if (req.method !== 'POST') return send(res, 405, { error: 'method not allowed' });
    if (!this.authorized(req, url)) {
      this.node.log.info({ path: url.pathname }, 'server API: unauthorized request');
      return send(res, 401, { error: 'unauthorized' });
    }
    let body: unknown;
    try {
      body = await readJson(req);
    } catch (e) {
      const tooLarge = e instanceof BodyTooLarge;
      this.node.log.info({ path: url.pathname, reason: tooLarge ? 'body too large' : 'malformed JSON' }, 'server API: bad request');
      return send(res, tooLarge ? 413 : 400, { error: tooLarge ? 'request body too large' : 'bad request' });
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
      this.node.log.debug({ method, code: error.code }, 'server API error');
      if (transportMode && method !== 'batch' && method !== 'broadcast') {
        send(res, TRANSPORT_STATUS[error.code] ?? 400, error);
      } else {
        send(res, 200, { error });
      }
    }
  }
}

class BodyTooLarge extends Error {}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_API_BODY) {
        failed = true;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text.trim() === '' ? {} : JSON.parse(text));
      } catch (e) {
        reject(e);
      }
    });
    req.on('error', reject);
  });
}

/** Writes a JSON response. */
export function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
