/**
 * Retrying server API calls: which failures are temporary, the retry policy (how many retries,
 * exponential backoff with jitter) and the retry loop. Shared by the HTTP and gRPC API clients and
 * the broadcasting drivers.
 */
import { Errors } from '../../protocol/codes.js';
import { toMillis } from './duration.js';
import { ApiClientError } from './types.js';

/** How often and how patiently a temporary failure is retried. */
export interface RetryOptions {
  /** Retries after the first attempt; 0 = none. Default 2. */
  retries?: number;
  /** Delay before the first retry in ms; doubles with each retry (with jitter). Default 100. */
  backoffMs?: number;
  /** The longest delay between two attempts in ms. Default 2000. */
  maxBackoffMs?: number;
}

export const DEFAULT_RETRIES = 2;
export const DEFAULT_BACKOFF_MS = 100;
export const DEFAULT_MAX_BACKOFF_MS = 2000;

/** Reply error codes the registry marks temporary (100 internal, 111 too many requests, 113 ...). */
const TEMPORARY_CODES: ReadonlySet<number> = new Set(
  Object.values(Errors)
    .filter((e) => e.temporary === true)
    .map((e) => e.code),
);

/** True when an API error with this code is worth retrying. */
export function isTemporaryCode(code: number): boolean {
  return TEMPORARY_CODES.has(code);
}

/** A normalised retry policy. */
export interface RetryPolicy {
  readonly retries: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
}

/** Validates retry options and fills the defaults; throws a TypeError naming a bad option. */
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
