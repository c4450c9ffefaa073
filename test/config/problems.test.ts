/** Every configuration problem is reported at once: per key, across keys, from env vars and older keys. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/validate.js';

const dir = mkdtempSync(join(tmpdir(), 'gyre-problems-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  throw new Error('expected a ConfigError');
}

test('four bad keys: one ConfigError listing all four, one line each starting with its key', () => {
  const err = problemsOf(() =>
    validateConfig({ http_server: { port: 'abc' }, client: { insecure: 'yes', ping_interval: 25 }, log: { level: 'loud' } }),
  );
  assert.deepEqual(
    err.problems.map((p) => p.key),
    ['http_server.port', 'log.level', 'client.ping_interval', 'client.insecure'],
  );
  assert.equal(err.key, 'http_server.port');
  const lines = err.message.split('\n');
  assert.equal(lines.length, 4);
  err.problems.forEach((p, i) => {
    assert.equal(lines[i], p.message);
    assert.ok(p.message.startsWith(`${p.key}: expected `), p.message);
  });
});

test('problems inside list items are all reported, a bad name does not hide the rest of its item', () => {
  const err = problemsOf(() =>
    validateConfig({
      channel: { namespaces: [{ name: 'a', presence: 'yes' }, { name: 'ok', history_size: -1 }] },
      proxies: [{ name: 'p', timeout: 5 }],
    }),
  );
  assert.deepEqual(err.problems.map((p) => p.key), [
    'channel.namespaces[0].name',
    'channel.namespaces[0].presence',
    'channel.namespaces[1].history_size',
    'proxies[0].timeout',
  ]);
});

test('rules across keys are all reported once every key is valid on its own', () => {
  const crossKey = {
    channel: { namespace_boundary: '', namespaces: [{ name: 'chat', history_size: 10 }, { name: 'news', force_recovery: true }] },
    client: { proxy: { connect: { enabled: true } } },
  };
  assert.deepEqual(problemsOf(() => validateConfig(crossKey)).problems.map((p) => p.key), [
    'channel.namespaces[0].history_size',
    'channel.namespaces[1].force_recovery',
    'channel.namespace_boundary',
    'client.proxy.connect.endpoint',
  ]);
  // With a key broken on its own, only the per-key problems are reported (the rules would misfire on it).
  const withBadKey = { ...crossKey, log: { level: 5 } };
  assert.deepEqual(problemsOf(() => validateConfig(withBadKey)).problems.map((p) => p.key), ['log.level']);
});

test('loadConfig lists env vars that cannot be read together with the file problems', () => {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ client: { insecure: 'yes' }, proxy_connect: 'no' }));
  const err = problemsOf(() => loadConfig({ file, env: { GYRE_HTTP_SERVER_PORT: '80a', CENTRIFUGO_CLIENT_PING_INTERVAL: 'soon' } }));
  // Older keys first, then env vars whose text does not fit their kind, then the keys in the layout's order.
  assert.deepEqual(err.problems.map((p) => p.key), ['proxy_connect', 'http_server.port', 'client.ping_interval', 'client.insecure']);
  assert.match(err.message, /\nclient\.ping_interval \(from env CENTRIFUGO_CLIENT_PING_INTERVAL\): expected a duration/);
  assert.match(err.message, /^proxy_connect: expected a boolean/);
  assert.match(err.message, /\nhttp_server\.port \(from env GYRE_HTTP_SERVER_PORT\): expected an integer/);
});

test('a single problem keeps the single-line message', () => {
  const err = problemsOf(() => validateConfig({ node: { name: 5 } }));
  assert.equal(err.message, 'node.name: expected a string, got the number 5');
  assert.deepEqual(err.problems, [{ key: 'node.name', message: err.message }]);
  assert.equal(new ConfigError('x', 'x: bad').problems.length, 1);
});
