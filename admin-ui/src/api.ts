/**
 * The admin endpoints, called with URLs relative to the page (so `admin.handler_prefix` works):
 * `admin/init`, `admin/auth`, `admin/api` and the live tap `admin/tap`. The token lives in
 * localStorage; a 401 drops it.
 */
import { SseParser } from './sse';
import type { AdminMethod, AdminMethods, ClientInfo, InitInfo, Publication } from './types';

const TOKEN_KEY = 'gyre-admin-token';
const CALL_TIMEOUT_MS = 15_000;

/** The token is missing, expired or wrong: log in again. */
export class UnauthorizedError extends Error {
  constructor() {
    super('not authorized: log in again');
    this.name = 'UnauthorizedError';
  }
}

/** An error reply of the server API (`{"error": {"code", "message"}}`). */
export class ApiCallError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(`${message} (code ${code})`);
    this.name = 'ApiCallError';
  }
}

/** The stored admin token, or null. */
export function loadToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Stores the admin token (null removes it). */
export function storeToken(token: string | null): void {
  try {
    if (token === null) localStorage.removeItem(TOKEN_KEY);
    else localStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage disabled: the session lasts as long as the page.
  }
}

/** The message of an error answer: its `error` field when it is a string, else the HTTP status. */
async function errorText(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: unknown };
    if (typeof body.error === 'string' && body.error !== '') return body.error;
  } catch {
    // not JSON
  }
  return `HTTP ${res.status} ${res.statusText}`.trim();
}

function timeoutSignal(signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(CALL_TIMEOUT_MS);
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
}

/** `GET admin/init`: whether a login is needed, and the server's version. */
export async function fetchInit(token: string | null): Promise<InitInfo> {
  const res = await fetch('admin/init', {
    headers: token === null ? {} : { Authorization: `token ${token}` },
    signal: timeoutSignal(),
  });
  if (!res.ok) throw new Error(await errorText(res));
  return (await res.json()) as InitInfo;
}

/** A refused login: the server's message, and for too many failures the seconds to wait. */
export class LoginError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(message);
    this.name = 'LoginError';
  }
}

/** `POST admin/auth`: the token for a password; throws a {@link LoginError} when refused. */
export async function login(password: string): Promise<string> {
  const res = await fetch('admin/auth', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ password }).toString(),
    signal: timeoutSignal(),
  });
  if (!res.ok) {
    const retry = Number(res.headers.get('Retry-After'));
    throw new LoginError(await errorText(res), res.status === 429 && retry > 0 ? retry : undefined);
  }
  const body = (await res.json()) as { token?: unknown };
  if (typeof body.token !== 'string') throw new Error('the server answered without a token');
  return body.token;
}

/** One event of the live tap. */
export type TapEvent =
  | { kind: 'publication'; channel: string; pub: Publication }
  | { kind: 'join' | 'leave'; channel: string; info: ClientInfo };

/** Calls the admin endpoints with a token (none in insecure mode); a 401 calls `onUnauthorized`. */
export class AdminClient {
  constructor(
    private readonly token: string | null,
    private readonly onUnauthorized: () => void,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.token === null ? extra : { ...extra, Authorization: `token ${this.token}` };
  }

  private unauthorized(): never {
    this.onUnauthorized();
    throw new UnauthorizedError();
  }

  /** Calls a server API method through `POST admin/api`; throws {@link ApiCallError} on an error reply. */
  async call<M extends AdminMethod>(method: M, params: AdminMethods[M]['params'], signal?: AbortSignal): Promise<AdminMethods[M]['result']> {
    return (await this.callAny(method, params, signal)) as AdminMethods[M]['result'];
  }

  /** {@link call} with params built at run time (the Actions forms). */
  async callAny(method: AdminMethod, params: object, signal?: AbortSignal): Promise<unknown> {
    const res = await fetch('admin/api', {
      method: 'POST',
      headers: this.headers({ 'Content-Type': 'application/json' }),
      body: JSON.stringify({ method, params }),
      signal: timeoutSignal(signal),
    });
    if (res.status === 401) this.unauthorized();
    if (!res.ok) throw new Error(await errorText(res));
    const body = (await res.json()) as { result?: unknown; error?: { code?: number; message?: string } };
    if (body.error !== undefined) throw new ApiCallError(body.error.code ?? 0, body.error.message ?? 'unknown error');
    return body.result ?? {};
  }

  /**
   * Opens the live tap on a channel (`GET admin/tap`) and reads it until the server ends it or
   * `signal` aborts it (then it resolves); rejects when the server ends it for falling behind
   * (`event: overflow`). `onReady` once the node is subscribed.
   */
  async tap(channel: string, signal: AbortSignal, onReady: () => void, onEvent: (ev: TapEvent) => void): Promise<void> {
    const res = await fetch(`admin/tap?channel=${encodeURIComponent(channel)}`, {
      headers: this.headers({ Accept: 'text/event-stream' }),
      signal,
      cache: 'no-store',
    });
    if (res.status === 401) this.unauthorized();
    if (!res.ok || res.body === null) throw new Error(await errorText(res));
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        for (const ev of parser.push(value)) {
          if (ev.event === 'ready') {
            onReady();
            continue;
          }
          if (ev.event === 'overflow') {
            const reason = (JSON.parse(ev.data) as { reason?: string }).reason ?? 'overflow';
            throw new Error(`the server ended the tap: ${reason}`);
          }
          if (ev.event !== 'publication' && ev.event !== 'join' && ev.event !== 'leave') continue;
          const data = JSON.parse(ev.data) as { channel: string; pub?: Publication; info?: ClientInfo };
          if (ev.event === 'publication') onEvent({ kind: 'publication', channel: data.channel, pub: data.pub ?? {} });
          else onEvent({ kind: ev.event, channel: data.channel, info: data.info ?? { client: '', user: '' } });
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      await reader.cancel().catch(() => undefined);
      throw err;
    }
  }
}
