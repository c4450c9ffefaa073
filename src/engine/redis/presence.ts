/**
 * Redis presence: per channel a hash (client id → client info) and a sorted set (client id → expiry
 * time). Entries expire `presence_ttl` after their last refresh, so the presence of a node that dies
 * disappears by itself. This node refreshes its own entries with one shared timer (every third of
 * the TTL, pipelined per shard), not a timer per client, and removes them when clients leave and on
 * shutdown.
 */
import type { Logger } from 'pino';
import type { ClientInfo } from '../../protocol/types.js';
import type { PresenceManager, PresenceStats } from '../types.js';
import { decodeInfo, encodeInfo } from '../wire.js';
import type { RedisShard, RedisShards, ScriptPipeline } from './shards.js';

/** Entries per pipeline when refreshing or removing in bulk. */
const PIPELINE_CHUNK = 1000;

export class RedisPresenceManager implements PresenceManager {
  /** This node's presence entries: channel → client id → encoded info. */
  private readonly local = new Map<string, Map<string, string>>();
  private readonly ttl: number;
  private timer: NodeJS.Timeout | undefined;
  private refreshing = false;
  private closed = false;
  private started: Promise<void> | undefined;

  constructor(
    private readonly shards: RedisShards,
    private readonly log: Logger,
  ) {
    shards.acquire();
    this.ttl = shards.config.presence_ttl > 0 ? shards.config.presence_ttl : 60_000;
  }

  /** Connects and starts the refresh timer (also done lazily by the first call). */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.shards.start();
      if (this.closed) return;
      this.timer = setInterval(() => void this.refresh(), Math.max(100, Math.floor(this.ttl / 3)));
      this.timer.unref();
    })();
    return this.started;
  }

  async addPresence(channel: string, clientId: string, info: ClientInfo): Promise<void> {
    const encoded = encodeInfo(info);
    let clients = this.local.get(channel);
    if (clients === undefined) {
      clients = new Map();
      this.local.set(channel, clients);
    }
    clients.set(clientId, encoded);
    await this.start();
    const keys = this.shards.keys;
    const cmd = this.shards.shardFor(channel).command;
    await cmd.gyrePresenceAdd(keys.presenceExpire(channel), keys.presenceData(channel), this.ttl, Date.now() + this.ttl, clientId, encoded);
    // Removed meanwhile (the client left while this add was on its way): do not leave it behind.
    if (this.local.get(channel)?.has(clientId) !== true && !this.closed) {
      await cmd.gyrePresenceRemove(keys.presenceExpire(channel), keys.presenceData(channel), clientId);
    }
  }

  async removePresence(channel: string, clientId: string, _user: string): Promise<void> {
    const clients = this.local.get(channel);
    if (clients !== undefined) {
      clients.delete(clientId);
      if (clients.size === 0) this.local.delete(channel);
    }
    if (this.closed) return;
    const keys = this.shards.keys;
    await this.shards.shardFor(channel).command.gyrePresenceRemove(keys.presenceExpire(channel), keys.presenceData(channel), clientId);
  }

  async presence(channel: string): Promise<Map<string, ClientInfo>> {
    await this.start();
    const keys = this.shards.keys;
    const flat = await this.shards.shardFor(channel).command.gyrePresenceGet(keys.presenceExpire(channel), keys.presenceData(channel), Date.now());
    const out = new Map<string, ClientInfo>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      try {
        out.set(flat[i]!, decodeInfo(flat[i + 1]!));
      } catch {
        this.log.warn({ channel }, 'undecodable presence entry ignored');
      }
    }
    return out;
  }

  async presenceStats(channel: string): Promise<PresenceStats> {
    await this.start();
    const keys = this.shards.keys;
    const [numClients, numUsers] = await this.shards
      .shardFor(channel)
      .command.gyrePresenceStats(keys.presenceExpire(channel), keys.presenceData(channel), Date.now());
    return { numClients, numUsers };
  }

  /** Re-adds every local entry with a fresh expiry (one pipeline per shard and chunk). */
  private async refresh(): Promise<void> {
    if (this.refreshing || this.closed || this.local.size === 0) return;
    this.refreshing = true;
    try {
      const expireAt = Date.now() + this.ttl;
      await this.forEachChunk((p, channel, clientId, encoded) => {
        const keys = this.shards.keys;
        p.gyrePresenceAdd(keys.presenceExpire(channel), keys.presenceData(channel), this.ttl, expireAt, clientId, encoded);
      });
    } catch (e) {
      this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'presence refresh failed; retrying on the next tick');
    } finally {
      this.refreshing = false;
    }
  }

  /** Runs `add` for every local entry, batched into pipelines per shard. */
  private async forEachChunk(add: (p: ScriptPipeline, channel: string, clientId: string, encoded: string) => void): Promise<void> {
    const byShard = new Map<RedisShard, Array<[string, string, string]>>();
    for (const [channel, clients] of this.local) {
      const shard = this.shards.shardFor(channel);
      let list = byShard.get(shard);
      if (list === undefined) {
        list = [];
        byShard.set(shard, list);
      }
      for (const [clientId, encoded] of clients) list.push([channel, clientId, encoded]);
    }
    const runs: Array<Promise<unknown>> = [];
    for (const [shard, list] of byShard) {
      if (!shard.ready) continue;
      for (let i = 0; i < list.length; i += PIPELINE_CHUNK) {
        const p = shard.cmd.pipeline() as ScriptPipeline;
        for (const [channel, clientId, encoded] of list.slice(i, i + PIPELINE_CHUNK)) add(p, channel, clientId, encoded);
        runs.push(p.exec());
      }
    }
    await Promise.all(runs);
  }

  unavailable(): string | undefined {
    return this.shards.unavailable();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    try {
      // Take this node's presence away now rather than letting it expire.
      await this.forEachChunk((p, channel, clientId) => {
        const keys = this.shards.keys;
        p.gyrePresenceRemove(keys.presenceExpire(channel), keys.presenceData(channel), clientId);
      });
    } catch (e) {
      this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'removing presence on shutdown failed; it expires by itself');
    }
    this.local.clear();
    await this.shards.release();
  }
}
