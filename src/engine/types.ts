/**
 * Engine ports: how a node publishes into channels, keeps history and tracks presence. The hub and
 * the clients only ever see these interfaces; memory, Redis and NATS adapters implement them.
 */
import type { ClientInfo, Publication, Payload, StreamPosition } from '../protocol/types.js';

/** History settings of one publish, from the channel's options. */
export interface HistoryOptions {
  /** Publications to keep; 0 = no history. */
  size: number;
  /** Retention in ms; 0 = no history. */
  ttl: number;
  /** Retention of the stream meta (epoch, top offset) in ms. */
  metaTtl: number;
}

export interface PublishOptions {
  history: HistoryOptions;
  info?: ClientInfo;
  tags?: Readonly<Record<string, string>>;
  /** A publish with a key already seen within `idempotentResultTtl` is not published again. */
  idempotencyKey?: string;
  idempotentResultTtl?: number;
  /** Deliver the publication as a fossil delta to subscribers that negotiated delta. */
  useDelta?: boolean;
}

export interface PublishResult {
  position: StreamPosition;
  /** True when the idempotency key suppressed a second publish. */
  suppressed: boolean;
}

export interface HistoryQuery {
  /** Return publications after this position (exclusive). */
  since?: StreamPosition;
  /** Max publications to return; 0 = none (only the position), -1 = all. */
  limit: number;
  reverse?: boolean;
  /** Stream meta retention in ms (keeps the epoch alive). */
  metaTtl: number;
}

export interface HistoryResult {
  publications: Publication[];
  /** The stream's current top position. */
  position: StreamPosition;
}

/** What a broker delivers to the node that runs it. */
export interface BrokerEventHandler {
  /** A publication for a channel this node subscribed to. */
  onPublication(channel: string, pub: Publication, position: StreamPosition, useDelta: boolean): void;
  onJoin(channel: string, info: ClientInfo): void;
  onLeave(channel: string, info: ClientInfo): void;
  /**
   * The node may have missed publications of these channels (its broker connection was lost and is
   * back): their local subscribers must recover or resubscribe. Never called by the memory broker.
   */
  onStateLost?(channels: readonly string[]): void;
}

/** Carries publications between nodes and keeps channel history. */
export interface Broker {
  /** Starts delivering events to `handler`. */
  run(handler: BrokerEventHandler): Promise<void>;
  /** This node wants the channel's publications (called once per channel, on first local subscriber). */
  subscribe(channel: string): Promise<void>;
  /** The node has no subscriber left in the channel. */
  unsubscribe(channel: string): Promise<void>;
  publish(channel: string, data: Payload, opts: PublishOptions): Promise<PublishResult>;
  publishJoin(channel: string, info: ClientInfo): Promise<void>;
  publishLeave(channel: string, info: ClientInfo): Promise<void>;
  history(channel: string, query: HistoryQuery): Promise<HistoryResult>;
  removeHistory(channel: string): Promise<void>;
  /** Why the broker cannot serve right now (its server is unreachable), or undefined; none = always available. */
  unavailable?(): string | undefined;
  close(): Promise<void>;
}

export interface PresenceStats {
  numClients: number;
  numUsers: number;
}

/** Tracks which clients are present in which channels. */
export interface PresenceManager {
  /** Adds or refreshes a client's presence (refreshed periodically while connected). */
  addPresence(channel: string, clientId: string, info: ClientInfo): Promise<void>;
  removePresence(channel: string, clientId: string, user: string): Promise<void>;
  presence(channel: string): Promise<Map<string, ClientInfo>>;
  presenceStats(channel: string): Promise<PresenceStats>;
  /** Why presence cannot be served right now (its server is unreachable), or undefined; none = always available. */
  unavailable?(): string | undefined;
  close(): Promise<void>;
}

/**
 * Carries control messages between the nodes of a cluster (node announcements, server API commands
 * for connections on other nodes, surveys). Messages are opaque text; delivery is at most once.
 * A single node (memory engine) has a no-op bus.
 */
export interface ControlBus {
  /** Starts delivering messages sent to every node and to `nodeId` alone. */
  run(nodeId: string, onMessage: (message: string) => void): Promise<void>;
  /** Sends to every node (this one may receive it too). */
  publish(message: string): Promise<void>;
  /** Sends to one node. */
  publishTo(nodeId: string, message: string): Promise<void>;
  close(): Promise<void>;
}
