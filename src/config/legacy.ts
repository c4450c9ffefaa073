/**
 * Keys of older Centrifugo releases, in one place: the flat proxy and gRPC API keys
 * (`proxy_connect_endpoint`, `proxy_subscribe`, `grpc_api: true`, `grpc_api_port`, ...), lifted into
 * the v6 layout so that a config written for an older Centrifugo, like the getting-started one,
 * runs as written; and the v5 top-level keys that v6 moved, named in the unknown-key warning.
 * Lifting runs once, at the start of validation (config/validate.ts).
 */
import type { ConfigProblem } from './errors.js';
import { isTree } from './tree.js';

type Tree = Record<string, unknown>;

/** Flat per-event keys and where the v6 layout keeps that event's proxy. */
const FLAT_EVENTS: ReadonlyArray<[event: string, path: readonly string[]]> = [
  ['connect', ['client', 'proxy', 'connect']],
  ['refresh', ['client', 'proxy', 'refresh']],
  ['subscribe', ['channel', 'proxy', 'subscribe']],
  ['publish', ['channel', 'proxy', 'publish']],
  ['sub_refresh', ['channel', 'proxy', 'sub_refresh']],
  ['rpc', ['rpc', 'proxy']],
];

/** Events switched on by their endpoint, and the flat switch that can turn them off. */
const SWITCHED: ReadonlyArray<[event: string, v6: string]> = [
  ['connect', 'client.proxy.connect.enabled'],
  ['refresh', 'client.proxy.refresh.enabled'],
  ['rpc', 'rpc.without_namespace.proxy_enabled'],
];

/** Flat settings shared by every proxy, and where each goes inside a proxy object. */
const FLAT_COMMON: ReadonlyArray<[key: string, path: readonly string[]]> = [
  ['proxy_http_headers', ['http_headers']],
  ['proxy_grpc_metadata', ['grpc_metadata']],
  ['proxy_include_connection_meta', ['include_connection_meta']],
  ['proxy_binary_encoding', ['binary_encoding']],
  ['proxy_static_http_headers', ['http', 'static_headers']],
  ['proxy_grpc_credentials_key', ['grpc', 'credentials_key']],
  ['proxy_grpc_credentials_value', ['grpc', 'credentials_value']],
  ['proxy_grpc_compression', ['grpc', 'compression']],
];

/** Channel option booleans of the older layout (top level = channels without namespace, or inside a namespace). */
const FLAT_CHANNEL_FLAGS: ReadonlyArray<[key: string, v6: string]> = [
  ['proxy_subscribe', 'subscribe_proxy_enabled'],
  ['proxy_publish', 'publish_proxy_enabled'],
  ['proxy_sub_refresh', 'sub_refresh_proxy_enabled'],
];

/** Flat gRPC API keys. */
const FLAT_GRPC_API: ReadonlyArray<[key: string, path: readonly string[]]> = [
  ['grpc_api_address', ['address']],
  ['grpc_api_port', ['port']],
  ['grpc_api_key', ['key']],
  ['grpc_api_tls', ['tls', 'enabled']],
  ['grpc_api_tls_cert', ['tls', 'cert_pem_file']],
  ['grpc_api_tls_key', ['tls', 'key_pem_file']],
  ['grpc_api_max_receive_message_size', ['max_receive_message_size']],
];

/** Transports switched on by a boolean of the same name in older releases (`"uni_websocket": true`, `"sse": true`). */
const FLAT_TRANSPORT_SWITCHES: readonly string[] = ['http_stream', 'sse', 'uni_websocket', 'uni_http_stream', 'uni_sse', 'uni_grpc'];

/** A lifted tree, which v6 keys came from which flat key (for messages), and the flat keys that could not be read. */
export interface LiftedConfig {
  tree: unknown;
  /** Dotted v6 path → `key proxy_connect_timeout`. */
  sources: Map<string, string>;
  problems: ConfigProblem[];
}

const present = (v: unknown): boolean => v !== undefined && v !== null;

/**
 * Rewrites the older flat keys of `input` into the v6 layout (the input is not changed; anything
 * but an object is returned as it is). A key already set in the v6 layout wins over its flat form.
 * Per event: `proxy_<event>_endpoint` / `_timeout` become that event's proxy; connect, refresh and
 * rpc are switched on by their endpoint (an optional `proxy_connect: false` switches connect off);
 * `proxy_subscribe` / `proxy_publish` / `proxy_sub_refresh` (top level = channels without
 * namespace, or inside a namespace) become `*_proxy_enabled`; `proxy_http_headers` and the other
 * common keys apply to every event's proxy. `grpc_api: true`, `grpc_api_address`,
 * `grpc_api_port`, `grpc_api_key` ... become `grpc_api.*`; `uni_websocket: true` (and
 * `uni_http_stream`, `uni_sse`, `http_stream`, `sse`) becomes `uni_websocket.enabled`. An on/off switch that is not a boolean
 * is a problem (and is not applied).
 */
export function liftLegacyKeys(input: unknown): LiftedConfig {
  const sources = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  if (!isTree(input) || (!Object.keys(input).some(isFlatKey) && !hasNestedFlags(input))) return { tree: input, sources, problems };
  const tree = structuredClone(input);
  const take = (key: string): unknown => {
    const v = tree[key];
    delete tree[key];
    return present(v) ? v : undefined;
  };
  const flag = (key: string): boolean | undefined => {
    const v = take(key);
    if (v === undefined || typeof v === 'boolean') return v;
    problems.push({ key, message: `${key}: expected a boolean (true or false), got ${JSON.stringify(v)}` });
    return undefined;
  };
  /** Sets `path` (relative to `base`) unless the v6 layout has it already. */
  const place = (base: readonly string[], path: readonly string[], value: unknown, from: string): void => {
    if (value === undefined) return;
    let node = tree;
    const full = [...base, ...path];
    for (const seg of full.slice(0, -1)) {
      const next = node[seg];
      if (isTree(next)) node = next;
      else if (next === undefined || next === null) node = node[seg] = {};
      else return; // a wrong type in the v6 key: its validation reports it
    }
    const last = full[full.length - 1]!;
    if (present(node[last])) return;
    node[last] = value;
    sources.set(full.join('.'), `key ${from}`);
  };

  const common = FLAT_COMMON.map(([key, path]) => [key, path, take(key)] as const);
  const switches = new Map(SWITCHED.map(([event]) => [event, flag(`proxy_${event}`)]));
  for (const [event, path] of FLAT_EVENTS) {
    const endpoint = take(`proxy_${event}_endpoint`);
    const timeout = take(`proxy_${event}_timeout`);
    place(path, ['endpoint'], endpoint, `proxy_${event}_endpoint`);
    place(path, ['timeout'], timeout, `proxy_${event}_timeout`);
    const v6Switch = SWITCHED.find(([e]) => e === event)?.[1];
    if (v6Switch !== undefined && endpoint !== undefined) {
      const on = typeof endpoint === 'string' && endpoint !== '' && switches.get(event) !== false;
      place([], v6Switch.split('.'), on, `proxy_${event}_endpoint`);
    }
    for (const [key, sub, value] of common) place(path, sub, value, key);
  }
  for (const [key, v6] of FLAT_CHANNEL_FLAGS) place(['channel', 'without_namespace'], [v6], take(key), key);
  for (const options of channelOptionsOf(tree)) {
    for (const [key, v6] of FLAT_CHANNEL_FLAGS) {
      const v = options[key];
      delete options[key];
      if (present(v) && !present(options[v6])) options[v6] = v;
    }
  }
  const api = tree['grpc_api'];
  if (typeof api === 'boolean') {
    tree['grpc_api'] = { enabled: api };
    sources.set('grpc_api.enabled', 'key grpc_api');
  }
  for (const [key, path] of FLAT_GRPC_API) place(['grpc_api'], path, take(key), key);
  for (const key of FLAT_TRANSPORT_SWITCHES) {
    const on = tree[key];
    if (typeof on !== 'boolean') continue;
    tree[key] = { enabled: on };
    sources.set(`${key}.enabled`, `key ${key}`);
  }
  return { tree, sources, problems };
}

function isFlatKey(key: string): boolean {
  return key.startsWith('proxy_') || key === 'grpc_api' || key.startsWith('grpc_api_') || FLAT_TRANSPORT_SWITCHES.includes(key);
}

/** `channel.without_namespace` and each namespace, where they are objects. */
function channelOptionsOf(tree: Tree): Tree[] {
  const channel = tree['channel'];
  if (!isTree(channel)) return [];
  const options = [channel['without_namespace'], ...(Array.isArray(channel['namespaces']) ? (channel['namespaces'] as unknown[]) : [])];
  return options.filter(isTree);
}

/** Older channel flags inside `channel.without_namespace` or a namespace. */
function hasNestedFlags(input: Tree): boolean {
  return channelOptionsOf(input).some((o) => FLAT_CHANNEL_FLAGS.some(([key]) => key in o));
}

/** An older key as the JSON Schema describes it: where it is accepted, the v6 key whose value kind it has, what it is read as. */
export interface LegacyKey {
  key: string;
  /** Dotted path of the object holding it: `""` = top level, `channel.namespaces[]` = each namespace. */
  at: string;
  /** Dotted path of a v6 key with the same kind of value. */
  like: string;
  /** What the key is read as, for its description. */
  readAs: string;
}

/** Every older key Gyre reads, for the JSON Schema (editors show them as deprecated). */
export function legacyKeys(): LegacyKey[] {
  const top = (key: string, like: string, readAs = like): LegacyKey => ({ key, at: '', like, readAs });
  const inOptions = (at: string) =>
    FLAT_CHANNEL_FLAGS.map(([key, v6]): LegacyKey => ({ key, at, like: `channel.without_namespace.${v6}`, readAs: v6 }));
  return [
    ...FLAT_EVENTS.flatMap(([event, path]) => [
      top(`proxy_${event}_endpoint`, `${path.join('.')}.endpoint`),
      top(`proxy_${event}_timeout`, `${path.join('.')}.timeout`),
    ]),
    ...SWITCHED.map(([event, v6]) => top(`proxy_${event}`, v6, `${v6} (with proxy_${event}_endpoint)`)),
    ...FLAT_COMMON.map(([key, path]) => top(key, `rpc.proxy.${path.join('.')}`, `${path.join('.')} of every proxy`)),
    ...FLAT_CHANNEL_FLAGS.map(([key, v6]) => top(key, `channel.without_namespace.${v6}`)),
    ...inOptions('channel.without_namespace'),
    ...inOptions('channel.namespaces[]'),
    top('grpc_api', 'grpc_api.enabled'),
    ...FLAT_GRPC_API.map(([key, path]) => top(key, `grpc_api.${path.join('.')}`)),
    ...FLAT_TRANSPORT_SWITCHES.map((key) => top(key, `${key}.enabled`)),
  ];
}

/** Flat Centrifugo v5 top-level keys and where v6 moved them (named in the unknown-key warning; not read). */
export const V5_MOVES: Readonly<Record<string, string>> = {
  token_hmac_secret_key: 'client.token.hmac_secret_key',
  token_rsa_public_key: 'client.token.rsa_public_key',
  token_ecdsa_public_key: 'client.token.ecdsa_public_key',
  token_jwks_public_endpoint: 'client.token.jwks_public_endpoint',
  token_audience: 'client.token.audience',
  token_issuer: 'client.token.issuer',
  token_user_id_claim: 'client.token.user_id_claim',
  api_key: 'http_api.key',
  api_insecure: 'http_api.insecure',
  allowed_origins: 'client.allowed_origins',
  allow_anonymous_connect_without_token: 'client.allow_anonymous_connect_without_token',
  client_insecure: 'client.insecure',
  client_channel_limit: 'client.channel_limit',
  client_queue_max_size: 'client.queue_max_size',
  client_concurrency: 'client.concurrency',
  client_write_delay: 'client.write_delay',
  client_max_messages_in_frame: 'client.max_messages_in_frame',
  namespaces: 'channel.namespaces',
  presence: 'channel.without_namespace.presence',
  join_leave: 'channel.without_namespace.join_leave',
  history_size: 'channel.without_namespace.history_size',
  history_ttl: 'channel.without_namespace.history_ttl',
  force_recovery: 'channel.without_namespace.force_recovery',
  allow_subscribe_for_client: 'channel.without_namespace.allow_subscribe_for_client',
  allow_publish_for_client: 'channel.without_namespace.allow_publish_for_client',
  channel_max_length: 'channel.max_length',
  port: 'http_server.port',
  address: 'http_server.address',
  internal_port: 'http_server.internal_port',
  log_level: 'log.level',
  log_file: 'log.file',
  name: 'node.name',
  websocket_compression: 'websocket.compression',
  websocket_message_size_limit: 'websocket.message_size_limit',
  websocket_write_timeout: 'websocket.write_timeout',
  ping_interval: 'client.ping_interval',
  pong_timeout: 'client.pong_timeout',
  shutdown_timeout: 'shutdown.timeout',
};
