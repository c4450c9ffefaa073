/**
 * The typed server API: the request and result of every method, with the field names of
 * Centrifugo's server API wire format (snake_case, as in the HTTP API's JSON). Payloads (`data`,
 * `info`, `conn_info`, `chan_info`) are JSON values. The {@link ServerApi} executor and the API
 * clients (HTTP, gRPC) share these types.
 */
import type { NodeInfo } from '../node/cluster.js';

/** A reply error: a code from `protocol/codes.ts` (or an application's 400-1999) and its text. */
export interface ApiError {
  code: number;
  message: string;
}

/** One reply inside a `broadcast`: a result or an error. */
export type ApiReply<T> = { result: T; error?: undefined } | { error: ApiError; result?: undefined };

/** A place in a channel's stream. */
export interface ApiStreamPosition {
  offset: number;
  epoch: string;
}

/** Centrifugo's `BoolValue`: a boolean that may be absent (subscription overrides). */
export interface ApiBoolValue {
  value: boolean;
}

export interface ApiPublishRequest {
  channel: string;
  /** The JSON value to publish (`b64data` instead: base64 of its JSON text). */
  data?: unknown;
  b64data?: string;
  /** Do not keep the publication in the channel's history. */
  skip_history?: boolean;
  tags?: Record<string, string>;
  /** A second publish with the same key (within the channel's idempotent result TTL) is not published again. */
  idempotency_key?: string;
  /** Send as fossil delta to subscribers that negotiated it. */
  delta?: boolean;
}

/** A publication's place in its channel (both absent when the channel keeps no history). */
export interface ApiPublishResult {
  offset?: number;
  epoch?: string;
}

export interface ApiBroadcastRequest extends Omit<ApiPublishRequest, 'channel'> {
  channels: string[];
}

export interface ApiBroadcastResult {
  /** One reply per channel, in the order of `channels`. */
  responses: Array<ApiReply<ApiPublishResult>>;
}

/** Subscription options of a server-side subscription that override the channel's. */
export interface ApiSubscribeOverride {
  presence?: ApiBoolValue;
  join_leave?: ApiBoolValue;
  force_push_join_leave?: ApiBoolValue;
  force_recovery?: ApiBoolValue;
  force_positioning?: ApiBoolValue;
}

export interface ApiSubscribeRequest {
  user: string;
  channel: string;
  /** Only this connection of the user. */
  client?: string;
  session?: string;
  /** Channel info (a JSON value; `b64info`: base64 of its JSON text). */
  info?: unknown;
  b64info?: string;
  /** Data sent to the client with the subscribe push (`b64data`: base64 of its JSON text). */
  data?: unknown;
  b64data?: string;
  recover_since?: ApiStreamPosition;
  override?: ApiSubscribeOverride;
  /** Seconds since epoch; 0 = never. */
  expire_at?: number;
}

export interface ApiUnsubscribeRequest {
  user: string;
  channel: string;
  client?: string;
  session?: string;
}

export interface ApiDisconnectRequest {
  user: string;
  client?: string;
  session?: string;
  /** Connection ids to keep. */
  whitelist?: string[];
  /** Default 3503 "force disconnect". */
  disconnect?: { code: number; reason: string };
}

export interface ApiRefreshRequest {
  user: string;
  client?: string;
  session?: string;
  /** Close the connections as expired (3005). */
  expired?: boolean;
  /** Seconds since epoch. */
  expire_at?: number;
  /** New connection info (a JSON value). */
  info?: unknown;
}

/** A request naming one channel (`presence`, `presence_stats`, `history_remove`). */
export interface ApiChannelRequest {
  channel: string;
}

export interface ApiClientInfo {
  client: string;
  user: string;
  conn_info?: unknown;
  chan_info?: unknown;
}

export interface ApiPresenceResult {
  /** Client id → who it is. */
  presence: Record<string, ApiClientInfo>;
}

export interface ApiPresenceStatsResult {
  num_clients: number;
  num_users: number;
}

export interface ApiHistoryRequest {
  channel: string;
  /** Publications to return (0 or absent = only the position, -1 = up to the configured maximum). */
  limit?: number;
  since?: ApiStreamPosition;
  reverse?: boolean;
}

export interface ApiPublication {
  /** The published JSON value (absent for binary data). */
  data?: unknown;
  /** Binary data (published by a protobuf client or with `b64data`), base64. */
  b64data?: string;
  info?: ApiClientInfo;
  offset?: number;
  tags?: Record<string, string>;
}

export interface ApiHistoryResult {
  publications: ApiPublication[];
  offset: number;
  epoch: string;
}

export interface ApiChannelsRequest {
  /** A glob pattern (`*` any run of characters); empty or absent = every channel. */
  pattern?: string;
}

export interface ApiChannelsResult {
  /** Channel → its subscribers on every node. */
  channels: Record<string, { num_clients: number }>;
}

/** A node in the `info` result (as a node announces itself; `num_subs` may be missing from other servers). */
export type ApiNodeInfo = Omit<NodeInfo, 'num_subs'> & { num_subs?: number };

export interface ApiInfoResult {
  nodes: ApiNodeInfo[];
}

export interface ApiRpcRequest {
  method: string;
  params?: unknown;
}

export interface ApiRpcResult {
  data?: unknown;
}

/** The result of the methods that answer nothing (`subscribe`, `disconnect`, `history_remove` ...). */
export type ApiEmptyResult = Record<string, never>;

/** The request of each server API method, by its wire name. */
export interface ApiRequests {
  publish: ApiPublishRequest;
  broadcast: ApiBroadcastRequest;
  subscribe: ApiSubscribeRequest;
  unsubscribe: ApiUnsubscribeRequest;
  disconnect: ApiDisconnectRequest;
  refresh: ApiRefreshRequest;
  presence: ApiChannelRequest;
  presence_stats: ApiChannelRequest;
  history: ApiHistoryRequest;
  history_remove: ApiChannelRequest;
  channels: ApiChannelsRequest;
  info: Record<string, never>;
  rpc: ApiRpcRequest;
  batch: ApiBatchRequest;
}

/** The result of each server API method, by its wire name. */
export interface ApiResults {
  publish: ApiPublishResult;
  broadcast: ApiBroadcastResult;
  subscribe: ApiEmptyResult;
  unsubscribe: ApiEmptyResult;
  disconnect: ApiEmptyResult;
  refresh: ApiEmptyResult;
  presence: ApiPresenceResult;
  presence_stats: ApiPresenceStatsResult;
  history: ApiHistoryResult;
  history_remove: ApiEmptyResult;
  channels: ApiChannelsResult;
  info: ApiInfoResult;
  rpc: ApiRpcResult;
  batch: ApiBatchResult;
}

/** A server API method's wire name (`publish`, `presence_stats` ...). */
export type ApiMethod = keyof ApiRequests;

/** The methods a batch may hold (every one but `batch`). */
export type ApiBatchMethod = Exclude<ApiMethod, 'batch'>;

/** Every server API method, in Centrifugo's order. */
export const API_METHOD_NAMES: readonly ApiMethod[] = [
  'batch',
  'publish',
  'broadcast',
  'subscribe',
  'unsubscribe',
  'disconnect',
  'presence',
  'presence_stats',
  'history',
  'history_remove',
  'info',
  'rpc',
  'refresh',
  'channels',
];

/** The methods a batch may hold. */
export const BATCH_METHOD_NAMES: readonly ApiBatchMethod[] = API_METHOD_NAMES.filter((m): m is ApiBatchMethod => m !== 'batch');

/** True when `name` is a server API method. */
export function isApiMethod(name: string): name is ApiMethod {
  return (API_METHOD_NAMES as readonly string[]).includes(name);
}

/** One command of a batch: `{publish: {...}}`, `{presence: {...}}` ... (one method per command). */
export type ApiBatchCommand = { [M in ApiBatchMethod]?: ApiRequests[M] };

/** One reply of a batch: `{publish: result}` ... or `{error}`. */
export type ApiBatchReply = { [M in ApiBatchMethod]?: ApiResults[M] } & { error?: ApiError };

export interface ApiBatchRequest {
  commands: ApiBatchCommand[];
  /** Run the commands concurrently (replies stay in command order). */
  parallel?: boolean;
}

export interface ApiBatchResult {
  replies: ApiBatchReply[];
}
