/**
 * Outgoing messages of the client protocol (Reply and Push of Centrifugo's client.proto) in one
 * neutral, typed form. node/ builds these; a codec ({@link ProtocolCodec}) turns them into the
 * bytes of one protocol (JSON or protobuf). Field names are those of the wire; optional fields are
 * omitted on the wire when absent (and, like every empty protobuf field, when false / 0 / empty).
 */
import type { Disconnect, ProtocolError } from './codes.js';
import type { ClientInfo, Payload, Publication } from './types.js';

/** `SubscribeResult` (a subscribe reply, or one entry of a connect result's `subs`). */
export interface SubscribeResultMsg {
  expires?: boolean;
  ttl?: number;
  recoverable?: boolean;
  epoch?: string;
  /** Recovered publications (in delta mode each carries its full payload in delta form). */
  publications?: readonly Publication[];
  recovered?: boolean;
  offset?: number;
  positioned?: boolean;
  data?: Payload;
  was_recovering?: boolean;
  /** Delta was negotiated: publications of this subscription travel in delta form. */
  delta?: boolean;
}

/** `ConnectResult` (the connect reply, or the `connect` push of a unidirectional connection). */
export interface ConnectResultMsg {
  client: string;
  version: string;
  expires?: boolean;
  ttl?: number;
  data?: Payload;
  /** Server-side subscriptions made at connect, in order. */
  subs?: ReadonlyArray<readonly [channel: string, result: SubscribeResultMsg]>;
  ping?: number;
  pong?: boolean;
  session?: string;
  node?: string;
  /** Server time, ms since epoch. */
  time?: number;
}

export interface RefreshResultMsg {
  client: string;
  version: string;
  expires?: boolean;
  ttl?: number;
}

export interface SubRefreshResultMsg {
  expires?: boolean;
  ttl?: number;
}

export interface HistoryResultMsg {
  publications: readonly Publication[];
  epoch: string;
  offset: number;
}

/** A reply to a command: an error, or the result of its method. */
export type ReplyMsg =
  | { id: number; kind: 'error'; error: ProtocolError }
  | { id: number; kind: 'connect'; result: ConnectResultMsg }
  | { id: number; kind: 'subscribe'; result: SubscribeResultMsg }
  | { id: number; kind: 'unsubscribe' | 'publish' | 'ping' }
  | { id: number; kind: 'presence'; presence: ReadonlyMap<string, ClientInfo> }
  | { id: number; kind: 'presence_stats'; numClients: number; numUsers: number }
  | { id: number; kind: 'history'; result: HistoryResultMsg }
  | { id: number; kind: 'rpc'; data?: Payload }
  | { id: number; kind: 'refresh'; result: RefreshResultMsg }
  | { id: number; kind: 'sub_refresh'; result: SubRefreshResultMsg };

/**
 * How a publication push carries its data: as published (`plain`), or to a subscriber that
 * negotiated fossil delta, the full payload (`full`) or a patch against the previous one (`patch`).
 */
export type PublicationForm = { kind: 'plain' } | { kind: 'full' } | { kind: 'patch'; patch: Uint8Array };

/** The `subscribe` push of a server-side subscription made after connect. */
export interface SubscribePushMsg {
  recoverable?: boolean;
  epoch?: string;
  offset?: number;
  positioned?: boolean;
  data?: Payload;
}

/** An asynchronous push (no reply id). */
export type PushMsg =
  | { kind: 'pub'; channel: string; pub: Publication; form: PublicationForm }
  | { kind: 'join' | 'leave'; channel: string; info: ClientInfo }
  | { kind: 'unsubscribe'; channel: string; reason: Disconnect }
  | { kind: 'message'; data: Payload }
  | { kind: 'subscribe'; channel: string; result: SubscribePushMsg }
  | { kind: 'connect'; result: ConnectResultMsg }
  | { kind: 'disconnect'; reason: Disconnect }
  | { kind: 'refresh'; expires: boolean; ttl: number };
