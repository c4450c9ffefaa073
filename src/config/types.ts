/**
 * The typed, validated configuration of a Gyre node.
 *
 * Keys keep the Centrifugo v6 names (snake_case) so that a Centrifugo user recognises every one of
 * them. Durations are parsed once into milliseconds (`*_ms` is implied: every duration field below
 * holds a number of milliseconds). Nothing downstream reads raw config or the environment.
 */

/** Options of a channel namespace (or of channels without a namespace). */
export interface ChannelOptions {
  presence: boolean;
  join_leave: boolean;
  force_push_join_leave: boolean;
  /** Number of publications kept in history; 0 disables history. */
  history_size: number;
  /** History retention in ms; 0 disables history. */
  history_ttl: number;
  /** Retention of the stream meta (epoch, top offset) in ms; 0 = the `channel.history_meta_ttl` default. */
  history_meta_ttl: number;
  force_positioning: boolean;
  allow_positioning: boolean;
  force_recovery: boolean;
  allow_recovery: boolean;
  force_recovery_mode: '' | 'stream' | 'cache';
  allow_subscribe_for_client: boolean;
  allow_subscribe_for_anonymous: boolean;
  allow_publish_for_subscriber: boolean;
  allow_publish_for_client: boolean;
  allow_publish_for_anonymous: boolean;
  allow_presence_for_subscriber: boolean;
  allow_presence_for_client: boolean;
  allow_presence_for_anonymous: boolean;
  allow_history_for_subscriber: boolean;
  allow_history_for_client: boolean;
  allow_history_for_anonymous: boolean;
  allow_user_limited_channels: boolean;
  /** Regular expression the channel name (after the namespace) must match; "" = any. */
  channel_regex: string;
  allowed_delta_types: Array<'fossil'>;
  delta_publish: boolean;
  subscribe_proxy_enabled: boolean;
  subscribe_proxy_name: string;
  publish_proxy_enabled: boolean;
  publish_proxy_name: string;
  sub_refresh_proxy_enabled: boolean;
  sub_refresh_proxy_name: string;
}

/** A named channel namespace. */
export interface NamespaceConfig extends ChannelOptions {
  name: string;
}

/** Settings to verify JWTs (connection or subscription tokens). */
export interface TokenConfig {
  hmac_secret_key: string;
  hmac_previous_secret_key: string;
  /** When the previous HMAC key stops being accepted, ms since epoch; 0 = accepted while set. */
  hmac_previous_secret_key_valid_until: number;
  rsa_public_key: string;
  ecdsa_public_key: string;
  jwks_public_endpoint: string;
  audience: string;
  audience_regex: string;
  issuer: string;
  issuer_regex: string;
  user_id_claim: string;
}

export interface SubscriptionTokenConfig extends TokenConfig {
  /** When false, subscription tokens are verified with `client.token` settings. */
  enabled: boolean;
}

export interface ClientConfig {
  allowed_origins: string[];
  token: TokenConfig;
  subscription_token: SubscriptionTokenConfig;
  allow_anonymous_connect_without_token: boolean;
  disallow_anonymous_connection_tokens: boolean;
  ping_interval: number;
  pong_timeout: number;
  expired_close_delay: number;
  expired_sub_close_delay: number;
  stale_close_delay: number;
  channel_limit: number;
  /** Bytes of outgoing data queued per connection before it is closed with 3008 "slow". */
  queue_max_size: number;
  connection_limit: number;
  user_connection_limit: number;
  connection_rate_limit: number;
  history_max_publication_limit: number;
  recovery_max_publication_limit: number;
  insecure: boolean;
  concurrency: number;
  subscribe_to_user_personal_channel: {
    enabled: boolean;
    personal_channel_namespace: string;
    single_connection: boolean;
  };
}

export interface ChannelConfig {
  without_namespace: ChannelOptions;
  namespaces: NamespaceConfig[];
  history_meta_ttl: number;
  max_length: number;
  private_prefix: string;
  namespace_boundary: string;
  user_boundary: string;
  user_separator: string;
}

export interface HttpServerConfig {
  address: string;
  port: number;
  internal_port: number;
  tls: { enabled: boolean; cert_pem_file: string; key_pem_file: string };
}

export type LogLevel = 'none' | 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface LogConfig {
  level: LogLevel;
  file: string;
}

export interface HttpApiConfig {
  disabled: boolean;
  handler_prefix: string;
  key: string;
  insecure: boolean;
  error_mode: '' | 'transport';
  external: boolean;
}

export interface WebsocketConfig {
  disabled: boolean;
  handler_prefix: string;
  compression: boolean;
  message_size_limit: number;
  write_timeout: number;
}

export interface HealthConfig {
  enabled: boolean;
  handler_prefix: string;
}

export interface ShutdownConfig {
  timeout: number;
}

export interface EngineConfig {
  type: 'memory' | 'redis';
}

export interface NodeConfig {
  name: string;
}

/** The whole validated configuration. */
export interface GyreConfig {
  http_server: HttpServerConfig;
  log: LogConfig;
  engine: EngineConfig;
  client: ClientConfig;
  channel: ChannelConfig;
  http_api: HttpApiConfig;
  websocket: WebsocketConfig;
  health: HealthConfig;
  shutdown: ShutdownConfig;
  node: NodeConfig;
}

/** A deep-partial view, for building configs in code and tests. */
export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends Array<infer U>
    ? Array<DeepPartial<U>>
    : T[K] extends object
      ? DeepPartial<T[K]>
      : T[K];
};
