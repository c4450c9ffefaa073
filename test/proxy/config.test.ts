/**
 * Proxy and gRPC API configuration: the v6 keys typed and checked, the older flat keys lifted into
 * them (v6 wins), errors naming the key (and the flat key it came from), env vars, JSON comments.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfigText } from '../../src/config/files.js';
import { loadConfig } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/validate.js';
import { ProxyRouter } from '../../src/proxy/router.js';

function configError(input: unknown): ConfigError {
  try {
    validateConfig(input);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  throw new Error('expected a ConfigError');
}

describe('v6 keys', () => {
  test('typed, with defaults and durations in ms', () => {
    const { config, warnings } = validateConfig({
      client: { proxy: { connect: { enabled: true, endpoint: 'http://app/connect', timeout: '3s', http_headers: ['Cookie'] } } },
      channel: {
        proxy: { subscribe: { endpoint: 'grpc://app:10001', grpc: { credentials_key: 'k', credentials_value: 'v', static_metadata: { a: 'b' } } } },
        namespaces: [{ name: 'chat', subscribe_proxy_enabled: true, publish_proxy_enabled: true, publish_proxy_name: 'pub' }],
      },
      proxies: [{ name: 'pub', endpoint: 'https://app/publish', http: { static_headers: { 'X-Static': '1' } }, binary_encoding: true }],
      rpc: { proxy: { endpoint: 'http://app/rpc' }, namespaces: [{ name: 'admin', proxy_enabled: true, proxy_name: 'pub' }] },
      grpc_api: { enabled: true, port: 10500, key: 'k' },
    });
    assert.deepEqual(warnings, []);
    assert.equal(config.client.proxy.connect.timeout, 3000);
    assert.deepEqual(config.client.proxy.connect.http_headers, ['Cookie']);
    assert.equal(config.client.proxy.refresh.enabled, false);
    assert.equal(config.channel.proxy.subscribe.timeout, 1000);
    assert.deepEqual(config.channel.proxy.subscribe.grpc.static_metadata, { a: 'b' });
    assert.equal(config.proxies[0]!.binary_encoding, true);
    assert.deepEqual(config.proxies[0]!.http.static_headers, { 'X-Static': '1' });
    assert.equal(config.proxies[0]!.timeout, 1000);
    assert.deepEqual(config.rpc.namespaces, [{ name: 'admin', proxy_enabled: true, proxy_name: 'pub' }]);
    assert.deepEqual([config.grpc_api.enabled, config.grpc_api.port, config.grpc_api.address], [true, 10500, '']);

    const router = new ProxyRouter(config);
    const chat = config.channel.namespaces[0]!;
    assert.equal(router.route('connect')?.name, 'client.proxy.connect');
    assert.equal(router.route('refresh'), undefined);
    assert.equal(router.route('subscribe', chat)?.name, 'channel.proxy.subscribe');
    assert.equal(router.route('publish', chat)?.name, 'proxies.pub');
    assert.equal(router.route('sub_refresh', chat), undefined);
    assert.equal(router.route('subscribe', config.channel.without_namespace), undefined);
    assert.equal(router.route('rpc', 'admin:ban')?.name, 'proxies.pub');
    // rpc.without_namespace.proxy_enabled is off: methods outside "admin" are not proxied.
    assert.equal(router.route('rpc', 'ping'), undefined);
    assert.equal(router.route('rpc', 'other:x'), undefined);
  });

  test('mistakes are errors naming the key', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ client: { proxy: { connect: { enabled: true } } } }, /client\.proxy\.connect\.endpoint: is required/],
      [{ channel: { proxy: { publish: { endpoint: 'ftp://x' } } } }, /channel\.proxy\.publish\.endpoint: expected an http/],
      [{ rpc: { proxy: { endpoint: 'grpc://host' } } }, /rpc\.proxy\.endpoint: a gRPC endpoint is grpc:\/\/host:port/],
      [{ proxies: [{ name: 'default', endpoint: 'http://x' }] }, /proxies\[0\]\.name: the name "default" is reserved/],
      [{ proxies: [{ name: 'a', endpoint: 'http://x' }, { name: 'a', endpoint: 'http://y' }] }, /proxies\[1\]\.name.*not unique/],
      [{ proxies: [{ name: 'a' }] }, /proxies\[0\]\.endpoint: is required/],
      [{ proxies: [{ name: 'a b', endpoint: 'http://x' }] }, /proxies\[0\]\.name: expected a name matching/],
      [{ rpc: { namespaces: [{ name: 'ns', proxy_enabled: true, proxy_name: 'missing' }] } }, /rpc\.namespaces\[0\]\.proxy_name: proxy "missing" is not defined/],
      [{ channel: { without_namespace: { subscribe_proxy_name: 'missing' } } }, /subscribe_proxy_name: proxy "missing" is not defined/],
      [{ client: { proxy: { connect: { timeout: 5 } } } }, /client\.proxy\.connect\.timeout: expected a duration/],
      [{ proxies: [{ name: 'a', endpoint: 'http://x', http: { static_headers: { x: 1 } } }] }, /proxies\[0\]\.http\.static_headers\.x: expected a string/],
      [{ grpc_api: { port: 70000 } }, /grpc_api\.port: expected an integer in 0\.\.65535/],
      [{ grpc_api: { enabled: true, tls: { enabled: true } } }, /grpc_api\.tls: TLS is enabled/],
    ];
    for (const [input, re] of cases) assert.match(configError(input).message, re, JSON.stringify(input));
  });

  test('a proxy switched on without an endpoint is a warning', () => {
    const { warnings } = validateConfig({
      channel: { without_namespace: { subscribe_proxy_enabled: true } },
      rpc: { without_namespace: { proxy_enabled: true } },
    });
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /rpc\.without_namespace\.proxy_enabled is true but rpc\.proxy\.endpoint is not set/);
    assert.match(warnings[1]!, /channel\.without_namespace\.subscribe_proxy_enabled is true but channel\.proxy\.subscribe\.endpoint is not set/);
  });

  test('env vars: sections as JSON, keys by path', () => {
    const { config } = loadConfig({
      env: {
        GYRE_PROXIES: '[{"name":"a","endpoint":"http://x/y","timeout":"2s"}]',
        CENTRIFUGO_CLIENT_PROXY_CONNECT_ENABLED: 'true',
        CENTRIFUGO_CLIENT_PROXY_CONNECT_ENDPOINT: 'grpc://app:1',
        CENTRIFUGO_CLIENT_PROXY_CONNECT_HTTP_HEADERS: 'Cookie,Authorization',
        CENTRIFUGO_CHANNEL_PROXY_SUBSCRIBE_HTTP_STATIC_HEADERS: '{"X-A":"1"}',
        CENTRIFUGO_GRPC_API_ENABLED: 'true',
        CENTRIFUGO_GRPC_API_PORT: '10100',
      },
    });
    assert.equal(config.proxies[0]!.timeout, 2000);
    assert.deepEqual(config.client.proxy.connect.http_headers, ['Cookie', 'Authorization']);
    assert.deepEqual(config.channel.proxy.subscribe.http.static_headers, { 'X-A': '1' });
    assert.deepEqual([config.grpc_api.enabled, config.grpc_api.port], [true, 10100]);
  });
});

describe('the older flat keys', () => {
  test('per-event endpoints, channel flags, common settings and the gRPC API', () => {
    const { config, warnings } = validateConfig({
      proxy_connect_endpoint: 'http://app/connect',
      proxy_connect_timeout: '10s',
      proxy_refresh_endpoint: 'http://app/refresh',
      proxy_rpc_endpoint: 'grpc://app:10001',
      proxy_subscribe_endpoint: 'grpc://app:10001',
      proxy_publish_endpoint: 'grpc://app:10001',
      proxy_sub_refresh_endpoint: 'grpc://app:10001',
      proxy_subscribe: true,
      proxy_http_headers: ['Cookie'],
      proxy_grpc_metadata: ['x-trace'],
      proxy_include_connection_meta: true,
      proxy_binary_encoding: true,
      proxy_static_http_headers: { 'X-S': '1' },
      proxy_grpc_credentials_key: 'token',
      proxy_grpc_credentials_value: 'secret',
      proxy_subscribe_stream_endpoint: 'grpc://app:10001',
      channel: { namespaces: [{ name: 'chat', proxy_publish: true, proxy_sub_refresh: true }] },
      grpc_api: true,
      grpc_api_address: '127.0.0.1',
      grpc_api_port: 10002,
      grpc_api_key: 'k',
    });
    const { connect, refresh } = config.client.proxy;
    assert.deepEqual([connect.enabled, connect.endpoint, connect.timeout], [true, 'http://app/connect', 10_000]);
    assert.deepEqual([refresh.enabled, refresh.timeout], [true, 1000]);
    for (const p of [connect, refresh, config.rpc.proxy, config.channel.proxy.subscribe, config.channel.proxy.publish, config.channel.proxy.sub_refresh]) {
      assert.deepEqual(p.http_headers, ['Cookie']);
      assert.deepEqual(p.grpc_metadata, ['x-trace']);
      assert.equal(p.include_connection_meta, true);
      assert.equal(p.binary_encoding, true);
      assert.deepEqual(p.http.static_headers, { 'X-S': '1' });
      assert.deepEqual([p.grpc.credentials_key, p.grpc.credentials_value], ['token', 'secret']);
    }
    assert.equal(config.rpc.without_namespace.proxy_enabled, true);
    assert.equal(config.channel.without_namespace.subscribe_proxy_enabled, true);
    assert.equal(config.channel.without_namespace.publish_proxy_enabled, false);
    const chat = config.channel.namespaces[0]!;
    assert.deepEqual([chat.subscribe_proxy_enabled, chat.publish_proxy_enabled, chat.sub_refresh_proxy_enabled], [false, true, true]);
    assert.deepEqual(
      [config.grpc_api.enabled, config.grpc_api.address, config.grpc_api.port, config.grpc_api.key],
      [true, '127.0.0.1', 10002, 'k'],
    );
    // Only the flat key Gyre does not use is reported.
    assert.deepEqual(warnings, [
      'key "proxy_subscribe_stream_endpoint" is valid Centrifugo configuration that this Gyre version does not support yet; it is ignored',
    ]);
  });

  test('the v6 keys win; proxy_connect: false switches connect off', () => {
    const { config } = validateConfig({
      proxy_connect_endpoint: 'http://flat/connect',
      proxy_connect: false,
      proxy_rpc_endpoint: 'http://flat/rpc',
      rpc: { proxy: { endpoint: 'http://v6/rpc' } },
      proxy_publish: true,
      channel: { without_namespace: { publish_proxy_enabled: false } },
    });
    assert.deepEqual([config.client.proxy.connect.enabled, config.client.proxy.connect.endpoint], [false, 'http://flat/connect']);
    assert.equal(config.rpc.proxy.endpoint, 'http://v6/rpc');
    assert.equal(config.channel.without_namespace.publish_proxy_enabled, false);
  });

  test('errors name the flat key the value came from', () => {
    assert.match(configError({ proxy_connect_endpoint: 'http://x', proxy_connect_timeout: 'soon' }).message, /^client\.proxy\.connect\.timeout \(from key proxy_connect_timeout\): expected a duration/);
    assert.match(configError({ proxy_rpc_endpoint: 'tcp://x:1' }).message, /^rpc\.proxy\.endpoint \(from key proxy_rpc_endpoint\)/);
    assert.match(configError({ proxy_connect: 'yes' }).message, /^proxy_connect: expected a boolean/);
    assert.match(configError({ grpc_api_port: 'x' }).message, /^grpc_api\.port \(from key grpc_api_port\): expected an integer/);
  });

  test('the input is not changed', () => {
    const input = { proxy_connect_endpoint: 'http://x', channel: { namespaces: [{ name: 'ab', proxy_subscribe: true }] } };
    const copy = structuredClone(input);
    validateConfig(input);
    assert.deepEqual(input, copy);
  });
});

test('JSON config files may hold comments (a copied snippet with "// ...")', () => {
  const text = '{\n  // ...\n  "a": "http://not-a-comment", /* block */ "b": "x // y"\n}';
  assert.deepEqual(parseConfigText(text, 'json'), { a: 'http://not-a-comment', b: 'x // y' });
  assert.throws(() => parseConfigText('{\n // ...\n "a": }', 'json'), ConfigError);
});
