/**
 * The `local` driver: publishes straight into a Gyre node running in this process, through its
 * typed server API executor (no network, no JSON). Same semantics as the `http` driver.
 */
import { ApiClientError } from '../../api/client/types.js';
import { serverApiOf, type InProcessApi } from '../../api/in-process.js';
import type { ServerApi } from '../../api/server-api.js';
import { Errors, ProtocolException } from '../../protocol/codes.js';
import { BroadcastConfigError } from '../errors.js';
import type { DriverContext } from '../types.js';
import { ApiBroadcast, type ApiBroadcastOptions, type PublishingClient } from './api.js';

export interface LocalBroadcastOptions extends Omit<ApiBroadcastOptions, 'clientRetries' | 'ownsClient'> {
  /** The node: what `createGyre()` returned, its `api`, or its server API (`gyre.server.api`). */
  gyre: InProcessApi;
}

/** A failure of the in-process API as the drivers' client error (temporary as the registry says). */
function clientError(e: unknown, method: string): ApiClientError {
  if (e instanceof ApiClientError) return e;
  if (e instanceof ProtocolException) return new ApiClientError(e.error.code, e.error.message, e.error.temporary === true, method, { cause: e });
  return new ApiClientError(Errors.internal.code, e instanceof Error ? e.message : String(e), true, method, { cause: e });
}

async function calling<T>(method: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw clientError(e, method);
  }
}

/** The publishing part of the server API client port, over a node's {@link ServerApi}. */
export function inProcessClient(api: ServerApi): PublishingClient {
  return {
    publish: (req) => calling('publish', () => api.publish(req)),
    broadcast: (req) => calling('broadcast', () => api.broadcast(req)),
  };
}

/** Publishes into an in-process Gyre node. */
export class LocalBroadcast extends ApiBroadcast {
  constructor(options: LocalBroadcastOptions, context?: Partial<DriverContext>) {
    let api: ServerApi;
    try {
      api = serverApiOf(options.gyre);
    } catch (e) {
      const connection = context?.connection ?? context?.driver ?? 'LocalBroadcast';
      throw new BroadcastConfigError(`broadcast connection "${connection}": ${(e as Error).message}`, connection, context?.driver ?? 'local');
    }
    const { gyre: _gyre, ...rest } = options;
    super(inProcessClient(api), { ...rest, clientRetries: false, ownsClient: false }, context);
  }
}
