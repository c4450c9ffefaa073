/**
 * The JSON Schema of config files on the command line: `gyre schema [FILE]` prints or writes it
 * (`npm run build` writes the shipped `schema/config.schema.json` this way), and `gyre genconfig`
 * points a new config's `$schema` at the shipped file.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCHEMA_REF } from '../config/generate.js';
import { configJsonSchemaText, SCHEMA_FILE } from '../config/json-schema.js';

/** The schema file shipped with the running Gyre (`<package>/schema/config.schema.json`). */
export const SHIPPED_SCHEMA = fileURLToPath(new URL(`../../${SCHEMA_FILE}`, import.meta.url));

/**
 * The `$schema` to write into the config file `file`: the shipped schema by a relative path when
 * it lies below the file's directory (a project's `./node_modules/gyre/...`, or Gyre's own
 * checkout), else the usual place of an installed package, {@link SCHEMA_REF}.
 */
export function schemaRefFor(file: string): string {
  const rel = relative(dirname(resolve(file)), SHIPPED_SCHEMA);
  if (!existsSync(SHIPPED_SCHEMA) || rel.startsWith('..') || isAbsolute(rel)) return SCHEMA_REF;
  return `./${rel.split(sep).join('/')}`;
}

/** `gyre schema [FILE]`: the JSON Schema to stdout, or into FILE (its directory created, the file replaced). */
export function schemaCommand(args: readonly string[]): void {
  const file = args[0];
  if (file === undefined) {
    process.stdout.write(configJsonSchemaText());
    return;
  }
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, configJsonSchemaText());
  process.stdout.write(`wrote ${file}\n`);
}
