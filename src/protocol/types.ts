/**
 * Wire types of the Centrifugo v2 client protocol, JSON form. `bytes` fields of the protobuf schema
 * travel as raw embedded JSON; inside Gyre they are kept as serialized JSON text ({@link RawJson}) so a
 * payload is never parsed or re-encoded on its way through.
 */

/** Serialized JSON text (for example `{"a":1}`), embedded as-is into frames. */
export type RawJson = string;

/**
 * A payload (`data`): compact JSON text, or bytes that are not JSON (from protobuf clients or the
 * API's `b64data`). See protocol/payload.ts.
 */
export type Payload = RawJson | Uint8Array;

/** Who sent something: a connection's user and client id, with connection and channel info. */
export interface ClientInfo {
  user: string;
  client: string;
  connInfo?: RawJson;
  chanInfo?: RawJson;
}

/** A message published into a channel. */
export interface Publication {
  data: Payload;
  info?: ClientInfo;
  /** Position in the channel's history stream; 0 when the channel keeps no history. */
  offset: number;
  tags?: Readonly<Record<string, string>>;
  /** Milliseconds since epoch when the publication was accepted (for history TTL). */
  time?: number;
}

/** A position in a channel stream. */
export interface StreamPosition {
  offset: number;
  epoch: string;
}

export interface ConnectCommandParams {
  token?: string;
  data?: unknown;
  subs?: Record<string, { recover?: boolean; epoch?: string; offset?: number }>;
  name?: string;
  version?: string;
  headers?: Record<string, string>;
}

export interface SubscribeCommandParams {
  channel: string;
  token?: string;
  recover?: boolean;
  epoch?: string;
  offset?: number;
  data?: unknown;
  positioned?: boolean;
  recoverable?: boolean;
  join_leave?: boolean;
  delta?: string;
}

export interface HistoryCommandParams {
  channel: string;
  limit?: number;
  since?: { offset?: number; epoch?: string };
  reverse?: boolean;
}

/** A decoded client command: `id` plus exactly one request. */
export type Command =
  | { id: number; method: 'connect'; params: ConnectCommandParams }
  | { id: number; method: 'subscribe'; params: SubscribeCommandParams }
  | { id: number; method: 'unsubscribe'; params: { channel: string } }
  | { id: number; method: 'publish'; params: { channel: string; data: unknown } }
  | { id: number; method: 'presence'; params: { channel: string } }
  | { id: number; method: 'presence_stats'; params: { channel: string } }
  | { id: number; method: 'history'; params: HistoryCommandParams }
  | { id: number; method: 'ping'; params: Record<string, never> }
  | { id: number; method: 'send'; params: { data: unknown } }
  | { id: number; method: 'rpc'; params: { method?: string; data?: unknown } }
  | { id: number; method: 'refresh'; params: { token: string } }
  | { id: number; method: 'sub_refresh'; params: { channel: string; token: string } };

/** The method names of {@link Command}. */
export type CommandMethod = Command['method'];

/**
 * Per-subscription overrides of channel options, from a token, a handler or a proxy answer (the
 * `override` object of Centrifugo's proxy protocol and subscribe API).
 */
export interface SubscriptionOverride {
  presence?: boolean;
  join_leave?: boolean;
  force_push_join_leave?: boolean;
  force_recovery?: boolean;
  force_positioning?: boolean;
}
