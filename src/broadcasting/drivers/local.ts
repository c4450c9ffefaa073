/**
 * The `local` driver: publishes straight into a Gyre node running in this process, through its
 * in-process server API (no network). Same semantics as the `http` driver.
 */
import { ApiClientError, type BroadcastRequest, type BroadcastResult, type PublishRequest, type PublishResult } from '../../api/client/types.js';
import { GyreApi, type PublishOptions } from '../../api/in-process.js';
import type { Gyre } from '../../gyre.js';
import { Errors, ProtocolException } from '../../protocol/codes.js';
import { BroadcastConfigError } from '../errors.js';
import type { DriverContext } from '../types.js';
import { ApiBroadcast, type ApiBroadcastOptions, type PublishingClient } from './api.js';

export interface LocalBroadcastOptions extends Omit<ApiBroadcastOptions, 'clientRetries' | 'ownsClient'> {
  /** The node: what `createGyre()` returned, or its `api`. */
  gyre: Gyre | GyreApi;
}

function apiError(e: unknown, method: string): ApiClientError {
  if (e instanceof ApiClientError) return e;
  if (e instanceof ProtocolException) return new ApiClientError(e.error.code, e.error.message, e.error.temporary === true, method, { cause: e });
  return new ApiClientError(Errors.internal.code, e instanceof Error ? e.message : String(e), true, method, { cause: e });
}

function options(req: Omit<PublishRequest, 'channel' | 'data'>): PublishOptions {
  return {
    ...(req.skip_history !== undefined && { skipHistory: req.skip_history }),
    ...(req.tags !== undefined && { tags: req.tags }),
    ...(req.idempotency_key !== undefined && { idempotencyKey: req.idempotency_key }),
    ...(req.delta !== undefined && { delta: req.delta }),
  };
}

/** The publishing part of the server API client port, over a node's in-process API. */
export function inProcessClient(api: GyreApi): PublishingClient {
  return {
    async publish(req: PublishRequest): Promise<PublishResult> {
      try {
        return await api.publish(req.channel, req.data, options(req));
      } catch (e) {
        throw apiError(e, 'publish');
      }
    },
    async broadcast(req: BroadcastRequest): Promise<BroadcastResult> {
      try {
        return { responses: await api.broadcast(req.channels, req.data, options(req)) };
      } catch (e) {
        throw apiError(e, 'broadcast');
      }
    },
  };
}

/** The in-process API of a Gyre or of its API; throws a TypeError for anything else. */
export function gyreApiOf(target: unknown): GyreApi {
  if (target instanceof GyreApi) return target;
  const api = (target as { api?: unknown } | null | undefined)?.api;
  if (api instanceof GyreApi) return api;
  throw new TypeError('gyre must be a Gyre (from createGyre) or its api (GyreApi)');
}

/** Publishes into an in-process Gyre node. */
export class LocalBroadcast extends ApiBroadcast {
  constructor(options: LocalBroadcastOptions, context?: Partial<DriverContext>) {
    let api: GyreApi;
    try {
      api = gyreApiOf(options.gyre);
    } catch (e) {
      const connection = context?.connection ?? context?.driver ?? 'LocalBroadcast';
      throw new BroadcastConfigError(`broadcast connection "${connection}": ${(e as Error).message}`, connection, context?.driver ?? 'local');
    }
    const { gyre: _gyre, ...rest } = options;
    super(inProcessClient(api), { ...rest, clientRetries: false, ownsClient: false }, context);
  }
}
