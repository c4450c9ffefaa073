import { configDefinition, namespace } from './definition/index.js';
import type { ConfigProblem } from './errors.js';
import { keyNode, kindOf, type KeyNode } from './keys.js';
import { isTree } from './tree.js';

/** Config values read from the environment, in file form, where each came from, and the values that could not be read. */
export interface EnvLayer {
  values: Record<string, unknown>;
  /** Dotted key path → `env NAME`, for error messages. */
  sources: Map<string, string>;
  /** Variables whose text does not fit their key (left out of `values`). */
  problems: ConfigProblem[];
}

/** Prefixes read from the environment, lowest precedence first (`GYRE_` wins). */
export const ENV_PREFIXES = ['CENTRIFUGO_', 'GYRE_'] as const;

/** The env var suffix of a key path: `["client","token","hmac_secret_key"]` → `CLIENT_TOKEN_HMAC_SECRET_KEY`. */
export function envSuffix(segments: readonly string[]): string {
  return segments.join('_').toUpperCase();
}

/**
 * Reads every known key from `env` under `prefix`: the name of each key path (sections included,
 * as JSON objects) is generated from the definition and looked up, so key names containing `_`
 * are no problem and unrelated variables are ignored. Values are converted from text by kind:
 * booleans (`true/false/1/0`, as Go's ParseBool), integers, duration strings as they are, string
 * arrays as a JSON array or comma-separated, objects and lists of objects as JSON. A value that
 * cannot be converted is a problem naming the key and the variable.
 */
export function readEnvLayer(env: NodeJS.ProcessEnv, prefix: string): EnvLayer {
  const layer: EnvLayer = { values: {}, sources: new Map(), problems: [] };
  visit(keyNode(configDefinition), []);
  return layer;

  function visit(node: KeyNode, segments: string[]): void {
    if (segments.length > 0) {
      const name = prefix + envSuffix(segments);
      const text = env[name];
      if (text !== undefined) {
        const path = segments.join('.');
        const value = fromEnvText(node, text, path, name, layer.problems);
        if (value !== undefined) {
          setPath(layer.values, segments, value);
          layer.sources.set(path, `env ${name}`);
        }
      }
    }
    if (kindOf(node) === 'object') {
      for (const [key, child] of Object.entries(node.properties ?? {})) visit(child, [...segments, key]);
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
  problems: ConfigProblem[] = [],
): void {
  const channel = tree['channel'];
  const namespaces = isTree(channel) ? channel['namespaces'] : undefined;
  if (!Array.isArray(namespaces)) return;
  namespaces.forEach((ns: unknown, i) => {
    if (!isTree(ns) || typeof ns['name'] !== 'string') return;
    const nsPart = ns['name'].replace(/[.-]/g, '_').toUpperCase();
    for (const [key, node] of Object.entries(keyNode(namespace).properties ?? {})) {
      if (key === 'name') continue;
      const name = `${prefix}CHANNEL_NAMESPACES_${nsPart}_${key.toUpperCase()}`;
      const text = env[name];
      if (text === undefined) continue;
      const path = `channel.namespaces[${i}].${key}`;
      const value = fromEnvText(node, text, path, name, problems);
      if (value === undefined) continue;
      ns[key] = value;
      sources.set(path, `env ${name}`);
    }
  });
}

const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

/** Converts one env var's text to a file-form value; `undefined` = treat as unset (empty non-string, or not convertible: a problem). */
function fromEnvText(node: KeyNode, text: string, path: string, name: string, problems: ConfigProblem[]): unknown {
  const bad = (expected: string): undefined => {
    problems.push({ key: path, message: `${path} (from env ${name}): expected ${expected}, got the string ${JSON.stringify(text)}` });
    return undefined;
  };
  const kind = kindOf(node);
  const trimmed = text.trim();
  if (trimmed === '' && kind !== 'string' && kind !== 'enum') return undefined;
  switch (kind) {
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
      if (node['x-gyre']?.autoCores === true && trimmed === 'auto') return trimmed;
      return /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : bad('an integer');
    case 'string_array':
    case 'listeners':
      if (!trimmed.startsWith('[')) return trimmed.split(',').map((s) => s.trim()).filter((s) => s !== '');
      return parseJson(trimmed, Array.isArray, 'a JSON array of strings', bad);
    case 'named_list': {
      const noun = node['x-gyre']?.noun;
      return parseJson(trimmed, Array.isArray, noun === undefined ? 'a JSON array of objects' : `a JSON array of ${noun} objects`, bad);
    }
    case 'object_list':
      return parseJson(trimmed, Array.isArray, 'a JSON array of objects', bad);
    case 'object':
    case 'string_map':
      return parseJson(trimmed, isTree, 'a JSON object', bad);
  }
}

function parseJson(text: string, ok: (v: unknown) => boolean, expected: string, bad: (e: string) => undefined): unknown {
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
