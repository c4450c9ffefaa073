import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors.js';
import { isTree } from './tree.js';
import stripJsonComments from 'strip-json-comments';

/** Config file formats Gyre reads. */
export type ConfigFormat = 'json' | 'yaml' | 'toml';

/** The format implied by a file name's extension, if any. */
export function formatFromPath(path: string): ConfigFormat | undefined {
  switch (extname(path).toLowerCase()) {
    case '.json':
      return 'json';
    case '.yaml':
    case '.yml':
      return 'yaml';
    case '.toml':
      return 'toml';
    default:
      return undefined;
  }
}

/**
 * Parses config text. Without `format`, the content is sniffed: JSON, then TOML, then YAML, the
 * first that yields an object wins. The top level must be an object (an empty file is `{}`).
 * @throws ConfigError (key `""`) when the text cannot be parsed.
 */
export function parseConfigText(text: string, format?: ConfigFormat, origin = 'config'): Record<string, unknown> {
  if (text.trim() === '') return {};
  if (format !== undefined) {
    let value: unknown;
    try {
      value = PARSERS[format](text);
    } catch (err) {
      throw new ConfigError('', `cannot parse ${origin} as ${format.toUpperCase()}: ${(err as Error).message}`);
    }
    if (!isTree(value)) throw new ConfigError('', `${origin}: the top level must be an object`);
    return value;
  }
  for (const candidate of ['json', 'toml', 'yaml'] as const) {
    try {
      const value = PARSERS[candidate](text);
      if (isTree(value)) return value;
    } catch {
      // try the next format
    }
  }
  throw new ConfigError('', `cannot parse ${origin} as JSON, TOML or YAML (or its top level is not an object)`);
}

/**
 * Reads and parses a config file, by extension (`.json`, `.yaml`/`.yml`, `.toml`) or by sniffing.
 * @throws ConfigError (key `""`) when the file is missing, unreadable or not parseable.
 */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError('', code === 'ENOENT' ? `config file not found: ${path}` : `cannot read config file ${path}: ${(err as Error).message}`);
  }
  return parseConfigText(text.replace(/^\uFEFF/, ''), formatFromPath(path), `config file ${path}`);
}

const PARSERS: Readonly<Record<ConfigFormat, (text: string) => unknown>> = {
  json: parseJsonWithComments,
  yaml: (text) => parseYaml(text),
  toml: (text) => parseToml(text),
};

/**
 * JSON, also with `//` and `/* *\/` comments (documentation snippets such as `// ...` in a copied
 * config.json). Strict JSON first; on failure the comments are blanked out (positions kept) and the
 * text parsed again; if that fails too, the original error is reported.
 */
function parseJsonWithComments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const stripped = stripJsonComments(text, { whitespace: true, trailingCommas: false });
    if (stripped === text) throw err;
    try {
      return JSON.parse(stripped);
    } catch {
      throw err;
    }
  }
}
