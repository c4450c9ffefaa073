/**
 * Several Gyre nodes acting as one over the real Redis (127.0.0.1:6379, keys under a prefix unique
 * to this run): three in-process servers on random ports, real `centrifuge` clients. Publications
 * reach subscribers on every node, presence and history are cluster-wide, recovery works across
 * nodes, `/api/info` lists every node, and the server API acts on connections wherever they are.
 */
import assert from 'node:assert/strict';
import { after } from 'node:test';
import type {
  Centrifuge,
  DisconnectedContext,
  PublicationContext,
  ServerSubscribedContext,
  SubscribedContext,
  UnsubscribedContext,
} from 'centrifuge';
import { once, startGyre, until, type TestGyre } from '../helpers/gyre.js';
import { deleteKeys, REDIS_URL, serviceTest, uniquePrefix } from '../helpers/services.js';

const prefix = uniquePrefix();
const nodes: TestGyre[] = [];
after(async () => {
  for (const n of nodes) await n.close();
  await deleteKeys(REDIS_URL, prefix).catch(() => {});
});

let cluster: Promise<[TestGyre, TestGyre, TestGyre]> | undefined;

/** Three nodes sharing the Redis prefix (started once, by the first test that needs them). */
function threeNodes(): Promise<[TestGyre, TestGyre, TestGyre]> {
  cluster ??= (async () => {
    const started = await Promise.all(
      ['node-a', 'node-b', 'node-c'].map((name) =>
        startGyre({
          log: { level: 'info' },
          node: { name },
          engine: { type: 'redis', redis: { address: REDIS_URL, prefix } },
          channel: {
            namespaces: [{ name: 'srv', presence: true, allow_subscribe_for_client: true }],
          },
        }),
      ),
    );
    nodes.push(...started);
    return started as [TestGyre, TestGyre, TestGyre];
  })();
  return cluster;
}

function ch(name: string): string {
  return `${name}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A connected client of `user` on `node`. */
async function connect(node: TestGyre, user: string): Promise<Centrifuge> {
  const c = node.client({ token: await node.token(user) });
  const connected = once(c, 'connected');
  c.connect();
  await connected;
  return c;
}

/** A subscription, subscribed, collecting publication data. */
async function subscribe(c: Centrifuge, channel: string, opts: Parameters<Centrifuge['newSubscription']>[1] = {}) {
  const sub = c.newSubscription(channel, opts);
  const data: unknown[] = [];
  sub.on('publication', (ctx: PublicationContext) => data.push(ctx.data));
  const subscribed = once<SubscribedContext>(sub, 'subscribed');
  sub.subscribe();
  const ctx = await subscribed;
  return { sub, data, ctx };
}

serviceTest('cluster: a client on node A receives what node B published, and other clients see what it publishes', ['redis'], async () => {
  const [a, b, c3] = await threeNodes();
  const channel = ch('news');
  const onA = await subscribe(await connect(a, 'alice'), channel);
  const onC = await subscribe(await connect(c3, 'carol'), channel);
  const res = await b.api('publish', { channel, data: { text: 'from B' } });
  assert.equal((res['result'] as { offset: number }).offset, 1);
  await until(() => onA.data.length === 1 && onC.data.length === 1);
  assert.deepEqual(onA.data, [{ text: 'from B' }]);
  assert.deepEqual(onC.data, [{ text: 'from B' }]);
  // A client publication on node A reaches node C.
  await onA.sub.publish({ text: 'from alice' });
  await until(() => onC.data.length === 2);
  assert.deepEqual(onC.data[1], { text: 'from alice' });
  // Broadcast through node C reaches node A.
  const other = ch('other');
  const onA2 = await subscribe(await connect(a, 'alice'), other);
  await c3.api('broadcast', { channels: [channel, other], data: { all: true } });
  await until(() => onA.data.length === 3 && onA2.data.length === 1);
});

serviceTest('cluster: join and leave of a client on one node reach subscribers on another', ['redis'], async () => {
  const [a, b] = await threeNodes();
  const channel = ch('room');
  const watcher = await subscribe(await connect(a, 'watcher'), channel, { joinLeave: true });
  const joins: string[] = [];
  const leaves: string[] = [];
  watcher.sub.on('join', (ctx) => joins.push(ctx.info.user));
  watcher.sub.on('leave', (ctx) => leaves.push(ctx.info.user));
  const visitor = await connect(b, 'visitor');
  const v = await subscribe(visitor, channel);
  await until(() => joins.includes('visitor'));
  v.sub.unsubscribe();
  await until(() => leaves.includes('visitor'));
});

serviceTest('cluster: presence and presence stats are cluster-wide', ['redis'], async () => {
  const [a, b, c3] = await threeNodes();
  const channel = ch('presence');
  const ca = await connect(a, 'u1');
  const cb = await connect(b, 'u2');
  const cb2 = await connect(b, 'u1');
  await subscribe(ca, channel);
  const onB = await subscribe(cb, channel);
  await subscribe(cb2, channel);
  for (const node of [a, b, c3]) {
    const p = (await node.api('presence', { channel }))['result'] as { presence: Record<string, { user: string }> };
    assert.deepEqual(Object.values(p.presence).map((e) => e.user).sort(), ['u1', 'u1', 'u2']);
    assert.deepEqual((await node.api('presence_stats', { channel }))['result'], { num_clients: 3, num_users: 2 });
  }
  // A client's own presence call on node A sees the clients on node B.
  const viaClient = await onB.sub.presence();
  assert.equal(Object.keys(viaClient.clients).length, 3);
  cb.disconnect();
  await until(async () => ((await c3.api('presence_stats', { channel }))['result'] as { num_clients: number }).num_clients === 2);
});

serviceTest('cluster: history and recovery across nodes', ['redis'], async () => {
  const [a, b] = await threeNodes();
  const channel = ch('recover');
  const first = await connect(a, 'rita');
  const s = await subscribe(first, channel);
  await b.api('publish', { channel, data: { n: 1 } });
  await until(() => s.data.length === 1);
  const position = { offset: 1, epoch: s.ctx.streamPosition?.epoch ?? '' };
  assert.ok(position.epoch !== '');
  first.disconnect();
  // Missed while away, published through both nodes.
  await b.api('publish', { channel, data: { n: 2 } });
  await a.api('publish', { channel, data: { n: 3 } });
  const hist = (await a.api('history', { channel, limit: -1 }))['result'] as { publications: Array<{ data: unknown; offset: number }>; epoch: string };
  assert.deepEqual(
    hist.publications.map((p) => p.offset),
    [1, 2, 3],
  );
  assert.equal(hist.epoch, position.epoch);
  // Back, on the other node, from the position the client had.
  const again = await connect(b, 'rita');
  const sub = again.newSubscription(channel, { since: position });
  const data: unknown[] = [];
  sub.on('publication', (ctx: PublicationContext) => data.push(ctx.data));
  const subscribed = once<SubscribedContext>(sub, 'subscribed');
  sub.subscribe();
  const ctx = await subscribed;
  assert.equal(ctx.wasRecovering, true);
  assert.equal(ctx.recovered, true);
  await until(() => data.length === 2);
  assert.deepEqual(data, [{ n: 2 }, { n: 3 }]);
});

serviceTest('cluster: /api/info lists every node with its stats', ['redis'], async () => {
  const [a, b, c3] = await threeNodes();
  const info = async () => ((await b.api('info'))['result'] as { nodes: Array<{ uid: string; name: string; num_clients: number }> }).nodes;
  await until(async () => (await info()).length === 3);
  const list = await info();
  assert.deepEqual(list.map((n) => n.name).sort(), ['node-a', 'node-b', 'node-c']);
  assert.deepEqual(new Set(list.map((n) => n.uid)), new Set([a.server.node.id, b.server.node.id, c3.server.node.id]));
  assert.equal(list[0]!.name, 'node-b');
});

serviceTest('cluster: disconnect through node B drops the user on node A (whitelist respected)', ['redis'], async () => {
  const [a, b] = await threeNodes();
  const clients = [await connect(a, 'victim'), await connect(a, 'victim')];
  const keep = a.server.node.clientsOf('victim')[0]!.id;
  const disconnected: DisconnectedContext[] = [];
  for (const c of clients) c.on('disconnected', (ctx: DisconnectedContext) => disconnected.push(ctx));
  const res = await b.api('disconnect', { user: 'victim', whitelist: [keep] });
  assert.deepEqual(res, { result: {} });
  await until(() => disconnected.length === 1);
  assert.equal(disconnected[0]!.code, 3503);
  assert.deepEqual(
    a.server.node.clientsOf('victim').map((c) => c.id),
    [keep],
  );
});

serviceTest('cluster: unsubscribe, subscribe and refresh through node B act on node A', ['redis'], async () => {
  const [a, b] = await threeNodes();
  const channel = ch('srv-target');
  const c = await connect(a, 'sam');
  const s = await subscribe(c, channel);
  const unsubscribed = once<UnsubscribedContext>(s.sub, 'unsubscribed');
  await b.api('unsubscribe', { user: 'sam', channel });
  assert.equal((await unsubscribed).code, 2000);

  const serverChannel = `srv:${ch('push')}`;
  const subscribed = once<ServerSubscribedContext>(c, 'subscribed');
  await b.api('subscribe', { user: 'sam', channel: serverChannel });
  assert.equal((await subscribed).channel, serverChannel);
  await until(() => a.server.node.hub.subscriberCount(serverChannel) === 1);

  const expireAt = Math.floor(Date.now() / 1000) + 3600;
  await b.api('refresh', { user: 'sam', expire_at: expireAt });
  await until(() => a.server.node.clientsOf('sam')[0]?.expireAt === expireAt);
});

serviceTest('cluster: /api/channels counts subscribers on every node', ['redis'], async () => {
  const [a, b, c3] = await threeNodes();
  const channel = ch('counted');
  await subscribe(await connect(a, 'x'), channel);
  await subscribe(await connect(b, 'y'), channel);
  await subscribe(await connect(b, 'z'), channel);
  const res = (await c3.api('channels', { pattern: 'counted-*' }))['result'] as { channels: Record<string, { num_clients: number }> };
  assert.deepEqual(res.channels[channel], { num_clients: 3 });
});

serviceTest('cluster: a node that shuts down leaves the registry at once', ['redis'], async () => {
  const [a] = await threeNodes();
  const extra = await startGyre({ log: { level: 'info' }, node: { name: 'node-extra' }, engine: { type: 'redis', redis: { address: REDIS_URL, prefix } } });
  const names = async () => ((await a.api('info'))['result'] as { nodes: Array<{ name: string }> }).nodes.map((n) => n.name);
  await until(async () => (await names()).includes('node-extra'));
  await extra.close();
  await until(async () => !(await names()).includes('node-extra'));
});

serviceTest('cluster: node.disconnectUser closes a user\'s connections on every node but the one kept', ['redis'], async () => {
  const [a, b, c3] = await threeNodes();
  const onB = await connect(b, 'single');
  const onC = await connect(c3, 'single');
  const kept = await connect(a, 'single');
  const keepId = a.server.node.clientsOf('single')[0]!.id;
  const codes: number[] = [];
  for (const c of [onB, onC]) c.on('disconnected', (ctx: DisconnectedContext) => codes.push(ctx.code));
  await a.server.node.disconnectUser('single', { code: 3504, reason: 'connection limit' }, keepId);
  await until(() => codes.length === 2);
  assert.deepEqual(codes, [3504, 3504]);
  assert.equal(kept.state, 'connected');
});
