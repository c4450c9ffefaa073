/**
 * A connection as the node tracks it: what the node, the cluster and the server API do with a
 * client (find it by user or by session, hand it commands, subscribe or unsubscribe it from the
 * server side, refresh or close it).
 * `Client` implements it; node.ts depends on this port only.
 */
import type { Disconnect } from '../protocol/codes.js';
import type { RawJson } from '../protocol/types.js';
import type { ClientSubscription, SubscribeSpec } from './subscription.js';
import type { Transport } from './transport.js';

export interface NodeClient {
  readonly id: string;
  /** The user ID; "" = anonymous. */
  readonly user: string;
  readonly connected: boolean;
  /** Seconds since epoch when the connection expires; 0 = never. */
  readonly expireAt: number;
  /** Connection info shown in presence and publications (the server API's refresh may replace it). */
  connInfo: RawJson | undefined;
  /** The connection the client lives on. */
  readonly transport: Transport;
  /**
   * The session id of an emulated (`http_stream`, `sse`) or unidirectional connection; the
   * emulation endpoint addresses an emulated one by it.
   */
  readonly session: string | undefined;
  /** Handles a frame of commands in the connection's protocol (for emulation: posted to the emulation endpoint). */
  handleFrame(frame: Buffer): void;
  /** The client's subscriptions by channel. */
  readonly subscriptions: ReadonlyMap<string, ClientSubscription>;
  /** Driven by the node's shared ticker: pings, pongs, expiry. */
  tick(now: number): void;
  /** Closes the connection with a disconnect code (idempotent). */
  close(disconnect: Disconnect): void;
  /** Subscribes the client from the server side, with a `subscribe` push. */
  serverSubscribe(spec: SubscribeSpec): Promise<void>;
  /** Ends a subscription from the server side, with an `unsubscribe` push. */
  serverUnsubscribe(channel: string, reason?: Disconnect): Promise<void>;
  /** Sets a new expiry (seconds since epoch; 0 = never). */
  applyExpiry(expireAt: number): void;
}
