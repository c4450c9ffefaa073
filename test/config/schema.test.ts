/**
 * The one definition of the config keys and what is derived from it: defaults, the shipped JSON
 * Schema (checked with TypeBox's own JSON Schema validator), and the keys' documentation.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import Schema from 'typebox/schema';
import { defaultConfig } from '../../src/config/defaults.js';
import { configDefinition } from '../../src/config/definition/index.js';
import { generateConfig } from '../../src/config/generate.js';
import { configJsonSchema, configJsonSchemaText, type JsonSchema } from '../../src/config/json-schema.js';
import { keyNode, kindOf, type KeyNode } from '../../src/config/keys.js';
import { validateConfig } from '../../src/config/validate.js';

const SHIPPED = new URL('../../schema/config.schema.json', import.meta.url);

/** A validator of the shipped schema file, as an editor reads it (plain JSON). */
function shippedValidator() {
  const json = JSON.parse(readFileSync(SHIPPED, 'utf8')) as JsonSchema;
  return Schema.Compile(json as Parameters<typeof Schema.Compile>[0]);
}

/** The config a file would hold if it spelled out every default of the JSON Schema. */
function defaultsIn(node: JsonSchema): unknown {
  if ('default' in node) return node['default'];
  if (Array.isArray(node['anyOf'])) return defaultsIn(node['anyOf'][0] as JsonSchema);
  const properties = node['properties'] as Record<string, JsonSchema> | undefined;
  if (properties === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(properties)) {
    const value = defaultsIn(child);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

test('the shipped schema/config.schema.json is the one generated from the definition (npm run build writes it)', () => {
  assert.equal(readFileSync(SHIPPED, 'utf8'), configJsonSchemaText(), 'regenerate it: node --import tsx src/cli/main.ts schema schema/config.schema.json');
});

test('the JSON Schema accepts the defaults it lists, and they are the validated defaults', () => {
  const fileDefaults = defaultsIn(configJsonSchema()) as Record<string, unknown>;
  assert.equal((fileDefaults['client'] as Record<string, unknown>)['ping_interval'], '25s', 'defaults are in file form');
  assert.ok(shippedValidator().Check(fileDefaults), JSON.stringify(shippedValidator().Errors(fileDefaults)[1].slice(0, 3)));
  const { config, warnings } = validateConfig(fileDefaults);
  // Spelled out, the defaults warn about nothing (a key read but not enforced yet would be warned about).
  assert.deepEqual(warnings, []);
  assert.deepEqual(config, defaultConfig());
});

test('the JSON Schema accepts a generated config with its $schema, older keys and ignored Centrifugo keys', () => {
  const validator = shippedValidator();
  assert.ok(validator.Check(JSON.parse(JSON.stringify(generateConfig()))));
  const legacy = {
    proxy_connect_endpoint: 'grpc://127.0.0.1:10001',
    proxy_connect_timeout: '10s',
    proxy_publish: true,
    grpc_api: true,
    grpc_api_port: 10000,
    channel: { namespaces: [{ name: 'chat', proxy_subscribe: true }] },
    admin: { enabled: true },
  };
  assert.ok(validator.Check(legacy), JSON.stringify(validator.Errors(legacy)[1].slice(0, 3)));
});

test('the JSON Schema rejects wrong types, bad durations, unknown keys and nameless namespaces', () => {
  const validator = shippedValidator();
  const bad: unknown[] = [
    { http_server: { port: '8000' } },
    { http_server: { port: 70000 } },
    { client: { insecure: 'true' } },
    { client: { ping_interval: 25 } },
    { client: { ping_interval: '10 seconds' } },
    { log: { level: 'loud' } },
    { client: { ping_intervall: '10s' } },
    { channel: { namespaces: [{ presence: true }] } },
    { channel: { without_namespace: { allowed_delta_types: ['xdelta'] } } },
  ];
  for (const config of bad) assert.equal(validator.Check(config), false, JSON.stringify(config));
  for (const good of [{ client: { ping_interval: -1 } }, { client: { ping_interval: '1m30s' } }, { engine: { redis: { address: 'h:6379' } } }]) {
    assert.ok(validator.Check(good), JSON.stringify(good));
  }
});

test('every key of the definition has a description, and every leaf a default', () => {
  const missing: string[] = [];
  const visit = (node: KeyNode, path: string): void => {
    if (node.description === undefined || node.description === '') missing.push(`${path}: description`);
    if (kindOf(node) === 'object') {
      for (const [key, child] of Object.entries(node.properties ?? {})) visit(child, path === '' ? key : `${path}.${key}`);
    } else if (!('default' in node) && !path.endsWith('.name')) missing.push(`${path}: default`);
    if (kindOf(node) === 'named_list' && node.items !== undefined) visit(node.items, `${path}[]`);
  };
  visit(keyNode(configDefinition), '');
  assert.deepEqual(missing, []);
});

test('the top-level $schema is accepted and ignored', () => {
  const { config, warnings } = validateConfig({ $schema: './node_modules/gyre/schema/config.schema.json' });
  assert.deepEqual(warnings, []);
  assert.deepEqual(config, defaultConfig());
  assert.equal('$schema' in config, false);
});
