/**
 * Configuration of proxies (asking a backend about client events) and of the gRPC server API:
 * their schema, defaults and cross-key checks, and the lifting of the older flat keys
 * (`proxy_connect_endpoint`, `proxy_subscribe`, `grpc_api_port`, ...) into the v6 layout, so that a
 * config written for an older Centrifugo, like the getting-started one, runs as written.
 */
import { ConfigError } from './errors.js';
import type { ObjectSchema, Schema } from './schema.js';
import { isTree } from './tree.js';
import type { GrpcApiConfig, GyreConfig, ProxyConfig, RpcConfig } from './types.js';

// ---- schema (plain literals: schema.ts imports this module) ----

const str: Schema = { kind: 'string' };
const bool: Schema = { kind: 'boolean' };
const dur: Schema = { kind: 'duration' };
const strList: Schema = { kind: 'string_array' };
const strMap: Schema = { kind: 'string_map' };
const object = (fields: Record<string, Schema>, untyped: readonly string[] = []): ObjectSchema => ({ kind: 'object', fields, untyped });

/** TLS keys of Centrifugo's TLS object that Gyre does not read for outgoing gRPC. */
const CLIENT_TLS_UNTYPED = ['cert_pem', 'cert_pem_b64', 'key_pem', 'key_pem_b64', 'server_ca_pem', 'server_ca_pem_b64', 'client_ca_pem', 'client_ca_pem_b64', 'client_ca_pem_file'];

const proxyFields: Record<string, Schema> = {
  endpoint: str,
  timeout: dur,
  http_headers: strList,
  grpc_metadata: strList,
  include_connection_meta: bool,
  binary_encoding: bool,
  http: object({ static_headers: strMap }, ['status_to_code_transforms']),
  grpc: object({
    tls: object(
      { enabled: bool, cert_pem_file: str, key_pem_file: str, server_ca_pem_file: str, insecure_skip_verify: bool, server_name: str },
      CLIENT_TLS_UNTYPED,
    ),
    credentials_key: str,
    credentials_value: str,
    static_metadata: strMap,
    compression: bool,
  }),
};

/** One proxy's settings (`channel.proxy.subscribe`, `rpc.proxy`, ...). */
export const proxySchema: ObjectSchema = object(proxyFields);

/** `client.proxy`: connect and refresh, each with `enabled`. */
export const clientProxySchema: ObjectSchema = object({
  connect: object({ enabled: bool, ...proxyFields }),
  refresh: object({ enabled: bool, ...proxyFields }),
});

/** `channel.proxy`: the default proxies of channel events. */
export const channelProxySchema: ObjectSchema = object(
  { subscribe: proxySchema, publish: proxySchema, sub_refresh: proxySchema },
  ['subscribe_stream', 'cache_empty', 'state'],
);

/** Names of `proxies` entries and of RPC namespaces. */
export const PROXY_NAME_RE = /^[-a-zA-Z0-9_.]+$/;

/** `proxies`: named proxies. */
export const proxiesSchema: Schema = {
  kind: 'object_list',
  item: object({ name: str, ...proxyFields }),
  itemDefaults: () => ({ name: '', ...(defaultProxy() as unknown as Record<string, unknown>) }),
  nameRe: PROXY_NAME_RE,
};

const rpcOptionsFields: Record<string, Schema> = { proxy_enabled: bool, proxy_name: str };

/** `rpc`: the RPC proxy and RPC namespaces. */
export const rpcSchema: ObjectSchema = object(
  {
    proxy: proxySchema,
    without_namespace: object(rpcOptionsFields),
    namespaces: {
      kind: 'object_list',
      item: object({ name: str, ...rpcOptionsFields }),
      itemDefaults: () => ({ name: '', proxy_enabled: false, proxy_name: 'default' }),
      nameRe: /^[-a-zA-Z0-9_]{2,}$/,
    },
    namespace_boundary: str,
  },
  ['ping', 'ping_method'],
);

/** `grpc_api`: the gRPC server API. */
export const grpcApiSchema: ObjectSchema = object(
  {
    enabled: bool,
    address: str,
    port: { kind: 'integer', min: 0, max: 65535 },
    key: str,
    tls: object({ enabled: bool, cert_pem_file: str, key_pem_file: str }, [...CLIENT_TLS_UNTYPED, 'server_ca_pem_file', 'insecure_skip_verify', 'server_name']),
    max_receive_message_size: { kind: 'integer', min: 0 },
  },
  ['reflection', 'error_mode'],
);

// ---- defaults ----

/** A proxy's settings as Centrifugo defaults them (no endpoint, timeout 1s). */
export function defaultProxy(): ProxyConfig {
  return {
    endpoint: '',
    timeout: 1_000,
    http_headers: [],
    grpc_metadata: [],
    include_connection_meta: false,
    binary_encoding: false,
    http: { static_headers: {} },
    grpc: {
      tls: { enabled: false, cert_pem_file: '', key_pem_file: '', server_ca_pem_file: '', insecure_skip_verify: false, server_name: '' },
      credentials_key: '',
      credentials_value: '',
      static_metadata: {},
      compression: false,
    },
  };
}

export function defaultClientProxy(): GyreConfig['client']['proxy'] {
  return { connect: { enabled: false, ...defaultProxy() }, refresh: { enabled: false, ...defaultProxy() } };
}

export function defaultChannelProxy(): GyreConfig['channel']['proxy'] {
  return { subscribe: defaultProxy(), publish: defaultProxy(), sub_refresh: defaultProxy() };
}

export function defaultRpc(): RpcConfig {
  return {
    proxy: defaultProxy(),
    without_namespace: { proxy_enabled: false, proxy_name: 'default' },
    namespaces: [],
    namespace_boundary: ':',
  };
}

export function defaultGrpcApi(): GrpcApiConfig {
  return {
    enabled: false,
    address: '',
    port: 10_000,
    key: '',
    tls: { enabled: false, cert_pem_file: '', key_pem_file: '' },
    max_receive_message_size: 0,
  };
}

// ---- checks ----

type Fail = (key: string, message: string) => never;

/** Endpoint schemes a proxy can use. */
const ENDPOINT_RE = /^(https?|grpc):\/\//;

/**
 * Endpoints are `http(s)://` or `grpc://host:port`; an enabled connect/refresh proxy needs one;
 * RPC namespaces name existing proxies; a proxy switched on without an endpoint is a warning (its
 * events are then decided as if no proxy were configured).
 */
export function checkProxies(config: GyreConfig, fail: Fail, warnings: string[]): void {
  const all: Array<[string, ProxyConfig]> = [
    ['client.proxy.connect', config.client.proxy.connect],
    ['client.proxy.refresh', config.client.proxy.refresh],
    ['channel.proxy.subscribe', config.channel.proxy.subscribe],
    ['channel.proxy.publish', config.channel.proxy.publish],
    ['channel.proxy.sub_refresh', config.channel.proxy.sub_refresh],
    ['rpc.proxy', config.rpc.proxy],
    ...config.proxies.map((p, i): [string, ProxyConfig] => [`proxies[${i}]`, p]),
  ];
  for (const [at, p] of all) {
    if (p.endpoint === '') continue;
    if (!ENDPOINT_RE.test(p.endpoint)) {
      fail(`${at}.endpoint`, `expected an http://, https:// or grpc://host:port URL, got ${JSON.stringify(p.endpoint)}`);
    }
    if (p.endpoint.startsWith('grpc://') && !/^grpc:\/\/[^/:]+:\d+\/?$/.test(p.endpoint)) {
      fail(`${at}.endpoint`, `a gRPC endpoint is grpc://host:port, got ${JSON.stringify(p.endpoint)}`);
    }
    const tls = p.grpc.tls;
    if (tls.enabled && (tls.cert_pem_file === '') !== (tls.key_pem_file === '')) {
      fail(`${at}.grpc.tls`, 'cert_pem_file and key_pem_file go together (client certificate)');
    }
  }
  for (const key of ['connect', 'refresh'] as const) {
    const p = config.client.proxy[key];
    if (p.enabled && p.endpoint === '') fail(`client.proxy.${key}.endpoint`, `is required when client.proxy.${key}.enabled is true`);
  }
  const names = new Set<string>();
  config.proxies.forEach((p, i) => {
    if (p.name === 'default') fail(`proxies[${i}].name`, 'the name "default" is reserved (it means channel.proxy.* / rpc.proxy)');
    if (p.endpoint === '') fail(`proxies[${i}].endpoint`, 'is required');
    names.add(p.name);
  });
  const rpc = config.rpc;
  if (rpc.namespace_boundary === '') fail('rpc.namespace_boundary', 'must not be empty');
  const rpcOptions: Array<[string, GyreConfig['rpc']['without_namespace']]> = [
    ['rpc.without_namespace', rpc.without_namespace],
    ...rpc.namespaces.map((ns, i): [string, GyreConfig['rpc']['without_namespace']] => [`rpc.namespaces[${i}]`, ns]),
  ];
  for (const [at, o] of rpcOptions) {
    if (o.proxy_name !== 'default' && o.proxy_name !== '' && !names.has(o.proxy_name)) {
      fail(`${at}.proxy_name`, `proxy "${o.proxy_name}" is not defined in proxies`);
    }
    if (o.proxy_enabled && (o.proxy_name === 'default' || o.proxy_name === '') && rpc.proxy.endpoint === '') {
      warnings.push(`${at}.proxy_enabled is true but rpc.proxy.endpoint is not set: RPC calls there are not proxied`);
    }
  }
  const channel = config.channel;
  const channelOptions = [
    ['channel.without_namespace', channel.without_namespace] as const,
    ...channel.namespaces.map((ns, i) => [`channel.namespaces[${i}]`, ns] as const),
  ];
  for (const [at, o] of channelOptions) {
    for (const event of ['subscribe', 'publish', 'sub_refresh'] as const) {
      const name = o[`${event}_proxy_name`];
      if (o[`${event}_proxy_enabled`] && (name === 'default' || name === '') && channel.proxy[event].endpoint === '') {
        warnings.push(`${at}.${event}_proxy_enabled is true but channel.proxy.${event}.endpoint is not set: ${event} events there are not proxied`);
      }
    }
  }
  const api = config.grpc_api;
  if (api.enabled && api.tls.enabled && (api.tls.cert_pem_file === '' || api.tls.key_pem_file === '')) {
    fail('grpc_api.tls', 'TLS is enabled but cert_pem_file and key_pem_file are not both set');
  }
}

// ---- the older flat keys ----

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

/** Channel option booleans of the older layout. */
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

/** A lifted tree and, for error messages, which v6 keys came from which flat key. */
export interface LiftedConfig {
  tree: Tree;
  /** Dotted v6 path → `key proxy_connect_timeout`. */
  sources: Map<string, string>;
}

const present = (v: unknown): boolean => v !== undefined && v !== null;

/**
 * Rewrites the older flat keys into the v6 layout (the input is not changed). A key already set in
 * the v6 layout wins over its flat form. Per event: `proxy_<event>_endpoint` / `_timeout` become
 * that event's proxy; connect, refresh and rpc are switched on by their endpoint (an optional
 * `proxy_connect: false` switches connect off); `proxy_subscribe` / `proxy_publish` /
 * `proxy_sub_refresh` (top level = channels without namespace, or inside a namespace) become
 * `*_proxy_enabled`; `proxy_http_headers` and the other common keys apply to every event's proxy.
 * `grpc_api: true`, `grpc_api_address`, `grpc_api_port`, `grpc_api_key` become `grpc_api.*`.
 * @throws ConfigError when an on/off flag is not a boolean.
 */
export function liftLegacyKeys(input: Tree): LiftedConfig {
  const sources = new Map<string, string>();
  if (!Object.keys(input).some(isFlatKey) && !hasNestedFlags(input)) return { tree: input, sources };
  const tree = structuredClone(input);
  const take = (key: string): unknown => {
    const v = tree[key];
    delete tree[key];
    return present(v) ? v : undefined;
  };
  const flag = (key: string): boolean | undefined => {
    const v = take(key);
    if (v === undefined || typeof v === 'boolean') return v;
    throw new ConfigError(key, `${key}: expected a boolean (true or false), got ${JSON.stringify(v)}`);
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
  const switches: Record<string, boolean | undefined> = { connect: flag('proxy_connect'), refresh: flag('proxy_refresh'), rpc: flag('proxy_rpc') };
  for (const [event, path] of FLAT_EVENTS) {
    const endpoint = take(`proxy_${event}_endpoint`);
    const timeout = take(`proxy_${event}_timeout`);
    place(path, ['endpoint'], endpoint, `proxy_${event}_endpoint`);
    place(path, ['timeout'], timeout, `proxy_${event}_timeout`);
    const on = typeof endpoint === 'string' && endpoint !== '' && switches[event] !== false;
    if (event === 'connect' || event === 'refresh') {
      if (endpoint !== undefined) place(path, ['enabled'], on, `proxy_${event}_endpoint`);
    } else if (event === 'rpc' && endpoint !== undefined) {
      place(['rpc', 'without_namespace'], ['proxy_enabled'], on, 'proxy_rpc_endpoint');
    }
    for (const [key, sub, value] of common) place(path, sub, value, key);
  }
  for (const [key, v6] of FLAT_CHANNEL_FLAGS) {
    place(['channel', 'without_namespace'], [v6], take(key), key);
  }
  const channel = tree['channel'];
  if (isTree(channel)) {
    const options = [channel['without_namespace'], ...(Array.isArray(channel['namespaces']) ? channel['namespaces'] : [])];
    for (const o of options) {
      if (!isTree(o)) continue;
      for (const [key, v6] of FLAT_CHANNEL_FLAGS) {
        const v = o[key];
        delete o[key];
        if (present(v) && !present(o[v6])) o[v6] = v;
      }
    }
  }
  const api = tree['grpc_api'];
  if (typeof api === 'boolean') {
    tree['grpc_api'] = { enabled: api };
    sources.set('grpc_api.enabled', 'key grpc_api');
  }
  for (const [key, path] of FLAT_GRPC_API) place(['grpc_api'], path, take(key), key);
  return { tree, sources };
}

function isFlatKey(key: string): boolean {
  return key.startsWith('proxy_') || key === 'grpc_api' || key.startsWith('grpc_api_');
}

/** Older channel flags inside `channel.without_namespace` or a namespace. */
function hasNestedFlags(input: Tree): boolean {
  const channel = input['channel'];
  if (!isTree(channel)) return false;
  const options = [channel['without_namespace'], ...(Array.isArray(channel['namespaces']) ? channel['namespaces'] : [])];
  return options.some((o) => isTree(o) && FLAT_CHANNEL_FLAGS.some(([key]) => key in o));
}
