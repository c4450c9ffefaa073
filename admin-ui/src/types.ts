/**
 * The shapes the admin UI reads: `admin/init`, and the results of the server API methods it calls
 * (Centrifugo's server API, as in Gyre's src/api/types.ts).
 */

/** `GET admin/init`. */
export interface InitInfo {
  insecure: boolean;
  authenticated: boolean;
  edition: string;
  version: string;
}

/** One node of the `info` result. */
export interface NodeInfo {
  uid: string;
  name: string;
  version: string;
  num_clients: number;
  num_users: number;
  num_channels: number;
  num_subs?: number;
  /** Seconds since the node started. */
  uptime: number;
}

export interface InfoResult {
  nodes: NodeInfo[];
}

export interface ChannelsResult {
  channels?: Record<string, { num_clients: number }>;
}

export interface ClientInfo {
  client: string;
  user: string;
  conn_info?: unknown;
  chan_info?: unknown;
}

export interface PresenceResult {
  presence?: Record<string, ClientInfo>;
}

export interface PresenceStatsResult {
  num_clients: number;
  num_users: number;
}

export interface Publication {
  data?: unknown;
  b64data?: string;
  info?: ClientInfo;
  offset?: number;
  tags?: Record<string, string>;
}

export interface HistoryResult {
  publications?: Publication[];
  offset?: number;
  epoch?: string;
}

export interface PublishResult {
  offset?: number;
  epoch?: string;
}

/** The params and result of each server API method the UI calls. */
export interface AdminMethods {
  info: { params: Record<string, never>; result: InfoResult };
  channels: { params: { pattern?: string }; result: ChannelsResult };
  presence: { params: { channel: string }; result: PresenceResult };
  presence_stats: { params: { channel: string }; result: PresenceStatsResult };
  history: { params: { channel: string; limit?: number; reverse?: boolean }; result: HistoryResult };
  history_remove: { params: { channel: string }; result: Record<string, never> };
  publish: { params: { channel: string; data: unknown }; result: PublishResult };
  broadcast: { params: { channels: string[]; data: unknown }; result: { responses: unknown[] } };
  subscribe: { params: { user: string; channel: string; client?: string }; result: Record<string, never> };
  unsubscribe: { params: { user: string; channel: string; client?: string }; result: Record<string, never> };
  disconnect: { params: { user: string; client?: string }; result: Record<string, never> };
  refresh: { params: { user: string; client?: string; expired?: boolean }; result: Record<string, never> };
}

export type AdminMethod = keyof AdminMethods;
