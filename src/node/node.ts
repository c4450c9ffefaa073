/**
 * A Gyre node: owns the clients, the hub, the channel rules and the engine (broker + presence).
 * Everything that acts on channels or connections (client commands, the server API, in-process
 * callers) goes through it.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { TokenVerifier } from '../auth/verifier.js';
import type { EventCalls, EventDeciders } from '../handlers/event-calls.js';
import type { RequestType } from '../handlers/requests.js';
import type { GyreConfig } from '../config/types.js';
import { MemoryBroker } from '../engine/memory/broker.js';
import { MemoryPresenceManager } from '../engine/memory/presence.js';
import type { Broker, ControlBus, HistoryResult, PresenceManager, PresenceStats, PublishResult } from '../engine/types.js';
import { NoopControlBus } from '../engine/memory/control.js';
import { Cluster, type ClusterOptions, type NodeInfo } from './cluster.js';
import type { ProtocolName } from '../protocol/codec.js';
import { Disconnects, Errors, ProtocolException, Unsubscribes, type Disconnect } from '../protocol/codes.js';
import type { ClientInfo, Payload, RawJson } from '../protocol/types.js';
import { ChannelRules, type ResolvedChannel } from './channel-rules.js';
import type { NodeClient } from './node-client.js';
import { Hub, type ChannelTap, type HubSubscriber } from './hub.js';
import { recoverFrom, type Recovery } from './recovery.js';
import { UserIndex } from './user-index.js';
import { Metrics, MessageType } from '../metrics/metrics.js';
import { VERSION } from '../version.js';

/** Publish options for internal channels: nothing kept. */
const NO_HISTORY = Object.freeze({ history: Object.freeze({ size: 0, ttl: 0, metaTtl: 0 }) });

/** How something is published into a channel. */
export interface PublishParams {
  info?: ClientInfo;
  tags?: Readonly<Record<string, string>>;
  skipHistory?: boolean;
  idempotencyKey?: string;
  /** Send as fossil delta to subscribers that negotiated it; default: the channel's delta_publish. */
  delta?: boolean;
}

/** A history query from a client or the server API. */
export interface HistoryParams {
  limit?: number | undefined;
  since?: { offset?: number | undefined; epoch?: string | undefined } | undefined;
  reverse?: boolean | undefined;
}

/**
 * Commands posted to an emulation endpoint (`POST /emulation`) for the session of an emulated
 * connection (`http_stream`, `sse`).
 */
export interface EmulationCommands {
  /** The node holding the session (the `node` of the connection's connect result). */
  node: string;
  session: string;
  /** The protocol the commands were posted in. */
  protocol: ProtocolName;
  /** The commands: JSON text (`\n`-separated), or varint-length-delimited protobuf Commands. */
  data: Buffer;
}

/**
 * What became of emulation commands: handed to the session's connection here (or dropped, with
 * a log line, when it speaks another protocol), forwarded to the node holding it, or not
 * delivered for lack of that session (on this node) or that node (in the cluster).
 */
export type EmulationOutcome = 'delivered' | 'forwarded' | 'unknown-session' | 'unknown-node';

export interface NodeOptions {
  config: GyreConfig;
  log: Logger;
  /**
   * Who decides client events (the in-process handlers, proxies, or both in order); without
   * deciders the configuration's rules decide every event.
   */
  deciders?: EventDeciders;
  broker?: Broker;
  presence?: PresenceManager;
  /** Control messages between nodes (default: none, a single node). */
  control?: ControlBus;
  /** Node registry timings. */
  cluster?: ClusterOptions;
  /** Where the node counts for Prometheus (default: a recorder of its own, not exported). */
  metrics?: Metrics;
}

export class GyreNode {
  /** Unique id of this node process. */
  readonly id = randomUUID();
  readonly name: string;
  readonly version = VERSION;
  readonly startedAt = Date.now();
  readonly config: GyreConfig;
  readonly log: Logger;
  readonly rules: ChannelRules;
  readonly hub = new Hub();
  /** The engine: reached only through the node's methods (publish, history, presence, join/leave). */
  private readonly broker: Broker;
  private readonly presence: PresenceManager;
  readonly tokens: TokenVerifier;
  /** The other nodes: registry, cluster-wide server API commands, surveys. */
  readonly cluster: Cluster;
  /** Who decides client events, when anyone does. */
  private readonly deciders: EventDeciders | undefined;
  /** What this node, its clients and the server API count (exported with `prometheus.enabled`). */
  readonly metrics: Metrics;

  private readonly clients = new Map<string, NodeClient>();
  private readonly users = new UserIndex<NodeClient>();
  /** Emulated connections (http_stream, sse) by session id, once connected. */
  private readonly sessions = new Map<string, NodeClient>();
  /** Connections not yet connected (for stale checks and shutdown). */
  private readonly pending = new Set<NodeClient>();
  private ticker: NodeJS.Timeout | undefined;
  /** Broker subscriptions on their way, so later subscribers of the channel wait for them too. */
  private readonly subscribing = new Map<string, Promise<void>>();

  constructor(opts: NodeOptions) {
    this.config = opts.config;
    this.log = opts.log;
    this.name = opts.config.node.name || `gyre-${this.id.slice(0, 8)}`;
    this.rules = new ChannelRules(opts.config.channel);
    this.broker = opts.broker ?? new MemoryBroker();
    this.presence = opts.presence ?? new MemoryPresenceManager();
    this.tokens = new TokenVerifier(opts.config.client.token, opts.config.client.subscription_token);
    this.metrics = opts.metrics ?? new Metrics();
    this.cluster = new Cluster(opts.control ?? new NoopControlBus(), () => this.info(), opts.log, opts.cluster, this.metrics);
    this.cluster.setEmulationHandler((session, protocol, data) => this.deliverEmulation(session, protocol, data));
    this.deciders = opts.deciders;
    this.metrics.setNodeStats(() => ({
      clients: this.clientCount,
      users: this.userCount,
      channels: this.hub.channelCount,
      subscriptions: this.hub.subscriptions,
      nodes: this.cluster.nodeCount(),
    }));
  }

  /**
   * Who decides `type`: the in-process handlers when a service handles it (they win over proxies),
   * else the proxy configured for it (`target`: the channel, resolved or by name, for subscribe,
   * publish and sub_refresh; the method for rpc), else undefined (the config rules decide).
   */
  handles(type: RequestType, target?: ResolvedChannel | string): EventCalls | undefined {
    if (this.deciders === undefined) return undefined;
    return this.deciders.decider(type, typeof target === 'object' ? target.options : target);
  }

  async start(): Promise<void> {
    const received = this.metrics.messagesReceived;
    await this.broker.run({
      onPublication: (channel, pub, _position, useDelta) => {
        received[MessageType.publication]!++;
        this.hub.publish(channel, pub, useDelta);
      },
      onJoin: (channel, info) => {
        received[MessageType.join]!++;
        this.hub.joinLeave(channel, 'join', info);
      },
      onLeave: (channel, info) => {
        received[MessageType.leave]!++;
        this.hub.joinLeave(channel, 'leave', info);
      },
      onStateLost: (channels) => this.invalidateChannels(channels),
    });
    const ping = this.config.client.ping_interval;
    const every = Math.min(1000, Math.max(100, Math.floor((ping > 0 ? ping : 10_000) / 10)));
    this.ticker = setInterval(() => this.tick(), every);
    this.ticker.unref();
    await this.cluster.start(this.id);
  }

  /** This node as `/api/info` shows it. */
  info(): NodeInfo {
    return {
      uid: this.id,
      name: this.name,
      version: this.version,
      num_clients: this.clientCount,
      num_users: this.userCount,
      num_channels: this.hub.channelCount,
      num_subs: this.hub.subscriptions,
      uptime: Math.floor((Date.now() - this.startedAt) / 1000),
    };
  }

  /**
   * Closes a user's connections on every node of the cluster, except the client `keep` (for
   * example one connection per user across nodes).
   */
  async disconnectUser(user: string, disconnect: Disconnect, keep = ''): Promise<void> {
    for (const c of this.clientsOf(user)) if (c.id !== keep) c.close(disconnect);
    await this.cluster.broadcastApi('disconnect', {
      user,
      whitelist: keep === '' ? [] : [keep],
      disconnect: { code: disconnect.code, reason: disconnect.reason },
    });
  }

  /**
   * The node may have missed publications of these channels (its broker connection came back):
   * every local subscriber is told to resubscribe (unsubscribe 2500, and the SDK recovers what it
   * missed from history where the channel keeps one); a client with such a server-side subscription,
   * which it cannot resubscribe itself, is disconnected with 3010 to reconnect and recover.
   */
  invalidateChannels(channels: readonly string[]): void {
    const lost = new Set(channels);
    for (const client of [...this.clients.values()]) {
      const hit = [...client.subscriptions.values()].filter((sub) => lost.has(sub.channel));
      if (hit.length === 0) continue;
      if (hit.some((sub) => sub.serverSide)) {
        client.close(Disconnects.insufficientState);
        continue;
      }
      for (const sub of hit) void client.serverUnsubscribe(sub.channel, Unsubscribes.insufficientState);
    }
  }

  private tick(): void {
    const now = Date.now();
    for (const c of this.pending) c.tick(now);
    for (const c of this.clients.values()) c.tick(now);
  }

  /** Tracks a new, not yet connected client. */
  accept(client: NodeClient): void {
    this.pending.add(client);
  }

  /** Called by a client once its connect succeeded. */
  register(client: NodeClient): void {
    this.pending.delete(client);
    this.clients.set(client.id, client);
    this.users.add(client.user, client);
    if (client.transport.emulation && client.session !== undefined) this.sessions.set(client.session, client);
  }

  /** Called when a client is gone (connected or not). */
  unregister(client: NodeClient): void {
    this.pending.delete(client);
    if (client.session !== undefined && this.sessions.get(client.session) === client) this.sessions.delete(client.session);
    if (this.clients.get(client.id) !== client) return;
    this.clients.delete(client.id);
    this.users.delete(client.user, client);
  }
  /** Why this node cannot serve right now (its broker or presence server is unreachable), or undefined. */
  unavailable(): string | undefined {
    return this.broker.unavailable?.() ?? this.presence.unavailable?.();
  }


  get clientCount(): number {
    return this.clients.size;
  }

  /** Distinct users with at least one connection (anonymous counts as one). */
  get userCount(): number {
    return this.users.size;
  }

  userClientCount(user: string): number {
    return this.users.count(user);
  }

  /** The connected clients of a user, optionally narrowed to one client id. */
  clientsOf(user: string, clientId = ''): NodeClient[] {
    const all = this.users.of(user);
    return clientId === '' ? all : all.filter((c) => c.id === clientId);
  }

  client(clientId: string): NodeClient | undefined {
    return this.clients.get(clientId);
  }

  /** The connected emulated connection (http_stream, sse) with this session id. */
  clientBySession(session: string): NodeClient | undefined {
    return this.sessions.get(session);
  }

  /**
   * Routes emulation commands to their session: handed to it when this node holds it, sent to the
   * node that does over the control bus (at most once; rejects when the bus fails), or neither
   * (`unknown-node`) when no live node has that id.
   */
  async emulate(cmds: EmulationCommands): Promise<EmulationOutcome> {
    if (cmds.node === this.id) return this.deliverEmulation(cmds.session, cmds.protocol, cmds.data);
    if (!this.cluster.knows(cmds.node)) return 'unknown-node';
    await this.cluster.sendEmulation(cmds.node, cmds.session, cmds.protocol, cmds.data);
    return 'forwarded';
  }

  /**
   * Hands emulation commands to the connection of `session` on this node, as a frame of its
   * protocol (malformed ones close it with 3501, as over WebSocket). Commands for a session that
   * is gone, or posted in another protocol than the connection's, are dropped with a log line.
   */
  deliverEmulation(session: string, protocol: ProtocolName, data: Buffer): 'delivered' | 'unknown-session' {
    const client = this.sessions.get(session);
    if (client === undefined) {
      this.log.info({ bytes: data.length }, 'emulation commands for an unknown session: dropped');
      return 'unknown-session';
    }
    if (client.transport.protocol !== protocol) {
      this.log.info({ client: client.id, protocol, expected: client.transport.protocol }, 'emulation commands in another protocol than the connection\'s: dropped');
      return 'delivered';
    }
    client.handleFrame(data);
    return 'delivered';
  }

  /** Adds a subscriber to the hub, subscribing the node to the channel in the broker when first. */
  async addSubscription(channel: string, sub: HubSubscriber): Promise<void> {
    await this.hear(channel, this.hub.add(channel, sub), () => this.hub.remove(channel, sub.clientId));
  }

  /**
   * Watches a channel without subscribing a client (the admin UI's live tap): `tap` gets the
   * publications, joins and leaves passing through this node, which hears the channel in the broker
   * meanwhile. Resolves, once they flow, with the function that stops the tap.
   */
  async tap(channel: string, tap: ChannelTap): Promise<() => Promise<void>> {
    await this.hear(channel, this.hub.addTap(channel, tap), () => this.hub.removeTap(channel, tap));
    return async () => {
      if (this.hub.removeTap(channel, tap)) await this.broker.unsubscribe(channel);
    };
  }

  /**
   * Makes sure the node hears a channel in the broker: subscribes when `first` (nothing on this node
   * heard it), else waits for the subscription in flight, if any. When the subscription fails, `undo`
   * takes back what was added (true: nothing hears the channel any more) and the error is thrown.
   */
  private async hear(channel: string, first: boolean, undo: () => boolean): Promise<void> {
    let subscribing: Promise<void> | undefined;
    if (first) {
      const p = this.broker.subscribe(channel);
      subscribing = p;
      this.subscribing.set(channel, p);
      const done = (): void => {
        if (this.subscribing.get(channel) === p) this.subscribing.delete(channel);
      };
      p.then(done, done);
    } else {
      // Not first: publications only arrive once the first one's broker subscription is in.
      subscribing = this.subscribing.get(channel);
    }
    if (subscribing === undefined) return;
    try {
      await subscribing;
    } catch (e) {
      if (undo()) this.broker.unsubscribe(channel).catch(() => {});
      throw e;
    }
  }

  async removeSubscription(channel: string, clientId: string): Promise<void> {
    if (this.hub.remove(channel, clientId)) await this.broker.unsubscribe(channel);
  }

  /** Publishes raw JSON into a channel; throws 102 for an unknown namespace. */
  async publish(channel: string, data: Payload, params: PublishParams = {}): Promise<PublishResult> {
    const resolved = this.rules.resolve(channel);
    const o = resolved.options;
    const keep = resolved.history && params.skipHistory !== true;
    const opts = {
      history: { size: keep ? o.history_size : 0, ttl: keep ? o.history_ttl : 0, metaTtl: this.rules.metaTtl(resolved) },
      useDelta: params.delta ?? o.delta_publish,
      ...(params.info !== undefined && { info: params.info }),
      ...(params.tags !== undefined && { tags: params.tags }),
      ...(params.idempotencyKey !== undefined && params.idempotencyKey !== '' && { idempotencyKey: params.idempotencyKey }),
    };
    this.metrics.messagesSent[MessageType.publication]!++;
    return this.broker.publish(channel, data, opts);
  }

  /** Reads channel history with the configured limits; 108 when the channel keeps none, 112 on a wrong epoch. */
  async history(channel: string, params: HistoryParams): Promise<HistoryResult> {
    const resolved = this.rules.resolve(channel);
    if (!resolved.history) throw new ProtocolException(Errors.notAvailable);
    const max = this.config.client.history_max_publication_limit;
    let limit = params.limit ?? 0;
    if (limit < 0) limit = max > 0 ? max : -1;
    else if (max > 0 && limit > max) limit = max;
    const since = params.since;
    const res = await this.broker.history(channel, {
      limit,
      reverse: params.reverse === true,
      metaTtl: this.rules.metaTtl(resolved),
      ...(since !== undefined && { since: { offset: since.offset ?? 0, epoch: since.epoch ?? '' } }),
    });
    if (since?.epoch !== undefined && since.epoch !== '' && since.epoch !== res.position.epoch) {
      throw new ProtocolException(Errors.unrecoverablePosition);
    }
    return res;
  }

  /** Who is in a channel's presence (client id → info). */
  channelPresence(channel: string): Promise<Map<string, ClientInfo>> {
    return this.presence.presence(channel);
  }

  /** Client and user counts of a channel's presence. */
  channelPresenceStats(channel: string): Promise<PresenceStats> {
    return this.presence.presenceStats(channel);
  }

  /** Adds (or refreshes) a client in a channel's presence. */
  addPresence(channel: string, clientId: string, info: ClientInfo): Promise<void> {
    return this.presence.addPresence(channel, clientId, info);
  }

  /** Removes a client from a channel's presence. */
  removePresence(channel: string, clientId: string, user: string): Promise<void> {
    return this.presence.removePresence(channel, clientId, user);
  }

  /** Announces a client joining a channel to its subscribers on every node. */
  publishJoin(channel: string, info: ClientInfo): Promise<void> {
    this.metrics.messagesSent[MessageType.join]!++;
    return this.broker.publishJoin(channel, info);
  }

  /** Announces a client leaving a channel to its subscribers on every node. */
  publishLeave(channel: string, info: ClientInfo): Promise<void> {
    this.metrics.messagesSent[MessageType.leave]!++;
    return this.broker.publishLeave(channel, info);
  }

  /** Drops a channel's history (the stream position stays). */
  removeHistory(channel: string): Promise<void> {
    return this.broker.removeHistory(channel);
  }

  /**
   * Publishes into an internal channel (no namespace rules, no history): the transport of the
   * events protocol's broadcasts and user messages.
   */
  publishInternal(channel: string, data: RawJson): Promise<PublishResult> {
    this.metrics.messagesSent[MessageType.publication]!++;
    return this.broker.publish(channel, data, NO_HISTORY);
  }

  /**
   * Where a (re)subscribing client of a positioned channel starts: the stream top, or, for `since`,
   * every publication it missed (or none, when they cannot all be recovered).
   */
  recover(resolved: ResolvedChannel, since: { epoch: string; offset: number } | undefined): Promise<Recovery> {
    const maxMissed = this.config.client.recovery_max_publication_limit;
    return recoverFrom(this.broker, resolved, this.rules.metaTtl(resolved), since, maxMissed);
  }

  /** Closes every connection with `disconnect` and stops the engine. */
  async shutdown(disconnect: Disconnect): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    for (const c of [...this.pending]) c.close(disconnect);
    for (const c of [...this.clients.values()]) c.close(disconnect);
    await this.cluster.close();
    await this.broker.close();
    await this.presence.close();
    await this.deciders?.close();
  }
}
