/** How a proxy request travels: the contract of the HTTP and gRPC transports. */
import type { ProxyConfig } from '../config/types.js';
import type { JsonMessage, ProxyEvent, ProxyResponseJson } from './codec.js';

/** Headers (or metadata) sent with a request: lower-cased names, one entry per value. */
export type OutgoingHeaders = ReadonlyArray<readonly [name: string, value: string]>;

export interface ProxyTransport {
  /**
   * Sends one request in JSON form and resolves with the response in JSON form; rejects with a
   * {@link ProxyCallError} when the call fails (unreachable, timeout, non-200, not a response).
   * `config`: the settings of the proxy the call is for (timeout, static headers, credentials);
   * proxies with the same endpoint share a transport.
   */
  call(event: ProxyEvent, request: JsonMessage, headers: OutgoingHeaders, config: ProxyConfig, timeoutMs: number): Promise<ProxyResponseJson>;
  close(): void;
}

/**
 * The largest response a proxy backend may send (HTTP body or gRPC message), 4 MiB: gRPC's usual
 * receive limit. A larger one fails the call (error 100 for the client).
 */
export const MAX_PROXY_RESPONSE_BYTES = 4 * 1024 * 1024;

/** A proxy call that failed on the way (the client gets error 100). */
export class ProxyCallError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProxyCallError';
  }
}

/** A response body in JSON form, checked for its shape. */
export function asResponse(value: unknown): ProxyResponseJson {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProxyCallError('response is not a JSON object');
  const r = value as Record<string, unknown>;
  for (const key of ['result', 'error', 'disconnect'] as const) {
    const v = r[key];
    if (v !== undefined && v !== null && (typeof v !== 'object' || Array.isArray(v))) throw new ProxyCallError(`response.${key} is not an object`);
  }
  return r as ProxyResponseJson;
}
