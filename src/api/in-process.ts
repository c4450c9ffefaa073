/**
 * The server API in-process: typed methods over the same command executor the HTTP API uses, for
 * application code running in the same process as the node.
 */
import type { NodeInfo } from '../cluster/cluster.js';
import type { ClientInfoResult, HistoryResult } from './client/types.js';
import type { CommandExecutor } from './executor.js';

export type { ClientInfoResult, HistoryResult, NodeInfo };

/** A publication's place in its channel (both absent when the channel keeps no history). */
export interface StreamPositionResult {
  offset?: number;
  epoch?: string;
}

export interface PublishOptions {
  skipHistory?: boolean;
  tags?: Record<string, string>;
  idempotencyKey?: string;
  /** Send as fossil delta to subscribers that negotiated it. */
  delta?: boolean;
}


export interface HistoryOptions {
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


/** Removes undefined values so the executor sees only what was given. */
function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** The node's server API for in-process callers. Errors are ProtocolExceptions with the API's codes. */
export class GyreApi {
  constructor(private readonly executor: CommandExecutor) {}

  private run<T>(method: string, params: Record<string, unknown>): Promise<T> {
    return this.executor.execute(method, defined(params)) as Promise<T>;
  }

  private publishParams(data: unknown, o: PublishOptions): Record<string, unknown> {
    return { data, skip_history: o.skipHistory, tags: o.tags, idempotency_key: o.idempotencyKey, delta: o.delta };
  }

  /** Publishes a JSON value into a channel. */
  publish(channel: string, data: unknown, options: PublishOptions = {}): Promise<StreamPositionResult> {
    return this.run('publish', { channel, ...this.publishParams(data, options) });
  }

  /** Publishes one JSON value into several channels; one result (or error) per channel, in order. */
  async broadcast(
    channels: string[],
    data: unknown,
    options: PublishOptions = {},
  ): Promise<Array<{ result: StreamPositionResult } | { error: { code: number; message: string } }>> {
    const res = await this.run<{ responses: Array<{ result: StreamPositionResult } | { error: { code: number; message: string } }> }>(
      'broadcast',
      { channels, ...this.publishParams(data, options) },
    );
    return res.responses;
  }

  async presence(channel: string): Promise<Record<string, ClientInfoResult>> {
    return (await this.run<{ presence: Record<string, ClientInfoResult> }>('presence', { channel })).presence;
  }

  async presenceStats(channel: string): Promise<{ numClients: number; numUsers: number }> {
    const r = await this.run<{ num_clients: number; num_users: number }>('presence_stats', { channel });
    return { numClients: r.num_clients, numUsers: r.num_users };
  }

  history(channel: string, options: HistoryOptions = {}): Promise<HistoryResult> {
    return this.run('history', { channel, limit: options.limit, since: options.since, reverse: options.reverse });
  }

  async historyRemove(channel: string): Promise<void> {
    await this.run('history_remove', { channel });
  }

  /** Subscribes a user's connections to a channel (server-side subscription). */
  async subscribe(user: string, channel: string, options: SubscribeUserOptions = {}): Promise<void> {
    await this.run('subscribe', {
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
    await this.run('unsubscribe', { user, channel, client: options.client });
  }

  /** Disconnects a user's connections. */
  async disconnect(user: string, options: DisconnectUserOptions = {}): Promise<void> {
    const disconnect = options.code !== undefined ? { code: options.code, reason: options.reason ?? '' } : undefined;
    await this.run('disconnect', { user, client: options.client, whitelist: options.whitelist, disconnect });
  }

  async refresh(user: string, options: RefreshUserOptions = {}): Promise<void> {
    await this.run('refresh', { user, client: options.client, expired: options.expired, expire_at: options.expireAt, info: options.info });
  }

  /** Active channels (optionally matching a glob pattern) with their subscriber counts. */
  async channels(pattern?: string): Promise<Record<string, { num_clients: number }>> {
    return (await this.run<{ channels: Record<string, { num_clients: number }> }>('channels', { pattern })).channels;
  }

  async info(): Promise<NodeInfo[]> {
    return (await this.run<{ nodes: NodeInfo[] }>('info', {})).nodes;
  }
}
