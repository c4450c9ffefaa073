/**
 * The schema of the Centrifugo v6 configuration layout that Gyre reads: one node per key, saying
 * what kind of value it holds. Validation, environment variable lookup and unknown-key detection
 * are all driven by it.
 */

import { channelProxySchema, clientProxySchema, grpcApiSchema, proxiesSchema, rpcSchema } from './proxy.js';

/** A string. */
export interface StringSchema {
  kind: 'string';
}
/** A boolean (files must use real booleans; env vars accept true/false/1/0). */
export interface BooleanSchema {
  kind: 'boolean';
}
/** An integer in `[min, max]`. `numericString` also accepts `"9000"` (Centrifugo types that key as a string). */
export interface IntegerSchema {
  kind: 'integer';
  min?: number;
  max?: number;
  numericString?: boolean;
}
/**
 * A Go duration string, converted to ms. `negativeDisables`: a negative value (or the number -1,
 * as Centrifugo documents) means "disabled" and becomes -1. `wholeSeconds`: sub-second values are
 * rejected, as Centrifugo does for history TTLs.
 */
export interface DurationSchema {
  kind: 'duration';
  negativeDisables?: boolean;
  wholeSeconds?: boolean;
}
/** A Unix timestamp in seconds (0 = unset), converted to ms since epoch. */
export interface UnixSecondsSchema {
  kind: 'unix_seconds';
}
/** One of a fixed set of strings. */
export interface EnumSchema {
  kind: 'enum';
  values: readonly string[];
}
/** An array of strings, optionally restricted to `values`. */
export interface StringArraySchema {
  kind: 'string_array';
  values?: readonly string[];
  /** A single string is accepted too and becomes a one-item array (Centrifugo's "string or array"). */
  orString?: boolean;
}
/** A nested object with typed `fields`; `untyped` keys are known to Centrifugo, accepted, and ignored. */
export interface ObjectSchema {
  kind: 'object';
  fields: Readonly<Record<string, Schema>>;
  untyped?: readonly string[];
  /** Keys with these prefixes are accepted and ignored too (legacy flat keys). */
  untypedPrefixes?: readonly string[];
}
/** An object of string values (static headers, metadata). */
export interface StringMapSchema {
  kind: 'string_map';
}
/** An array of objects of one schema (`proxies`, `rpc.namespaces`); `nameRe`: each needs a unique matching `name`. */
export interface ObjectListSchema {
  kind: 'object_list';
  item: ObjectSchema;
  /** Defaults of one item, in typed form. */
  itemDefaults: () => Record<string, unknown>;
  nameRe?: RegExp;
}
/** The `channel.namespaces` array: objects with a `name` plus channel options. */
export interface NamespacesSchema {
  kind: 'namespaces';
  item: ObjectSchema;
}

/** Any schema node. */
export type Schema =
  | StringSchema
  | BooleanSchema
  | IntegerSchema
  | DurationSchema
  | UnixSecondsSchema
  | EnumSchema
  | StringArraySchema
  | ObjectSchema
  | NamespacesSchema
  | StringMapSchema
  | ObjectListSchema;

const str: StringSchema = { kind: 'string' };
const bool: BooleanSchema = { kind: 'boolean' };
const count: IntegerSchema = { kind: 'integer', min: 0 };
const dur: DurationSchema = { kind: 'duration' };
const obj = (fields: Record<string, Schema>, untyped: readonly string[] = []): ObjectSchema => ({
  kind: 'object',
  fields,
  untyped,
});

/** Centrifugo TLS keys Gyre does not use (yet). */
const TLS_UNTYPED = [
  'cert_pem',
  'cert_pem_b64',
  'key_pem',
  'key_pem_b64',
  'server_ca_pem',
  'server_ca_pem_b64',
  'server_ca_pem_file',
  'client_ca_pem',
  'client_ca_pem_b64',
  'client_ca_pem_file',
  'insecure_skip_verify',
  'server_name',
];

const tokenFields: Record<string, Schema> = {
  hmac_secret_key: str,
  hmac_previous_secret_key: str,
  hmac_previous_secret_key_valid_until: { kind: 'unix_seconds' },
  rsa_public_key: str,
  ecdsa_public_key: str,
  jwks_public_endpoint: str,
  audience: str,
  audience_regex: str,
  issuer: str,
  issuer_regex: str,
  user_id_claim: str,
};
const TOKEN_UNTYPED = ['insecure_skip_jwks_endpoint_safety_check'];

/** Connection settings of a Redis setup (`engine.redis`, `broker.redis`, `presence_manager.redis`). */
const redisSchema: ObjectSchema = obj(
  {
    address: { kind: 'string_array', orString: true },
    prefix: str,
    db: count,
    user: str,
    password: str,
    cluster_address: { kind: 'string_array', orString: true },
    sentinel_address: { kind: 'string_array', orString: true },
    sentinel_master_name: str,
    sentinel_user: str,
    sentinel_password: str,
    tls: obj(
      { enabled: bool, cert_pem_file: str, key_pem_file: str, server_ca_pem_file: str, insecure_skip_verify: bool, server_name: str },
      TLS_UNTYPED.filter((k) => !['server_ca_pem_file', 'insecure_skip_verify', 'server_name'].includes(k)),
    ),
    presence_ttl: dur,
    history_use_lists: bool,
    connect_timeout: dur,
    io_timeout: dur,
  },
  [
    'force_resp2',
    'presence_hash_field_ttl',
    'presence_user_mapping',
    'sentinel_tls',
    'replica_client',
    'channel_state',
    'use_singleflight',
    'history_meta_ttl',
  ],
);

/** Connection settings of NATS (`broker.nats`). */
const natsSchema: ObjectSchema = obj({ url: str, prefix: str, dial_timeout: dur, write_timeout: dur }, ['tls', 'allow_wildcards', 'raw_mode']);

/** Channel options (of `channel.without_namespace` and of each namespace). */
export const channelOptionsFields: Readonly<Record<string, Schema>> = {
  presence: bool,
  join_leave: bool,
  force_push_join_leave: bool,
  history_size: count,
  history_ttl: { kind: 'duration', wholeSeconds: true },
  history_meta_ttl: { kind: 'duration', wholeSeconds: true },
  force_positioning: bool,
  allow_positioning: bool,
  force_recovery: bool,
  allow_recovery: bool,
  force_recovery_mode: { kind: 'enum', values: ['', 'stream', 'cache'] },
  allow_subscribe_for_client: bool,
  allow_subscribe_for_anonymous: bool,
  allow_publish_for_subscriber: bool,
  allow_publish_for_client: bool,
  allow_publish_for_anonymous: bool,
  allow_presence_for_subscriber: bool,
  allow_presence_for_client: bool,
  allow_presence_for_anonymous: bool,
  allow_history_for_subscriber: bool,
  allow_history_for_client: bool,
  allow_history_for_anonymous: bool,
  allow_user_limited_channels: bool,
  channel_regex: str,
  allowed_delta_types: { kind: 'string_array', values: ['fossil'] },
  delta_publish: bool,
  subscribe_proxy_enabled: bool,
  subscribe_proxy_name: str,
  publish_proxy_enabled: bool,
  publish_proxy_name: str,
  sub_refresh_proxy_enabled: bool,
  sub_refresh_proxy_name: str,
};

/** Channel option keys of newer Centrifugo v6 releases that Gyre accepts but does not implement yet. */
const CHANNEL_OPTIONS_UNTYPED = [
  'subscribe_stream_proxy_enabled',
  'subscribe_stream_proxy_name',
  'subscribe_stream_proxy_bidirectional',
  'subscribe_stream_bidirectional',
  'publication_data_format',
  'auto_cache_recovery',
  'allow_tags_filter',
  'subscription_type',
  'map',
  'shared_poll',
  'map_clients_presence_channel_prefix',
  'map_users_presence_channel_prefix',
];

/** Schema of one channel options object. */
export const channelOptionsSchema: ObjectSchema = obj({ ...channelOptionsFields }, CHANNEL_OPTIONS_UNTYPED);

/** Schema of one `channel.namespaces` item. */
export const namespaceSchema: ObjectSchema = obj({ name: str, ...channelOptionsFields }, CHANNEL_OPTIONS_UNTYPED);

/** Top-level Centrifugo v6 sections (and flat keys) that Gyre accepts without warning but does not type yet. */
export const UNTYPED_TOP_LEVEL: readonly string[] = [
  'consumers',
  'sse',
  'http_stream',
  'webtransport',
  'uni_sse',
  'uni_http_stream',
  'uni_websocket',
  'uni_grpc',
  'emulation',
  'admin',
  'prometheus',
  'swagger',
  'debug',
  'dev',
  'opentelemetry',
  'graphite',
  'usage_stats',
  'shared_poll',
  'pid_file',
  'enable_unreleased_features',
];

/** The whole configuration. */
export const configSchema: ObjectSchema = {
  kind: 'object',
  untyped: UNTYPED_TOP_LEVEL,
  // Flat proxy keys of older Centrifugo releases: the known ones are lifted into the v6 layout
  // before validation (config/proxy.ts); the others are accepted and ignored.
  untypedPrefixes: ['proxy_'],
  fields: {
    http_server: obj(
      {
        address: str,
        port: { kind: 'integer', min: 0, max: 65535 },
        internal_port: { kind: 'integer', min: 0, max: 65535, numericString: true },
        tls: obj({ enabled: bool, cert_pem_file: str, key_pem_file: str }, TLS_UNTYPED),
        read_header_timeout: dur,
        read_timeout: dur,
        idle_timeout: dur,
      },
      ['internal_address', 'tls_autocert', 'tls_external', 'internal_tls', 'http3', 'h2c_external'],
    ),
    log: obj({ level: { kind: 'enum', values: ['none', 'trace', 'debug', 'info', 'warn', 'error'] }, file: str }),
    engine: obj({ type: { kind: 'enum', values: ['memory', 'redis'] }, redis: redisSchema }),
    broker: obj(
      { enabled: bool, type: { kind: 'enum', values: ['', 'memory', 'redis', 'nats'] }, redis: redisSchema, nats: natsSchema },
      ['postgres'],
    ),
    presence_manager: obj({ enabled: bool, type: { kind: 'enum', values: ['', 'memory', 'redis'] }, redis: redisSchema }),
    client: obj(
      {
        allowed_origins: { kind: 'string_array' },
        token: obj(tokenFields, TOKEN_UNTYPED),
        subscription_token: obj({ enabled: bool, ...tokenFields }, TOKEN_UNTYPED),
        allow_anonymous_connect_without_token: bool,
        disallow_anonymous_connection_tokens: bool,
        ping_interval: { kind: 'duration', negativeDisables: true },
        pong_timeout: { kind: 'duration', negativeDisables: true },
        expired_close_delay: dur,
        expired_sub_close_delay: dur,
        stale_close_delay: dur,
        channel_limit: count,
        queue_max_size: count,
        connection_limit: count,
        user_connection_limit: count,
        connection_rate_limit: count,
        history_max_publication_limit: count,
        recovery_max_publication_limit: count,
        insecure: bool,
        concurrency: count,
        error_limit: count,
        error_limit_interval: dur,
        subscribe_to_user_personal_channel: obj({
          enabled: bool,
          personal_channel_namespace: str,
          single_connection: bool,
        }),
        proxy: clientProxySchema,
      },
      [
        'presence_update_interval',
        'channel_position_check_delay',
        'channel_position_max_time_lag',
        'connect_include_server_time',
        'insecure_skip_token_signature_verify',
        'user_id_http_header',
        'connect_code_to_unidirectional_disconnect',
      ],
    ),
    channel: obj(
      {
        without_namespace: channelOptionsSchema,
        namespaces: { kind: 'namespaces', item: namespaceSchema },
        history_meta_ttl: { kind: 'duration', wholeSeconds: true },
        max_length: { kind: 'integer', min: 1 },
        private_prefix: str,
        namespace_boundary: str,
        user_boundary: str,
        user_separator: str,
        proxy: channelProxySchema,
      },
      ['publication_data_format'],
    ),
    rpc: rpcSchema,
    proxies: proxiesSchema,
    http_api: obj({
      disabled: bool,
      handler_prefix: str,
      key: str,
      insecure: bool,
      error_mode: { kind: 'enum', values: ['', 'transport'] },
      external: bool,
      max_request_body_size: count,
      max_batch_size: count,
    }),
    grpc_api: grpcApiSchema,
    websocket: obj(
      {
        disabled: bool,
        handler_prefix: str,
        compression: bool,
        message_size_limit: count,
        write_timeout: dur,
      },
      [
        'compression_min_size',
        'compression_level',
        'read_buffer_size',
        'use_write_buffer_pool',
        'write_buffer_size',
        'decompressed_message_size_limit',
      ],
    ),
    health: obj({ enabled: bool, handler_prefix: str }),
    shutdown: obj({ timeout: dur }),
    node: obj({ name: str }, ['info_metrics_aggregate_interval']),
    // Gyre's own: the simple event protocol endpoint. `listeners` entries are "EVENT=module[#export]".
    events: obj({
      enabled: bool,
      handler_prefix: str,
      address: str,
      port: { kind: 'integer', min: 0, max: 65535 },
      message_size_limit: count,
      ping_interval: dur,
      listeners: { kind: 'string_array' },
    }),
  },
};

/** Is `key` accepted (typed or untyped) inside an object with schema `schema`? */
export function isKnownKey(schema: ObjectSchema, key: string): boolean {
  return (
    Object.hasOwn(schema.fields, key) ||
    (schema.untyped ?? []).includes(key) ||
    (schema.untypedPrefixes ?? []).some((prefix) => key.startsWith(prefix))
  );
}
