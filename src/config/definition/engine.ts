/** Definition of `engine`, `broker` and `presence_manager` (memory, Redis, NATS). */
import { bool, duration, int, oneOf, section, str, stringOrStrings } from '../keys.js';
import { TLS_PEM_UNTYPED } from './tls.js';

/** How to reach Redis (`engine.redis`, `broker.redis`, `presence_manager.redis`). */
export const redis = section(
  {
    address: stringOrStrings(
      ['redis://127.0.0.1:6379'],
      'One address per shard: `host:port`, `redis://`, `rediss://`, `redis+sentinel://`, `redis+cluster://`; a string or a list.',
    ),
    prefix: str('centrifugo', 'Prefix of every Redis key and PUB/SUB channel.'),
    db: int(0, 'Redis database number.'),
    user: str('', 'Redis ACL user.'),
    password: str('', 'Redis password.'),
    cluster_address: stringOrStrings([], "Redis Cluster shards: each entry lists one cluster's seed nodes, comma-separated."),
    sentinel_address: stringOrStrings([], 'Sentinel addresses (`host:port`) of one Sentinel-managed master.'),
    sentinel_master_name: str('', 'Name of the master the Sentinels manage (required with sentinel_address).'),
    sentinel_user: str('', 'Sentinel ACL user.'),
    sentinel_password: str('', 'Sentinel password.'),
    tls: section(
      {
        enabled: bool(false, 'Connect to Redis over TLS.'),
        cert_pem_file: str('', 'Client certificate file (PEM), for mutual TLS.'),
        key_pem_file: str('', 'Client key file (PEM), for mutual TLS.'),
        server_ca_pem_file: str('', 'CA certificate file (PEM) to trust instead of the system roots.'),
        insecure_skip_verify: bool(false, "Skip the verification of Redis' certificate."),
        server_name: str('', "Name expected in Redis' certificate."),
      },
      'TLS of the connections to Redis.',
      { untyped: TLS_PEM_UNTYPED },
    ),
    presence_ttl: duration('60s', 'How long a presence entry lives unless refreshed (at least 1s).'),
    history_use_lists: bool(false, 'Accepted for compatibility; Gyre always keeps history in Redis Streams.'),
    connect_timeout: duration('1s', 'Dial timeout.'),
    io_timeout: duration('4s', 'Timeout of one Redis command.'),
  },
  'How to reach Redis.',
  {
    untyped: [
      'force_resp2',
      'presence_hash_field_ttl',
      'presence_user_mapping',
      'sentinel_tls',
      'replica_client',
      'channel_state',
      'use_singleflight',
      'history_meta_ttl',
    ],
  },
);

/** How to reach NATS (`broker.nats`). */
export const nats = section(
  {
    url: str('nats://127.0.0.1:4222', 'NATS server URL.'),
    prefix: str('centrifugo', 'Prefix of every NATS subject.'),
    dial_timeout: duration('1s', 'Dial timeout.'),
    write_timeout: duration('1s', 'Write (flush) timeout.'),
  },
  'How to reach NATS.',
  { untyped: ['tls', 'allow_wildcards', 'raw_mode'] },
);

/** `engine`: PUB/SUB, history and presence of the node. */
export const engine = section(
  { type: oneOf(['memory', 'redis'], 'memory', 'memory: one node; redis: several nodes sharing Redis.'), redis },
  'The engine: PUB/SUB, history and presence.',
);

/** `broker`: a separately configured broker (PUB/SUB and history), replacing the engine's one when enabled. */
export const broker = section(
  {
    enabled: bool(false, "Use this broker instead of the engine's."),
    type: oneOf(['', 'memory', 'redis', 'nats'], '', 'The broker (required when enabled).'),
    redis,
    nats,
  },
  "A separate broker (PUB/SUB and history), replacing the engine's one when enabled.",
  { untyped: ['postgres'] },
);

/** `presence_manager`: a separately configured presence manager, replacing the engine's one when enabled. */
export const presenceManager = section(
  {
    enabled: bool(false, "Use this presence manager instead of the engine's."),
    type: oneOf(['', 'memory', 'redis'], '', 'The presence manager (required when enabled).'),
    redis,
  },
  "A separate presence manager, replacing the engine's one when enabled.",
);
