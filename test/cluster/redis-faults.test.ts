/**
 * Redis faults, on a private `redis-server` per test (the shared one on 6379 is never touched):
 * - PUB/SUB connections dropped while another node keeps publishing: the subscriber is told to
 *   resubscribe (2500) and recovers every publication it missed, none twice, none lost;
 * - Redis killed: the publish API answers error 100 and logs it, clients stay connected; Redis back
 *   without its data: subscribers are told to resubscribe and learn the stream was lost
 *   (`recovered: false`), presence comes back, publishing works again;
 * - Redis back with its data (AOF): subscribers resubscribe and recover (`recovered: true`).
 */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import type { Centrifuge, PublicationContext, SubscribedContext, SubscribingContext } from 'centrifuge';
import { once, startGyre, until, type TestGyre } from '../helpers/gyre.js';
import { OwnRedis, serviceTest, uniquePrefix } from '../helpers/services.js';

const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => {});
});

async function twoNodes(redis: OwnRedis): Promise<[TestGyre, TestGyre]> {
  const prefix = uniquePrefix();
  const started = await Promise.all(
    ['fault-a', 'fault-b'].map((name) =>
      startGyre({
        log: { level: 'info' },
        node: { name },
        engine: { type: 'redis', redis: { address: redis.url, prefix, presence_ttl: '2s', io_timeout: '1s' } },
      }),
    ),
  );
  for (const n of started) cleanup.push(() => n.close());
  return started as [TestGyre, TestGyre];
}

/** A client on `node`, subscribed to `channel`, recording everything the application would see. */
async function watcher(node: TestGyre, channel: string) {
  const c: Centrifuge = node.client({ token: await node.token('watcher') });
  const events = { disconnects: 0, subscribing: [] as number[], subscribed: [] as SubscribedContext[], data: [] as number[] };
  // Any connection loss after the first subscribe counts (the SDK goes back to connecting).
  c.on('connecting', () => {
    if (events.subscribed.length > 0) events.disconnects++;
  });
  c.on('disconnected', () => events.disconnects++);
  const sub = c.newSubscription(channel);
  sub.on('publication', (ctx: PublicationContext) => events.data.push((ctx.data as { seq: number }).seq));
  sub.on('subscribing', (ctx: SubscribingContext) => {
    if (ctx.code !== 0) events.subscribing.push(ctx.code); // 0: the first subscribe
  });
  sub.on('subscribed', (ctx: SubscribedContext) => events.subscribed.push(ctx));
  const first = once(sub, 'subscribed');
  sub.subscribe();
  c.connect();
  await first;
  return { c, sub, events };
}

async function publish(node: TestGyre, channel: string, seq: number): Promise<Record<string, unknown>> {
  return node.api('publish', { channel, data: { seq } });
}

serviceTest('redis faults: PUB/SUB connections dropped mid-stream: subscribers recover every missed publication', ['redis-server'], async () => {
  const redis = await OwnRedis.start();
  cleanup.push(() => redis.stop());
  const [a, b] = await twoNodes(redis);
  const channel = 'stream';
  const w = await watcher(a, channel);
  const acked: number[] = [];
  // Publish through node B without pause until the subscriber on node A has been through a
  // resubscribe (and some more), its PUB/SUB connection killed after the 20th publication.
  let resubscribedAt = 0;
  for (let seq = 1; seq <= 5000 && (resubscribedAt === 0 || seq < resubscribedAt + 20); seq++) {
    const res = await publish(b, channel, seq);
    if (res['result'] !== undefined) acked.push(seq);
    if (seq === 20) await redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
    if (resubscribedAt === 0 && w.events.subscribed.length >= 2) resubscribedAt = seq;
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.ok(resubscribedAt > 0, 'the subscriber resubscribed');
  await until(() => w.events.data.length >= acked.length);
  assert.deepEqual(w.events.data, acked);
  assert.deepEqual(w.events.subscribing, [2500]);
  const resubscribed = w.events.subscribed[1]!;
  assert.equal(resubscribed.wasRecovering, true);
  assert.equal(resubscribed.recovered, true);
  assert.equal(w.events.disconnects, 0);
  assert.ok(a.logs.some((l) => /PUB\/SUB restored/.test(l.msg)));
  // Nothing leaks: once the client is gone, no node holds a Redis subscription for the channel.
  w.c.disconnect();
  await until(async () => ((await redis.command('PUBSUB', 'NUMSUB', `${a.server.config.engine.redis.prefix}.client.${channel}`)) as [string, number])[1] === 0);
});

serviceTest('redis faults: Redis down: publish answers 100, clients stay; back without data: subscribers are told', ['redis-server'], async () => {
  const redis = await OwnRedis.start();
  cleanup.push(() => redis.stop());
  const [a, b] = await twoNodes(redis);
  const channel = 'outage';
  const w = await watcher(a, channel);
  for (let i = 1; i <= 5; i++) assert.ok((await publish(b, channel, i))['result'] !== undefined);
  await until(() => w.events.data.length === 5);
  const epochBefore = w.events.subscribed[0]!.streamPosition?.epoch;

  await redis.down();
  let failed: Record<string, unknown> = {};
  await until(async () => {
    failed = await publish(b, channel, 100);
    return failed['error'] !== undefined;
  }, 20);
  assert.deepEqual(failed, { error: { code: 100, message: 'internal server error' } });
  assert.ok(b.logs.some((l) => l.level >= 50 && /server API command failed/.test(l.msg)));
  assert.ok(b.logs.some((l) => /Redis connection lost/.test(l.msg)));
  // The presence API fails the same way; the client is still connected.
  assert.equal(((await a.api('presence_stats', { channel }))['error'] as { code: number }).code, 100);
  assert.equal(w.c.state, 'connected');

  await redis.up();
  // Node A's PUB/SUB comes back: its subscriber is told to resubscribe and learns the stream is new.
  await until(() => w.events.subscribed.length === 2);
  assert.deepEqual(w.events.subscribing, [2500]);
  const again = w.events.subscribed[1]!;
  assert.equal(again.wasRecovering, true);
  assert.equal(again.recovered, false);
  assert.notEqual(again.streamPosition?.epoch, epochBefore);
  let ok: Record<string, unknown> = {};
  await until(async () => {
    ok = await publish(b, channel, 6);
    return ok['result'] !== undefined;
  }, 50);
  await until(() => w.events.data.includes(6));
  assert.deepEqual(w.events.data, [1, 2, 3, 4, 5, 6]);
  assert.equal(w.events.disconnects, 0);
  // Presence is back too: the node re-adds its entries on its refresh tick.
  await until(async () => ((await b.api('presence_stats', { channel }))['result'] as { num_clients?: number } | undefined)?.num_clients === 1, 50);
});

serviceTest('redis faults: Redis back with its data: subscribers resubscribe and recover', ['redis-server'], async () => {
  const redis = await OwnRedis.start({ persist: true });
  cleanup.push(() => redis.stop());
  const [a, b] = await twoNodes(redis);
  const channel = 'durable';
  const w = await watcher(a, channel);
  for (let i = 1; i <= 3; i++) await publish(b, channel, i);
  await until(() => w.events.data.length === 3);
  const epoch = w.events.subscribed[0]!.streamPosition?.epoch;
  await redis.down();
  await redis.up();
  await until(() => w.events.subscribed.length === 2);
  const again = w.events.subscribed[1]!;
  assert.equal(again.recovered, true);
  assert.equal(again.streamPosition?.epoch, epoch);
  let res: Record<string, unknown> = {};
  await until(async () => {
    res = await publish(b, channel, 4);
    return res['result'] !== undefined;
  }, 50);
  assert.deepEqual(res['result'], { offset: 4, epoch });
  await until(() => w.events.data.length === 4);
  assert.deepEqual(w.events.data, [1, 2, 3, 4]);
  assert.equal(w.events.disconnects, 0);
});

serviceTest('redis faults: a lost server-side subscription disconnects its client with 3010; it comes back and recovers', ['redis-server'], async () => {
  const redis = await OwnRedis.start();
  cleanup.push(() => redis.stop());
  const [a, b] = await twoNodes(redis);
  const c = a.client({ token: await a.token('server-side', { channels: ['feed'] }) });
  const codes: number[] = [];
  const subscribed: Array<{ recovered: boolean; wasRecovering: boolean }> = [];
  const data: number[] = [];
  c.on('connecting', (ctx) => codes.push(ctx.code));
  c.on('subscribed', (ctx) => subscribed.push({ recovered: ctx.recovered, wasRecovering: ctx.wasRecovering }));
  c.on('publication', (ctx) => data.push((ctx.data as { seq: number }).seq));
  const first = once(c, 'subscribed');
  c.connect();
  await first;
  await publish(b, 'feed', 1);
  await until(() => data.length === 1);
  await redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
  await until(() => subscribed.length === 2);
  assert.ok(codes.includes(3010), `connecting codes ${codes.join(',')}`);
  assert.deepEqual(subscribed[1], { recovered: true, wasRecovering: true });
  await until(async () => (await publish(b, 'feed', 2))['result'] !== undefined, 20);
  await until(() => data.includes(2));
  assert.deepEqual(data, [1, 2]);
});
