/**
 * The server API in-process (`gyre.api`): positional arguments and camelCase options over the
 * node's {@link ServerApi}, for application code running in the same process as the node. No JSON
 * in between: each method builds the typed request and calls the executor.
 */
import { ServerApi } from './server-api.js';
import type { ApiBroadcastResult, ApiClientInfo, ApiHistoryResult, ApiNodeInfo, ApiPublishRequest, ApiPublishResult } from './types.js';

/** Options of {@link GyreApi.publish} and {@link GyreApi.broadcast}. */
export interface GyrePublishOptions {
  skipHistory?: boolean;
  tags?: Record<string, string>;
  idempotencyKey?: string;
  /** Send as fossil delta to subscribers that negotiated it. */
  delta?: boolean;
}

/** Options of {@link GyreApi.history}. */
export interface GyreHistoryOptions {
  /** Publications to return (0 = only the position, -1 = up to the configured maximum). */
  limit?: number;
  since?: { offset: number; epoch: string };
  reverse?: boolean;
}

export interface UserTarget {
  /** Only this connection of the user. */
  client?: string;
}

export interface SubscribeUserOptions extends UserTarget {
  info?: unknown;
  data?: unknown;
  recoverSince?: { offset: number; epoch: string };
  /** Seconds since epoch. */
  expireAt?: number;
}

export interface DisconnectUserOptions extends UserTarget {
  /** Default 3503 "force disconnect". */
  code?: number;
  reason?: string;
  /** Connection ids to keep. */
  whitelist?: string[];
}

export interface RefreshUserOptions extends UserTarget {
  expired?: boolean;
  /** Seconds since epoch. */
  expireAt?: number;
  info?: unknown;
}

function publishFields(o: GyrePublishOptions): Omit<ApiPublishRequest, 'channel' | 'data'> {
  return { skip_history: o.skipHistory, tags: o.tags, idempotency_key: o.idempotencyKey, delta: o.delta };
}

/** The node's server API for in-process callers. Errors are ProtocolExceptions with the API's codes. */
export class GyreApi {
  /** `serverApi`: the node's typed executor (`GyreServer.api`). */
  constructor(readonly serverApi: ServerApi) {}

  /** Publishes a JSON value into a channel. */
  publish(channel: string, data: unknown, options: GyrePublishOptions = {}): Promise<ApiPublishResult> {
    return this.serverApi.publish({ channel, data, ...publishFields(options) });
  }

  /** Publishes one JSON value into several channels; one result (or error) per channel, in order. */
  async broadcast(channels: string[], data: unknown, options: GyrePublishOptions = {}): Promise<ApiBroadcastResult['responses']> {
    return (await this.serverApi.broadcast({ channels, data, ...publishFields(options) })).responses;
  }

  /** Who is in a channel (client id → info). */
  async presence(channel: string): Promise<Record<string, ApiClientInfo>> {
    return (await this.serverApi.presence({ channel })).presence;
  }

  async presenceStats(channel: string): Promise<{ numClients: number; numUsers: number }> {
    const r = await this.serverApi.presenceStats({ channel });
    return { numClients: r.num_clients, numUsers: r.num_users };
  }

  history(channel: string, options: GyreHistoryOptions = {}): Promise<ApiHistoryResult> {
    return this.serverApi.history({ channel, limit: options.limit, since: options.since, reverse: options.reverse });
  }

  async historyRemove(channel: string): Promise<void> {
    await this.serverApi.historyRemove({ channel });
  }

  /** Subscribes a user's connections to a channel (server-side subscription). */
  async subscribe(user: string, channel: string, options: SubscribeUserOptions = {}): Promise<void> {
    await this.serverApi.subscribe({
      user,
      channel,
      client: options.client,
      info: options.info,
      data: options.data,
      recover_since: options.recoverSince,
      expire_at: options.expireAt,
    });
  }

  async unsubscribe(user: string, channel: string, options: UserTarget = {}): Promise<void> {
    await this.serverApi.unsubscribe({ user, channel, client: options.client });
  }

  /** Disconnects a user's connections. */
  async disconnect(user: string, options: DisconnectUserOptions = {}): Promise<void> {
    const disconnect = options.code !== undefined ? { code: options.code, reason: options.reason ?? '' } : undefined;
    await this.serverApi.disconnect({ user, client: options.client, whitelist: options.whitelist, disconnect });
  }

  async refresh(user: string, options: RefreshUserOptions = {}): Promise<void> {
    await this.serverApi.refresh({ user, client: options.client, expired: options.expired, expire_at: options.expireAt, info: options.info });
  }

  /** Active channels (optionally matching a glob pattern) with their subscriber counts. */
  async channels(pattern?: string): Promise<Record<string, { num_clients: number }>> {
    return (await this.serverApi.channels({ pattern })).channels;
  }

  async info(): Promise<ApiNodeInfo[]> {
    return (await this.serverApi.info()).nodes;
  }
}

/** What gives the in-process server API: a Gyre (`createGyre()`), its `api`, or the {@link ServerApi} itself. */
export type InProcessApi = ServerApi | GyreApi | { readonly api: GyreApi };

/** The {@link ServerApi} of an {@link InProcessApi}; throws a TypeError for anything else. */
export function serverApiOf(target: unknown): ServerApi {
  if (target instanceof ServerApi) return target;
  if (target instanceof GyreApi) return target.serverApi;
  const api = (target as { api?: unknown } | null | undefined)?.api;
  if (api instanceof GyreApi) return api.serverApi;
  throw new TypeError('gyre must be a Gyre (from createGyre), its api (GyreApi) or its server API (ServerApi)');
}
