import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'gyre-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const JSON_TEXT = JSON.stringify({
  http_server: { port: 9001 },
  log: { level: 'debug' },
  client: {
    insecure: true,
    token: { hmac_secret_key: 'secret' },
    ping_interval: '10s',
    allowed_origins: ['http://localhost:3000'],
  },
  http_api: { key: 'api-key' },
  channel: {
    history_meta_ttl: '24h',
    without_namespace: { presence: true, history_size: 10, history_ttl: '300s', force_recovery: true },
    namespaces: [{ name: 'chat', join_leave: true, allowed_delta_types: ['fossil'] }],
  },
});

const YAML_TEXT = `
http_server:
  port: 9001
log:
  level: debug
client:
  insecure: true
  token:
    hmac_secret_key: secret
  ping_interval: 10s
  allowed_origins:
    - http://localhost:3000
http_api:
  key: api-key
channel:
  history_meta_ttl: 24h
  without_namespace:
    presence: true
    history_size: 10
    history_ttl: 300s
    force_recovery: true
  namespaces:
    - name: chat
      join_leave: true
      allowed_delta_types: [fossil]
`;

const TOML_TEXT = `
[http_server]
port = 9001

[log]
level = "debug"

[client]
insecure = true
ping_interval = "10s"
allowed_origins = ["http://localhost:3000"]

[client.token]
hmac_secret_key = "secret"

[http_api]
key = "api-key"

[channel]
history_meta_ttl = "24h"

[channel.without_namespace]
presence = true
history_size = 10
history_ttl = "300s"
force_recovery = true

[[channel.namespaces]]
name = "chat"
join_leave = true
allowed_delta_types = ["fossil"]
`;

function assertSample(result: ReturnType<typeof loadConfig>): void {
  const { config, warnings } = result;
  assert.deepEqual(warnings, []);
  assert.equal(config.http_server.port, 9001);
  assert.equal(config.log.level, 'debug');
  assert.equal(config.client.insecure, true);
  assert.equal(config.client.token.hmac_secret_key, 'secret');
  assert.equal(config.client.ping_interval, 10_000);
  assert.equal(config.client.pong_timeout, 8_000, 'defaults fill the rest');
  assert.deepEqual(config.client.allowed_origins, ['http://localhost:3000']);
  assert.equal(config.http_api.key, 'api-key');
  assert.equal(config.channel.history_meta_ttl, 86_400_000);
  assert.equal(config.channel.without_namespace.presence, true);
  assert.equal(config.channel.without_namespace.history_size, 10);
  assert.equal(config.channel.without_namespace.history_ttl, 300_000);
  assert.equal(config.channel.without_namespace.force_recovery, true);
  assert.equal(config.channel.namespaces.length, 1);
  const chat = config.channel.namespaces[0];
  assert.equal(chat?.name, 'chat');
  assert.equal(chat?.join_leave, true);
  assert.equal(chat?.presence, false, 'namespaces start from channel option defaults');
  assert.deepEqual(chat?.allowed_delta_types, ['fossil']);
  assert.equal(chat?.subscribe_proxy_name, 'default');
}

test('reads a JSON file', () => {
  assertSample(loadConfig({ file: file('config.json', JSON_TEXT), env: {} }));
});

test('reads a YAML file (.yaml and .yml)', () => {
  assertSample(loadConfig({ file: file('config.yaml', YAML_TEXT), env: {} }));
  assertSample(loadConfig({ file: file('config.yml', YAML_TEXT), env: {} }));
});

test('reads a TOML file', () => {
  assertSample(loadConfig({ file: file('config.toml', TOML_TEXT), env: {} }));
});

test('sniffs the format when the extension says nothing', () => {
  assertSample(loadConfig({ file: file('json.conf', JSON_TEXT), env: {} }));
  assertSample(loadConfig({ file: file('yaml.conf', YAML_TEXT), env: {} }));
  assertSample(loadConfig({ file: file('toml-config', TOML_TEXT), env: {} }));
});

test('no file and an empty file both give the defaults', () => {
  const { config, warnings } = loadConfig({ env: {} });
  assert.deepEqual(warnings, []);
  assert.equal(config.http_server.port, 8000);
  assert.equal(loadConfig({ file: file('empty.json', ''), env: {} }).config.http_server.port, 8000);
});

test('file problems throw ConfigError with key ""', () => {
  const missing = join(dir, 'nope.json');
  assert.throws(() => loadConfig({ file: missing, env: {} }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.key, '');
    assert.match(err.message, /config file not found/);
    return true;
  });
  assert.throws(() => loadConfig({ file: file('bad.json', '{"a": '), env: {} }), /cannot parse config file .*bad\.json as JSON/);
  assert.throws(() => loadConfig({ file: file('bad.yaml', 'a: [1'), env: {} }), /as YAML/);
  assert.throws(() => loadConfig({ file: file('bad.toml', 'a = '), env: {} }), /as TOML/);
  assert.throws(() => loadConfig({ file: file('list.json', '[1, 2]'), env: {} }), /top level must be an object/);
});

test('env vars override the file; GYRE_ wins over CENTRIFUGO_', () => {
  const path = file('env.json', JSON.stringify({ client: { token: { hmac_secret_key: 'from-file' } }, http_server: { port: 1 } }));
  const { config } = loadConfig({
    file: path,
    env: {
      CENTRIFUGO_CLIENT_TOKEN_HMAC_SECRET_KEY: 'from-centrifugo-env',
      CENTRIFUGO_HTTP_SERVER_PORT: '2',
      GYRE_HTTP_SERVER_PORT: '3',
      CENTRIFUGO_HTTP_API_KEY: 'k',
      CENTRIFUGO_CHANNEL_WITHOUT_NAMESPACE_PRESENCE: 'true',
      CENTRIFUGO_CLIENT_INSECURE: '1',
      CENTRIFUGO_HEALTH_ENABLED: 'false',
      CENTRIFUGO_CLIENT_PING_INTERVAL: '15s',
      CENTRIFUGO_CLIENT_ALLOWED_ORIGINS: '["http://localhost:3000"]',
      GYRE_LOG_LEVEL: 'warn',
      UNRELATED: 'ignored',
      CENTRIFUGO_SOMETHING_ELSE: 'ignored',
    },
  });
  assert.equal(config.client.token.hmac_secret_key, 'from-centrifugo-env');
  assert.equal(config.http_server.port, 3);
  assert.equal(config.http_api.key, 'k');
  assert.equal(config.channel.without_namespace.presence, true);
  assert.equal(config.client.insecure, true);
  assert.equal(config.health.enabled, false);
  assert.equal(config.client.ping_interval, 15_000);
  assert.deepEqual(config.client.allowed_origins, ['http://localhost:3000']);
  assert.equal(config.log.level, 'warn');
});

test('env arrays accept a comma-separated list, as Centrifugo does', () => {
  const { config } = loadConfig({ env: { CENTRIFUGO_CLIENT_ALLOWED_ORIGINS: 'http://a.example, https://*.b.example' } });
  assert.deepEqual(config.client.allowed_origins, ['http://a.example', 'https://*.b.example']);
});

test('env JSON for namespaces and whole sections; leaves beat their section', () => {
  const { config } = loadConfig({
    env: {
      CENTRIFUGO_CHANNEL_NAMESPACES: '[{"name":"chat","presence":true},{"name":"news-feed"}]',
      CENTRIFUGO_CHANNEL_NAMESPACES_NEWS_FEED_JOIN_LEAVE: 'true',
      GYRE_CHANNEL_NAMESPACES_CHAT_PRESENCE: 'false',
      CENTRIFUGO_HTTP_API: '{"key":"section","insecure":true}',
      CENTRIFUGO_HTTP_API_KEY: 'leaf',
    },
  });
  assert.deepEqual(
    config.channel.namespaces.map((n) => [n.name, n.presence, n.join_leave]),
    [
      ['chat', false, false],
      ['news-feed', false, true],
    ],
  );
  assert.equal(config.http_api.key, 'leaf');
  assert.equal(config.http_api.insecure, true);
});

test('env values that cannot be converted name the key and the variable', () => {
  const cases: Array<[Record<string, string>, string, RegExp]> = [
    [{ CENTRIFUGO_CLIENT_INSECURE: 'yes' }, 'client.insecure', /CENTRIFUGO_CLIENT_INSECURE.*boolean.*"yes"/],
    [{ GYRE_HTTP_SERVER_PORT: '80a' }, 'http_server.port', /GYRE_HTTP_SERVER_PORT.*integer.*"80a"/],
    [{ CENTRIFUGO_CHANNEL_NAMESPACES: '{"name":"x"}' }, 'channel.namespaces', /JSON array/],
    [{ CENTRIFUGO_CHANNEL_NAMESPACES: '[{"name":' }, 'channel.namespaces', /JSON array/],
    [{ CENTRIFUGO_CLIENT_PING_INTERVAL: '25' }, 'client.ping_interval', /from env CENTRIFUGO_CLIENT_PING_INTERVAL.*duration.*missing unit/],
    [{ CENTRIFUGO_LOG_LEVEL: 'loud' }, 'log.level', /log\.level \(from env CENTRIFUGO_LOG_LEVEL\): expected one of/],
  ];
  for (const [env, key, message] of cases) {
    assert.throws(() => loadConfig({ env }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.key, key);
      assert.match(err.message, message);
      return true;
    });
  }
});

test('overrides apply last, over file and env', () => {
  const path = file('over.yaml', 'http_server:\n  port: 1\nclient:\n  ping_interval: 30s\n');
  const { config } = loadConfig({
    file: path,
    env: { GYRE_HTTP_SERVER_PORT: '2' },
    overrides: { http_server: { port: 9999 }, client: { ping_interval: '40s' } },
  });
  assert.equal(config.http_server.port, 9999);
  assert.equal(config.client.ping_interval, 40_000);
});

test('Centrifugo sections Gyre does not support yet are accepted, each with a warning naming it', () => {
  const path = file(
    'full.json',
    JSON.stringify({
      engine: { type: 'memory', redis: { address: 'redis://127.0.0.1:6379' } },
      broker: { enabled: false },
      presence_manager: { enabled: false },
      proxies: [{ name: 'auth', endpoint: 'http://localhost/auth', timeout: '1s' }],
      rpc: { without_namespace: { proxy_enabled: false } },
      grpc_api: { enabled: false, port: 10000 },
      http_stream: { enabled: true },
      sse: { enabled: true },
      emulation: { handler_prefix: '/emulation' },
      uni_websocket: { enabled: true },
      uni_sse: { enabled: true },
      uni_http_stream: { enabled: true },
      admin: { enabled: true, password: 'p', secret: 's' },
      swagger: { enabled: true },
      prometheus: { enabled: true },
      proxy_connect_endpoint: 'http://localhost/connect',
      client: { proxy: { connect: { enabled: false } }, presence_update_interval: '27s' },
      channel: {
        proxy: { subscribe: { endpoint: 'http://localhost/sub' } },
        without_namespace: { subscribe_proxy_name: 'auth', subscribe_stream_proxy_enabled: false },
      },
      http_server: { internal_address: '127.0.0.1', tls: { enabled: false, cert_pem: '' } },
      websocket: { compression_level: 1 },
    }),
  );
  const { config, warnings } = loadConfig({ file: path, env: {} });
  assert.ok(warnings.length > 0);
  for (const w of warnings) assert.match(w, /does not support yet; it is ignored$/);
  assert.ok(warnings.some((w) => w.includes('"swagger"')));
  // admin is a typed section now: no warning, values read.
  assert.ok(!warnings.some((w) => w.includes('"admin"')), warnings.join('\n'));
  assert.equal(config.admin.enabled, true);
  assert.equal(config.admin.password, 'p');
  // The emulation transports are typed sections now: no warning, values read.
  assert.ok(!warnings.some((w) => /"(http_stream|sse|emulation)"/.test(w)), warnings.join('\n'));
  assert.equal(config.http_stream.enabled, true);
  assert.equal(config.emulation.handler_prefix, '/emulation');
  // Proxies and the gRPC API are typed sections now: no warning, values read.
  assert.ok(!warnings.some((w) => /"(grpc_api|client\.proxy|channel\.proxy|rpc|proxies|proxy_connect_endpoint)"/.test(w)), warnings.join('\n'));
  assert.equal(config.grpc_api.port, 10000);
  assert.equal(config.proxies[0]?.name, 'auth');
  assert.ok(!warnings.some((w) => /unknown key/.test(w)), 'no key is reported as unknown');
  assert.equal(config.channel.without_namespace.subscribe_proxy_name, 'auth');
  assert.equal('swagger' in config, false, 'untyped sections are not stored');
});

test('a JSON config file may carry // and /* */ comments; a string holding // stays as it is', () => {
  const path = file(
    'commented.json',
    '{\n  // the address clients reach\n  "http_server": { "port": 9100 /* not 8000 */ },\n  "client": { "allowed_origins": ["http://a.example//x"] }\n}\n',
  );
  const { config } = loadConfig({ file: path, env: {} });
  assert.equal(config.http_server.port, 9100);
  assert.deepEqual(config.client.allowed_origins, ['http://a.example//x']);
});

test('a JSON config broken apart from its comments reports the parse error', () => {
  const path = file('broken.json', '{\n  // a comment\n  "http_server": { "port": 9100, }\n}\n');
  assert.throws(() => loadConfig({ file: path, env: {} }), (e: unknown) => e instanceof ConfigError && /broken\.json/.test(e.message));
});
