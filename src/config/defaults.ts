import { defaultChannelProxy, defaultClientProxy, defaultGrpcApi, defaultRpc } from './proxy.js';
import type { ChannelOptions, GyreConfig } from './types.js';

/**
 * Channel options as Centrifugo v6 defaults them: everything off, no history, and proxy names
 * `"default"` (the proxies configured under `channel.proxy.*`).
 */
export function defaultChannelOptions(): ChannelOptions {
  return {
    presence: false,
    join_leave: false,
    force_push_join_leave: false,
    history_size: 0,
    history_ttl: 0,
    history_meta_ttl: 0,
    force_positioning: false,
    allow_positioning: false,
    force_recovery: false,
    allow_recovery: false,
    force_recovery_mode: '',
    allow_subscribe_for_client: false,
    allow_subscribe_for_anonymous: false,
    allow_publish_for_subscriber: false,
    allow_publish_for_client: false,
    allow_publish_for_anonymous: false,
    allow_presence_for_subscriber: false,
    allow_presence_for_client: false,
    allow_presence_for_anonymous: false,
    allow_history_for_subscriber: false,
    allow_history_for_client: false,
    allow_history_for_anonymous: false,
    allow_user_limited_channels: false,
    channel_regex: '',
    allowed_delta_types: [],
    delta_publish: false,
    subscribe_proxy_enabled: false,
    subscribe_proxy_name: 'default',
    publish_proxy_enabled: false,
    publish_proxy_name: 'default',
    sub_refresh_proxy_enabled: false,
    sub_refresh_proxy_name: 'default',
  };
}

function defaultToken(): GyreConfig['client']['token'] {
  return {
    hmac_secret_key: '',
    hmac_previous_secret_key: '',
    hmac_previous_secret_key_valid_until: 0,
    rsa_public_key: '',
    ecdsa_public_key: '',
    jwks_public_endpoint: '',
    audience: '',
    audience_regex: '',
    issuer: '',
    issuer_regex: '',
    user_id_claim: '',
  };
}

/** Redis connection settings as Centrifugo v6 defaults them. */
export function defaultRedis(): GyreConfig['engine']['redis'] {
  return {
    address: ['redis://127.0.0.1:6379'],
    prefix: 'centrifugo',
    db: 0,
    user: '',
    password: '',
    cluster_address: [],
    sentinel_address: [],
    sentinel_master_name: '',
    sentinel_user: '',
    sentinel_password: '',
    tls: { enabled: false, cert_pem_file: '', key_pem_file: '', server_ca_pem_file: '', insecure_skip_verify: false, server_name: '' },
    presence_ttl: 60_000,
    history_use_lists: false,
    connect_timeout: 1_000,
    io_timeout: 4_000,
  };
}

/** A fresh copy of the whole configuration with Centrifugo v6 defaults (durations in ms). */
export function defaultConfig(): GyreConfig {
  return {
    http_server: {
      address: '',
      port: 8000,
      internal_port: 0,
      tls: { enabled: false, cert_pem_file: '', key_pem_file: '' },
      read_header_timeout: 10_000,
      read_timeout: 60_000,
      idle_timeout: 30_000,
    },
    log: { level: 'info', file: '' },
    engine: { type: 'memory', redis: defaultRedis() },
    broker: { enabled: false, type: '', redis: defaultRedis(), nats: { url: 'nats://127.0.0.1:4222', prefix: 'centrifugo', dial_timeout: 1_000, write_timeout: 1_000 } },
    presence_manager: { enabled: false, type: '', redis: defaultRedis() },
    client: {
      allowed_origins: [],
      token: defaultToken(),
      subscription_token: { enabled: false, ...defaultToken() },
      allow_anonymous_connect_without_token: false,
      disallow_anonymous_connection_tokens: false,
      ping_interval: 25_000,
      pong_timeout: 8_000,
      expired_close_delay: 25_000,
      expired_sub_close_delay: 25_000,
      stale_close_delay: 10_000,
      channel_limit: 128,
      queue_max_size: 1_048_576,
      connection_limit: 0,
      user_connection_limit: 0,
      connection_rate_limit: 0,
      history_max_publication_limit: 300,
      recovery_max_publication_limit: 300,
      insecure: false,
      concurrency: 0,
      error_limit: 1000,
      error_limit_interval: 10_000,
      subscribe_to_user_personal_channel: {
        enabled: false,
        personal_channel_namespace: '',
        single_connection: false,
      },
      proxy: defaultClientProxy(),
    },
    channel: {
      without_namespace: defaultChannelOptions(),
      namespaces: [],
      history_meta_ttl: 720 * 3_600_000,
      max_length: 255,
      private_prefix: '$',
      namespace_boundary: ':',
      user_boundary: '#',
      user_separator: ',',
      proxy: defaultChannelProxy(),
    },
    rpc: defaultRpc(),
    proxies: [],
    http_api: {
      disabled: false,
      handler_prefix: '/api',
      key: '',
      insecure: false,
      error_mode: '',
      external: false,
      max_request_body_size: 16 * 1024 * 1024,
      max_batch_size: 10_000,
    },
    grpc_api: defaultGrpcApi(),
    websocket: {
      disabled: false,
      handler_prefix: '/connection/websocket',
      compression: false,
      message_size_limit: 65_536,
      write_timeout: 1_000,
    },
    health: { enabled: false, handler_prefix: '/health' },
    shutdown: { timeout: 30_000 },
    node: { name: '' },
    events: {
      enabled: false,
      handler_prefix: '/connection/events',
      address: '',
      port: 0,
      message_size_limit: 65_536,
      ping_interval: 25_000,
      listeners: [],
    },
  };
}
