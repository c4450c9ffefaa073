/**
 * The authorization endpoint: a middleware that answers topic authorization requests at one exact
 * path and lets every other request through untouched. Works with Node `http` servers and
 * connect-style frameworks (Express: `(req, res, next)`) and with fetch-style ones
 * (`(Request) => Response`: Hono, Bun, Deno, service workers).
 *
 * At the path (GET or POST) the guard decides: its own response if it gives one, else an empty
 * 200 on success and 403 on failure. When asked (`?token=1`, or `token.always`), a success is
 * answered with `{"token": "<JWT>"}`, a Centrifugo subscription token for the authorized channel,
 * so a browser SDK's `getToken` can fetch it from this endpoint.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import { signToken } from '../auth/sign.js';
import { BodyTooLargeError, declaresTooLarge, readBody } from '../http/body.js';
import type { Logger } from '../log.js';
import { BroadcastConfigError } from './errors.js';
import { MAX_AUTH_BODY, type AuthorizationStatus, type Guard } from './guard.js';

/** The environment variable naming the authorization path. */
export const AUTHORIZE_PATH_ENV = 'BROADCAST_AUTHORIZE_PATH';

/** Signing of subscription tokens by the authorization endpoint. */
export interface SubscriptionTokenOptions {
  /** The HMAC key Gyre verifies subscription tokens with (`client.token.hmac_secret_key`, or
   * `client.subscription_token.hmac_secret_key` when that is enabled). */
  hmacSecret: string;
  /** Default HS256. */
  alg?: 'HS256' | 'HS384' | 'HS512';
  /** Lifetime in seconds (the SDK refreshes through `getToken` before it ends). Default 3600; 0 = no expiry. */
  ttlSeconds?: number;
  /** Answer every success with a token, not only requests with `?token=1`. Default false. */
  always?: boolean;
}

export interface AuthorizationMiddlewareOptions {
  /** The exact path to answer at; `BROADCAST_AUTHORIZE_PATH` overrides it. */
  path?: string;
  /** Where `BROADCAST_AUTHORIZE_PATH` is read (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Sign subscription tokens for authorized channels. */
  token?: SubscriptionTokenOptions;
  /** Where a failing guard is logged (default: a pino logger to stdout). */
  logger?: Logger;
}

/** A connect-style `next`. */
export type NextFunction = (err?: unknown) => void;

/** What connect-style frameworks add to a Node request. */
type FrameworkRequest = IncomingMessage & { originalUrl?: string; body?: unknown; _body?: boolean };

function wantsToken(url: URL): boolean {
  const v = url.searchParams.get('token');
  return v === '1' || v === 'true';
}

function pathnameOf(url: string): string {
  const q = url.search(/[?#]/);
  return q === -1 ? url : url.slice(0, q);
}

function empty(status: number): Response {
  return new Response(null, { status, headers: { 'Cache-Control': 'no-store' } });
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
  });
}

/** Answers topic authorization requests at one path. */
export class AuthorizationMiddleware {
  /** The path it answers at. */
  readonly path: string;
  private readonly token: SubscriptionTokenOptions | undefined;
  private logger: Logger | undefined;

  constructor(
    readonly guard: Guard<Request>,
    options: AuthorizationMiddlewareOptions = {},
  ) {
    const env = options.env ?? process.env;
    const fromEnv = env[AUTHORIZE_PATH_ENV];
    const path = fromEnv !== undefined && fromEnv !== '' ? fromEnv : options.path;
    if (path === undefined || path === '') {
      throw new BroadcastConfigError(`no authorization path: set authorize.path in the broadcasting config or ${AUTHORIZE_PATH_ENV}`);
    }
    if (!path.startsWith('/')) throw new BroadcastConfigError(`authorization path must start with "/", got ${JSON.stringify(path)}`);
    if (options.token !== undefined) {
      if (typeof options.token.hmacSecret !== 'string' || options.token.hmacSecret === '') {
        throw new BroadcastConfigError('authorize.token.hmacSecret must be a non-empty string');
      }
    }
    this.path = path;
    this.token = options.token;
    this.logger = options.logger;
  }

  /** True when this middleware answers a request with this method and path. */
  answers(method: string | undefined, pathname: string): boolean {
    return pathname === this.path && (method === 'GET' || method === 'POST');
  }

  /** The answer to an authorization request (the guard is asked; throws when it throws). */
  async respond(request: Request): Promise<Response> {
    const status = await this.guard.authorize(request);
    if (status.response !== undefined) return status.response;
    if (!status.success) return empty(403);
    const url = new URL(request.url);
    if (this.token?.always !== true && !wantsToken(url)) return empty(200);
    if (this.token === undefined) {
      return json(501, { error: 'subscription token signing is not configured (authorize.token)' });
    }
    return json(200, { token: await this.sign(status) });
  }

  private async sign(status: AuthorizationStatus): Promise<string> {
    if (status.topics.length !== 1) throw new Error(`cannot sign a subscription token: the guard authorized ${status.topics.length} topics, expected 1`);
    const user = status.attributes['user'];
    const t = this.token!;
    return signToken(
      { sub: typeof user === 'string' ? user : '', channel: status.topics[0] },
      { hmacSecret: t.hmacSecret, ...(t.alg !== undefined && { alg: t.alg }), ttlSeconds: t.ttlSeconds ?? 3600 },
    );
  }

  private failed(e: unknown, path: string): Response {
    (this.logger ??= pino({ base: { service: 'gyre-broadcast' } })).error({ err: e, path }, 'broadcast authorization failed');
    return empty(500);
  }

  /**
   * Fetch style: the answer at the path, `undefined` elsewhere (the caller handles the request).
   * A guard that throws is logged and answered 500.
   */
  async handle(request: Request): Promise<Response | undefined> {
    const url = new URL(request.url);
    if (!this.answers(request.method, url.pathname)) return undefined;
    try {
      return await this.respond(request);
    } catch (e) {
      return this.failed(e, url.pathname);
    }
  }

  /** Fetch style, wrapping a handler: `Bun.serve({ fetch: auth.fetch(app.fetch) })`. */
  fetch<A extends unknown[]>(next: (request: Request, ...rest: A) => Response | Promise<Response>): (request: Request, ...rest: A) => Promise<Response> {
    return async (request, ...rest) => (await this.handle(request)) ?? next(request, ...rest);
  }

  /**
   * Node `http` / connect style: `app.use(auth.node)` (Express), or in a plain server
   * `if (!(await auth.node(req, res))) app(req, res)`. Resolves true when it answered the request;
   * otherwise calls `next()` (when given) and resolves false. With `next`, a guard that throws is
   * passed on as `next(err)`; without, it is logged and answered 500. Works with or without a
   * body parser before it (`req.body` is used when the body was parsed already).
   */
  readonly node = async (req: IncomingMessage, res: ServerResponse, next?: NextFunction): Promise<boolean> => {
    const r = req as FrameworkRequest;
    const pathname = pathnameOf(r.originalUrl ?? r.url ?? '/');
    if (!this.answers(req.method, pathname)) {
      next?.();
      return false;
    }
    let response: Response;
    try {
      response = await this.respond(await toFetchRequest(r));
    } catch (e) {
      if (e instanceof BodyTooLargeError) {
        // The rest of the body stays unread: the connection cannot carry another request.
        if (!res.headersSent) res.setHeader('Connection', 'close');
        response = empty(413);
      } else if (next !== undefined) {
        next(e);
        return true;
      } else {
        response = this.failed(e, pathname);
      }
    }
    await writeResponse(res, response);
    return true;
  };
}

/** A Node request as a fetch Request (reading the body unless a body parser already did). */
async function toFetchRequest(req: FrameworkRequest): Promise<Request> {
  const encrypted = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  let url: URL;
  try {
    url = new URL(req.originalUrl ?? req.url ?? '/', `${encrypted ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`);
  } catch {
    url = new URL(req.originalUrl ?? req.url ?? '/', 'http://localhost');
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    // The body is handed over whole, so its framing headers do not apply.
    if (name.startsWith(':') || value === undefined || name === 'content-length' || name === 'transfer-encoding') continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? 'GET';
  let body: Uint8Array<ArrayBuffer> | string | undefined;
  if (method !== 'GET' && method !== 'HEAD') {
    if (req._body === true || req.readableEnded) {
      body = parsedBody(req.body, headers);
    } else {
      if (declaresTooLarge(req, MAX_AUTH_BODY)) throw new BodyTooLargeError(MAX_AUTH_BODY);
      body = new Uint8Array(await readBody(req, MAX_AUTH_BODY));
    }
  }
  return new Request(url, { method, headers, ...(body !== undefined && { body }) });
}

/** A body a framework already parsed, encoded again. */
function parsedBody(body: unknown, headers: Headers): Uint8Array<ArrayBuffer> | string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return new Uint8Array(body);
  if (typeof body !== 'object') return String(body);
  const type = headers.get('content-type') ?? '';
  if (/[/+]json\b/i.test(type)) return JSON.stringify(body);
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) if (typeof v === 'string') form.append(k, v);
  headers.set('content-type', 'application/x-www-form-urlencoded');
  return form.toString();
}

async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  if (res.headersSent) return;
  const body = Buffer.from(await response.arrayBuffer());
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  headers['content-length'] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(body);
}
