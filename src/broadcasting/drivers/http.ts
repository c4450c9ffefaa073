/**
 * The `http` driver: publishes through the HTTP server API of a Gyre or Centrifugo server.
 * One topic → `publish`, several → `broadcast`; history kept unless `skipHistory`.
 */
import type { Duration } from '../../api/client/duration.js';
import { HttpApiClient, type HttpApiClientOptions } from '../../api/client/http.js';
import { BroadcastConfigError } from '../errors.js';
import type { DriverContext } from '../types.js';
import { ApiBroadcast, type ApiBroadcastOptions } from './api.js';

export interface HttpBroadcastOptions extends Omit<ApiBroadcastOptions, 'clientRetries' | 'ownsClient'> {
  /** The server API URL, e.g. `http://localhost:8000/api` (a URL without a path means its `/api`). */
  url: string | URL;
  /** The server's `http_api.key`. */
  apiKey?: string;
  /** Timeout of one attempt: ms or a duration string (`"5s"`). Default 5 s. */
  timeout?: Duration;
  /** Extra request headers. */
  headers?: Readonly<Record<string, string>>;
  /** The fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

export class HttpBroadcast extends ApiBroadcast {
  constructor(options: HttpBroadcastOptions, context?: Partial<DriverContext>) {
    const { url, apiKey, timeout, headers, fetch, retries, backoffMs, maxBackoffMs, ...rest } = options;
    let client: HttpApiClient;
    try {
      if (typeof url !== 'string' && !(url instanceof URL)) throw new TypeError('url is required (the server API URL, e.g. http://localhost:8000/api)');
      if (apiKey !== undefined && typeof apiKey !== 'string') throw new TypeError('apiKey must be a string');
      const clientOptions: HttpApiClientOptions = {
        url,
        ...(apiKey !== undefined && { apiKey }),
        ...(timeout !== undefined && { timeout }),
        ...(headers !== undefined && { headers }),
        ...(fetch !== undefined && { fetch }),
        ...(retries !== undefined && { retries }),
        ...(backoffMs !== undefined && { backoffMs }),
        ...(maxBackoffMs !== undefined && { maxBackoffMs }),
      };
      client = new HttpApiClient(clientOptions);
    } catch (e) {
      const connection = context?.connection ?? context?.driver ?? 'HttpBroadcast';
      throw new BroadcastConfigError(`broadcast connection "${connection}": ${(e as Error).message}`, connection, context?.driver ?? 'http', { cause: e });
    }
    super(
      client,
      {
        ...rest,
        ...(retries !== undefined && { retries }),
        ...(backoffMs !== undefined && { backoffMs }),
        ...(maxBackoffMs !== undefined && { maxBackoffMs }),
        clientRetries: true,
      },
      context,
    );
  }
}
