import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateConfig } from '../../src/config/generate.js';
import { loadConfig } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/validate.js';

test('the generated config validates without warnings', () => {
  const generated = generateConfig();
  const { config, warnings } = validateConfig(JSON.parse(JSON.stringify(generated)));
  assert.deepEqual(warnings, []);
  assert.equal(config.client.token.hmac_secret_key, generated.client.token.hmac_secret_key);
  assert.equal(config.http_api.key, generated.http_api.key);
  assert.deepEqual(config.client.allowed_origins, []);
  assert.equal(config.health.enabled, true);
  const wn = config.channel.without_namespace;
  assert.equal(wn.presence, true);
  assert.equal(wn.history_size, 100);
  assert.equal(wn.history_ttl, 300_000);
  assert.equal(wn.force_recovery, true);
});

test('the generated secrets are fresh, long and URL-safe', () => {
  const a = generateConfig();
  const b = generateConfig();
  assert.notEqual(a.client.token.hmac_secret_key, b.client.token.hmac_secret_key);
  assert.notEqual(a.http_api.key, b.http_api.key);
  assert.notEqual(a.client.token.hmac_secret_key, a.http_api.key);
  for (const secret of [a.client.token.hmac_secret_key, a.http_api.key]) {
    assert.match(secret, /^[A-Za-z0-9_-]{43,}$/);
  }
});

test('the generated config round-trips through a JSON file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gyre-genconfig-'));
  try {
    const path = join(dir, 'config.json');
    const generated = generateConfig();
    writeFileSync(path, JSON.stringify(generated, null, 2));
    const { config, warnings } = loadConfig({ file: path, env: {} });
    assert.deepEqual(warnings, []);
    assert.equal(config.client.token.hmac_secret_key, generated.client.token.hmac_secret_key);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
