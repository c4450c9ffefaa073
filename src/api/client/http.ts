/**
 * The server API client over HTTP: `POST <url>/<method>` with a JSON body and the `X-API-Key`
 * header, against Gyre or Centrifugo. Each attempt has a timeout; temporary failures (error code
 * 100 and the other temporary codes, network errors, timeouts, HTTP 5xx) are retried with
 * exponential backoff, permanent ones (a bad channel, a bad key, a bad request ...) are not.
 */
import { parseDuration } from '../../config/duration.js';
import { Errors } from '../../protocol/codes.js';
import {
  ApiClientError,
  type BroadcastRequest,
  type BroadcastResult,
  type ClientInfoResult,
  type DisconnectRequest,
  type HistoryRequest,
  type HistoryResult,
  type NodeResult,
  type PublishRequest,
  type PublishResult,
  type RefreshRequest,
  type ServerApiClient,
  type SubscribeRequest,
  type UnsubscribeRequest,
} from './types.js';

/** How often and how patiently a temporary failure is retried. */
export interface RetryOptions {
  /** Retries after the first attempt; 0 = none. Default 2. */
  retries?: number;
  /** Delay before the first retry in ms; doubles with each retry (with jitter). Default 100. */
  backoffMs?: number;
  /** The longest delay between two attempts in ms. Default 2000. */
  maxBackoffMs?: number;
}

/** A time span: milliseconds, or a duration string like `"5s"`, `"500ms"`. */
export type Duration = number | string;

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

export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_RETRIES = 2;
export const DEFAULT_BACKOFF_MS = 100;
export const DEFAULT_MAX_BACKOFF_MS = 2000;

/** Reply error codes the server marks temporary (100 internal, 111 too many requests, 113 ...). */
const TEMPORARY_CODES: ReadonlySet<number> = new Set(
  Object.values(Errors)
    .filter((e) => e.temporary === true)
    .map((e) => e.code),
);

/** True when an API error with this code is worth retrying. */
export function isTemporaryCode(code: number): boolean {
  return TEMPORARY_CODES.has(code);
}

/** A duration option in milliseconds; throws a TypeError naming the option on a bad value. */
export function toMillis(value: Duration | undefined, fallback: number, name = 'timeout'): number {
  if (value === undefined) return fallback;
  let ms: number;
  try {
    ms = typeof value === 'number' ? value : parseDuration(value);
  } catch (e) {
    throw new TypeError(`${name}: ${(e as Error).message}`);
  }
  if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`${name} must be a non-negative duration, got ${JSON.stringify(value)}`);
  return ms;
}

/** A normalised retry policy. */
export interface RetryPolicy {
  readonly retries: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

/** Validates retry options and fills the defaults. */
export function retryPolicy(o: RetryOptions = {}): RetryPolicy {
  const retries = o.retries ?? DEFAULT_RETRIES;
  if (!Number.isInteger(retries) || retries < 0) throw new TypeError(`retries must be a non-negative integer, got ${String(retries)}`);
  const backoffMs = toMillis(o.backoffMs, DEFAULT_BACKOFF_MS, 'backoffMs');
  const maxBackoffMs = Math.max(backoffMs, toMillis(o.maxBackoffMs, DEFAULT_MAX_BACKOFF_MS, 'maxBackoffMs'));
  return { retries, backoffMs, maxBackoffMs };
}

/** The delay before retry number `retry` (1-based): exponential, capped, with "equal jitter". */
export function backoffDelay(policy: RetryPolicy, retry: number): number {
  const exp = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (retry - 1));
  return exp / 2 + Math.random() * (exp / 2);
}

/** Resolves after `ms`, or rejects when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, fails with a permanent error (anything but a temporary
 * {@link ApiClientError}) or the retries are used up; the last error is thrown.
 */
export async function withRetries<T>(policy: RetryPolicy, attempt: (n: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (!(e instanceof ApiClientError) || !e.temporary || n >= policy.retries || signal?.aborted === true) throw e;
    }
    try {
      await sleep(backoffDelay(policy, n + 1), signal);
    } catch {
      // closed while waiting: the next attempt reports it
    }
  }
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

  publish(req: PublishRequest): Promise<PublishResult> {
    return this.call('publish', req);
  }

  broadcast(req: BroadcastRequest): Promise<BroadcastResult> {
    return this.call('broadcast', req);
  }

  async subscribe(req: SubscribeRequest): Promise<void> {
    await this.call('subscribe', req);
  }

  async unsubscribe(req: UnsubscribeRequest): Promise<void> {
    await this.call('unsubscribe', req);
  }

  async disconnect(req: DisconnectRequest): Promise<void> {
    await this.call('disconnect', req);
  }

  async refresh(req: RefreshRequest): Promise<void> {
    await this.call('refresh', req);
  }

  presence(req: { channel: string }): Promise<{ presence: Record<string, ClientInfoResult> }> {
    return this.call('presence', req);
  }

  presenceStats(req: { channel: string }): Promise<{ num_clients: number; num_users: number }> {
    return this.call('presence_stats', req);
  }

  history(req: HistoryRequest): Promise<HistoryResult> {
    return this.call('history', req);
  }

  async historyRemove(req: { channel: string }): Promise<void> {
    await this.call('history_remove', req);
  }

  channels(req: { pattern?: string } = {}): Promise<{ channels: Record<string, { num_clients: number }> }> {
    return this.call('channels', req);
  }

  info(): Promise<{ nodes: NodeResult[] }> {
    return this.call('info', {});
  }

  /** Aborts calls in flight (they fail with a permanent "client closed" error) and refuses new ones. */
  async close(): Promise<void> {
    this.closer.abort(new Error('client closed'));
  }
}
