import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../../src/config/defaults.js';
import { ConfigError } from '../../src/config/errors.js';
import { int, keyNode, notEnforced, section } from '../../src/config/keys.js';
import { compileConfigRegex } from '../../src/config/regex.js';
import { validateConfig } from '../../src/config/validate.js';
import { Walker } from '../../src/config/walk.js';

/** Asserts that validating `input` throws a ConfigError for `key` whose message matches every pattern. */
function rejects(input: unknown, key: string, ...patterns: RegExp[]): void {
  assert.throws(
    () => validateConfig(input),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      assert.equal(err.key, key, err.message);
      assert.ok(err.message.includes(key), `message names the key: ${err.message}`);
      for (const pattern of patterns) assert.match(err.message, pattern);
      return true;
    },
  );
}

test('an empty config gives the Centrifugo v6 defaults', () => {
  const { config, warnings } = validateConfig({});
  assert.deepEqual(warnings, []);
  assert.deepEqual(config, defaultConfig());
  assert.equal(config.http_server.port, 8000);
  assert.equal(config.log.level, 'info');
  assert.equal(config.client.ping_interval, 25_000);
  assert.equal(config.client.pong_timeout, 8_000);
  assert.equal(config.client.expired_close_delay, 25_000);
  assert.equal(config.client.expired_sub_close_delay, 25_000);
  assert.equal(config.client.stale_close_delay, 10_000);
  assert.equal(config.client.channel_limit, 128);
  assert.equal(config.client.queue_max_size, 1_048_576);
  assert.equal(config.client.history_max_publication_limit, 300);
  assert.equal(config.client.recovery_max_publication_limit, 300);
  assert.equal(config.channel.history_meta_ttl, 720 * 3_600_000);
  assert.equal(config.channel.max_length, 255);
  assert.equal(config.channel.private_prefix, '$');
  assert.equal(config.channel.namespace_boundary, ':');
  assert.equal(config.channel.user_boundary, '#');
  assert.equal(config.channel.user_separator, ',');
  assert.equal(config.http_api.handler_prefix, '/api');
  assert.equal(config.websocket.handler_prefix, '/connection/websocket');
  assert.equal(config.websocket.message_size_limit, 65_536);
  assert.equal(config.websocket.write_timeout, 1_000);
  assert.equal(config.health.enabled, false);
  assert.equal(config.health.handler_prefix, '/health');
  assert.equal(config.shutdown.timeout, 30_000);
  assert.equal(config.engine.type, 'memory');
  assert.equal(config.client.token.user_id_claim, '');
  assert.equal(config.client.subscribe_to_user_personal_channel.personal_channel_namespace, '');
});

test('defaults are fresh copies', () => {
  const a = validateConfig({}).config;
  a.client.allowed_origins.push('x');
  assert.deepEqual(validateConfig({}).config.client.allowed_origins, []);
});

test('null means "not set"', () => {
  const { config } = validateConfig({ client: { allowed_origins: null, ping_interval: null }, log: null });
  assert.deepEqual(config.client.allowed_origins, []);
  assert.equal(config.client.ping_interval, 25_000);
  assert.equal(config.log.level, 'info');
});

test('wrong types are errors naming the key, the expected kind and the value', () => {
  rejects({ node: { name: 5 } }, 'node.name', /expected a string/, /the number 5/);
  rejects({ client: { insecure: 'true' } }, 'client.insecure', /expected a boolean/, /the string "true"/);
  rejects({ http_server: { port: '8000' } }, 'http_server.port', /expected an integer/, /the string "8000"/);
  rejects({ client: { channel_limit: 1.5 } }, 'client.channel_limit', /expected an integer >= 0/, /1\.5/);
  rejects({ client: 'x' }, 'client', /expected an object/);
  rejects({ client: { allowed_origins: 'http://a' } }, 'client.allowed_origins', /expected an array of strings/);
  rejects({ client: { allowed_origins: ['http://a', 1] } }, 'client.allowed_origins[1]', /expected a string/);
  rejects({ client: { token: { hmac_previous_secret_key_valid_until: '2025' } } }, 'client.token.hmac_previous_secret_key_valid_until', /Unix timestamp/);
  assert.throws(() => validateConfig([1]), (err: unknown) => err instanceof ConfigError && err.key === '');
});

test('integer ranges', () => {
  rejects({ http_server: { port: 70000 } }, 'http_server.port', /in 0\.\.65535/, /70000/);
  rejects({ http_server: { port: -1 } }, 'http_server.port', /in 0\.\.65535/);
  rejects({ client: { queue_max_size: -5 } }, 'client.queue_max_size', />= 0/);
  rejects({ channel: { max_length: 0 } }, 'channel.max_length', />= 1/);
  assert.equal(validateConfig({ http_server: { port: 0 } }).config.http_server.port, 0);
  assert.equal(validateConfig({ http_server: { port: 65535 } }).config.http_server.port, 65535);
  // Centrifugo types internal_port as a string.
  assert.equal(validateConfig({ http_server: { internal_port: '9000' } }).config.http_server.internal_port, 9000);
  assert.equal(validateConfig({ http_server: { internal_port: 9001 } }).config.http_server.internal_port, 9001);
});

test('durations: strings only, converted to ms', () => {
  const { config } = validateConfig({
    client: { ping_interval: '1m', pong_timeout: '1500ms', stale_close_delay: '1.5s' },
    shutdown: { timeout: '0' },
    websocket: { write_timeout: 0 },
  });
  assert.equal(config.client.ping_interval, 60_000);
  assert.equal(config.client.pong_timeout, 1_500);
  assert.equal(config.client.stale_close_delay, 1_500);
  assert.equal(config.shutdown.timeout, 0);
  assert.equal(config.websocket.write_timeout, 0);
  rejects({ client: { ping_interval: 25 } }, 'client.ping_interval', /expected a duration string like "25s"/, /the number 25/);
  rejects({ shutdown: { timeout: 30 } }, 'shutdown.timeout', /expected a duration string like "25s"/);
  rejects({ client: { stale_close_delay: '10 seconds' } }, 'client.stale_close_delay', /duration/, /"10 seconds"/);
  rejects({ client: { expired_close_delay: '-1s' } }, 'client.expired_close_delay', /non-negative/);
  rejects({ channel: { history_meta_ttl: '1.5s' } }, 'channel.history_meta_ttl', /sub-second precision/);
});

test('ping_interval / pong_timeout accept -1 (disabled), as Centrifugo documents', () => {
  const { config } = validateConfig({ client: { ping_interval: -1, pong_timeout: '-1s' } });
  assert.equal(config.client.ping_interval, -1);
  assert.equal(config.client.pong_timeout, -1);
  rejects({ client: { ping_interval: '10s', pong_timeout: '10s' } }, 'client.pong_timeout', /less than client\.ping_interval/);
});

test('enums', () => {
  rejects({ log: { level: 'verbose' } }, 'log.level', /one of "none", "trace", "debug", "info", "warn", "error"/, /"verbose"/);
  rejects({ engine: { type: 'nats' } }, 'engine.type', /one of "memory", "redis"/);
  rejects({ http_api: { error_mode: 'grpc' } }, 'http_api.error_mode', /one of "", "transport"/);
  rejects({ channel: { without_namespace: { force_recovery_mode: 'x' } } }, 'channel.without_namespace.force_recovery_mode', /"stream", "cache"/);
  rejects({ channel: { without_namespace: { allowed_delta_types: ['xdelta'] } } }, 'channel.without_namespace.allowed_delta_types[0]', /"fossil"/, /"xdelta"/);
  const { config } = validateConfig({ log: { level: 'none' }, http_api: { error_mode: 'transport' }, engine: { type: 'redis' } });
  assert.equal(config.log.level, 'none');
  assert.equal(config.http_api.error_mode, 'transport');
  assert.equal(config.engine.type, 'redis');
});

test('unknown keys warn with the nearest known key', () => {
  const { warnings } = validateConfig({
    clinet: {},
    client: { ping_intervall: '25s', zzzzzzzzzzzz: 1, token: { hmac_secret: 'x' } },
    channel: { without_namespace: { presense: true }, namespaces: [{ name: 'chat', histroy_size: 1 }] },
    token_hmac_secret_key: 'v5-style',
  });
  assert.deepEqual(warnings.sort(), [
    'unknown key "channel.namespaces[0].histroy_size" (did you mean "channel.namespaces[0].history_size"?)',
    'unknown key "channel.without_namespace.presense" (did you mean "channel.without_namespace.presence"?)',
    'unknown key "client.ping_intervall" (did you mean "client.ping_interval"?)',
    'unknown key "client.token.hmac_secret" (did you mean "client.token.hmac_secret_key"?)',
    'unknown key "client.zzzzzzzzzzzz"',
    'unknown key "clinet" (did you mean "client"?)',
    'unknown key "token_hmac_secret_key" (did you mean "client.token.hmac_secret_key"? Centrifugo v6 moved it there)',
  ]);
});

test('namespaces', () => {
  const { config } = validateConfig({
    channel: {
      namespaces: [
        { name: 'chat', presence: true, history_size: 10, history_ttl: '60s', allow_recovery: true, channel_regex: '^[a-z]+$' },
        { name: 'news_feed-2', history_meta_ttl: '48h' },
      ],
    },
  });
  assert.deepEqual(config.channel.namespaces.map((n) => n.name), ['chat', 'news_feed-2']);
  assert.equal(config.channel.namespaces[0]?.history_ttl, 60_000);
  assert.equal(config.channel.namespaces[1]?.history_meta_ttl, 48 * 3_600_000);
  rejects({ channel: { namespaces: { chat: {} } } }, 'channel.namespaces', /array of namespace objects/);
  rejects({ channel: { namespaces: ['chat'] } }, 'channel.namespaces[0]', /namespace object/);
  rejects({ channel: { namespaces: [{ presence: true }] } }, 'channel.namespaces[0].name', /namespace name/);
  rejects({ channel: { namespaces: [{ name: 'a' }] } }, 'channel.namespaces[0].name', /\^\[-a-zA-Z0-9_\]\{2,\}\$/, /"a"/);
  rejects({ channel: { namespaces: [{ name: 'bad:name' }] } }, 'channel.namespaces[0].name', /"bad:name"/);
  rejects({ channel: { namespaces: [{ name: 'chat' }, { name: 'chat' }] } }, 'channel.namespaces[1].name', /not unique/);
  rejects({ channel: { namespaces: [{ name: 'chat', presence: 'yes' }] } }, 'channel.namespaces[0].presence', /boolean/);
});

test('history and recovery rules name the key', () => {
  rejects({ channel: { namespaces: [{ name: 'chat', history_size: 10 }] } }, 'channel.namespaces[0].history_size', /history_size needs history_ttl/);
  rejects({ channel: { without_namespace: { history_ttl: '60s' } } }, 'channel.without_namespace.history_ttl', /history_ttl needs history_size/);
  rejects({ channel: { without_namespace: { force_recovery: true } } }, 'channel.without_namespace.force_recovery', /force_recovery needs history/);
  rejects({ channel: { namespaces: [{ name: 'chat', allow_recovery: true }] } }, 'channel.namespaces[0].allow_recovery', /allow_recovery needs history/);
  rejects(
    { channel: { history_meta_ttl: '60s', without_namespace: { history_size: 1, history_ttl: '120s' } } },
    'channel.without_namespace.history_ttl',
    /greater than history_meta_ttl/,
  );
  rejects({ channel: { without_namespace: { history_size: 1, history_ttl: '1500ms' } } }, 'channel.without_namespace.history_ttl', /sub-second/);
});

test('channel_regex must compile', () => {
  rejects({ channel: { namespaces: [{ name: 'chat', channel_regex: '([a-z' }] } }, 'channel.namespaces[0].channel_regex', /invalid regular expression/);
  validateConfig({ channel: { without_namespace: { channel_regex: '(?i)^[a-z0-9_]+$' } } });
  assert.ok(compileConfigRegex('(?i)^abc$').test('ABC'));
  assert.ok(!compileConfigRegex('^abc$').test('ABC'));
});

test('other cross-key rules', () => {
  rejects({ channel: { without_namespace: { subscribe_proxy_name: 'auth' } } }, 'channel.without_namespace.subscribe_proxy_name', /proxy "auth" is not defined/);
  validateConfig({ proxies: [{ name: 'auth', endpoint: 'http://x', timeout: '1s' }], channel: { without_namespace: { subscribe_proxy_name: 'auth' } } });
  rejects(
    { client: { subscribe_to_user_personal_channel: { enabled: true, personal_channel_namespace: 'personal' } } },
    'client.subscribe_to_user_personal_channel.personal_channel_namespace',
    /"personal" is not defined/,
  );
  rejects(
    { client: { subscribe_to_user_personal_channel: { enabled: true, single_connection: true } } },
    'client.subscribe_to_user_personal_channel.single_connection',
    /presence/,
  );
  validateConfig({
    client: { subscribe_to_user_personal_channel: { enabled: true, personal_channel_namespace: 'personal', single_connection: true } },
    channel: { namespaces: [{ name: 'personal', presence: true }] },
  });
  rejects({ client: { token: { user_id_claim: 'user.id' } } }, 'client.token.user_id_claim', /\^\[a-zA-Z_\]\+\$/);
  rejects({ client: { subscription_token: { issuer_regex: '(' } } }, 'client.subscription_token.issuer_regex', /invalid regular expression/);
  rejects({ http_server: { tls: { enabled: true } } }, 'http_server.tls.cert_pem_file', /TLS is enabled/);
  rejects({ http_server: { tls: { enabled: true, cert_pem: 'x', key_pem: 'y' } } }, 'http_server.tls.cert_pem_file', /cert_pem\/key_pem/);
  rejects({ channel: { namespace_boundary: '' } }, 'channel.namespace_boundary', /must not be empty/);
});

test('hmac_previous_secret_key_valid_until is Unix seconds, stored as ms', () => {
  const { config } = validateConfig({ client: { token: { hmac_previous_secret_key: 'old', hmac_previous_secret_key_valid_until: 1735689600 } } });
  assert.equal(config.client.token.hmac_previous_secret_key_valid_until, 1_735_689_600_000);
});

test('keys read but not enforced yet warn, naming the key and what bounds the risk instead', () => {
  // No key of the definition is left unenforced: a definition of its own shows the mechanism.
  const definition = keyNode(section({ limit: notEnforced(int(0, 'A limit.'), 'something else bounds it') }, 'Test.'));
  const walker = new Walker();
  walker.config(definition, { limit: 4 });
  assert.deepEqual(walker.warnings, ['key "limit" is not enforced by this Gyre version (something else bounds it)']);
  const quiet = new Walker();
  quiet.config(definition, {});
  assert.deepEqual(quiet.warnings, [], 'a key left out is not warned about');
  // Enforced now: no warning.
  const { warnings } = validateConfig({ websocket: { write_timeout: '2s' }, client: { concurrency: 4, write_delay: '5ms', max_messages_in_frame: 8 } });
  assert.deepEqual(warnings, []);
  assert.deepEqual(validateConfig({}).warnings, []);
});

test('the limits of the hardening: defaults, and the cross-key checks', () => {
  const { config } = validateConfig({});
  assert.equal(config.client.error_limit, 1000);
  assert.equal(config.client.error_limit_interval, 10_000);
  assert.equal(config.http_api.max_request_body_size, 16 * 1024 * 1024);
  assert.equal(config.http_api.max_batch_size, 10_000);
  assert.deepEqual(
    [config.http_server.read_header_timeout, config.http_server.read_timeout, config.http_server.idle_timeout],
    [10_000, 60_000, 30_000],
  );
  assert.throws(() => validateConfig({ http_server: { read_header_timeout: '2m', read_timeout: '1m' } }), /http_server\.read_header_timeout/);
  assert.throws(() => validateConfig({ client: { error_limit_interval: '0s' } }), /client\.error_limit_interval/);
  assert.throws(() => validateConfig({ http_api: { max_batch_size: -1 } }), /http_api\.max_batch_size/);
  assert.equal(validateConfig({ client: { error_limit: 0, error_limit_interval: '0s' } }).config.client.error_limit, 0);
});
