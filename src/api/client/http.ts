/**
 * The server API client over HTTP: `POST <url>/<method>` with a JSON body and the `X-API-Key`
 * header, against Gyre or Centrifugo. Each attempt has a timeout; temporary failures (error code
 * 100 and the other temporary codes, network errors, timeouts, HTTP 5xx) are retried with
 * exponential backoff, permanent ones (a bad channel, a bad key, a bad request ...) are not.
 */
import { Errors } from '../../protocol/codes.js';
import type {
  ApiBroadcastRequest,
  ApiBroadcastResult,
  ApiChannelRequest,
  ApiChannelsRequest,
  ApiChannelsResult,
  ApiDisconnectRequest,
  ApiHistoryRequest,
  ApiHistoryResult,
  ApiInfoResult,
  ApiPresenceResult,
  ApiPresenceStatsResult,
  ApiPublishRequest,
  ApiPublishResult,
  ApiRefreshRequest,
  ApiSubscribeRequest,
  ApiUnsubscribeRequest,
} from '../types.js';
import { DEFAULT_TIMEOUT_MS, toMillis, type Duration } from './duration.js';
import { isTemporaryCode, retryPolicy, withRetries, type RetryOptions, type RetryPolicy } from './retry.js';
import { ApiClientError, type ServerApiClient } from './types.js';

export interface HttpApiClientOptions extends RetryOptions {
  /**
   * The server API's URL, e.g. `http://localhost:8000/api`; method names are appended
   * (`/api/publish`). A URL without a path (`http://localhost:8000`) means its `/api`.
   */
  url: string | URL;
  /** Sent as `X-API-Key`; empty or absent: no key (a server with `http_api.insecure`). */
  apiKey?: string;
  /** Timeout of one attempt (ms or a duration string). Default 5 s. */
  timeout?: Duration;
  /** Extra request headers. */
  headers?: Readonly<Record<string, string>>;
  /** The fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

function apiUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`url: not a valid URL: ${JSON.stringify(String(url))}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`url: expected http: or https:, got ${u.protocol}`);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/api';
  return u.toString().replace(/\/+$/, '');
}

/** An HTTP status without an error object in the body, as an API error code. */
function codeOfStatus(status: number): number {
  if (status >= 500) return Errors.internal.code;
  if (status === 401 || status === 403) return Errors.unauthorized.code;
  if (status === 404) return Errors.methodNotFound.code;
  if (status === 429) return Errors.tooManyRequests.code;
  return Errors.badRequest.code;
}

function isApiError(v: unknown): v is { code: number; message?: unknown } {
  return typeof v === 'object' && v !== null && typeof (v as { code?: unknown }).code === 'number';
}

/** The server API of a Gyre or Centrifugo server, over HTTP. */
export class HttpApiClient implements ServerApiClient {
  readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly policy: RetryPolicy;
  private readonly fetchFn: typeof fetch;
  private readonly closer = new AbortController();

  constructor(options: HttpApiClientOptions) {
    this.url = apiUrl(options.url);
    this.timeoutMs = toMillis(options.timeout, DEFAULT_TIMEOUT_MS);
    this.policy = retryPolicy(options);
    this.fetchFn = options.fetch ?? fetch;
    this.headers = { ...options.headers, 'Content-Type': 'application/json', Accept: 'application/json' };
    if (options.apiKey !== undefined && options.apiKey !== '') this.headers['X-API-Key'] = options.apiKey;
  }

  /** Calls a server API method (snake_case name) with retries; resolves with its `result`. */
  call<T = Record<string, unknown>>(method: string, params: object = {}): Promise<T> {
    return withRetries(this.policy, () => this.attempt<T>(method, params), this.closer.signal);
  }

  private async attempt<T>(method: string, params: object): Promise<T> {
    if (this.closer.signal.aborted) throw new ApiClientError(Errors.internal.code, 'client closed', false, method);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = AbortSignal.any([this.closer.signal, timeout]);
    let status: number;
    let text: string;
    try {
      const res = await this.fetchFn(`${this.url}/${method}`, {
        method: 'POST',
        headers: this.headers,
        body: JSON.stringify(params),
        signal,
      });
      status = res.status;
      text = await res.text();
    } catch (e) {
      if (this.closer.signal.aborted) throw new ApiClientError(Errors.internal.code, 'client closed', false, method, { cause: e });
      if (timeout.aborted) {
        throw new ApiClientError(Errors.internal.code, `no answer within ${this.timeoutMs} ms`, true, method, { cause: e });
      }
      const reason = (e as { cause?: { code?: string; message?: string } }).cause;
      const detail = reason?.code ?? reason?.message ?? (e as Error).message;
      throw new ApiClientError(Errors.internal.code, `request failed: ${detail}`, true, method, { cause: e });
    }
    let body: unknown;
    try {
      body = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (status < 200 || status > 299) {
      // Transport error mode answers the error object itself, with a mapped status.
      const nested = (body as { error?: unknown } | undefined)?.error;
      const apiError = isApiError(body) ? body : isApiError(nested) ? nested : undefined;
      const code = apiError?.code ?? codeOfStatus(status);
      const said = typeof apiError?.message === 'string' ? apiError.message : typeof nested === 'string' ? nested : '';
      const message = said === '' ? `HTTP ${status}` : `${said} (HTTP ${status})`;
      throw new ApiClientError(code, message, status >= 500 || isTemporaryCode(code), method);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ApiClientError(Errors.internal.code, `unexpected response (HTTP ${status}, not a JSON object)`, false, method);
    }
    const reply = body as { result?: unknown; error?: unknown };
    if (reply.error !== undefined && reply.error !== null) {
      const error = isApiError(reply.error) ? reply.error : { code: Errors.internal.code, message: 'malformed error' };
      const message = typeof error.message === 'string' ? error.message : 'error';
      throw new ApiClientError(error.code, message, isTemporaryCode(error.code), method);
    }
    return (reply.result ?? {}) as T;
  }

  publish(req: ApiPublishRequest): Promise<ApiPublishResult> {
    return this.call('publish', req);
  }

  broadcast(req: ApiBroadcastRequest): Promise<ApiBroadcastResult> {
    return this.call('broadcast', req);
  }

  async subscribe(req: ApiSubscribeRequest): Promise<void> {
    await this.call('subscribe', req);
  }

  async unsubscribe(req: ApiUnsubscribeRequest): Promise<void> {
    await this.call('unsubscribe', req);
  }

  async disconnect(req: ApiDisconnectRequest): Promise<void> {
    await this.call('disconnect', req);
  }

  async refresh(req: ApiRefreshRequest): Promise<void> {
    await this.call('refresh', req);
  }

  presence(req: ApiChannelRequest): Promise<ApiPresenceResult> {
    return this.call('presence', req);
  }

  presenceStats(req: ApiChannelRequest): Promise<ApiPresenceStatsResult> {
    return this.call('presence_stats', req);
  }

  history(req: ApiHistoryRequest): Promise<ApiHistoryResult> {
    return this.call('history', req);
  }

  async historyRemove(req: ApiChannelRequest): Promise<void> {
    await this.call('history_remove', req);
  }

  channels(req: ApiChannelsRequest = {}): Promise<ApiChannelsResult> {
    return this.call('channels', req);
  }

  info(): Promise<ApiInfoResult> {
    return this.call('info', {});
  }

  /** Aborts calls in flight (they fail with a permanent "client closed" error) and refuses new ones. */
  async close(): Promise<void> {
    this.closer.abort(new Error('client closed'));
  }
}
