import { ConfigError } from './errors.js';
import { configSchema, namespaceSchema, type Schema } from './schema.js';
import { isTree } from './tree.js';

/** Config values read from the environment, in file form, and where each came from. */
export interface EnvLayer {
  values: Record<string, unknown>;
  /** Dotted key path → `env NAME`, for error messages. */
  sources: Map<string, string>;
}

/** Prefixes read from the environment, lowest precedence first (`GYRE_` wins). */
export const ENV_PREFIXES = ['CENTRIFUGO_', 'GYRE_'] as const;

/** The env var suffix of a key path: `["client","token","hmac_secret_key"]` → `CLIENT_TOKEN_HMAC_SECRET_KEY`. */
export function envSuffix(segments: readonly string[]): string {
  return segments.join('_').toUpperCase();
}

/**
 * Reads every known key from `env` under `prefix`: the name of each key path (sections included,
 * as JSON objects) is generated from the schema and looked up, so key names containing `_` are no
 * problem and unrelated variables are ignored. Values are converted from text by kind: booleans
 * (`true/false/1/0`, as Go's ParseBool), integers, duration strings as they are, string arrays as a
 * JSON array or comma-separated, objects and `channel.namespaces` as JSON.
 * @throws ConfigError naming the key and the variable when a value cannot be converted.
 */
export function readEnvLayer(env: NodeJS.ProcessEnv, prefix: string): EnvLayer {
  const layer: EnvLayer = { values: {}, sources: new Map() };
  visit(configSchema, []);
  return layer;

  function visit(schema: Schema, segments: string[]): void {
    if (segments.length > 0) {
      const name = prefix + envSuffix(segments);
      const text = env[name];
      if (text !== undefined) {
        const path = segments.join('.');
        const value = fromEnvText(schema, text, path, name);
        if (value !== undefined) {
          setPath(layer.values, segments, value);
          layer.sources.set(path, `env ${name}`);
        }
      }
    }
    if (schema.kind === 'object') {
      for (const [key, child] of Object.entries(schema.fields)) visit(child, [...segments, key]);
    }
  }
}

/**
 * Applies per-namespace variables such as `CENTRIFUGO_CHANNEL_NAMESPACES_CHAT_PRESENCE=true` to the
 * namespaces already present in `tree` (from the file or the JSON env var), as Centrifugo does.
 * The namespace name is upper-cased with `.` and `-` replaced by `_`. Mutates `tree`.
 */
export function applyNamespaceEnv(
  tree: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  prefix: string,
  sources: Map<string, string>,
): void {
  const channel = tree['channel'];
  const namespaces = isTree(channel) ? channel['namespaces'] : undefined;
  if (!Array.isArray(namespaces)) return;
  namespaces.forEach((ns: unknown, i) => {
    if (!isTree(ns) || typeof ns['name'] !== 'string') return;
    const nsPart = ns['name'].replace(/[.-]/g, '_').toUpperCase();
    for (const [key, schema] of Object.entries(namespaceSchema.fields)) {
      if (key === 'name') continue;
      const name = `${prefix}CHANNEL_NAMESPACES_${nsPart}_${key.toUpperCase()}`;
      const text = env[name];
      if (text === undefined) continue;
      const path = `channel.namespaces[${i}].${key}`;
      const value = fromEnvText(schema, text, path, name);
      if (value === undefined) continue;
      ns[key] = value;
      sources.set(path, `env ${name}`);
    }
  });
}

const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

/** Converts one env var's text to a file-form value; `undefined` = treat as unset (empty non-string). */
function fromEnvText(schema: Schema, text: string, path: string, name: string): unknown {
  const bad = (expected: string): never => {
    throw new ConfigError(path, `${path} (from env ${name}): expected ${expected}, got the string ${JSON.stringify(text)}`);
  };
  const trimmed = text.trim();
  if (trimmed === '' && schema.kind !== 'string' && schema.kind !== 'enum') return undefined;
  switch (schema.kind) {
    case 'string':
    case 'enum':
      return text;
    case 'duration':
      return trimmed;
    case 'boolean':
      if (TRUE.has(trimmed)) return true;
      if (FALSE.has(trimmed)) return false;
      return bad('a boolean ("true"/"false"/"1"/"0")');
    case 'integer':
    case 'unix_seconds':
      return /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : bad('an integer');
    case 'string_array':
      if (!trimmed.startsWith('[')) return trimmed.split(',').map((s) => s.trim()).filter((s) => s !== '');
      return parseJson(trimmed, Array.isArray, 'a JSON array of strings', bad);
    case 'namespaces':
      return parseJson(trimmed, Array.isArray, 'a JSON array of namespace objects', bad);
    case 'object_list':
      return parseJson(trimmed, Array.isArray, 'a JSON array of objects', bad);
    case 'object':
    case 'string_map':
      return parseJson(trimmed, isTree, 'a JSON object', bad);
  }
}

function parseJson(text: string, ok: (v: unknown) => boolean, expected: string, bad: (e: string) => never): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad(expected);
  }
  return ok(value) ? value : bad(expected);
}

function setPath(tree: Record<string, unknown>, segments: readonly string[], value: unknown): void {
  let node = tree;
  for (const key of segments.slice(0, -1)) {
    const next = node[key];
    if (isTree(next)) node = next;
    else {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    }
  }
  const last = segments[segments.length - 1];
  if (last !== undefined) node[last] = value;
}
