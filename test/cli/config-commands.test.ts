/**
 * The config side of the `gyre` command line, run as a real child process: checkconfig lists every
 * problem, genconfig writes `$schema`, `gyre schema` prints / writes the shipped JSON Schema.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import Schema from 'typebox/schema';
import { schemaRefFor } from '../../src/cli/schema.js';
import { SCHEMA_REF } from '../../src/config/generate.js';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { run, tempDir } from './run-cli.js';

const SHIPPED = fileURLToPath(new URL('../../schema/config.schema.json', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

describe('gyre config commands', { concurrency: 3 }, () => {
  test('checkconfig with three distinct errors prints all three, each naming its key, and exits non-zero', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ http_server: { port: 'abc' }, client: { insecure: 'yes' }, channel: { namespaces: [{ name: 'x' }] } }),
    );
    const res = await run(['checkconfig', 'config.json'], dir);
    assert.notEqual(res.code, 0);
    assert.equal(res.stdout, '');
    const errors = res.stderr.split('\n').filter((l) => l.startsWith('config error: '));
    assert.equal(errors.length, 3, res.stderr);
    assert.match(errors[0]!, /^config error: http_server\.port: expected an integer in 0\.\.65535, got the string "abc"$/);
    assert.match(errors[1]!, /^config error: client\.insecure: expected a boolean/);
    assert.match(errors[2]!, /^config error: channel\.namespaces\[0\]\.name: expected a namespace name matching/);
  });

  test('genconfig writes "$schema" first, pointing at the shipped schema; the file passes checkconfig and the schema', async () => {
    const dir = tempDir();
    const gen = await run(['genconfig', 'config.json'], dir);
    assert.equal(gen.code, 0, gen.stderr);
    const text = readFileSync(join(dir, 'config.json'), 'utf8');
    const config = JSON.parse(text) as Record<string, unknown>;
    assert.equal(Object.keys(config)[0], '$schema');
    // Outside a project with gyre installed, the usual place of an installed package.
    assert.equal(config['$schema'], SCHEMA_REF);
    assert.equal(SCHEMA_REF, './node_modules/gyre/schema/config.schema.json');
    const check = await run(['checkconfig', 'config.json'], dir);
    assert.equal(check.code, 0, check.stderr);
    assert.equal(check.stderr, '');
    assert.equal(check.stdout, 'config.json: OK\n');
    assert.ok(Schema.Compile(configJsonSchema() as Parameters<typeof Schema.Compile>[0]).Check(config));
  });

  test('schemaRefFor: a relative path to the shipped schema when it lies below the config file, else the package path', () => {
    assert.equal(schemaRefFor(join(REPO, 'config.json')), './schema/config.schema.json');
    assert.equal(schemaRefFor(join(tempDir(), 'config.json')), SCHEMA_REF);
  });

  test('schema prints the shipped JSON Schema, or writes it to a file', async () => {
    const dir = tempDir();
    const printed = await run(['schema'], dir);
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(printed.stdout, readFileSync(SHIPPED, 'utf8'));
    const written = await run(['schema', 'out/config.schema.json'], dir);
    assert.equal(written.code, 0, written.stderr);
    assert.equal(written.stdout, 'wrote out/config.schema.json\n');
    assert.equal(readFileSync(join(dir, 'out', 'config.schema.json'), 'utf8'), printed.stdout);
  });
});
