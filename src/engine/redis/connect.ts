/**
 * From Redis configuration to ioredis clients: one {@link ShardSpec} per shard (a standalone
 * server, a Sentinel-managed master, or a Redis Cluster), and the client options Gyre relies on to
 * fail fast while Redis is away and to reconnect with backoff.
 *
 * Address forms (as Centrifugo v6 reads them): `host:port`, `redis://[user:password@]host:port[/db]`,
 * `rediss://...` (TLS), `redis+sentinel://[user:password@]host:port?sentinel_master_name=NAME[&addr=host:port...]
 * [&sentinel_user=U&sentinel_password=P]`, `redis+cluster://[user:password@]host:port[?addr=host:port...]`
 * (also `redis://host:port?addr=...` for several cluster seeds). The keys `cluster_address` and
 * `sentinel_address` / `sentinel_master_name` configure the same without URLs.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../../config/types.js';

export interface HostPort {
  host: string;
  port: number;
}

export type ShardSpec =
  | { kind: 'standalone'; node: HostPort; options: RedisOptions; label: string }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string; options: RedisOptions; label: string }
  | { kind: 'cluster'; nodes: HostPort[]; options: RedisOptions; label: string };

/** Thrown for an address Gyre cannot use; the message names it. */
export class RedisAddressError extends Error {}

function hostPort(text: string, defaultPort = 6379): HostPort {
  const s = text.trim();
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
  if (m === null || m[1] === undefined || m[1] === '') throw new RedisAddressError(`invalid Redis address "${text}"`);
  const port = m[2] !== undefined ? Number(m[2]) : defaultPort;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new RedisAddressError(`invalid port in Redis address "${text}"`);
  return { host: m[1], port };
}

function list(text: string): HostPort[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => hostPort(s));
}

/** TLS options from `tls` (or a `rediss://` address); undefined when off. */
function tlsOptions(cfg: RedisConfig, forced: boolean): ConnectionOptions | undefined {
  const t = cfg.tls;
  if (!t.enabled && !forced) return undefined;
  const out: ConnectionOptions = { rejectUnauthorized: !t.insecure_skip_verify };
  if (t.server_ca_pem_file !== '') out.ca = readFileSync(t.server_ca_pem_file);
  if (t.cert_pem_file !== '') out.cert = readFileSync(t.cert_pem_file);
  if (t.key_pem_file !== '') out.key = readFileSync(t.key_pem_file);
  if (t.server_name !== '') out.servername = t.server_name;
  return out;
}

/** Options shared by every connection: fail fast while disconnected, reconnect with backoff. */
function baseOptions(cfg: RedisConfig): RedisOptions {
  const opts: RedisOptions = {
    db: cfg.db,
    connectTimeout: cfg.connect_timeout > 0 ? cfg.connect_timeout : 1000,
    // A command sent while Redis is away fails at once (the API answers error 100) instead of
    // waiting in a queue; one in flight when the connection drops fails too, and is never resent
    // (a publish must not happen twice). Subscriptions are restored by Gyre itself.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResubscribe: false,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt: number) => Math.min(100 * 2 ** Math.min(attempt - 1, 5), 2000) + Math.floor(Math.random() * 100),
    lazyConnect: true,
    disableClientInfo: true,
  };
  if (cfg.io_timeout > 0) opts.commandTimeout = cfg.io_timeout;
  if (cfg.user !== '') opts.username = cfg.user;
  if (cfg.password !== '') opts.password = cfg.password;
  const tls = tlsOptions(cfg, false);
  if (tls !== undefined) opts.tls = tls;
  return opts;
}

/** The shards a Redis configuration describes, in order (channels hash over this order). */
export function shardSpecs(cfg: RedisConfig): ShardSpec[] {
  if (cfg.sentinel_address.length > 0) {
    const sentinels = cfg.sentinel_address.flatMap((a) => list(a));
    const options = baseOptions(cfg);
    if (cfg.sentinel_user !== '') options.sentinelUsername = cfg.sentinel_user;
    if (cfg.sentinel_password !== '') options.sentinelPassword = cfg.sentinel_password;
    return [{ kind: 'sentinel', sentinels, name: cfg.sentinel_master_name, options, label: `sentinel ${cfg.sentinel_master_name}` }];
  }
  if (cfg.cluster_address.length > 0) {
    return cfg.cluster_address.map((seeds) => ({ kind: 'cluster', nodes: list(seeds), options: baseOptions(cfg), label: `cluster ${seeds}` }));
  }
  return cfg.address.map((a) => parseAddress(a, cfg));
}

function parseAddress(address: string, cfg: RedisConfig): ShardSpec {
  const text = address.trim();
  if (!text.includes('://')) {
    const node = hostPort(text);
    return { kind: 'standalone', node, options: baseOptions(cfg), label: `${node.host}:${node.port}` };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RedisAddressError(`invalid Redis address "${address}"`);
  }
  const scheme = url.protocol.replace(/:$/, '');
  const options = baseOptions(cfg);
  if (url.username !== '') options.username = decodeURIComponent(url.username);
  if (url.password !== '') options.password = decodeURIComponent(url.password);
  const dbText = url.pathname.replace(/^\//, '') || url.searchParams.get('db') || '';
  if (dbText !== '') {
    const db = Number(dbText);
    if (!Number.isInteger(db) || db < 0) throw new RedisAddressError(`invalid db in Redis address "${address}"`);
    options.db = db;
  }
  if (scheme === 'rediss') options.tls = tlsOptions(cfg, true) ?? {};
  const main = hostPort(url.host === '' ? '127.0.0.1' : url.host);
  const extra = url.searchParams.getAll('addr').flatMap((a) => list(a));
  const label = `${main.host}:${main.port}`;
  switch (scheme) {
    case 'redis':
    case 'rediss':
      if (extra.length > 0) return { kind: 'cluster', nodes: [main, ...extra], options, label: `cluster ${label}` };
      return { kind: 'standalone', node: main, options, label };
    case 'redis+cluster':
    case 'rediss+cluster':
      if (scheme === 'rediss+cluster') options.tls = tlsOptions(cfg, true) ?? {};
      return { kind: 'cluster', nodes: [main, ...extra], options, label: `cluster ${label}` };
    case 'redis+sentinel':
    case 'rediss+sentinel': {
      const name = url.searchParams.get('sentinel_master_name') ?? cfg.sentinel_master_name;
      if (name === '') throw new RedisAddressError(`Redis address "${address}" needs sentinel_master_name`);
      if (scheme === 'rediss+sentinel') options.tls = tlsOptions(cfg, true) ?? {};
      const user = url.searchParams.get('sentinel_user') ?? cfg.sentinel_user;
      const password = url.searchParams.get('sentinel_password') ?? cfg.sentinel_password;
      if (user !== '') options.sentinelUsername = user;
      if (password !== '') options.sentinelPassword = password;
      return { kind: 'sentinel', sentinels: [main, ...extra], name, options, label: `sentinel ${name}` };
    }
    default:
      throw new RedisAddressError(`unsupported scheme "${scheme}" in Redis address "${address}"`);
  }
}

/** A new, not yet connected client for a shard (`lazyConnect`: call `connect()`). */
export function createClient(spec: ShardSpec, name: string): Redis | Cluster {
  const options = { ...spec.options, connectionName: name };
  switch (spec.kind) {
    case 'standalone':
      return new Redis({ ...options, host: spec.node.host, port: spec.node.port });
    case 'sentinel':
      return new Redis({ ...options, sentinels: spec.sentinels, name: spec.name });
    case 'cluster': {
      const clusterOptions: ClusterOptions = {
        redisOptions: options,
        enableOfflineQueue: false,
        lazyConnect: true,
        clusterRetryStrategy: (attempt: number) => Math.min(100 * 2 ** Math.min(attempt - 1, 5), 2000),
        maxRedirections: 16,
      };
      return new Cluster(spec.nodes, clusterOptions);
    }
  }
}
