/**
 * The typed client of a Gyre / Centrifugo server API, whatever carries it (HTTP or gRPC). Method
 * names and fields follow the server API (snake_case, as on the wire); `data` is any JSON value.
 * A failure is an {@link ApiClientError}.
 */

export interface PublishRequest {
  channel: string;
  data: unknown;
  skip_history?: boolean;
  tags?: Record<string, string>;
  idempotency_key?: string;
  delta?: boolean;
}

export interface BroadcastRequest extends Omit<PublishRequest, 'channel'> {
  channels: string[];
}

export interface PublishResult {
  offset?: number;
  epoch?: string;
}

export interface ApiError {
  code: number;
  message: string;
}

export interface BroadcastResult {
  responses: Array<{ result?: PublishResult; error?: ApiError }>;
}

export interface ClientInfoResult {
  client: string;
  user: string;
  conn_info?: unknown;
  chan_info?: unknown;
}

export interface HistoryRequest {
  channel: string;
  limit?: number;
  since?: { offset: number; epoch: string };
  reverse?: boolean;
}

export interface HistoryResult {
  publications: Array<{ data: unknown; info?: ClientInfoResult; offset?: number; tags?: Record<string, string> }>;
  offset: number;
  epoch: string;
}

export interface SubscribeRequest {
  user: string;
  channel: string;
  client?: string;
  session?: string;
  info?: unknown;
  data?: unknown;
  recover_since?: { offset: number; epoch: string };
  expire_at?: number;
}

export interface UnsubscribeRequest {
  user: string;
  channel: string;
  client?: string;
  session?: string;
}

export interface DisconnectRequest {
  user: string;
  client?: string;
  session?: string;
  whitelist?: string[];
  disconnect?: { code: number; reason: string };
}

export interface RefreshRequest {
  user: string;
  client?: string;
  session?: string;
  expired?: boolean;
  expire_at?: number;
  info?: unknown;
}

export interface NodeResult {
  uid: string;
  name: string;
  version: string;
  num_clients: number;
  num_users: number;
  num_channels: number;
  num_subs?: number;
  uptime: number;
}

/** A server API, remote. */
export interface ServerApiClient {
  publish(req: PublishRequest): Promise<PublishResult>;
  broadcast(req: BroadcastRequest): Promise<BroadcastResult>;
  subscribe(req: SubscribeRequest): Promise<void>;
  unsubscribe(req: UnsubscribeRequest): Promise<void>;
  disconnect(req: DisconnectRequest): Promise<void>;
  refresh(req: RefreshRequest): Promise<void>;
  presence(req: { channel: string }): Promise<{ presence: Record<string, ClientInfoResult> }>;
  presenceStats(req: { channel: string }): Promise<{ num_clients: number; num_users: number }>;
  history(req: HistoryRequest): Promise<HistoryResult>;
  historyRemove(req: { channel: string }): Promise<void>;
  channels(req: { pattern?: string }): Promise<{ channels: Record<string, { num_clients: number }> }>;
  info(): Promise<{ nodes: NodeResult[] }>;
  /** Releases connections. */
  close(): Promise<void>;
}

/**
 * A server API call failed: the server answered an error (`code` from the server API, e.g. 102), or
 * the call itself failed (`code` 100, `temporary`: network error, timeout, HTTP 5xx).
 */
export class ApiClientError extends Error {
  constructor(
    readonly code: number,
    message: string,
    /** Worth retrying: the server said so (code 100) or the call failed on the way. */
    readonly temporary: boolean,
    /** The method that failed. */
    readonly method: string,
    options?: { cause?: unknown },
  ) {
    super(`${method}: ${message} (code ${code})`, options);
    this.name = 'ApiClientError';
  }
}
