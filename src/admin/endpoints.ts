/**
 * The admin web UI and its endpoints (`admin.*` config, Centrifugo's layout), under
 * `P = admin.handler_prefix`:
 * - `GET P/` the UI (`P` alone redirects there), `GET P/admin/ui/<file>` its files;
 * - `GET P/admin/init`: `{"insecure", "authenticated", "edition", "version"}`;
 * - `POST P/admin/auth` with `password` (form or JSON): `{"token"}`; 400 for a wrong password,
 *   429 with Retry-After once an address failed too often (see login-throttle.ts);
 * - `POST P/admin/api` (`{"method", "params"}`) and `P/admin/api/<method>`: the server API,
 *   for the admin token only (`Authorization: token <t>` or `?token=`);
 * - `GET P/admin/tap?channel=`: the live tap (tap.ts), admin token only.
 * With `admin.insecure`, no token is asked for. None of it exists when admin is disabled.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpApi } from '../api/http.js';
import type { ServerApi } from '../api/server-api.js';
import type { GyreConfig } from '../config/types.js';
import { BodyTooLargeError, declaresTooLarge, readText } from '../http/body.js';
import { refuse, sendJson } from '../http/respond.js';
import type { GyreNode } from '../node/node.js';
import { AdminAssets, SECURITY_HEADERS } from './assets.js';
import { LoginThrottle } from './login-throttle.js';
import { AdminTaps } from './tap.js';
import { adminTokenOf, AdminTokens } from './token.js';

/** The largest login body read (bytes). */
const MAX_LOGIN_BODY = 16 * 1024;

export class AdminEndpoints {
  private readonly prefix: string;
  private readonly tokens: AdminTokens | undefined;
  private readonly throttle = new LoginThrottle();
  private readonly api: HttpApi;
  private readonly taps: AdminTaps;
  private readonly assets: AdminAssets;

  constructor(
    private readonly node: GyreNode,
    serverApi: ServerApi,
    private readonly config: GyreConfig,
    assets: AdminAssets = new AdminAssets(),
  ) {
    const admin = config.admin;
    this.prefix = admin.handler_prefix;
    this.tokens = admin.secret !== '' ? new AdminTokens(admin.secret) : undefined;
    this.api = new HttpApi(node, serverApi, config.http_api, {
      prefix: `${this.prefix}/admin/api`,
      name: 'admin API',
      authorize: (req, url) => this.authorized(req, url),
    });
    this.taps = new AdminTaps(node);
    this.assets = assets;
    if (!assets.present) node.log.warn('admin: the web UI files are missing (admin-ui/dist): run "npm run build:admin-ui"; the admin API works without them');
  }

  /** True when `path` is one of the admin endpoints. */
  matches(path: string): boolean {
    const p = this.prefix;
    return path === `${p}/` || (p !== '' && path === p) || path.startsWith(`${p}/admin/`);
  }

  /** Serves an admin request (its path {@link matches}). */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): void {
    this.route(req, res, url).catch((e: unknown) => {
      this.node.log.error({ err: e, path: url.pathname }, 'admin request failed');
      sendJson(res, 500, { error: 'internal server error' });
    });
  }

  /** Ends every live tap (at shutdown). */
  close(): void {
    this.taps.closeAll();
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname;
    const p = this.prefix;
    if (p !== '' && path === p) {
      res.writeHead(308, { ...SECURITY_HEADERS, Location: `${p}/${url.search}` });
      res.end();
      return;
    }
    if (path === `${p}/`) return this.file('index.html', req, res);
    const rest = path.slice(p.length + '/admin/'.length);
    if (rest.startsWith('ui/')) return this.file(rest.slice(3), req, res);
    if (this.api.matches(path)) return this.api.handle(req, res, url);
    if (rest === 'init') return this.init(req, res, url);
    if (rest === 'auth') return this.login(req, res);
    if (rest === 'tap') {
      if (!(await this.authorized(req, url))) return this.unauthorized(res, path);
      return this.taps.serve(url.searchParams.get('channel'), req, res);
    }
    sendJson(res, 404, { error: 'not found' });
  }

  private file(name: string, req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method not allowed' });
    if (!this.assets.has(name)) {
      if (name === 'index.html') return sendJson(res, 503, { error: 'the admin web UI files are missing: run "npm run build:admin-ui"' });
      return sendJson(res, 404, { error: 'not found' });
    }
    this.assets.serve(name, req, res);
  }

  private async init(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' });
    res.setHeader('Cache-Control', 'no-store');
    sendJson(res, 200, {
      insecure: this.config.admin.insecure,
      authenticated: await this.authorized(req, url),
      edition: 'gyre',
      version: this.node.version,
    });
  }

  /** Whether a request carries a valid admin token (always, with `admin.insecure`). */
  private async authorized(req: IncomingMessage, url: URL): Promise<boolean> {
    if (this.config.admin.insecure) return true;
    const token = adminTokenOf(req, url);
    return token !== undefined && this.tokens !== undefined && (await this.tokens.valid(token));
  }

  private unauthorized(res: ServerResponse, path: string): void {
    this.node.log.info({ path }, 'admin: request without a valid admin token');
    sendJson(res, 401, { error: 'unauthorized' });
  }

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return refuse(res, 405, 'method not allowed');
    res.setHeader('Cache-Control', 'no-store');
    const address = req.socket.remoteAddress ?? 'unknown';
    const wait = this.throttle.waitMs(address);
    if (wait > 0) return this.locked(res, wait);
    const { password, secret } = this.config.admin;
    if (password === '' || this.tokens === undefined || secret === '') {
      // Only with insecure (the config check asks for both otherwise): there is nothing to log in to.
      return sendJson(res, 400, { error: 'admin login is off: admin.password and admin.secret are not set' });
    }
    if (declaresTooLarge(req, MAX_LOGIN_BODY)) return refuse(res, 413, 'request body too large');
    let given: string | undefined;
    try {
      given = passwordOf(await readText(req, MAX_LOGIN_BODY), String(req.headers['content-type'] ?? ''));
    } catch (e) {
      if (e instanceof BodyTooLargeError) return refuse(res, 413, 'request body too large');
      return sendJson(res, 400, { error: 'bad request' });
    }
    if (given !== undefined && sameSecret(given, password)) {
      this.throttle.succeeded(address);
      this.node.log.info({ address }, 'admin: logged in');
      return sendJson(res, 200, { token: await this.tokens.issue() });
    }
    const locked = this.throttle.failed(address);
    this.node.log.warn({ address, locked_ms: locked }, 'admin: wrong password');
    if (locked > 0) return this.locked(res, locked);
    sendJson(res, 400, { error: 'wrong password' });
  }

  private locked(res: ServerResponse, waitMs: number): void {
    const seconds = Math.ceil(waitMs / 1000);
    res.setHeader('Retry-After', String(seconds));
    sendJson(res, 429, { error: `too many failed logins: try again in ${seconds} s` });
  }
}

/** The `password` of a login body: a form (`password=...`) or JSON (`{"password": "..."}`). */
function passwordOf(body: string, contentType: string): string | undefined {
  if (contentType.includes('application/json')) {
    const parsed = JSON.parse(body) as unknown;
    const value = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>)['password'] : undefined;
    return typeof value === 'string' ? value : undefined;
  }
  return new URLSearchParams(body).get('password') ?? undefined;
}

/** Compares two secrets in time that does not depend on where they differ. */
function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  // Hash both to one length, so the comparison also hides the expected length.
  return timingSafeEqual(digest(a), digest(b)) && a.length === b.length;
}

function digest(b: Buffer): Buffer {
  return createHash('sha256').update(b).digest();
}
