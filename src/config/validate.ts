import { defaultChannelOptions, defaultConfig } from './defaults.js';
import { parseDuration } from './duration.js';
import { ConfigError, describeValue } from './errors.js';
import { checkConfig } from './checks.js';
import { checkProxies, liftLegacyKeys } from './proxy.js';
import { configSchema, isKnownKey, type ObjectListSchema, type ObjectSchema, type Schema } from './schema.js';
import { nearest, V5_MOVES } from './suggest.js';
import { isTree } from './tree.js';
import type { EventsListenerSpec, GyreConfig } from './types.js';

/** Options of {@link validateConfig}. */
export interface ValidateOptions {
  /**
   * Where values came from, for error messages: dotted key path → description
   * (e.g. `"client.insecure"` → `"env GYRE_CLIENT_INSECURE"`). A path also covers its children.
   */
  sources?: ReadonlyMap<string, string>;
}

/** A validated configuration and the non-fatal problems found on the way. */
export interface ConfigResult {
  config: GyreConfig;
  /** Human-readable warnings, e.g. `unknown key "client.ping_intervall" (did you mean "client.ping_interval"?)`. */
  warnings: string[];
}

/** A namespace name as Centrifugo requires it. */
export const NAMESPACE_NAME_RE = /^[-a-zA-Z0-9_]{2,}$/;

type Tree = Record<string, unknown>;

/**
 * Validates a raw configuration tree in file form (the Centrifugo v6 layout, durations as strings)
 * and returns the typed configuration, defaults filled in, durations in milliseconds.
 * Strict: a number given as a string, a boolean given as `"true"`, etc. are errors.
 * `null` values count as "not set".
 * @throws ConfigError naming the key, the expected kind and the received value.
 */
export function validateConfig(input: unknown, options: ValidateOptions = {}): ConfigResult {
  // Older flat keys (proxy_connect_endpoint, grpc_api_port, ...) are read in their v6 place.
  const lifted = isTree(input) ? liftLegacyKeys(input) : undefined;
  if (lifted !== undefined) input = lifted.tree;
  const walker = new Walker(new Map([...(lifted?.sources ?? []), ...(options.sources ?? [])]));
  const defaults = defaultConfig() as unknown as Tree;
  const config = walker.object(configSchema, input ?? {}, defaults, '') as unknown as GyreConfig;
  checkConfig(config, isTree(input) ? input : {}, (key) => walker.label(key));
  checkProxies(config, (key, message) => {
    throw new ConfigError(key, `${walker.label(key)}: ${message}`);
  }, walker.warnings);
  checkEvents(config, (key) => walker.label(key));
  checkEngine(config, (key) => walker.label(key), walker.warnings);
  warnNotEnforced(isTree(input) ? input : {}, walker);
  return { config, warnings: walker.warnings };
}

/** Typed keys this version reads but does not act on yet, with what bounds the same risk instead. */
const NOT_ENFORCED: ReadonlyArray<[path: string, instead: string]> = [
  ['client.concurrency', 'the commands of one connection always run one after another'],
];

function warnNotEnforced(input: Tree, walker: Walker): void {
  for (const [path, instead] of NOT_ENFORCED) {
    let node: unknown = input;
    for (const part of path.split('.')) node = isTree(node) ? node[part] : undefined;
    if (node !== undefined && node !== null) {
      walker.warnings.push(`key "${walker.label(path)}" is not enforced by this Gyre version (${instead})`);
    }
  }
}

/**
 * The `events` section: the endpoint path starts with `/`, and each `listeners` entry, a string
 * `"EVENT=module"` or `"EVENT=module#export"` in file form, becomes an {@link EventsListenerSpec}.
 */
function checkEvents(config: GyreConfig, label: (key: string) => string): void {
  const fail = (key: string, message: string): never => {
    throw new ConfigError(key, `${label(key)}: ${message}`);
  };
  const events = config.events;
  if (!events.handler_prefix.startsWith('/')) {
    fail('events.handler_prefix', `must start with "/", got ${JSON.stringify(events.handler_prefix)}`);
  }
  if (events.enabled && events.port === 0 && !config.websocket.disabled && events.handler_prefix === config.websocket.handler_prefix) {
    fail('events.handler_prefix', `must differ from websocket.handler_prefix (${JSON.stringify(events.handler_prefix)}) on the same port`);
  }
  const entries = events.listeners as ReadonlyArray<EventsListenerSpec | string>;
  events.listeners = entries.map((entry, i): EventsListenerSpec => {
    if (typeof entry !== 'string') return entry;
    const eq = entry.indexOf('=');
    const event = eq > 0 ? entry.slice(0, eq).trim() : '';
    let module = eq > 0 ? entry.slice(eq + 1).trim() : '';
    let exported = 'default';
    const hash = module.lastIndexOf('#');
    if (hash > 0 && /^[A-Za-z_$][\w$]*$/.test(module.slice(hash + 1))) {
      exported = module.slice(hash + 1);
      module = module.slice(0, hash);
    }
    if (event === '' || module === '') {
      fail(`events.listeners[${i}]`, `expected "EVENT=module" or "EVENT=module#export", got ${JSON.stringify(entry)}`);
    }
    return { event, module, export: exported };
  });
}

/**
 * The `engine`, `broker` and `presence_manager` sections: a separate broker / presence manager needs
 * a type, Redis needs an address (and a master name with Sentinel). Warns about what Gyre ignores
 * (`history_use_lists`) and about history with a NATS broker, which keeps none (error 108).
 */
function checkEngine(config: GyreConfig, label: (key: string) => string, warnings: string[]): void {
  const fail = (key: string, message: string): never => {
    throw new ConfigError(key, `${label(key)}: ${message}`);
  };
  const redisSections: Array<[string, GyreConfig['engine']['redis'], boolean]> = [
    ['engine.redis', config.engine.redis, config.engine.type === 'redis'],
    ['broker.redis', config.broker.redis, config.broker.enabled && config.broker.type === 'redis'],
    ['presence_manager.redis', config.presence_manager.redis, config.presence_manager.enabled && config.presence_manager.type === 'redis'],
  ];
  for (const key of ['broker', 'presence_manager'] as const) {
    if (config[key].enabled && config[key].type === '') fail(`${key}.type`, `must be set when ${key}.enabled is true`);
  }
  for (const [at, redis, used] of redisSections) {
    if (!used) continue;
    if (redis.address.length === 0 && redis.cluster_address.length === 0 && redis.sentinel_address.length === 0) {
      fail(`${at}.address`, 'needs at least one Redis address');
    }
    if (redis.sentinel_address.length > 0 && redis.sentinel_master_name === '') {
      fail(`${at}.sentinel_master_name`, 'is required with sentinel_address');
    }
    if (redis.presence_ttl > 0 && redis.presence_ttl < 1000) fail(`${at}.presence_ttl`, 'must be at least 1s');
    if (redis.history_use_lists) {
      warnings.push(`key "${at}.history_use_lists" is not supported: Gyre always keeps history in Redis Streams; it is ignored`);
    }
  }
  if (config.broker.enabled && config.broker.type === 'nats') {
    const channel = config.channel;
    const withHistory = [
      ...(channel.without_namespace.history_size > 0 ? ['channel.without_namespace'] : []),
      ...channel.namespaces.filter((ns) => ns.history_size > 0).map((ns) => `namespace "${ns.name}"`),
    ];
    if (withHistory.length > 0) {
      warnings.push(
        `the NATS broker keeps no history: history, positioning and recovery are not available (error 108) in ${withHistory.join(', ')}`,
      );
    }
  }
}

/** `a.b[2].c` → `a.b[2]` → `a.b` → `a` → `""`. */
function parentPath(path: string): string {
  return /^(.*)(?:\.[^.[\]]+|\[\d+\])$/.exec(path)?.[1] ?? '';
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

class Walker {
  readonly warnings: string[] = [];

  private readonly sources: ReadonlyMap<string, string>;

  constructor(sources: ReadonlyMap<string, string>) {
    this.sources = sources;
  }

  /** The key path, plus where its value came from when that is not the file. */
  label(path: string): string {
    for (let p = path; p !== ''; p = parentPath(p)) {
      const source = this.sources.get(p);
      if (source !== undefined) return `${path} (from ${source})`;
    }
    return path;
  }

  fail(path: string, expected: string, value: unknown): never {
    throw new ConfigError(path, `${this.label(path)}: expected ${expected}, got ${describeValue(value)}`);
  }

  object(schema: ObjectSchema, raw: unknown, defaults: Tree, path: string): Tree {
    if (!isTree(raw)) {
      if (path === '') throw new ConfigError('', `config: the top level must be an object, got ${describeValue(raw)}`);
      this.fail(path, 'an object', raw);
    }
    for (const key of Object.keys(raw)) {
      if (!isKnownKey(schema, key)) this.warnUnknown(schema, path, key);
      else if (!(key in schema.fields) && raw[key] !== null && raw[key] !== undefined) this.warnUnsupported(join(path, key));
    }
    const out: Tree = {};
    for (const [key, fieldSchema] of Object.entries(schema.fields)) {
      const value = raw[key];
      out[key] =
        value === undefined || value === null
          ? structuredClone(defaults[key])
          : this.node(fieldSchema, value, defaults[key], join(path, key));
    }
    return out;
  }

  /** A Centrifugo key Gyre accepts but does not act on yet: say so rather than ignore it silently. */
  private warnUnsupported(full: string): void {
    this.warnings.push(`key "${full}" is valid Centrifugo configuration that this Gyre version does not support yet; it is ignored`);
  }

  private warnUnknown(schema: ObjectSchema, path: string, key: string): void {
    const siblings = [...Object.keys(schema.fields), ...(schema.untyped ?? [])];
    const close = nearest(key, siblings);
    const moved = path === '' ? V5_MOVES[key] : undefined;
    const hint = close !== undefined ? join(path, close) : moved;
    const full = join(path, key);
    this.warnings.push(
      hint === undefined
        ? `unknown key "${full}"`
        : `unknown key "${full}" (did you mean "${hint}"?${moved !== undefined && close === undefined ? ' Centrifugo v6 moved it there' : ''})`,
    );
  }

  private node(schema: Schema, value: unknown, fallback: unknown, path: string): unknown {
    switch (schema.kind) {
      case 'string':
        return typeof value === 'string' ? value : this.fail(path, 'a string', value);
      case 'boolean':
        return typeof value === 'boolean' ? value : this.fail(path, 'a boolean (true or false)', value);
      case 'integer':
        return this.integer(schema.min, schema.max, schema.numericString === true, value, path);
      case 'unix_seconds':
        return this.integer(0, undefined, false, value, path, 'a Unix timestamp in seconds') * 1000;
      case 'duration':
        return this.duration(schema.negativeDisables === true, schema.wholeSeconds === true, value, path);
      case 'enum':
        if (typeof value === 'string' && schema.values.includes(value)) return value;
        return this.fail(path, `one of ${schema.values.map((v) => JSON.stringify(v)).join(', ')}`, value);
      case 'string_array':
        return this.stringArray(schema.values, schema.orString === true && typeof value === 'string' ? [value] : value, path);
      case 'object':
        return this.object(schema, value, isTree(fallback) ? fallback : {}, path);
      case 'namespaces':
        return this.namespaces(schema.item, value, path);
      case 'string_map':
        return this.stringMap(value, path);
      case 'object_list':
        return this.objectList(schema, value, path);
    }
  }

  private stringMap(value: unknown, path: string): Record<string, string> {
    if (!isTree(value)) return this.fail(path, 'an object of strings', value);
    const out: Record<string, string> = {};
    for (const [key, v] of Object.entries(value)) out[key] = typeof v === 'string' ? v : this.fail(`${path}.${key}`, 'a string', v);
    return out;
  }

  private objectList(schema: ObjectListSchema, value: unknown, path: string): Tree[] {
    if (!Array.isArray(value)) return this.fail(path, 'an array of objects', value);
    const seen = new Set<string>();
    return value.map((raw: unknown, i) => {
      const at = `${path}[${i}]`;
      if (!isTree(raw)) return this.fail(at, 'an object', raw);
      if (schema.nameRe !== undefined) {
        const name = raw['name'];
        if (typeof name !== 'string' || !schema.nameRe.test(name)) return this.fail(`${at}.name`, `a name matching ${schema.nameRe.source}`, name);
        if (seen.has(name)) throw new ConfigError(`${at}.name`, `${this.label(`${at}.name`)}: name "${name}" is not unique`);
        seen.add(name);
      }
      return this.object(schema.item, raw, schema.itemDefaults(), at);
    });
  }

  private integer(
    min: number | undefined,
    max: number | undefined,
    numericString: boolean,
    value: unknown,
    path: string,
    what = 'an integer',
  ): number {
    let n: number | undefined;
    if (typeof value === 'number' && Number.isSafeInteger(value)) n = value;
    else if (typeof value === 'bigint' && value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)) n = Number(value);
    else if (numericString && typeof value === 'string' && /^\d*$/.test(value)) n = value === '' ? 0 : Number(value);
    const range =
      min !== undefined && max !== undefined ? ` in ${min}..${max}` : min !== undefined ? ` >= ${min}` : max !== undefined ? ` <= ${max}` : '';
    if (n === undefined || (min !== undefined && n < min) || (max !== undefined && n > max)) {
      return this.fail(path, `${what}${range}`, value);
    }
    return n;
  }

  private duration(negativeDisables: boolean, wholeSeconds: boolean, value: unknown, path: string): number {
    const expected = `a duration string like "25s"${negativeDisables ? ' (or -1 to disable)' : ''}`;
    let ms: number;
    if (typeof value === 'string') {
      try {
        ms = parseDuration(value.trim());
      } catch (err) {
        throw new ConfigError(path, `${this.label(path)}: expected ${expected}, got ${describeValue(value)} (${(err as Error).message})`);
      }
    } else if (value === 0 || (negativeDisables && value === -1)) {
      ms = value === 0 ? 0 : -1; // the number 0 is unambiguous; -1 is how Centrifugo documents "disabled"
    } else {
      return this.fail(path, expected, value);
    }
    if (ms < 0) return negativeDisables ? -1 : this.fail(path, 'a non-negative duration', value);
    if (wholeSeconds && ms % 1000 !== 0) {
      throw new ConfigError(path, `${this.label(path)}: sub-second precision is not supported for this key, got ${describeValue(value)}`);
    }
    return ms;
  }

  private stringArray(allowed: readonly string[] | undefined, value: unknown, path: string): string[] {
    if (!Array.isArray(value)) return this.fail(path, 'an array of strings', value);
    return value.map((item: unknown, i) => {
      const at = `${path}[${i}]`;
      if (typeof item !== 'string') return this.fail(at, 'a string', item);
      if (allowed !== undefined && !allowed.includes(item)) {
        return this.fail(at, `one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`, item);
      }
      return item;
    });
  }

  private namespaces(item: ObjectSchema, value: unknown, path: string): Tree[] {
    if (!Array.isArray(value)) return this.fail(path, 'an array of namespace objects', value);
    const seen = new Set<string>();
    return value.map((raw: unknown, i) => {
      const at = `${path}[${i}]`;
      if (!isTree(raw)) return this.fail(at, 'a namespace object', raw);
      const name = raw['name'];
      if (typeof name !== 'string') return this.fail(`${at}.name`, 'a namespace name string', name);
      if (!NAMESPACE_NAME_RE.test(name)) {
        return this.fail(`${at}.name`, `a namespace name matching ${NAMESPACE_NAME_RE.source}`, name);
      }
      if (seen.has(name)) throw new ConfigError(`${at}.name`, `${this.label(`${at}.name`)}: namespace name "${name}" is not unique`);
      seen.add(name);
      return this.object(item, raw, { name: '', ...defaultChannelOptions() }, at);
    });
  }
}
