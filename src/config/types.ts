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
  /**
   * Gyre's own: error replies a connection may get within `error_limit_interval` before it is
   * closed with 3509 "too many errors" (0 = no limit); also bad messages on the event endpoint.
   */
  error_limit: number;
  /** Gyre's own: the interval (ms) of `error_limit`; a connection's error log lines come at most once per interval. */
  error_limit_interval: number;
  subscribe_to_user_personal_channel: {
    enabled: boolean;
    personal_channel_namespace: string;
    single_connection: boolean;
  };
  /** Connect and refresh events asked of a backend (`client.proxy`). */
  proxy: ClientProxyConfig;
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
  /** The `"default"` proxies of channel events (`channel.proxy`), used by namespaces with `*_proxy_enabled`. */
  proxy: ChannelProxyConfig;
}

export interface HttpServerConfig {
  address: string;
  port: number;
  internal_port: number;
  tls: { enabled: boolean; cert_pem_file: string; key_pem_file: string };
  /** Gyre's own: ms to receive a request's headers (WebSocket upgrades included); 0 = no limit. */
  read_header_timeout: number;
  /** Gyre's own: ms to receive a whole request, body included; 0 = no limit. */
  read_timeout: number;
  /** Gyre's own: ms an idle keep-alive connection is kept open between requests. */
  idle_timeout: number;
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
  /** Gyre's own: the largest request body read, in bytes (larger: 413); 0 = no limit. */
  max_request_body_size: number;
  /** Gyre's own: the most commands in one `batch` and channels in one `broadcast` (HTTP and gRPC API); 0 = no limit. */
  max_batch_size: number;
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

/** TLS settings of a client connection to Redis (Centrifugo's unified TLS object, the keys Gyre reads). */
export interface RedisTlsConfig {
  enabled: boolean;
  cert_pem_file: string;
  key_pem_file: string;
  server_ca_pem_file: string;
  insecure_skip_verify: boolean;
  server_name: string;
}

/** How to reach Redis (`engine.redis`, `broker.redis`, `presence_manager.redis`). */
export interface RedisConfig {
  /** One address per shard: `host:port`, `redis://`, `rediss://`, `redis+sentinel://`, `redis+cluster://`. */
  address: string[];
  /** Prefix of every Redis key and PUB/SUB channel. */
  prefix: string;
  db: number;
  user: string;
  password: string;
  /** Redis Cluster shards: each entry lists one cluster's seed nodes, comma-separated. */
  cluster_address: string[];
  /** Sentinel addresses (`host:port`) of one Sentinel-managed master. */
  sentinel_address: string[];
  sentinel_master_name: string;
  sentinel_user: string;
  sentinel_password: string;
  tls: RedisTlsConfig;
  /** How long a presence entry lives unless refreshed, in ms. */
  presence_ttl: number;
  /** Accepted for compatibility; Gyre always keeps history in Redis Streams. */
  history_use_lists: boolean;
  /** Dial timeout in ms. */
  connect_timeout: number;
  /** Timeout of one Redis command in ms. */
  io_timeout: number;
}

/** How to reach NATS (`broker.nats`). */
export interface NatsConfig {
  url: string;
  /** Prefix of every NATS subject. */
  prefix: string;
  dial_timeout: number;
  write_timeout: number;
}

export interface EngineConfig {
  type: 'memory' | 'redis';
  redis: RedisConfig;
}

/** A separately configured broker (PUB/SUB and history), replacing the engine's one when enabled. */
export interface BrokerConfig {
  enabled: boolean;
  type: '' | 'memory' | 'redis' | 'nats';
  redis: RedisConfig;
  nats: NatsConfig;
}

/** A separately configured presence manager, replacing the engine's one when enabled. */
export interface PresenceManagerConfig {
  enabled: boolean;
  type: '' | 'memory' | 'redis';
  redis: RedisConfig;
}

export interface NodeConfig {
  name: string;
}

/** One `events.listeners` entry, `"EVENT=module[#export]"` in file form. */
export interface EventsListenerSpec {
  /** The client event name the listener handles. */
  event: string;
  /** Module specifier: a path (relative to the working directory) or a package name. */
  module: string;
  /** The module's export holding the listener; `default` unless given after `#`. */
  export: string;
}

/** The simple event protocol endpoint (`{"event": NAME, "data": ...}` messages). */
export interface EventsConfig {
  enabled: boolean;
  /** Path of the WebSocket endpoint. */
  handler_prefix: string;
  /** Own listener's address (used with `port`); "" = all interfaces. */
  address: string;
  /** Own listener's port; 0 = serve the endpoint on `http_server.port`. */
  port: number;
  /** Max bytes of one incoming frame; a bigger one closes the connection with 1009. 0 = 64 MiB. */
  message_size_limit: number;
  /** Interval of WebSocket protocol pings in ms; a connection that has not answered the previous one is dropped. 0 = no pings. */
  ping_interval: number;
  /** Listeners loaded from modules at start. */
  listeners: EventsListenerSpec[];
}

/** TLS of an outgoing gRPC connection to a proxy backend. */
export interface ProxyTlsConfig {
  enabled: boolean;
  /** Client certificate and key (mutual TLS). */
  cert_pem_file: string;
  key_pem_file: string;
  /** CA to trust instead of the system roots. */
  server_ca_pem_file: string;
  /** Skip the check of the server's name (its certificate chain is still verified). */
  insecure_skip_verify: boolean;
  /** Name expected in the server's certificate, when not the endpoint's host. */
  server_name: string;
}

/** How to call one backend (Centrifugo's proxy settings); `timeout` in ms. */
export interface ProxyConfig {
  /** `http(s)://...` (JSON POST) or `grpc://host:port` (the CentrifugoProxy service); "" = not configured. */
  endpoint: string;
  timeout: number;
  /** Connection HTTP headers forwarded with every request (HTTP headers, or gRPC metadata). */
  http_headers: string[];
  /** More connection headers forwarded (as gRPC metadata, or HTTP headers). */
  grpc_metadata: string[];
  /** Send the connection's meta with refresh, subscribe, publish, rpc and sub_refresh requests. */
  include_connection_meta: boolean;
  /** Send payloads base64-encoded (`b64data`) instead of as JSON. */
  binary_encoding: boolean;
  http: { static_headers: Record<string, string> };
  grpc: {
    tls: ProxyTlsConfig;
    /** Per-call credentials: metadata `credentials_key: credentials_value`. */
    credentials_key: string;
    credentials_value: string;
    /** Metadata added to every call. */
    static_metadata: Record<string, string>;
    compression: boolean;
  };
}

/** A proxy of `client.proxy`: used when enabled. */
export interface EnabledProxyConfig extends ProxyConfig {
  enabled: boolean;
}

/** A named proxy (`proxies[]`), referenced by `*_proxy_name` / `proxy_name`. */
export interface NamedProxyConfig extends ProxyConfig {
  name: string;
}

export interface ClientProxyConfig {
  connect: EnabledProxyConfig;
  refresh: EnabledProxyConfig;
}

export interface ChannelProxyConfig {
  subscribe: ProxyConfig;
  publish: ProxyConfig;
  sub_refresh: ProxyConfig;
}

/** RPC options of methods without namespace or of an RPC namespace. */
export interface RpcOptions {
  proxy_enabled: boolean;
  /** `"default"` = `rpc.proxy`, else a name from `proxies`. */
  proxy_name: string;
}

export interface RpcNamespaceConfig extends RpcOptions {
  name: string;
}

/** RPC calls of clients (`rpc`): routed by method namespace (`ns:method`) to a proxy. */
export interface RpcConfig {
  proxy: ProxyConfig;
  without_namespace: RpcOptions;
  namespaces: RpcNamespaceConfig[];
  namespace_boundary: string;
}

/** The gRPC server API (`grpc_api`). */
export interface GrpcApiConfig {
  enabled: boolean;
  /** "" = all interfaces. */
  address: string;
  port: number;
  /** Required in metadata `authorization: apikey KEY` when set. */
  key: string;
  tls: { enabled: boolean; cert_pem_file: string; key_pem_file: string };
  /** Largest request in bytes; 0 = gRPC's default (4 MiB). */
  max_receive_message_size: number;
}

/** The whole validated configuration. */
export interface GyreConfig {
  http_server: HttpServerConfig;
  log: LogConfig;
  engine: EngineConfig;
  broker: BrokerConfig;
  presence_manager: PresenceManagerConfig;
  client: ClientConfig;
  channel: ChannelConfig;
  rpc: RpcConfig;
  proxies: NamedProxyConfig[];
  http_api: HttpApiConfig;
  grpc_api: GrpcApiConfig;
  websocket: WebsocketConfig;
  health: HealthConfig;
  shutdown: ShutdownConfig;
  node: NodeConfig;
  events: EventsConfig;
}

/** A deep-partial view, for building configs in code and tests. */
export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends Array<infer U>
    ? Array<DeepPartial<U>>
    : T[K] extends object
      ? DeepPartial<T[K]>
      : T[K];
};
