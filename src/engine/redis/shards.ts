/**
 * Redis shards: each shard is one Redis setup (standalone, Sentinel or Cluster) with a command
 * connection and, when PUB/SUB is used, a subscriber connection. Channels are spread over shards
 * by jump consistent hashing of the channel name, so every node maps a channel to the same shard.
 *
 * The subscriber connection keeps the set of wanted PUB/SUB channels itself: SUBSCRIBE / UNSUBSCRIBE
 * calls made within one event-loop turn go out as one command, and after a lost connection comes
 * back every wanted channel is subscribed again and the listener is told (it may have missed
 * messages meanwhile). Commands fail at once while a connection is down.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisConfig } from '../../config/types.js';
import { createClient, shardSpecs, type ShardSpec } from './connect.js';
import { RedisKeys } from './keys.js';
import {
  HISTORY_LUA,
  PRESENCE_ADD_LUA,
  PRESENCE_GET_LUA,
  PRESENCE_REMOVE_LUA,
  PRESENCE_STATS_LUA,
  PUBLISH_LUA,
} from './scripts.js';

type Client = Redis | Cluster;

/** The Lua scripts, as ioredis defines them on a client (EVALSHA with EVAL fallback). */
export interface ScriptCommands {
  gyrePublish(...args: Array<string | number>): Promise<[number, string]>;
  gyreHistory(...args: Array<string | number>): Promise<[string, string, Array<[string, string[]]>]>;
  gyrePresenceAdd(...args: Array<string | number>): Promise<number>;
  gyrePresenceRemove(...args: Array<string | number>): Promise<number>;
  gyrePresenceGet(...args: Array<string | number>): Promise<string[]>;
  gyrePresenceStats(...args: Array<string | number>): Promise<[number, number]>;
}

export type ScriptClient = Client & ScriptCommands;
export type ScriptPipeline = ReturnType<Client['pipeline']> & { [K in keyof ScriptCommands]: (...args: Array<string | number>) => ScriptPipeline };

/** Receives what arrives on subscriber connections. */
export interface ShardListener {
  /** A message on a subscribed PUB/SUB channel (the Redis channel name). */
  onMessage(channel: string, message: string): void;
  /**
   * The subscriber connection of a shard is back after a loss: messages of these channels may have
   * been missed. Called before they are subscribed again, so that nothing published after the gap
   * reaches a subscriber that missed what came before it.
   */
  onReconnected(shard: RedisShard, channels: readonly string[]): void;
}

interface PendingOp {
  subscribe: boolean;
  channel: string;
  resolve?: () => void;
  reject?: (e: unknown) => void;
}

/** Max channels in one SUBSCRIBE / UNSUBSCRIBE command. */
const BATCH = 512;

/** How long start() waits for Redis before going on (the clients keep reconnecting). */
const START_WAIT_MS = 5_000;

export class RedisShard {
  readonly cmd: ScriptClient;
  private sub: Client | undefined;
  /** PUB/SUB channels this shard should be subscribed to. */
  private readonly wanted = new Set<string>();
  private queue: PendingOp[] = [];
  private flushScheduled = false;
  private subWasReady = false;
  private closed = false;

  constructor(
    readonly index: number,
    private readonly spec: ShardSpec,
    private readonly log: Logger,
    private readonly listener: () => ShardListener | undefined,
  ) {
    this.cmd = createClient(spec, 'gyre') as ScriptClient;
    defineScripts(this.cmd);
    this.watch(this.cmd, 'command', () => {});
  }

  get label(): string {
    return this.spec.label;
  }

  get isCluster(): boolean {
    return this.spec.kind === 'cluster';
  }

  /** True while the command connection can take commands. */
  get ready(): boolean {
    return this.cmd.status === 'ready';
  }

  /**
   * The connection to read a subscribed channel's history on: the subscriber connection itself when
   * it speaks RESP3 (commands allowed in subscriber mode), so the reply comes after every message
   * published before the read — a recovering subscriber then never gets a publication both from
   * history and live. Otherwise (Redis Cluster, RESP2) the command connection.
   */
  reader(pubsubChannel: string): ScriptClient {
    const sub = this.sub as (Client & { condition?: { protocol?: number } }) | undefined;
    if (sub !== undefined && this.spec.kind !== 'cluster' && sub.status === 'ready' && sub.condition?.protocol === 3 && this.wanted.has(pubsubChannel)) {
      return sub as ScriptClient;
    }
    return this.command;
  }

  /** The command connection; throws at once (a clear reason for the log) while Redis is away. */
  get command(): ScriptClient {
    if (this.cmd.status !== 'ready') throw new Error(`Redis ${this.label} is unavailable (connection ${this.cmd.status})`);
    return this.cmd;
  }

  /** Connects (the subscriber connection too when `pubsub`); waits a bounded time for Redis. */
  async start(pubsub: boolean): Promise<void> {
    const clients: Client[] = [this.cmd];
    if (pubsub && this.sub === undefined) {
      const sub = createClient(this.spec, 'gyre-pubsub');
      defineScripts(sub);
      this.sub = sub;
      sub.on('message', (channel: string, message: string) => this.listener()?.onMessage(channel, message));
      this.watch(sub, 'PUB/SUB', () => this.onSubReady(sub));
      clients.push(sub);
    }
    await Promise.all(clients.map((c) => connectAndWait(c, START_WAIT_MS)));
    if (!this.ready) {
      this.log.error({ redis: this.label }, 'Redis is not reachable yet; retrying in the background');
    } else if (this.spec.kind === 'standalone') {
      await this.checkNotCluster();
    }
  }

  /** A Redis Cluster node given as a plain address would answer MOVED for most keys: say how to configure it. */
  private async checkNotCluster(): Promise<void> {
    try {
      const info = await (this.cmd as Redis).info('cluster');
      if (/cluster_enabled:1/.test(info)) {
        this.log.error(
          { redis: this.label },
          'this Redis is a Redis Cluster node: configure it as "redis+cluster://host:port" or with cluster_address',
        );
      }
    } catch {
      // Not essential.
    }
  }

  /** Logs connection state changes once each; `onReady` runs on every (re)connection. */
  private watch(client: Client, what: string, onReady: () => void): void {
    let down = false;
    let everReady = false;
    let lastError = '';
    client.on('ready', () => {
      if (down) this.log.info({ redis: this.label, connection: what }, 'Redis connection restored');
      else if (!everReady) this.log.debug({ redis: this.label, connection: what }, 'Redis connected');
      down = false;
      everReady = true;
      lastError = '';
      onReady();
    });
    client.on('close', () => {
      if (this.closed || down || !everReady) return;
      down = true;
      this.log.error({ redis: this.label, connection: what }, 'Redis connection lost; reconnecting');
    });
    client.on('error', (err: Error) => {
      if (this.closed) return;
      // Reconnect attempts repeat the same error: log it once until the connection is back.
      if (err.message === lastError) return;
      lastError = err.message;
      this.log.warn({ redis: this.label, connection: what, err: err.message }, 'Redis error');
    });
  }

  /**
   * Subscriber connection (re)connected. After a loss, the listeners hear of it first (the node
   * drops the local subscribers of those channels, which resubscribe and recover), then whatever is
   * still wanted is subscribed again.
   */
  private onSubReady(sub: Client): void {
    if (this.subWasReady && this.wanted.size > 0) this.listener()?.onReconnected(this, [...this.wanted]);
    this.subWasReady = true;
    const channels = [...this.wanted];
    const batches: Array<Promise<unknown>> = [];
    for (let i = 0; i < channels.length; i += BATCH) batches.push(sub.subscribe(...channels.slice(i, i + BATCH)));
    Promise.all(batches).catch((e: unknown) => {
      // The connection dropped again: the next 'ready' retries.
      this.log.warn({ redis: this.label, err: e instanceof Error ? e.message : String(e) }, 'Redis resubscribe failed');
    });
  }

  /** Subscribes to a PUB/SUB channel; rejects (the channel stays wanted) while the connection is down. */
  subscribe(channel: string): Promise<void> {
    this.wanted.add(channel);
    if (this.sub === undefined || this.sub.status !== 'ready') return Promise.reject(new Error(`Redis ${this.label} PUB/SUB connection is not ready`));
    return new Promise((resolve, reject) => {
      this.queue.push({ subscribe: true, channel, resolve, reject });
      this.schedule();
    });
  }

  /** Unsubscribes from a PUB/SUB channel (never fails: a lost connection has no subscriptions). */
  unsubscribe(channel: string): Promise<void> {
    if (!this.wanted.delete(channel)) return Promise.resolve();
    if (this.sub === undefined || this.sub.status !== 'ready') return Promise.resolve();
    return new Promise((resolve) => {
      this.queue.push({ subscribe: false, channel, resolve, reject: () => resolve() });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Sends queued operations in order, consecutive ones of a kind as one command. */
  private flush(): void {
    this.flushScheduled = false;
    const ops = this.queue;
    this.queue = [];
    const sub = this.sub;
    for (let i = 0; i < ops.length; ) {
      let j = i;
      while (j < ops.length && ops[j]!.subscribe === ops[i]!.subscribe) j++;
      const run = ops.slice(i, j);
      i = j;
      const names = [...new Set(run.map((op) => op.channel))];
      const sends: Array<Promise<unknown>> = [];
      for (let k = 0; k < names.length; k += BATCH) {
        const chunk = names.slice(k, k + BATCH);
        if (sub === undefined) sends.push(Promise.reject(new Error('no PUB/SUB connection')));
        else sends.push(run[0]!.subscribe ? sub.subscribe(...chunk) : sub.unsubscribe(...chunk));
      }
      Promise.all(sends).then(
        () => {
          for (const op of run) op.resolve?.();
        },
        (e: unknown) => {
          for (const op of run) op.reject?.(e);
        },
      );
    }
  }

  /** PUB/SUB channels currently wanted on this shard. */
  wantedChannels(): IterableIterator<string> {
    return this.wanted.values();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wanted.clear();
    for (const c of [this.cmd, this.sub]) {
      if (c === undefined) continue;
      c.disconnect();
    }
  }
}

function defineScripts(client: Client): void {
  client.defineCommand('gyrePublish', { numberOfKeys: 3, lua: PUBLISH_LUA });
  client.defineCommand('gyreHistory', { numberOfKeys: 2, lua: HISTORY_LUA });
  client.defineCommand('gyrePresenceAdd', { numberOfKeys: 2, lua: PRESENCE_ADD_LUA });
  client.defineCommand('gyrePresenceRemove', { numberOfKeys: 2, lua: PRESENCE_REMOVE_LUA });
  client.defineCommand('gyrePresenceGet', { numberOfKeys: 2, lua: PRESENCE_GET_LUA });
  client.defineCommand('gyrePresenceStats', { numberOfKeys: 2, lua: PRESENCE_STATS_LUA });
}

/** Connects a lazy client and waits until it is ready or `ms` have passed. */
async function connectAndWait(client: Client, ms: number): Promise<void> {
  if (client.status === 'ready') return;
  const ready = new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    client.once('ready', done);
    function done(): void {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    }
  });
  if (client.status === 'wait') client.connect().catch(() => {});
  await ready;
}

/**
 * Jump consistent hash (Lamping & Veach) of a 64-bit FNV-1a hash of the channel: the shard index
 * in `[0, buckets)`; adding a shard moves only ~1/n of the channels.
 */
export function shardIndex(channel: string, buckets: number): number {
  if (buckets <= 1) return 0;
  let key = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(channel, 'utf8')) {
    key ^= BigInt(byte);
    key = BigInt.asUintN(64, key * 0x100000001b3n);
  }
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    key = BigInt.asUintN(64, key * 2862933555777941757n + 1n);
    j = Math.floor((b + 1) * (2 ** 31 / Number((key >> 33n) + 1n)));
  }
  return b;
}

/**
 * The shards of one Redis configuration, shared by the parts of an engine that use it (broker,
 * presence manager, control bus): closed when the last user releases it.
 */
export class RedisShards {
  readonly shards: RedisShard[];
  readonly keys: RedisKeys;
  private users = 0;
  private starting: Promise<void> | undefined;
  private pubsub = false;
  private readonly listeners: ShardListener[] = [];

  constructor(
    readonly config: RedisConfig,
    log: Logger,
  ) {
    const specs = shardSpecs(config);
    this.shards = specs.map((spec, i) => new RedisShard(i, spec, log, () => this.dispatcher));
    this.keys = new RedisKeys(config.prefix, specs.some((s) => s.kind === 'cluster'));
  }

  private readonly dispatcher: ShardListener = {
    onMessage: (channel, message) => {
      for (const l of this.listeners) l.onMessage(channel, message);
    },
    onReconnected: (shard, channels) => {
      for (const l of this.listeners) l.onReconnected(shard, channels);
    },
  };

  /** Registers a user (call once per broker / presence manager / control bus sharing these shards). */
  acquire(): this {
    this.users++;
    return this;
  }

  /** Adds a receiver of PUB/SUB messages (the broker, the control bus). */
  listen(listener: ShardListener): void {
    this.listeners.push(listener);
    this.pubsub = true;
  }

  /** The shard of a channel. */
  shardFor(channel: string): RedisShard {
    return this.shards.length === 1 ? this.shards[0]! : this.shards[shardIndex(channel, this.shards.length)]!;
  }

  /** Connects every shard (once; later callers wait for the same start). */
  start(): Promise<void> {
    this.starting ??= Promise.all(this.shards.map((s) => s.start(this.pubsub))).then(() => {});
    return this.starting;
  }

  /** Why the shards cannot serve right now (a shard's command connection is down), or undefined. */
  unavailable(): string | undefined {
    const down = this.shards.find((s) => !s.ready);
    return down === undefined ? undefined : `Redis ${down.label} is not connected`;
  }

  /** Releases one user; the connections close with the last. */
  async release(): Promise<void> {
    this.users--;
    if (this.users > 0) return;
    await Promise.all(this.shards.map((s) => s.close()));
  }
}
