/**
 * The server API key check, shared by the HTTP and the gRPC API: SHA-256 digests compared in
 * constant time, so neither the key's length nor its content leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The configured API key of an API (`http_api.key`, `grpc_api.key`). */
export class ApiKey {
  private readonly digest: Buffer | undefined;

  /** `key`: the configured key; empty = none. */
  constructor(key: string) {
    this.digest = key !== '' ? digest(key) : undefined;
  }

  /** True when a key is configured. */
  get configured(): boolean {
    return this.digest !== undefined;
  }

  /** True when `candidate` is the configured key (never when no key is configured or `candidate` is empty). */
  matches(candidate: string | undefined): boolean {
    if (this.digest === undefined || candidate === undefined || candidate === '') return false;
    return timingSafeEqual(digest(candidate), this.digest);
  }
}

/** The key of an `Authorization: apikey <key>` value (scheme case-insensitive); undefined for anything else. */
export function keyOfAuthorization(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return /^apikey\s+(.+)$/i.exec(value.trim())?.[1];
}
