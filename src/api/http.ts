/**
 * The HTTP server API: `POST /api/<method>` with a JSON body, or the legacy `POST /api` with
 * `{"method", "params"}`. Authorised by API key (see `api-key.ts`); answers `{"result": ...}` or
 * `{"error": ...}` with HTTP 200, or, in transport error mode, the error object with a mapped HTTP
 * status. The body is read with a size limit and parsed here; everything after is typed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpApiConfig } from '../config/types.js';
import { BodyTooLargeError, declaresTooLarge, readText } from '../http/body.js';
import { refuse, sendJson } from '../http/respond.js';
import type { GyreNode } from '../node/node.js';
import { ProtocolException, transportStatus } from '../protocol/codes.js';
import { jsonTooDeep, MAX_JSON_DEPTH } from '../protocol/json-depth.js';
import { ApiKey, keyOfAuthorization } from './api-key.js';
import { JsonApi } from './json-api.js';
import type { ServerApi } from './server-api.js';

/** A body the API cannot take: answered 400 with `{"error": answer}`. */
class BadBody extends Error {
  constructor(
    reason: string,
    readonly answer: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
  }
}

function malformed(cause: unknown): BadBody {
  return new BadBody('malformed JSON', 'bad request', { cause });
}

/** Reads and parses a JSON body of at most `limit` bytes (0 = no limit); an empty body is `{}`. */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  if (declaresTooLarge(req, limit)) throw new BodyTooLargeError(limit);
  let text: string;
  try {
    text = await readText(req, limit);
  } catch (e) {
    throw e instanceof BodyTooLargeError ? e : malformed(e);
  }
  if (jsonTooDeep(text)) {
    const reason = `JSON nested deeper than ${MAX_JSON_DEPTH} levels`;
    throw new BadBody(reason, `bad request: ${reason}`);
  }
  try {
    return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
  } catch (e) {
    throw malformed(e);
  }
}

/**
 * Another door to the same API (the admin UI's `<prefix>/admin/api`): its own path prefix and its
 * own check of who may come in, instead of `http_api.handler_prefix` and the API key.
 */
export interface ApiDoor {
  /** Path prefix of the methods (`<prefix>` legacy form, `<prefix>/<method>`). */
  readonly prefix: string;
  /** Whether the request may call the API. */
  authorize(req: IncomingMessage, url: URL): Promise<boolean>;
  /** Names the door in log lines ("server API", "admin API"). */
  readonly name: string;
}

export class HttpApi {
  private readonly key: ApiKey;
  private readonly json: JsonApi;
  private readonly prefix: string;
  private readonly name: string;

  constructor(
    private readonly node: GyreNode,
    api: ServerApi,
    private readonly config: HttpApiConfig,
    private readonly door?: ApiDoor,
  ) {
    this.key = new ApiKey(config.key);
    this.json = new JsonApi(api, 'http');
    this.prefix = door?.prefix ?? config.handler_prefix;
    this.name = door?.name ?? 'server API';
  }

  /** True when `path` belongs to the API. */
  matches(path: string): boolean {
    return path === this.prefix || path.startsWith(this.prefix + '/');
  }

  /** The door's check, else the key from `X-API-Key`, else `Authorization: apikey <key>`, else `?api_key=`. */
  private async authorized(req: IncomingMessage, url: URL): Promise<boolean> {
    if (this.door !== undefined) return this.door.authorize(req, url);
    if (this.config.insecure) return true;
    const header = req.headers['x-api-key'];
    const key = typeof header === 'string' ? header : (keyOfAuthorization(req.headers.authorization) ?? url.searchParams.get('api_key') ?? undefined);
    return this.key.matches(key);
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    // Refusals answer at once and close the connection: the body is never read.
    if (req.method !== 'POST') return refuse(res, 405, 'method not allowed');
    if (!(await this.authorized(req, url))) {
      this.node.log.info({ path: url.pathname }, `${this.name}: unauthorized request`);
      return refuse(res, 401, 'unauthorized');
    }
    const limit = this.config.max_request_body_size;
    let body: unknown;
    try {
      body = await readJson(req, limit);
    } catch (e) {
      if (e instanceof BodyTooLargeError) {
        this.node.log.info({ path: url.pathname, limit }, `${this.name}: request body too large`);
        return refuse(res, 413, 'request body too large');
      }
      const bad = e instanceof BadBody ? e : malformed(e);
      this.node.log.info({ path: url.pathname, reason: bad.message }, `${this.name}: bad request`);
      return sendJson(res, 400, { error: bad.answer });
    }
    let method = url.pathname.slice(this.prefix.length + 1);
    let params: unknown = body;
    if (method === '') {
      const legacy = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
      method = typeof legacy['method'] === 'string' ? legacy['method'] : '';
      params = legacy['params'];
    } else if (!this.json.has(method)) {
      return sendJson(res, 404, { error: 'not found' });
    }
    const transportMode = this.config.error_mode === 'transport' || req.headers['x-centrifugo-error-mode'] === 'transport';
    try {
      sendJson(res, 200, { result: await this.json.execute(method, params) });
    } catch (e) {
      const error = this.json.api.errorOf(e);
      if (e instanceof ProtocolException && e.log !== undefined) this.node.log.info({ method, code: error.code, ...e.log.fields }, e.log.msg);
      else this.node.log.debug({ method, code: error.code }, 'server API error');
      if (transportMode && method !== 'batch' && method !== 'broadcast') sendJson(res, transportStatus(error.code), error);
      else sendJson(res, 200, { error });
    }
  }
}
