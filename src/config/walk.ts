/**
 * Reads a raw configuration tree (file form) against the definition, key by key: converts each
 * value (durations to ms, ...), fills in defaults, and collects every problem and warning on the
 * way instead of stopping at the first.
 */
import { availableParallelism } from 'node:os';
import { parseDuration } from './duration.js';
import { describeValue, type ConfigProblem } from './errors.js';
import { kindOf, metaOf, type KeyMeta, type KeyNode } from './keys.js';
import { V5_MOVES } from './legacy.js';
import { nearest } from './suggest.js';
import { isTree } from './tree.js';

type Tree = Record<string, unknown>;

/** `a.b[2].c` → `a.b[2]` → `a.b` → `a` → `""`. */
function parentPath(path: string): string {
  return /^(.*)(?:\.[^.[\]]+|\[\d+\])$/.exec(path)?.[1] ?? '';
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

const quoted = (values: readonly unknown[]): string => values.map((v) => JSON.stringify(v)).join(', ');

/** Collects problems (each labelled with its key path and source) and warnings; the cross-key checks report through it too. */
export class Walker {
  readonly warnings: string[] = [];
  readonly problems: ConfigProblem[] = [];

  private readonly sources: ReadonlyMap<string, string>;

  /** `sources`: dotted key path → where its value came from (`env GYRE_X`, `key proxy_connect_timeout`); covers children. */
  constructor(sources: ReadonlyMap<string, string> = new Map()) {
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

  /** Records a problem with the key at `path`; returns `undefined` to stand for the value. */
  problem(path: string, message: string): undefined {
    this.problems.push({ key: path, message: `${this.label(path)}: ${message}` });
    return undefined;
  }

  /** Records a warning. */
  warn(message: string): void {
    this.warnings.push(message);
  }

  /** The whole configuration from `raw` (`undefined`/`null`: all defaults); `undefined` when the top level is not an object. */
  config(definition: KeyNode, raw: unknown): Tree | undefined {
    const tree = raw ?? {};
    if (!isTree(tree)) {
      this.problems.push({ key: '', message: `config: the top level must be an object, got ${describeValue(tree)}` });
      return undefined;
    }
    return this.object(definition, tree, '');
  }

  /** The validated value of the key `node` at `path`, from `raw`; `undefined` or `null` give the key's default. */
  value(node: KeyNode, raw: unknown, path: string): unknown {
    if (raw === undefined || raw === null) return kindOf(node) === 'object' ? this.object(node, {}, path) : this.convert(node, node.default, path);
    const note = metaOf(node).notEnforced;
    if (note !== undefined) this.warn(`key "${this.label(path)}" is not enforced by this Gyre version (${note})`);
    return this.convert(node, raw, path);
  }

  private expected(path: string, expected: string, value: unknown): undefined {
    return this.problem(path, `expected ${expected}, got ${describeValue(value)}`);
  }

  private convert(node: KeyNode, value: unknown, path: string): unknown {
    const meta = metaOf(node);
    switch (kindOf(node)) {
      case 'string':
        return typeof value === 'string' ? value : this.expected(path, 'a string', value);
      case 'boolean':
        return typeof value === 'boolean' ? value : this.expected(path, 'a boolean (true or false)', value);
      case 'integer':
        if (meta.autoCores === true && value === 'auto') return availableParallelism();
        return this.integer(node, meta.numericString === true, value, path, meta.autoCores === true ? 'an integer or "auto"' : 'an integer');
      case 'unix_seconds': {
        const seconds = this.integer(node, false, value, path, 'a Unix timestamp in seconds');
        return seconds === undefined ? undefined : seconds * 1000;
      }
      case 'duration':
        return this.duration(meta, value, path);
      case 'enum': {
        const values = node.enum ?? [];
        return typeof value === 'string' && values.includes(value) ? value : this.expected(path, `one of ${quoted(values)}`, value);
      }
      case 'string_array':
        return this.strings(node, meta.orString === true && typeof value === 'string' ? [value] : value, path);
      case 'listeners':
        return this.listeners(value, path);
      case 'string_map':
        return this.stringMap(value, path);
      case 'object':
        return this.object(node, value, path);
      case 'named_list':
        return this.namedList(node, meta.noun, value, path);
      case 'object_list':
        return this.objectList(node, value, path);
    }
  }

  private object(node: KeyNode, raw: unknown, path: string): Tree | undefined {
    if (!isTree(raw)) return this.expected(path, 'an object', raw);
    const meta = metaOf(node);
    const fields = node.properties ?? {};
    for (const key of Object.keys(raw)) {
      if (Object.hasOwn(fields, key) || (meta.ignored ?? []).includes(key)) continue;
      const untyped = (meta.untyped ?? []).includes(key) || (meta.untypedPrefixes ?? []).some((prefix) => key.startsWith(prefix));
      if (!untyped) this.warnUnknown(node, path, key);
      else if (raw[key] !== null && raw[key] !== undefined) {
        this.warn(`key "${join(path, key)}" is valid Centrifugo configuration that this Gyre version does not support yet; it is ignored`);
      }
    }
    const out: Tree = {};
    for (const [key, field] of Object.entries(fields)) out[key] = this.value(field, raw[key], join(path, key));
    return out;
  }

  private warnUnknown(node: KeyNode, path: string, key: string): void {
    const close = nearest(key, [...Object.keys(node.properties ?? {}), ...(metaOf(node).untyped ?? [])]);
    const moved = path === '' && Object.hasOwn(V5_MOVES, key) ? V5_MOVES[key] : undefined;
    const hint = close !== undefined ? join(path, close) : moved;
    const full = join(path, key);
    this.warn(
      hint === undefined
        ? `unknown key "${full}"`
        : `unknown key "${full}" (did you mean "${hint}"?${moved !== undefined && close === undefined ? ' Centrifugo v6 moved it there' : ''})`,
    );
  }

  private integer(node: KeyNode, numericString: boolean, value: unknown, path: string, what: string): number | undefined {
    const { minimum: min, maximum: max } = node;
    let n: number | undefined;
    if (typeof value === 'number' && Number.isSafeInteger(value)) n = value;
    else if (typeof value === 'bigint' && value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER)) n = Number(value);
    else if (numericString && typeof value === 'string' && /^\d*$/.test(value)) n = value === '' ? 0 : Number(value);
    const range =
      min !== undefined && max !== undefined ? ` in ${min}..${max}` : min !== undefined ? ` >= ${min}` : max !== undefined ? ` <= ${max}` : '';
    if (n === undefined || (min !== undefined && n < min) || (max !== undefined && n > max)) return this.expected(path, `${what}${range}`, value);
    return n;
  }

  private duration(meta: KeyMeta, value: unknown, path: string): number | undefined {
    const negativeDisables = meta.negativeDisables === true;
    const expected = `a duration string like "25s"${negativeDisables ? ' (or -1 to disable)' : ''}`;
    let ms: number;
    if (typeof value === 'string') {
      try {
        ms = parseDuration(value.trim());
      } catch (err) {
        return this.problem(path, `expected ${expected}, got ${describeValue(value)} (${(err as Error).message})`);
      }
    } else if (value === 0 || (negativeDisables && value === -1)) {
      ms = value; // the number 0 is unambiguous; -1 is how Centrifugo documents "disabled"
    } else {
      return this.expected(path, expected, value);
    }
    if (ms < 0) return negativeDisables ? -1 : this.expected(path, 'a non-negative duration', value);
    if (meta.wholeSeconds === true && ms % 1000 !== 0) {
      return this.problem(path, `sub-second precision is not supported for this key, got ${describeValue(value)}`);
    }
    return ms;
  }

  private strings(node: KeyNode, value: unknown, path: string): string[] | undefined {
    if (!Array.isArray(value)) return this.expected(path, 'an array of strings', value);
    const allowed = node.items?.enum;
    return value.map((item: unknown, i): string => {
      const at = `${path}[${i}]`;
      if (typeof item !== 'string') return this.expected(at, 'a string', item) ?? '';
      if (allowed !== undefined && !allowed.includes(item)) return this.expected(at, `one of ${quoted(allowed)}`, item) ?? '';
      return item;
    });
  }

  /** `events.listeners`: `"EVENT=module"` or `"EVENT=module#export"` strings become specs. */
  private listeners(value: unknown, path: string): Array<{ event: string; module: string; export: string }> | undefined {
    if (!Array.isArray(value)) return this.expected(path, 'an array of strings', value);
    return value.map((entry: unknown, i) => {
      const at = `${path}[${i}]`;
      if (typeof entry !== 'string') return this.expected(at, 'a string', entry) ?? { event: '', module: '', export: '' };
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
        this.problem(at, `expected "EVENT=module" or "EVENT=module#export", got ${JSON.stringify(entry)}`);
      }
      return { event, module, export: exported };
    });
  }

  private stringMap(value: unknown, path: string): Record<string, string> | undefined {
    if (!isTree(value)) return this.expected(path, 'an object of strings', value);
    const out: Record<string, string> = {};
    for (const [key, v] of Object.entries(value)) out[key] = typeof v === 'string' ? v : (this.expected(`${path}.${key}`, 'a string', v) ?? '');
    return out;
  }

  /** An array of objects, each read with the item's keys. */
  private objectList(node: KeyNode, value: unknown, path: string): Tree[] | undefined {
    if (!Array.isArray(value)) return this.expected(path, 'an array of objects', value);
    const item = node.items ?? {};
    return value.map((raw: unknown, i): Tree => this.object(item, raw, `${path}[${i}]`) ?? {});
  }

  /** An array of objects with unique names matching the item's `name` pattern; `noun` names an item in messages. */
  private namedList(node: KeyNode, noun: string | undefined, value: unknown, path: string): Tree[] | undefined {
    const item = node.items ?? {};
    const nameRe = new RegExp(item.properties?.['name']?.pattern ?? '');
    if (!Array.isArray(value)) return this.expected(path, noun === undefined ? 'an array of objects' : `an array of ${noun} objects`, value);
    const seen = new Set<string>();
    return value.map((raw: unknown, i): Tree => {
      const at = `${path}[${i}]`;
      if (!isTree(raw)) return this.expected(at, noun === undefined ? 'an object' : `a ${noun} object`, raw) ?? {};
      const name = raw['name'];
      if (typeof name !== 'string') {
        this.expected(`${at}.name`, noun === undefined ? `a name matching ${nameRe.source}` : `a ${noun} name string`, name);
      } else if (!nameRe.test(name)) {
        this.expected(`${at}.name`, `${noun === undefined ? 'a name' : `a ${noun} name`} matching ${nameRe.source}`, name);
      } else if (seen.has(name)) {
        this.problem(`${at}.name`, `${noun === undefined ? 'name' : `${noun} name`} "${name}" is not unique`);
      } else {
        seen.add(name);
        return this.object(item, raw, at) ?? {};
      }
      // The name is reported; the item's other keys are still checked.
      return this.object(item, { ...raw, name: '' }, at) ?? {};
    });
  }
}
