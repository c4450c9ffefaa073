/**
 * Responses a service gives, one class per request type, with the fields of Centrifugo's proxy
 * results. JSON payloads (`info`, `data`) are plain values; `expireAt` is seconds since epoch or a Date.
 */
import type { SubscriptionOverride } from '../protocol/types.js';

/** Seconds since epoch, or a Date. */
export type ExpireAt = number | Date;

/** Options of one server-side subscription made at connect. */
export interface ConnectSubscription {
  info?: unknown;
  data?: unknown;
  override?: SubscriptionOverride;
}

export interface ConnectResponseFields {
  /** The user ID; "" = anonymous. */
  user: string;
  expireAt?: ExpireAt;
  /** Connection info, visible to others in presence, join/leave and publications. */
  info?: unknown;
  /** Data sent to the client in the connect reply. */
  data?: unknown;
  /** Server-side subscriptions. */
  channels?: string[];
  /** Server-side subscriptions with per-channel info, data and option overrides. */
  subscriptions?: Record<string, ConnectSubscription>;
  /** Connection meta: never sent to clients; handed to later requests of this connection. */
  meta?: unknown;
}

/** Accepts a connection. */
export class ConnectResponse {
  constructor(readonly fields: ConnectResponseFields) {}
}

export interface RefreshResponseFields {
  /** The connection is expired: it is closed (3005). */
  expired?: boolean;
  expireAt?: ExpireAt;
  info?: unknown;
  meta?: unknown;
}

/** Extends (or ends) a connection's life. */
export class RefreshResponse {
  constructor(readonly fields: RefreshResponseFields = {}) {}
}

export interface SubscribeResponseFields {
  /** Channel info for this client in this channel. */
  info?: unknown;
  /** Data for the subscribe reply. */
  data?: unknown;
  expireAt?: ExpireAt;
  override?: SubscriptionOverride;
}

/** Allows a subscription. */
export class SubscribeResponse {
  constructor(readonly fields: SubscribeResponseFields = {}) {}
}

export interface PublishResponseFields {
  /** Replaces the data the client published. */
  data?: unknown;
  skipHistory?: boolean;
  tags?: Record<string, string>;
}

/** Allows a publication (optionally replacing its data). */
export class PublishResponse {
  constructor(readonly fields: PublishResponseFields = {}) {}
}

/** The result of an RPC call. */
export class RPCResponse {
  constructor(readonly fields: { data?: unknown } = {}) {}
}

export interface SubRefreshResponseFields {
  /** The subscription is expired: it is ended (unsubscribe 2501). */
  expired?: boolean;
  expireAt?: ExpireAt;
  info?: unknown;
}

/** Extends (or ends) a subscription's life. */
export class SubRefreshResponse {
  constructor(readonly fields: SubRefreshResponseFields = {}) {}
}

/** `expireAt` as seconds since epoch (0 = never). */
export function expireAtSeconds(e: ExpireAt | undefined): number {
  if (e === undefined) return 0;
  return e instanceof Date ? Math.floor(e.getTime() / 1000) : Math.floor(e);
}
