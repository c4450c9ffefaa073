/**
 * Gyre nodes over the real NATS (127.0.0.1:4222, subjects under a prefix unique to this run) as
 * the broker, with presence in the real Redis (`broker.type: nats` + `presence_manager.type:
 * redis`, Centrifugo's layout): publications and join/leave reach every node, presence is
 * cluster-wide, the node registry and server API commands travel over NATS, and history is not
 * available (108), as with Centrifugo's NATS broker.
 */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import type { Centrifuge, PublicationContext, SubscribedContext } from 'centrifuge';
import { validateConfig } from '../../src/config/validate.js';
import { deepMerge } from '../../src/config/tree.js';
import { BASE_CONFIG, once, startGyre, until, type TestGyre } from '../helpers/gyre.js';
import { deleteKeys, NATS_URL, REDIS_URL, serviceTest, uniquePrefix } from '../helpers/services.js';

const prefix = uniquePrefix();
const nodes: TestGyre[] = [];
after(async () => {
  for (const n of nodes) await n.close();
  await deleteKeys(REDIS_URL, prefix).catch(() => {});
});

const NATS_CONFIG = {
  log: { level: 'info' as const },
  broker: { enabled: true, type: 'nats' as const, nats: { url: NATS_URL, prefix } },
  presence_manager: { enabled: true, type: 'redis' as const, redis: { address: REDIS_URL, prefix } },
  channel: {
    without_namespace: { history_size: 0, history_ttl: '0s', force_recovery: false },
    namespaces: [{ name: 'hist', history_size: 10, history_ttl: '60s', allow_subscribe_for_client: true, allow_history_for_client: true }],
  },
};

let pair: Promise<[TestGyre, TestGyre]> | undefined;
function twoNodes(): Promise<[TestGyre, TestGyre]> {
  pair ??= (async () => {
    const started = await Promise.all(['nats-a', 'nats-b'].map((name) => startGyre({ ...NATS_CONFIG, node: { name } })));
    nodes.push(...started);
    return started as [TestGyre, TestGyre];
  })();
  return pair;
}

function ch(name: string): string {
  return `${name}-${Math.random().toString(36).slice(2, 8)}`;
}

async function connect(node: TestGyre, user: string): Promise<Centrifuge> {
  const c = node.client({ token: await node.token(user) });
  const connected = once(c, 'connected');
  c.connect();
  await connected;
  return c;
}

async function subscribe(c: Centrifuge, channel: string, joinLeave = false) {
  const sub = c.newSubscription(channel, { joinLeave });
  const data: unknown[] = [];
  sub.on('publication', (ctx: PublicationContext) => data.push(ctx.data));
  const subscribed = once<SubscribedContext>(sub, 'subscribed');
  sub.subscribe();
  await subscribed;
  return { sub, data };
}

serviceTest('nats: a client on node A receives what node B published; client publications cross too', ['nats', 'redis'], async () => {
  const [a, b] = await twoNodes();
  const channel = ch('news');
  const onA = await subscribe(await connect(a, 'alice'), channel);
  const onB = await subscribe(await connect(b, 'bob'), channel);
  const res = await b.api('publish', { channel, data: { text: 'via nats' } });
  // No history with NATS: no offset, no epoch.
  assert.deepEqual(res, { result: {} });
  await until(() => onA.data.length === 1 && onB.data.length === 1);
  assert.deepEqual(onA.data, [{ text: 'via nats' }]);
  await onA.sub.publish({ from: 'alice' });
  await until(() => onB.data.length === 2);
  assert.deepEqual(onB.data[1], { from: 'alice' });
  // A channel name that is no valid NATS subject still works.
  const odd = `odd name *> ..${ch('x')}`;
  const oddA = await subscribe(await connect(a, 'alice'), odd);
  await b.api('publish', { channel: odd, data: 1 });
  await until(() => oddA.data.length === 1);
});

serviceTest('nats: join/leave cross nodes; presence (in Redis) is cluster-wide', ['nats', 'redis'], async () => {
  const [a, b] = await twoNodes();
  const channel = ch('room');
  const w = await subscribe(await connect(a, 'watcher'), channel, true);
  const joins: string[] = [];
  w.sub.on('join', (ctx) => joins.push(ctx.info.user));
  const visitor = await connect(b, 'visitor');
  await subscribe(visitor, channel);
  await until(() => joins.includes('visitor'));
  assert.deepEqual((await a.api('presence_stats', { channel }))['result'], { num_clients: 2, num_users: 2 });
  visitor.disconnect();
  await until(async () => ((await b.api('presence_stats', { channel }))['result'] as { num_clients: number }).num_clients === 1);
});

serviceTest('nats: the node registry and server API commands travel over NATS', ['nats', 'redis'], async () => {
  const [a, b] = await twoNodes();
  await until(async () => ((await a.api('info'))['result'] as { nodes: unknown[] }).nodes.length === 2);
  const c = await connect(a, 'target');
  const disconnected = once<{ code: number }>(c, 'disconnected');
  await b.api('disconnect', { user: 'target' });
  assert.equal((await disconnected).code, 3503);
  const channel = ch('listed');
  await subscribe(await connect(a, 'lister'), channel);
  const res = (await b.api('channels', {}))['result'] as { channels: Record<string, { num_clients: number }> };
  assert.deepEqual(res.channels[channel], { num_clients: 1 });
});

serviceTest('nats: history is not available (108), as with Centrifugo; the config says so', ['nats', 'redis'], async () => {
  const [a] = await twoNodes();
  assert.deepEqual(await a.api('history', { channel: 'hist:x', limit: 10 }), { error: { code: 108, message: 'not available' } });
  assert.deepEqual(await a.api('history_remove', { channel: 'hist:x' }), { error: { code: 108, message: 'not available' } });
  // Publishing still works: delivered, not kept.
  assert.deepEqual(await a.api('publish', { channel: 'hist:x', data: 1 }), { result: {} });
  // A subscription asking for recovery needs history: 108.
  const raw = await a.raw();
  await raw.connect(await a.token('r'));
  raw.sendJson({ id: 2, subscribe: { channel: 'hist:y', recoverable: true, recover: true, offset: 1, epoch: 'e' } });
  assert.deepEqual((await raw.reply(2))['error'], { code: 108, message: 'not available' });
  const { warnings } = validateConfig(deepMerge(BASE_CONFIG, NATS_CONFIG));
  assert.ok(warnings.some((w) => /NATS broker keeps no history/.test(w) && /namespace "hist"/.test(w)));
});
