/**
 * RPC routing: methods by name, and the seed's `verb:uri` methods (`get:news/123`,
 * `post:news/store`) mapped onto a fetch-style HTTP handler (`(Request, rpc) => Response`), so Hono
 * or any fetch-compatible router (Express through an adapter) serves them, knowing who called.
 */
import { Errors } from '../protocol/codes.js';
import type { RPCRequest } from './requests.js';
import { RPCResponse } from './responses.js';

/** Handles one RPC method; its return value is the RPC result data. */
export type RpcMethod = (request: RPCRequest) => unknown;

/**
 * A fetch-style HTTP handler. Its second argument is the RPC request the HTTP request was made
 * from: the caller (`user`, `client`, `meta`, ...) that a client cannot forge, since it is not in the
 * HTTP request. Hono's `app.fetch` takes it as its bindings: `c.env.user` in a route.
 */
export type FetchHandler = (request: Request, rpc: RPCRequest) => Response | Promise<Response>;

const HTTP_METHOD = /^(get|head|post|put|patch|delete):(.+)$/i;

export class RpcRouter {
  private readonly methods = new Map<string, RpcMethod>();
  private httpHandler: FetchHandler | undefined;
  private baseUrl = 'http://localhost/';
  private fallbackMethod: RpcMethod | undefined;

  /** Routes one method name. */
  method(name: string, handler: RpcMethod): this {
    this.methods.set(name, handler);
    return this;
  }

  /**
   * Routes `verb:uri` methods to an HTTP handler: GET / HEAD send the RPC data as the query string,
   * POST / PUT / PATCH / DELETE as a JSON body; the handler gets the RPC request as its second
   * argument (who called). The RPC result is the response's JSON object plus
   * `code` (the HTTP status). A uri that leaves `baseUrl` (another origin, `..` above its path) is
   * not routed: such a method goes to the fallback, or gets error 104.
   */
  http(handler: FetchHandler, baseUrl = 'http://localhost/'): this {
    // Parsed here, so that a bad base URL fails at registration rather than on every call.
    this.baseUrl = new URL(baseUrl.endsWith('/') ? baseUrl : baseUrl + '/').href;
    this.httpHandler = handler;
    return this;
  }

  /** Handles methods nothing else matched (default: error 104 "method not found"). */
  fallback(handler: RpcMethod): this {
    this.fallbackMethod = handler;
    return this;
  }

  /** The router as an `rpc` service. */
  readonly service = async (request: RPCRequest): Promise<void> => {
    const exact = this.methods.get(request.method);
    let data: unknown;
    if (exact !== undefined) data = await exact(request);
    else if (this.httpHandler !== undefined && this.routesToHttp(request.method)) data = await this.callHttp(request);
    else if (this.fallbackMethod !== undefined) data = await this.fallbackMethod(request);
    else return request.error(Errors.methodNotFound.code, Errors.methodNotFound.message);
    if (!request.answered) request.respond(new RPCResponse({ data }));
  };

  /**
   * The URL of a `verb:uri` method, or undefined when the method is not of that form or its uri
   * leaves the base URL (another origin, or `..` above the base path): the method is chosen by the
   * client, so it must not reach anything but the routes under the base.
   */
  private httpUrl(method: string): { verb: string; url: URL } | undefined {
    const m = HTTP_METHOD.exec(method);
    if (m === null) return undefined;
    const base = new URL(this.baseUrl);
    let url: URL;
    try {
      url = new URL(m[2]!.replace(/^[/\\]+/, ''), base);
    } catch {
      return undefined;
    }
    if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) return undefined;
    return { verb: m[1]!.toUpperCase(), url };
  }

  private routesToHttp(method: string): boolean {
    return this.httpUrl(method) !== undefined;
  }

  /**
   * Builds the HTTP request of a `verb:uri` method; throws a TypeError when the method is not of
   * that form or its uri leaves the base URL.
   */
  toHttpRequest(method: string, data: unknown): Request {
    const target = this.httpUrl(method);
    if (target === undefined) throw new TypeError(`RPC method "${method}" is not of the form verb:uri under ${this.baseUrl}`);
    const { verb, url } = target;
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (verb === 'GET' || verb === 'HEAD') {
      if (data !== null && typeof data === 'object') {
        for (const [k, v] of Object.entries(data)) url.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
      }
      return new Request(url, { method: verb, headers });
    }
    return new Request(url, { method: verb, headers, body: JSON.stringify(data ?? {}) });
  }

  private async callHttp(request: RPCRequest): Promise<Record<string, unknown>> {
    let response: Response;
    let text: string;
    try {
      response = await this.httpHandler!(this.toHttpRequest(request.method, request.data), request);
      text = await response.text();
    } catch (e) {
      return { code: 500, message: e instanceof Error ? e.message : String(e) };
    }
    let body: unknown = undefined;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const fields = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : body === undefined ? {} : { data: body };
    return { ...fields, code: response.status };
  }
}
