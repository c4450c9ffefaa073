/**
 * Without services: the inter-node wire format, the engine / broker / presence_manager config
 * sections (types, defaults, env, errors, warnings), Redis address parsing, and which engine parts
 * the factory builds from them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/validate.js';
import { NoopControlBus } from '../../src/engine/memory/control.js';
import { createEngine } from '../../src/engine/factory.js';
import { MemoryBroker } from '../../src/engine/memory/broker.js';
import { MemoryPresenceManager } from '../../src/engine/memory/presence.js';
import { NatsBroker, NatsControlBus } from '../../src/engine/nats/broker.js';
import { RedisBroker } from '../../src/engine/redis/broker.js';
import { shardSpecs, type ShardSpec } from '../../src/engine/redis/connect.js';
import { RedisControlBus } from '../../src/engine/redis/control.js';
import { RedisKeys } from '../../src/engine/redis/keys.js';
import { RedisPresenceManager } from '../../src/engine/redis/presence.js';
import { defaultRedis } from '../../src/config/defaults.js';
import { decodeEvent, decodePublication, encodeJoinLeave, encodePublication, encodePublicationBody } from '../../src/engine/wire.js';

const log = pino({ level: 'silent' });

// ---- wire format ----

test('wire: a publication round-trips with its raw data untouched', () => {
  const data = '{ "a" : [1, 2.50],\n "s": "x\\ny ✓" }';
  const info = { user: 'u', client: 'c', connInfo: '{ "n" : 1 }', chanInfo: '"x"' };
  const msg = encodePublication({ offset: 42, epoch: 'Ep0-_' }, encodePublicationBody(data, info, { k: 'v' }, true));
  const ev = decodeEvent(msg);
  assert.deepEqual(ev, { kind: 'pub', pub: { data, offset: 42, info, tags: { k: 'v' } }, position: { offset: 42, epoch: 'Ep0-_' }, useDelta: true });
  // Without info, tags or delta the header is empty.
  const bare = encodePublication({ offset: 0, epoch: '' }, encodePublicationBody('1', undefined, undefined, false));
  assert.equal(bare, 'p0::\n1');
  assert.deepEqual(decodePublication(bare), { data: '1', offset: 0 });
});

test('wire: join / leave round-trip; garbage decodes to null', () => {
  const info = { user: '', client: 'id' };
  assert.deepEqual(decodeEvent(encodeJoinLeave('join', info)), { kind: 'join', info });
  assert.deepEqual(decodeEvent(encodeJoinLeave('leave', info)), { kind: 'leave', info });
  for (const bad of ['', 'x', 'p1', 'p1:e', 'p1:e:no-newline', 'pX:e:\n1', 'p1:e:{bad\n1', 'j{', 'l[']) assert.equal(decodeEvent(bad), null, bad);
});

// ---- config ----

test('config: engine.redis takes an address string or list, with Centrifugo defaults', () => {
  const { config, warnings } = validateConfig({ engine: { type: 'redis', redis: { address: '127.0.0.1:6380', presence_ttl: '30s' } } });
  assert.deepEqual(config.engine.redis.address, ['127.0.0.1:6380']);
  assert.equal(config.engine.redis.prefix, 'centrifugo');
  assert.equal(config.engine.redis.presence_ttl, 30_000);
  assert.equal(config.engine.redis.io_timeout, 4_000);
  assert.deepEqual(warnings, []);
  const list = validateConfig({ engine: { type: 'redis', redis: { address: ['a:1', 'redis://b:2/3'] } } }).config;
  assert.deepEqual(list.engine.redis.address, ['a:1', 'redis://b:2/3']);
  assert.deepEqual(validateConfig({}).config.engine.redis.address, ['redis://127.0.0.1:6379']);
});

test('config: broker and presence_manager sections are typed (no "not supported" warning)', () => {
  const { config, warnings } = validateConfig({
    broker: { enabled: true, type: 'nats', nats: { url: 'nats://n:4222', prefix: 'p' } },
    presence_manager: { enabled: true, type: 'redis', redis: { address: 'r:6379' } },
  });
  assert.deepEqual(warnings, []);
  assert.equal(config.broker.type, 'nats');
  assert.deepEqual(config.broker.nats, { url: 'nats://n:4222', prefix: 'p', dial_timeout: 1000, write_timeout: 1000 });
  assert.deepEqual(config.presence_manager.redis.address, ['r:6379']);
});

test('config: errors name the key', () => {
  assert.throws(() => validateConfig({ broker: { enabled: true } }), /broker\.type: must be set when broker\.enabled is true/);
  assert.throws(() => validateConfig({ broker: { enabled: true, type: 'kafka' } }), /broker\.type: expected one of/);
  assert.throws(() => validateConfig({ presence_manager: { enabled: true, type: 'nats' } }), /presence_manager\.type: expected one of/);
  assert.throws(
    () => validateConfig({ engine: { type: 'redis', redis: { sentinel_address: 'h:26379' } } }),
    /engine\.redis\.sentinel_master_name: is required with sentinel_address/,
  );
  assert.throws(() => validateConfig({ engine: { type: 'redis', redis: { address: [] } } }), /engine\.redis\.address: needs at least one Redis address/);
  assert.throws(() => validateConfig({ engine: { type: 'redis', redis: { address: 5 } } }), /engine\.redis\.address: expected an array of strings/);
});

test('config: history_use_lists and history with a NATS broker are warned about', () => {
  const lists = validateConfig({ engine: { type: 'redis', redis: { history_use_lists: true } } });
  assert.ok(lists.warnings.some((w) => /history_use_lists.*Redis Streams/.test(w)));
  const nats = validateConfig({
    broker: { enabled: true, type: 'nats' },
    channel: { without_namespace: { history_size: 10, history_ttl: '60s' } },
  });
  assert.ok(nats.warnings.some((w) => /NATS broker keeps no history.*channel\.without_namespace/.test(w)));
});

test('config: the Redis address list comes from the environment too', () => {
  const { config } = loadConfig({ env: { CENTRIFUGO_ENGINE_TYPE: 'redis', CENTRIFUGO_ENGINE_REDIS_ADDRESS: 'a:1,b:2', GYRE_ENGINE_REDIS_PREFIX: 'x' } });
  assert.equal(config.engine.type, 'redis');
  assert.deepEqual(config.engine.redis.address, ['a:1', 'b:2']);
  assert.equal(config.engine.redis.prefix, 'x');
});

// ---- Redis addresses ----

test('redis addresses: host:port, URLs, TLS, sentinel and cluster forms', () => {
  const base = defaultRedis();
  const specs = shardSpecs({
    ...base,
    address: [
      '10.0.0.1:6380',
      'redis://user:p%40ss@h2:6390/2',
      'rediss://h3',
      'redis+sentinel://s1:26379?sentinel_master_name=m&addr=s2:26380&sentinel_password=sp',
      'redis+cluster://c1:7000?addr=c2:7001',
      'redis://c3:7000?addr=c4:7001',
    ],
  });
  assert.deepEqual(
    specs.map((s) => s.kind),
    ['standalone', 'standalone', 'standalone', 'sentinel', 'cluster', 'cluster'],
  );
  const [s0, s1, s2, s3, s4] = specs as [ShardSpec, ShardSpec, ShardSpec, ShardSpec, ShardSpec];
  assert.deepEqual(s0.kind === 'standalone' && s0.node, { host: '10.0.0.1', port: 6380 });
  assert.equal(s1.options.username, 'user');
  assert.equal(s1.options.password, 'p@ss');
  assert.equal(s1.options.db, 2);
  assert.ok(s2.options.tls !== undefined);
  assert.deepEqual(s3!.kind === 'sentinel' && [s3.name, s3.sentinels, s3.options.sentinelPassword], [
    'm',
    [
      { host: 's1', port: 26379 },
      { host: 's2', port: 26380 },
    ],
    'sp',
  ]);
  assert.deepEqual(s4.kind === 'cluster' && s4.nodes, [
    { host: 'c1', port: 7000 },
    { host: 'c2', port: 7001 },
  ]);
  // The explicit keys.
  assert.deepEqual(
    shardSpecs({ ...base, cluster_address: ['a:1,b:2', 'c:3'] }).map((s) => s.kind === 'cluster' && s.nodes.length),
    [2, 1],
  );
  const sentinel = shardSpecs({ ...base, sentinel_address: ['x:1', 'y:2'], sentinel_master_name: 'mm' });
  assert.equal(sentinel.length, 1);
  assert.equal(sentinel[0]!.kind, 'sentinel');
  assert.throws(() => shardSpecs({ ...base, address: ['ftp://x'] }), /unsupported scheme "ftp"/);
  assert.throws(() => shardSpecs({ ...base, address: ['redis+sentinel://x:1'] }), /needs sentinel_master_name/);
  assert.throws(() => shardSpecs({ ...base, address: ['host:99999'] }), /invalid port/);
});

test('redis keys: plain names, hash tags in a cluster', () => {
  const plain = new RedisKeys('p', false);
  assert.equal(plain.stream('news'), 'p.stream.news');
  assert.equal(plain.clientChannel('news'), 'p.client.news');
  assert.equal(plain.presenceData('news'), 'p.presence.data.news');
  const cluster = new RedisKeys('p', true);
  assert.equal(cluster.stream('news'), 'p.stream.{news}');
  assert.equal(cluster.meta('news'), 'p.meta.{news}');
  assert.equal(cluster.stream('a{b}'), 'p.stream.{ab}a{b}');
  assert.equal(cluster.clientChannel('news'), 'p.client.news');
});

// ---- factory ----

test('factory: the parts follow engine, broker and presence_manager', async () => {
  const build = (raw: Record<string, unknown>) => createEngine(validateConfig(raw).config, log);
  const parts = [
    build({}),
    build({ engine: { type: 'redis' } }),
    build({ broker: { enabled: true, type: 'nats' }, presence_manager: { enabled: true, type: 'redis' } }),
    build({ engine: { type: 'redis' }, broker: { enabled: true, type: 'nats' } }),
    build({ broker: { enabled: true, type: 'redis' } }),
  ];
  const kinds = parts.map((e) => [e.broker.constructor.name, e.presence.constructor.name, e.control.constructor.name, e.description]);
  assert.deepEqual(kinds, [
    [MemoryBroker.name, MemoryPresenceManager.name, NoopControlBus.name, 'memory'],
    [RedisBroker.name, RedisPresenceManager.name, RedisControlBus.name, 'redis'],
    [NatsBroker.name, RedisPresenceManager.name, NatsControlBus.name, 'broker nats, presence redis'],
    [NatsBroker.name, RedisPresenceManager.name, NatsControlBus.name, 'broker nats, presence redis'],
    [RedisBroker.name, MemoryPresenceManager.name, RedisControlBus.name, 'broker redis, presence memory'],
  ]);
  // Nothing was connected: closing the unused parts is quick and clean.
  for (const e of parts) {
    await e.broker.close();
    await e.presence.close();
    await e.control.close();
  }
  assert.throws(() => build({ engine: { type: 'redis', redis: { address: 'ftp://x' } } }), /unsupported scheme/);
});
