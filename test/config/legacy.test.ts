/** Older Centrifugo keys: lifted once per load or validation, then validated like the v6 keys. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { liftLegacyKeys } from '../../src/config/legacy.js';
import { loadConfig } from '../../src/config/load.js';
import { inspectConfig, validateConfig } from '../../src/config/validate.js';

const dir = mkdtempSync(join(tmpdir(), 'gyre-legacy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The getting-started config of the seed documents, in the older flat layout. */
const LEGACY = {
  allowed_origins: ['*'],
  proxy_publish: true,
  proxy_subscribe: true,
  grpc_api: true,
  grpc_api_address: '0.0.0.0',
  grpc_api_port: 10000,
  proxy_connect_endpoint: 'grpc://127.0.0.1:10001',
  proxy_connect_timeout: '10s',
  proxy_publish_endpoint: 'grpc://127.0.0.1:10001',
  proxy_subscribe_endpoint: 'grpc://127.0.0.1:10001',
  proxy_refresh_endpoint: 'grpc://127.0.0.1:10001',
  proxy_rpc_endpoint: 'grpc://127.0.0.1:10001',
  proxy_sub_refresh_endpoint: 'grpc://127.0.0.1:10001',
  channel: { namespaces: [{ name: 'chat', proxy_sub_refresh: true }] },
};

test('a legacy config validates, and loads from a file to the same configuration', () => {
  const validated = validateConfig(LEGACY);
  const file = join(dir, 'legacy.json');
  writeFileSync(file, JSON.stringify(LEGACY));
  const loaded = loadConfig({ file, env: {} });
  assert.deepEqual(loaded, validated);
  const { config, warnings } = loaded;
  assert.deepEqual([config.client.proxy.connect.enabled, config.client.proxy.connect.timeout], [true, 10_000]);
  assert.deepEqual([config.grpc_api.enabled, config.grpc_api.address, config.grpc_api.port], [true, '0.0.0.0', 10_000]);
  assert.equal(config.channel.without_namespace.publish_proxy_enabled, true);
  assert.equal(config.channel.namespaces[0]?.sub_refresh_proxy_enabled, true);
  assert.equal(config.rpc.without_namespace.proxy_enabled, true);
  // allowed_origins moved in v6: a warning naming its v6 place, as for any v5 key.
  assert.deepEqual(warnings, ['unknown key "allowed_origins" (did you mean "client.allowed_origins"? Centrifugo v6 moved it there)']);
});

test('loading: env vars (v6 names) win over the flat keys and merge into what they became', () => {
  const file = join(dir, 'legacy-env.json');
  writeFileSync(file, JSON.stringify(LEGACY));
  const { config } = loadConfig({
    file,
    env: { GYRE_GRPC_API_PORT: '10100', CENTRIFUGO_CLIENT_PROXY_CONNECT_TIMEOUT: '2s', GYRE_CHANNEL_WITHOUT_NAMESPACE_PUBLISH_PROXY_ENABLED: 'false' },
  });
  assert.deepEqual([config.grpc_api.enabled, config.grpc_api.port], [true, 10_100]);
  assert.equal(config.client.proxy.connect.timeout, 2_000);
  assert.equal(config.channel.without_namespace.publish_proxy_enabled, false);
});

test('lifting is one step before validation: the validation core reads the tree as given', () => {
  const lifted = liftLegacyKeys(LEGACY);
  assert.deepEqual(inspectConfig(lifted).config, validateConfig(LEGACY).config);
  // Unlifted flat keys reaching the core are not read (proxy_* is accepted and ignored there).
  const unlifted = inspectConfig({ tree: { proxy_connect_endpoint: 'http://x' }, sources: new Map(), problems: [] });
  assert.equal(unlifted.config?.client.proxy.connect.endpoint, '');
  assert.match(unlifted.warnings.join('\n'), /"proxy_connect_endpoint" is valid Centrifugo configuration that this Gyre version does not support yet/);
  // Lifting a lifted tree changes nothing.
  assert.deepEqual(liftLegacyKeys(lifted.tree).tree, lifted.tree);
});
