/**
 * The vocabulary of the config definition (config/definition/): one builder per kind of key. Each
 * builder returns a TypeBox type, that is a JSON Schema node in the file form (what a config file
 * holds: durations as `"25s"`, ...) whose static type is the validated form (durations in ms, ...),
 * carrying the key's default (file form) and description. Gyre's own annotations, which the
 * validator and the environment reader need beyond standard JSON Schema (how to convert a value,
 * which Centrifugo keys are accepted but ignored), sit in the vendor keyword `x-gyre`; the shipped
 * JSON Schema leaves them out.
 */
import Type, { type TProperties, type TSchema } from 'typebox';

/** How a key's value is read and converted; plain JSON Schema kinds need no annotation. */
export type KeyKind =
  | 'string'
  | 'boolean'
  | 'integer'
  | 'unix_seconds'
  | 'duration'
  | 'enum'
  | 'string_array'
  | 'listeners'
  | 'string_map'
  | 'object'
  | 'named_list'
  | 'object_list';

/** Gyre's annotations of a definition node (the `x-gyre` keyword). */
export interface KeyMeta {
  /** Set where the kind does not follow from the standard keywords. */
  readonly kind?: KeyKind;
  /** Durations: a negative value (or the number -1, as Centrifugo documents) means "disabled", read as -1. */
  readonly negativeDisables?: boolean;
  /** Durations: sub-second values are rejected, as Centrifugo does for history TTLs. */
  readonly wholeSeconds?: boolean;
  /** Integers: `"9000"` is accepted too (Centrifugo types that key as a string). */
  readonly numericString?: boolean;
  /** Integers: `"auto"` is accepted too, read as the number of CPU cores. */
  readonly autoCores?: boolean;
  /** String arrays: a single string is accepted too, as a one-item array. */
  readonly orString?: boolean;
  /** Named lists: what an item is called in messages ("namespace"); none = "object". */
  readonly noun?: string;
  /** Objects: Centrifugo keys accepted and ignored, with a warning that this version does not support them. */
  readonly untyped?: readonly string[];
  /** Objects: keys with these prefixes are accepted and ignored the same way. */
  readonly untypedPrefixes?: readonly string[];
  /** Objects: keys accepted and ignored silently (`$schema`). */
  readonly ignored?: readonly string[];
  /** Read but not acted on yet: given, it is warned about with this note on what bounds the risk instead. */
  readonly notEnforced?: string;
}

/** A definition node as the validator, the environment reader and the JSON Schema writer read it. */
export interface KeyNode {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, KeyNode>>;
  readonly items?: KeyNode;
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly pattern?: string;
  readonly default?: unknown;
  readonly description?: string;
  readonly 'x-gyre'?: KeyMeta;
}

/** The plain JSON Schema view of a TypeBox type of the definition. */
export function keyNode(schema: TSchema): KeyNode {
  return schema as KeyNode;
}

/** The kind of a definition node. */
export function kindOf(node: KeyNode): KeyKind {
  const kind = node['x-gyre']?.kind;
  if (kind !== undefined) return kind;
  if (node.enum !== undefined) return 'enum';
  switch (node.type) {
    case 'string':
    case 'boolean':
    case 'integer':
      return node.type;
    case 'array':
      return 'string_array';
    case 'object':
      return node.properties === undefined ? 'string_map' : 'object';
    default:
      throw new Error(`config definition: cannot tell the kind of ${JSON.stringify(node)}`);
  }
}

/** Gyre's annotations of `node` (none: `{}`). */
export function metaOf(node: KeyNode): KeyMeta {
  return node['x-gyre'] ?? {};
}

const X = 'x-gyre';

/** A string. */
export function str(def: string, description: string) {
  return Type.String({ default: def, description });
}

/** The `name` of a named list's item: required (no default), matching `re`. */
export function name(re: RegExp, description: string) {
  return Type.String({ pattern: re.source, description });
}

/** A boolean (files must use real booleans; env vars accept true/false/1/0). */
export function bool(def: boolean, description: string) {
  return Type.Boolean({ default: def, description });
}

/** An integer `>= min` (0 unless given), `<= max` when given. */
export function int(def: number, description: string, range: { min?: number; max?: number } = {}) {
  return Type.Integer({ default: def, description, minimum: range.min ?? 0, ...(range.max !== undefined && { maximum: range.max }) });
}

/** A TCP port (0..65535). */
export function port(def: number, description: string) {
  return int(def, description, { max: 65535 });
}

/** A TCP port that may also be written as a string of digits (`""` = 0), as Centrifugo types some. */
export function portOrDigits(def: number, description: string) {
  return Type.Unsafe<number>({
    type: ['integer', 'string'],
    minimum: 0,
    maximum: 65535,
    pattern: '^[0-9]*$',
    default: def,
    description,
    [X]: { kind: 'integer', numericString: true } satisfies KeyMeta,
  } as TSchema);
}

/** A count that may also be `"auto"`: the number of CPU cores of the machine. */
export function countOrAuto(def: number | 'auto', description: string, range: { max: number }) {
  return Type.Unsafe<number>({
    anyOf: [{ type: 'integer' }, { const: 'auto' }],
    minimum: 0,
    maximum: range.max,
    default: def,
    description,
    [X]: { kind: 'integer', autoCores: true } satisfies KeyMeta,
  } as TSchema);
}

/** Go duration syntax (`"25s"`, `"1m30s"`, `"1.5h"`, `"0"`), optionally signed. */
function durationPattern(signed: boolean): string {
  const part = '([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)';
  return `^${signed ? '[-+]?' : '\\+?'}(0|(${part})+)$`;
}

/** A Go duration string (`"25s"`), or the number 0; validated into milliseconds. */
export function duration(def: string, description: string, options: { negativeDisables?: boolean; wholeSeconds?: boolean } = {}) {
  const meta: KeyMeta = { kind: 'duration', ...options };
  return Type.Unsafe<number>({
    anyOf: [
      { type: 'string', pattern: durationPattern(options.negativeDisables === true) },
      { enum: options.negativeDisables === true ? [0, -1] : [0] },
    ],
    default: def,
    description,
    [X]: meta,
  } as TSchema);
}

/** A Unix timestamp in seconds (0 = unset); validated into ms since epoch. */
export function unixSeconds(description: string) {
  return Type.Unsafe<number>({ type: 'integer', minimum: 0, default: 0, description, [X]: { kind: 'unix_seconds' } satisfies KeyMeta } as TSchema);
}

/** One of a fixed set of strings. */
export function oneOf<const V extends readonly string[]>(values: V, def: V[number], description: string) {
  return Type.Unsafe<V[number]>({ enum: values, default: def, description } as TSchema);
}

/** An array of strings. */
export function strings(def: readonly string[], description: string) {
  return Type.Array(Type.String(), { default: def, description });
}

/** An array of strings out of `values`. */
export function stringsOf<const V extends readonly string[]>(values: V, description: string) {
  return Type.Unsafe<Array<V[number]>>({ type: 'array', items: { enum: values }, default: [], description } as TSchema);
}

/** An array of strings, or a single string read as a one-item array. */
export function stringOrStrings(def: readonly string[], description: string) {
  return Type.Unsafe<string[]>({
    type: ['string', 'array'],
    items: { type: 'string' },
    default: def,
    description,
    [X]: { kind: 'string_array', orString: true } satisfies KeyMeta,
  } as TSchema);
}

/** An object of string values (static headers, metadata). */
export function stringMap(description: string) {
  return Type.Unsafe<Record<string, string>>({
    type: 'object',
    additionalProperties: { type: 'string' },
    default: {},
    description,
    [X]: { kind: 'string_map' } satisfies KeyMeta,
  } as TSchema);
}

/** Which keys a section accepts beyond its typed ones. */
export interface SectionOptions {
  untyped?: readonly string[];
  untypedPrefixes?: readonly string[];
  ignored?: readonly string[];
}

/** An object of typed keys (all optional in a file; all present once validated). */
export function section<P extends TProperties>(properties: P, description: string, options: SectionOptions = {}) {
  const meta: KeyMeta = {
    ...(options.untyped !== undefined && options.untyped.length > 0 && { untyped: options.untyped }),
    ...(options.untypedPrefixes !== undefined && { untypedPrefixes: options.untypedPrefixes }),
    ...(options.ignored !== undefined && { ignored: options.ignored }),
  };
  return Type.Object(properties, { description, ...(Object.keys(meta).length > 0 && { [X]: meta }) });
}

/**
 * An array of objects, each with a unique `name` matching the pattern of the item's `name` key
 * (`proxies`, `rpc.namespaces`, `channel.namespaces`). `noun` names an item in messages.
 */
export function namedList<T extends TSchema>(item: T, description: string, noun?: string) {
  const meta: KeyMeta = { kind: 'named_list', ...(noun !== undefined && { noun }) };
  return Type.Array(item, { default: [], description, [X]: meta });
}

/** An array of objects without names, each read with `item`'s keys (`connect_code_to_http_response.transforms`). */
export function objectList<T extends TSchema>(item: T, description: string) {
  const meta: KeyMeta = { kind: 'object_list' };
  return Type.Array(item, { default: [], description, [X]: meta });
}

/** Annotates a key as read but not acted on yet (`note`: what bounds the same risk instead). */
export function notEnforced<T extends TSchema>(schema: T, note: string): T {
  const meta: KeyMeta = { ...keyNode(schema)['x-gyre'], notEnforced: note };
  Object.assign(schema, { [X]: meta }); // a fresh node from a builder above: nothing else holds it yet
  return schema;
}

/** Object keys of Gyre's annotation, for code that writes plain JSON Schema. */
export const META_KEYWORD = X;
