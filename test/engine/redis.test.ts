/**
 * The Redis engine against a real Redis (127.0.0.1:6379, keys under a prefix unique to this run):
 * the broker's publish Lua script (offsets, epochs, size, meta TTL, idempotency), history queries,
 * PUB/SUB between two brokers (two nodes) with the wire format, batched subscriptions, and the
 * presence manager (hash + expiry set, stats, refresh, cleanup of expired entries).
 */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { pino } from 'pino';
import { Redis } from 'ioredis';
import { defaultRedis } from '../../src/config/defaults.js';
import type { RedisConfig } from '../../src/config/types.js';
import { RedisBroker } from '../../src/engine/redis/broker.js';
import { RedisPresenceManager } from '../../src/engine/redis/presence.js';
import { RedisShards, shardIndex } from '../../src/engine/redis/shards.js';
import type { BrokerEventHandler, PublishOptions } from '../../src/engine/types.js';
import type { ClientInfo, Publication, StreamPosition } from '../../src/protocol/types.js';
import { until } from '../helpers/gyre.js';
import { deleteKeys, REDIS_URL, serviceTest, uniquePrefix } from '../helpers/services.js';

const log = pino({ level: 'silent' });
const prefix = uniquePrefix();
const HOUR = 3_600_000;
const KEEP: PublishOptions = { history: { size: 5, ttl: 60_000, metaTtl: HOUR } };
const NO_HISTORY: PublishOptions = { history: { size: 0, ttl: 0, metaTtl: HOUR } };

const opened: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const o of opened) await o.close();
  await deleteKeys(REDIS_URL, prefix).catch(() => {});
});

function redisConfig(over: Partial<RedisConfig> = {}): RedisConfig {
  return { ...defaultRedis(), address: [REDIS_URL], prefix, ...over };
}

/** Events a broker delivered to its node. */
class Recorder implements BrokerEventHandler {
  readonly pubs: Array<{ channel: string; pub: Publication; position: StreamPosition; useDelta: boolean }> = [];
  readonly joins: Array<{ channel: string; kind: string; info: ClientInfo }> = [];
  readonly lost: string[][] = [];
  onPublication(channel: string, pub: Publication, position: StreamPosition, useDelta: boolean): void {
    this.pubs.push({ channel, pub, position, useDelta });
  }
  onJoin(channel: string, info: ClientInfo): void {
    this.joins.push({ channel, kind: 'join', info });
  }
  onLeave(channel: string, info: ClientInfo): void {
    this.joins.push({ channel, kind: 'leave', info });
  }
  onStateLost(channels: readonly string[]): void {
    this.lost.push([...channels]);
  }
  datas(channel: string): string[] {
    return this.pubs.filter((p) => p.channel === channel).map((p) => String(p.pub.data));
  }
}

async function broker(cfg = redisConfig()): Promise<{ broker: RedisBroker; events: Recorder }> {
  const b = new RedisBroker(new RedisShards(cfg, log), log);
  opened.push(b);
  const events = new Recorder();
  await b.run(events);
  return { broker: b, events };
}

function ch(name: string): string {
  return `${name}-${Math.random().toString(36).slice(2, 8)}`;
}

serviceTest('redis broker: offsets count from 1 in one epoch; history keeps the last `size`', ['redis'], async () => {
  const { broker: b } = await broker();
  const c = ch('hist');
  const positions: StreamPosition[] = [];
  for (let i = 1; i <= 7; i++) positions.push((await b.publish(c, JSON.stringify({ i }), KEEP)).position);
  assert.deepEqual(
    positions.map((p) => p.offset),
    [1, 2, 3, 4, 5, 6, 7],
  );
  const epoch = positions[0]!.epoch;
  assert.ok(epoch !== '');
  assert.ok(positions.every((p) => p.epoch === epoch));
  const all = await b.history(c, { limit: -1, metaTtl: HOUR });
  assert.deepEqual(all.position, { offset: 7, epoch });
  assert.deepEqual(
    all.publications.map((p) => p.offset),
    [3, 4, 5, 6, 7],
  );
  assert.equal(all.publications[0]!.data, '{"i":3}');
  const read = async (q: { limit: number; since?: StreamPosition; reverse?: boolean }) =>
    (await b.history(c, { metaTtl: HOUR, ...q })).publications.map((p) => p.offset);
  assert.deepEqual(await read({ limit: 0 }), []);
  assert.deepEqual(await read({ limit: 2 }), [3, 4]);
  assert.deepEqual(await read({ limit: 2, reverse: true }), [7, 6]);
  assert.deepEqual(await read({ limit: -1, since: { offset: 4, epoch } }), [5, 6, 7]);
  assert.deepEqual(await read({ limit: 1, since: { offset: 4, epoch } }), [5]);
  assert.deepEqual(await read({ limit: -1, since: { offset: 6, epoch }, reverse: true }), [5, 4, 3]);
  assert.deepEqual(await read({ limit: -1, since: { offset: 7, epoch } }), []);
  // history_remove drops publications, the position stays.
  await b.removeHistory(c);
  const removed = await b.history(c, { limit: -1, metaTtl: HOUR });
  assert.deepEqual(removed.publications, []);
  assert.deepEqual(removed.position, { offset: 7, epoch });
  assert.equal((await b.publish(c, '{}', KEEP)).position.offset, 8);
});

serviceTest('redis broker: a publish without history has no position; a history read creates the epoch', ['redis'], async () => {
  const { broker: b } = await broker();
  const c = ch('nohist');
  assert.deepEqual((await b.publish(c, '1', NO_HISTORY)).position, { offset: 0, epoch: '' });
  const top = await b.history(c, { limit: 0, metaTtl: HOUR });
  assert.equal(top.position.offset, 0);
  assert.ok(top.position.epoch !== '');
  // The epoch created by the read is the one the next publish uses.
  assert.equal((await b.publish(c, '2', KEEP)).position.epoch, top.position.epoch);
});

serviceTest('redis broker: when the stream meta expires a new epoch starts from offset 1', ['redis'], async () => {
  const { broker: b } = await broker();
  const c = ch('meta');
  const short: PublishOptions = { history: { size: 5, ttl: 1000, metaTtl: 1000 } };
  const first = (await b.publish(c, '1', short)).position;
  await b.publish(c, '2', short);
  // Reads extend the meta TTL (they keep an epoch alive), so wait without reading.
  const raw = new Redis(REDIS_URL);
  try {
    await until(async () => (await raw.exists(`${prefix}.meta.${c}`)) === 0, 100);
  } finally {
    raw.disconnect();
  }
  const next = (await b.history(c, { limit: -1, metaTtl: 1000 })).position;
  assert.notEqual(next.epoch, first.epoch);
  assert.equal(next.offset, 0);
  const again = (await b.publish(c, '3', short)).position;
  assert.deepEqual(again, { offset: 1, epoch: next.epoch });
  assert.deepEqual(
    (await b.history(c, { limit: -1, metaTtl: 1000 })).publications.map((p) => p.data),
    ['3'],
  );
});

serviceTest('redis broker: an idempotency key suppresses a second publish and returns the first position', ['redis'], async () => {
  const a = await broker();
  const b = await broker();
  const c = ch('idem');
  await a.broker.subscribe(c);
  const first = await b.broker.publish(c, '"x"', { ...KEEP, idempotencyKey: 'k1' });
  const second = await b.broker.publish(c, '"x"', { ...KEEP, idempotencyKey: 'k1' });
  const third = await b.broker.publish(c, '"y"', { ...KEEP, idempotencyKey: 'k2' });
  assert.equal(first.suppressed, false);
  assert.equal(second.suppressed, true);
  assert.deepEqual(second.position, first.position);
  assert.equal(third.position.offset, first.position.offset + 1);
  await until(() => a.events.datas(c).length >= 2);
  assert.deepEqual(a.events.datas(c), ['"x"', '"y"']);
});

serviceTest('redis broker: PUB/SUB carries data byte for byte, info, tags, delta flag and position to other nodes', ['redis'], async () => {
  const a = await broker();
  const b = await broker();
  const c = ch('wire');
  await a.broker.subscribe(c);
  const data = '{ "text": "héllo\\nwörld ✓", "n": [1, 2.50, null] }';
  const info: ClientInfo = { user: 'u1', client: 'c1', connInfo: '{"name":"Ann"}', chanInfo: '{ "role" : "admin" }' };
  const res = await b.broker.publish(c, data, { ...KEEP, info, tags: { a: '1', b: 'two' }, useDelta: true });
  await b.broker.publish(c, 'true', NO_HISTORY);
  await until(() => a.events.datas(c).length === 2);
  const [first, second] = a.events.pubs.filter((p) => p.channel === c);
  assert.equal(first!.pub.data, data);
  assert.deepEqual(first!.pub.info, info);
  assert.deepEqual(first!.pub.tags, { a: '1', b: 'two' });
  assert.equal(first!.useDelta, true);
  assert.deepEqual(first!.position, res.position);
  assert.equal(first!.pub.offset, res.position.offset);
  assert.equal(second!.pub.data, 'true');
  assert.equal(second!.useDelta, false);
  assert.equal(second!.pub.info, undefined);
  assert.equal(second!.pub.offset, 0);
  // The same publication comes back from history.
  const h = await a.broker.history(c, { limit: -1, metaTtl: HOUR });
  assert.equal(h.publications[0]!.data, data);
  assert.deepEqual(h.publications[0]!.info, info);
  assert.deepEqual(h.publications[0]!.tags, { a: '1', b: 'two' });
});

serviceTest('redis broker: join and leave reach other nodes; after unsubscribe nothing more arrives', ['redis'], async () => {
  const a = await broker();
  const b = await broker();
  const c = ch('jl');
  const marker = ch('marker');
  await a.broker.subscribe(c);
  await a.broker.subscribe(marker);
  const info: ClientInfo = { user: 'u2', client: 'c2' };
  await b.broker.publishJoin(c, info);
  await b.broker.publishLeave(c, info);
  await until(() => a.events.joins.length === 2);
  assert.deepEqual(
    a.events.joins.map((j) => [j.channel, j.kind, j.info]),
    [
      [c, 'join', info],
      [c, 'leave', info],
    ],
  );
  await a.broker.unsubscribe(c);
  await b.broker.publish(c, '"late"', NO_HISTORY);
  // A publication on another channel after it: once it is in, the late one would have been too.
  await b.broker.publish(marker, '"m"', NO_HISTORY);
  await until(() => a.events.datas(marker).length === 1);
  assert.deepEqual(a.events.datas(c), []);
});

serviceTest('redis broker: many subscriptions at once are batched and all work', ['redis'], async () => {
  const a = await broker();
  const b = await broker();
  const channels = Array.from({ length: 600 }, (_, i) => `batch-${i}-${Math.random().toString(36).slice(2, 6)}`);
  await Promise.all(channels.map((c) => a.broker.subscribe(c)));
  const probe = new Redis(REDIS_URL);
  try {
    const subscribed = (await probe.pubsub('CHANNELS', `${prefix}.client.batch-*`)) as string[];
    assert.equal(subscribed.filter((s) => channels.some((c) => s.endsWith(c))).length, channels.length);
    await Promise.all(channels.map((c) => b.broker.publish(c, '1', NO_HISTORY)));
    await until(() => a.events.pubs.length === channels.length);
    await Promise.all(channels.map((c) => a.broker.unsubscribe(c)));
    const left = (await probe.pubsub('CHANNELS', `${prefix}.client.batch-*`)) as string[];
    assert.equal(left.filter((s) => channels.some((c) => s.endsWith(c))).length, 0);
  } finally {
    probe.disconnect();
  }
});

serviceTest('redis broker: subscribe then unsubscribe in one turn leaves the channel unsubscribed', ['redis'], async () => {
  const a = await broker();
  const c = ch('flip');
  const s = a.broker.subscribe(c);
  const u = a.broker.unsubscribe(c);
  await Promise.all([s, u]);
  const probe = new Redis(REDIS_URL);
  try {
    assert.deepEqual(await probe.pubsub('CHANNELS', `${prefix}.client.${c}`), []);
  } finally {
    probe.disconnect();
  }
});

serviceTest('redis presence: entries are shared between nodes, counted by user, and removed', ['redis'], async () => {
  const shardsA = new RedisShards(redisConfig(), log);
  const shardsB = new RedisShards(redisConfig(), log);
  const pa = new RedisPresenceManager(shardsA, log);
  const pb = new RedisPresenceManager(shardsB, log);
  opened.push(pa, pb);
  const c = ch('presence');
  await pa.addPresence(c, 'c1', { user: 'u1', client: 'c1', connInfo: '{"a":1}' });
  await pa.addPresence(c, 'c2', { user: 'u1', client: 'c2' });
  await pb.addPresence(c, 'c3', { user: 'u2', client: 'c3', chanInfo: '"x"' });
  const seen = await pb.presence(c);
  assert.deepEqual([...seen.keys()].sort(), ['c1', 'c2', 'c3']);
  assert.deepEqual(seen.get('c1'), { user: 'u1', client: 'c1', connInfo: '{"a":1}' });
  assert.deepEqual(seen.get('c3'), { user: 'u2', client: 'c3', chanInfo: '"x"' });
  assert.deepEqual(await pa.presenceStats(c), { numClients: 3, numUsers: 2 });
  await pa.removePresence(c, 'c1', 'u1');
  assert.deepEqual(await pb.presenceStats(c), { numClients: 2, numUsers: 2 });
  // Closing a node takes its presence away.
  await pa.close();
  assert.deepEqual([...(await pb.presence(c)).keys()], ['c3']);
  assert.deepEqual(await pb.presenceStats(ch('empty')), { numClients: 0, numUsers: 0 });
});

serviceTest('redis presence: expired entries (a vanished node) are dropped; live ones are refreshed', ['redis'], async () => {
  const shards = new RedisShards(redisConfig({ presence_ttl: 1000 }), log);
  const p = new RedisPresenceManager(shards, log);
  opened.push(p);
  const c = ch('expiry');
  await p.addPresence(c, 'live', { user: 'u', client: 'live' });
  // An entry of a node that died: its expiry time has passed, nobody refreshes it.
  const raw = new Redis(REDIS_URL);
  try {
    await raw.zadd(shards.keys.presenceExpire(c), Date.now() - 1, 'dead');
    await raw.hset(shards.keys.presenceData(c), 'dead', '{"u":"x","c":"dead"}');
    assert.deepEqual([...(await p.presence(c)).keys()], ['live']);
    assert.equal(await raw.hexists(shards.keys.presenceData(c), 'dead'), 0);
    // Well past the TTL the live entry is still there: the shared timer refreshed it.
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(await p.presenceStats(c), { numClients: 1, numUsers: 1 });
    const expireAt = Number(await raw.zscore(shards.keys.presenceExpire(c), 'live'));
    assert.ok(expireAt > Date.now());
  } finally {
    raw.disconnect();
  }
});

serviceTest('redis shards: jump hash spreads channels and is stable', ['redis'], async () => {
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) counts[shardIndex(`channel-${i}`, 3)]!++;
  for (const n of counts) assert.ok(n > 800 && n < 1200, `uneven spread ${counts.join(',')}`);
  assert.equal(shardIndex('news', 1), 0);
  // Adding a shard moves only the channels that go to the new one.
  let moved = 0;
  for (let i = 0; i < 3000; i++) {
    const before = shardIndex(`channel-${i}`, 3);
    const after = shardIndex(`channel-${i}`, 4);
    if (before !== after) {
      moved++;
      assert.equal(after, 3);
    }
  }
  assert.ok(moved > 500 && moved < 1000);
});
