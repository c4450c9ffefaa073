/**
 * The JSON Schema of config files (draft-07, the dialect editors support best), derived from the
 * definition: its nodes as they are (file form: types, defaults, descriptions), with every key
 * optional, unknown keys flagged (`additionalProperties: false`, as Gyre warns about them), and the
 * keys Gyre accepts without typing them (Centrifugo keys it ignores, older flat keys, `$schema`)
 * allowed. Shipped as `schema/config.schema.json`; `gyre genconfig` points `$schema` at it.
 */
import { configDefinition } from './definition/index.js';
import { keyNode, kindOf, META_KEYWORD, metaOf, type KeyNode } from './keys.js';
import { legacyKeys, type LegacyKey } from './legacy.js';

/** A JSON Schema object. */
export interface JsonSchema {
  [keyword: string]: unknown;
}

/** Where the shipped schema lies inside the package. */
export const SCHEMA_FILE = 'schema/config.schema.json';

const UNTYPED_DESCRIPTION = 'Centrifugo key this Gyre version does not support yet: accepted and ignored (with a warning).';

/** The JSON Schema of Gyre config files. */
export function configJsonSchema(): JsonSchema {
  const legacy = new Map<string, LegacyKey[]>();
  for (const key of legacyKeys()) legacy.set(key.at, [...(legacy.get(key.at) ?? []), key]);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Gyre configuration',
    ...fileForm(keyNode(configDefinition), '', legacy),
  };
}

/** {@link configJsonSchema} as the text of the shipped file. */
export function configJsonSchemaText(): string {
  return JSON.stringify(configJsonSchema(), null, 2) + '\n';
}

/** `node` as a file may hold it; `path` names objects for the older keys they accept (`channel.namespaces[]` for items). */
function fileForm(node: KeyNode, path: string, legacy: ReadonlyMap<string, LegacyKey[]>): JsonSchema {
  const out: JsonSchema = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (keyword !== 'required' && keyword !== META_KEYWORD && keyword !== 'properties' && keyword !== 'items') out[keyword] = value;
  }
  if (node.items !== undefined) {
    out['items'] = fileForm(node.items, `${path}[]`, legacy);
    // Named lists: each item needs its name; the rest has defaults.
    if (kindOf(node) === 'named_list') out['items'] = { ...(out['items'] as JsonSchema), required: ['name'] };
  }
  if (node.properties === undefined) return out;
  const meta = metaOf(node);
  const properties: Record<string, JsonSchema> = {};
  for (const [key, child] of Object.entries(node.properties)) properties[key] = fileForm(child, path === '' ? key : `${path}.${key}`, legacy);
  for (const key of meta.untyped ?? []) properties[key] = { description: UNTYPED_DESCRIPTION };
  for (const key of meta.ignored ?? []) properties[key] = { type: 'string', description: 'The JSON Schema of this file, for editors; ignored by Gyre.' };
  for (const old of legacy.get(path) ?? []) {
    const { default: _unused, ...like } = fileForm(definitionNode(old.like), '', new Map());
    const schema: JsonSchema = { ...like, description: `Older Centrifugo key, read as ${old.readAs}.`, deprecated: true };
    const current = properties[old.key];
    properties[old.key] = current === undefined ? schema : { anyOf: [current, schema] };
  }
  out['properties'] = properties;
  if (meta.untypedPrefixes !== undefined) {
    out['patternProperties'] = Object.fromEntries(meta.untypedPrefixes.map((prefix) => [`^${prefix}`, { description: UNTYPED_DESCRIPTION }]));
  }
  out['additionalProperties'] = false;
  return out;
}

/** The definition node at a dotted path of object keys. */
function definitionNode(path: string): KeyNode {
  let node = keyNode(configDefinition);
  for (const key of path.split('.')) {
    const next = node.properties?.[key];
    if (next === undefined) throw new Error(`config definition: no key ${path}`);
    node = next;
  }
  return node;
}
