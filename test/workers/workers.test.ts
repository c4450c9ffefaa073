/**
 * `gyre serve --workers 2` as a real process group (the CLI through tsx, node:cluster sharing the
 * port), with the real `centrifuge` SDK, on the embedded engine the primary hosts: clients on
 * different workers (told apart by the `node` of their connect replies) exchange publications,
 * see one presence and one history, a user is disconnected whichever worker holds it, the event
 * endpoint's sendToUser crosses workers, HTTP-streaming commands posted to any worker reach the
 * session, `/api/info` lists each worker, `start_server` runs once in the primary and
 * `start_worker` once per worker. Then the faults: a worker killed with SIGKILL (the others'
 * clients see nothing but the leaves of its clients, its clients reconnect and recover, the primary
 * restarts it), a worker that
 * stops answering (SIGSTOP) is replaced.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { PublicationContext, Subscription } from 'centrifuge';
import WebSocket from 'ws';
import { EMULATION_VARIANTS, emulationClient } from '../helpers/emulation.js';
import { once, until } from '../helpers/wait.js';
import { BASE_CONFIG, nodeAwareClient, startWorkers, type NodeAwareClient, type WorkerGroup } from '../helpers/workers.js';

const HOOKS = `import { appendFileSync } from 'node:fs';
export async function onServer(server, event) {
  // The primary holds no connection: a broadcast is run by a worker.
  const broadcast = await server.broadcast('started', {}).then(() => 'ok', (e) => e.message);
  appendFileSync('hooks.log', JSON.stringify({ hook: 'start_server', pid: process.pid, port: event.port, broadcast }) + '\\n');
}
export function onWorker(server, event) {
  appendFileSync('hooks.log', JSON.stringify({ hook: 'start_worker', pid: process.pid, node: event.nodeId }) + '\\n');
}
`;

const LISTENERS = `export async function bind(server, message) {
  const ok = await server.bindUser(message.connectionId, message.data.user);
  server.sendMessage(message.connectionId, 'bound', { node: server.nodeId, ok });
}
export function notify(server, message) {
  return server.sendToUser(message.data.user, 'note', message.data.text);
}
`;

const CONFIG = {
  ...BASE_CONFIG,
  log: { level: 'info' },
  http_server: { port: 0, address: '127.0.0.1' },
  workers: 2,
  worker_timeout: '3s',
  shutdown: { timeout: '10s' },
  http_stream: { enabled: true },
  events: {
    enabled: true,
    listeners: ['bind=./listeners.mjs#bind', 'notify=./listeners.mjs#notify'],
    hooks: ['start_server=./hooks.mjs#onServer', 'start_worker=./hooks.mjs#onWorker'],
  },
};

let group: WorkerGroup;
const clients: NodeAwareClient[] = [];

before(async () => {
  group = await startWorkers(CONFIG, { files: { 'hooks.mjs': HOOKS, 'listeners.mjs': LISTENERS } });
});

after(async () => {
  for (const c of clients) c.c.disconnect();
  await group?.close();
});

/** A connected SDK client of `user`. */
async function connect(user: string): Promise<NodeAwareClient> {
  const c = nodeAwareClient(group.wsUrl, { token: await group.token(user) });
  clients.push(c);
  const connected = once(c.c, 'connected', 'SDK client did not connect');
  c.c.connect();
  await connected;
  return c;
}

/** Connects clients until there is one on each of the two workers; returns [on worker A, on worker B]. */
async function onBothWorkers(user: string): Promise<[NodeAwareClient, NodeAwareClient]> {
  const byNode = new Map<string, NodeAwareClient>();
  for (let i = 0; i < 12 && byNode.size < 2; i++) {
    const c = await connect(user);
    const node = c.node();
    assert.ok(node !== undefined, 'connect reply without node');
    if (!byNode.has(node)) byNode.set(node, c);
  }
  assert.equal(byNode.size, 2, `12 connections all reached one worker (${[...byNode.keys()].join(', ')})`);
  const [a, b] = [...byNode.values()];
  return [a!, b!];
}

async function subscribed(
  c: NodeAwareClient,
  channel: string,
  listen: (sub: Subscription) => void = () => {},
): Promise<{ sub: Subscription; pubs: PublicationContext[] }> {
  const sub = c.c.newSubscription(channel, { joinLeave: true });
  listen(sub);
  const pubs: PublicationContext[] = [];
  sub.on('publication', (ctx) => pubs.push(ctx));
  const done = once(sub, 'subscribed', `subscription to ${channel} not confirmed`);
  sub.subscribe();
  await done;
  return { sub, pubs };
}

describe('gyre serve --workers 2 (embedded engine)', () => {
  test('/api/info lists each worker as a node, and the log names each worker start', async () => {
    await until(async () => (await group.infoNodes()).length === 2, 'api info did not list 2 nodes');
    const ids = (await group.infoNodes()).map((n) => n['uid']).sort();
    assert.deepEqual(ids, [group.workerNode(1), group.workerNode(2)].sort());
    assert.equal(group.lines('worker started').length, 2);
  });

  test('start_server ran once, in the primary; start_worker once in each worker', async () => {
    await until(() => readFileSync(join(group.dir, 'hooks.log'), 'utf8').trim().split('\n').length >= 3, 'three hook lines were not written');
    const lines = readFileSync(join(group.dir, 'hooks.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const server = lines.filter((l) => l['hook'] === 'start_server');
    const workers = lines.filter((l) => l['hook'] === 'start_worker');
    assert.equal(server.length, 1);
    assert.equal(server[0]!['pid'], group.pid);
    assert.equal(server[0]!['port'], group.port);
    assert.equal(server[0]!['broadcast'], 'ok');
    assert.deepEqual(workers.map((l) => l['pid']).sort(), [group.workerPid(1), group.workerPid(2)].sort());
  });

  test('clients on different workers exchange publications (client publish and API publish)', async () => {
    const [a, b] = await onBothWorkers('chatter');
    assert.notEqual(a.node(), b.node());
    const sa = await subscribed(a, 'chat');
    const sb = await subscribed(b, 'chat');
    await sa.sub.publish({ from: 'a' });
    await sb.sub.publish({ from: 'b' });
    await group.api('publish', { channel: 'chat', data: { from: 'api' } });
    for (const [name, s] of [['a', sa], ['b', sb]] as const) {
      await until(() => s.pubs.length >= 3, `client ${name} did not get 3 publications (got ${s.pubs.length})`);
      assert.deepEqual(s.pubs.map((p) => p.data), [{ from: 'a' }, { from: 'b' }, { from: 'api' }]);
    }
    // One stream: offsets 1, 2, 3 in one epoch, whichever worker published.
    assert.deepEqual(sb.pubs.map((p) => p.offset), [1, 2, 3]);
    sa.sub.unsubscribe();
    sb.sub.unsubscribe();
  });

  test('presence and join/leave see clients of both workers; history is one stream', async () => {
    const [a, b] = await onBothWorkers('presence-user');
    const sa = await subscribed(a, 'room');
    const joins: string[] = [];
    sa.sub.on('join', (ctx) => joins.push(ctx.info.client));
    const sb = await subscribed(b, 'room');
    await until(() => joins.length >= 1, 'a did not see b join');
    const presence = (await group.api('presence', { channel: 'room' })).result?.presence as Record<string, unknown>;
    assert.equal(Object.keys(presence).length, 2);
    const fromB = await sb.sub.presence();
    assert.equal(Object.keys(fromB.clients).length, 2);
    const stats = await sa.sub.presenceStats();
    assert.deepEqual([stats.numClients, stats.numUsers], [2, 1]);
    // /api/channels counts the subscribers of every worker, whichever worker answers.
    const channels = (await group.api('channels', { pattern: 'room' })).result?.channels as Record<string, { num_clients: number }>;
    assert.deepEqual(channels, { room: { num_clients: 2 } });
    await sa.sub.publish({ n: 1 });
    await sb.sub.publish({ n: 2 });
    const h = await sb.sub.history({ limit: 10 });
    assert.deepEqual(h.publications.map((p) => p.data), [{ n: 1 }, { n: 2 }]);
    const leaves: string[] = [];
    sa.sub.on('leave', (ctx) => leaves.push(ctx.info.client));
    sb.sub.unsubscribe();
    await until(() => leaves.length >= 1, 'a did not see b leave');
    await until(async () => Object.keys(((await group.api('presence', { channel: 'room' })).result?.presence ?? {}) as object).length === 1, 'presence kept b');
    sa.sub.unsubscribe();
  });

  test('a user is disconnected whichever worker holds its connections', async () => {
    const [a, b] = await onBothWorkers('dropped-user');
    const codes: number[] = [];
    for (const c of [a, b]) c.c.on('disconnected', (ctx) => codes.push(ctx.code));
    await group.api('disconnect', { user: 'dropped-user', disconnect: { code: 4500, reason: 'bye' } });
    await until(() => codes.length >= 2, `both connections of the user were not disconnected (codes ${codes.join(',')})`);
    assert.deepEqual(codes, [4500, 4500]);
  });

  test('sendToUser of the event endpoint reaches the user on another worker', async () => {
    const url = `ws://127.0.0.1:${group.port}/connection/events`;
    const sockets: Array<{ ws: WebSocket; node: string; notes: unknown[] }> = [];
    // Open event connections until two are on different workers; bind each to user "eve".
    for (let i = 0; i < 12 && new Set(sockets.map((s) => s.node)).size < 2; i++) {
      const ws = new WebSocket(url);
      const notes: unknown[] = [];
      let node = '';
      ws.on('message', (raw: Buffer) => {
        const m = JSON.parse(raw.toString()) as { event: string; data: any };
        if (m.event === 'bound') node = m.data.node;
        if (m.event === 'note') notes.push(m.data);
      });
      await once(ws, 'open', 'event connection did not open');
      ws.send(JSON.stringify({ event: 'bind', data: { user: i === 0 ? 'sender' : 'eve' } }));
      await until(() => node !== '', 'bind was not answered');
      sockets.push({ ws, node, notes });
    }
    try {
      const sender = sockets[0]!;
      const target = sockets.find((s) => s.node !== sender.node);
      assert.ok(target !== undefined, 'no event connection on the other worker');
      sender.ws.send(JSON.stringify({ event: 'notify', data: { user: 'eve', text: 'hello' } }));
      await until(() => target.notes.length >= 1, 'the note did not reach the user on the other worker');
      assert.deepEqual(target.notes, ['hello']);
    } finally {
      for (const s of sockets) s.ws.close();
    }
  });

  test('HTTP-streaming: commands posted to /emulation on any worker reach the session', async () => {
    const variant = EMULATION_VARIANTS.find((v) => v.transport === 'http_stream' && !v.protobuf)!;
    // Each command on a connection of its own: node:cluster hands new connections to the workers in
    // turn, so about half of them reach the worker that does not hold the session.
    let posted = 0;
    const freshConnectionFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      if (url.pathname !== '/emulation') return fetch(input, init);
      posted++;
      const body = typeof init?.body === 'string' ? init.body : Buffer.from(init?.body as Uint8Array);
      return new Promise<Response>((resolve, reject) => {
        const req = httpRequest(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(new Response(res.statusCode === 204 ? null : Buffer.concat(chunks), { status: res.statusCode ?? 500 })));
        });
        req.on('error', reject);
        req.end(body);
      });
    };
    const ec = emulationClient(variant, group.baseUrl, { token: await group.token('streamer'), fetch: freshConnectionFetch });
    try {
      const connected = once(ec.c, 'connected', 'http_stream client did not connect');
      ec.c.connect();
      await connected;
      const sub = ec.c.newSubscription('stream-chan');
      const got: unknown[] = [];
      sub.on('publication', (ctx) => got.push(ctx.data));
      const ok = once(sub, 'subscribed', 'http_stream subscribe not confirmed');
      sub.subscribe();
      await ok;
      // Several commands: with round-robin some land on the worker that does not hold the session.
      for (let i = 0; i < 6; i++) await sub.publish({ i });
      await until(() => got.length >= 6, `http_stream client got ${got.length} of 6 publications`);
      assert.deepEqual(got, [0, 1, 2, 3, 4, 5].map((i) => ({ i })));
      assert.ok(posted >= 7, `only ${posted} commands were posted to /emulation`);
    } finally {
      ec.c.disconnect();
    }
  });

  test('a worker killed with SIGKILL: the other worker’s clients see nothing, its clients reconnect and recover, it is restarted', async () => {
    const [a, b] = await onBothWorkers('survivor');
    const sa = await subscribed(a, 'durable');
    const aJoins: string[] = [];
    const aLeaves: string[] = [];
    const bJoins: string[] = [];
    sa.sub.on('join', (ctx) => aJoins.push(ctx.info.client));
    sa.sub.on('leave', (ctx) => aLeaves.push(ctx.info.client));
    const sb = await subscribed(b, 'durable', (sub) => sub.on('join', (ctx) => bJoins.push(ctx.info.client)));
    // A subscriber hears its own join too: b's first is b's client.
    await until(() => bJoins.length >= 1, 'b did not hear its own join');
    const bBefore = bJoins[0]!;
    await until(() => aJoins.includes(bBefore), 'a did not see b join');
    const aEvents: string[] = [];
    a.c.on('disconnected', () => aEvents.push('disconnected'));
    a.c.on('connecting', () => aEvents.push('connecting'));
    const bRecovered: boolean[] = [];
    sb.sub.on('subscribed', (ctx) => bRecovered.push(ctx.recovered));
    const bNode = b.node()!;
    const index = group.workerNode(1) === bNode ? 1 : 2;
    const pid = group.workerPid(index);
    const from = group.logs.length;
    process.kill(pid, 'SIGKILL');
    // Publications while b is away: it must recover them. They are sent once the primary has seen the
    // exit: until then its round-robin may still hand a new API connection to the dead worker.
    await until(() => b.c.state !== 'connected', 'b did not notice its worker died');
    const exit = await group.waitLog((l) => l.msg === 'worker exited unexpectedly' && l['pid'] === pid, 'the primary did not log the exit');
    assert.equal(exit['signal'], 'SIGKILL');
    await group.api('publish', { channel: 'durable', data: { n: 1 } });
    await group.api('publish', { channel: 'durable', data: { n: 2 } });
    await until(() => bRecovered.length >= 1, 'b did not resubscribe');
    assert.deepEqual(bRecovered, [true]);
    await until(() => sb.pubs.length >= 2, 'b did not recover the publications it missed');
    assert.deepEqual(sb.pubs.map((p) => p.data), [{ n: 1 }, { n: 2 }]);
    await until(() => sa.pubs.length >= 2, 'a did not get the publications');
    assert.deepEqual(sa.pubs.map((p) => p.data), [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(aEvents, [], 'the client on the other worker was disturbed');
    // b's connection ended with its worker: the primary announces its leave, once, and b's new
    // connection joins again.
    await until(() => aLeaves.includes(bBefore), 'a got no leave for the client of the killed worker');
    await until(() => aJoins.filter((c) => c !== bBefore).length >= 2, 'a did not see b join again (with a new client)');
    const presence = (await group.api('presence', { channel: 'durable' })).result?.presence as Record<string, unknown>;
    assert.ok(!(bBefore in presence), 'presence still lists the client of the killed worker');
    assert.deepEqual(aLeaves, [bBefore]);
    await group.waitLog((l) => l.msg === 'worker listening' && l['worker'] === index, 'the worker was not restarted', undefined, from);
    assert.notEqual(group.workerPid(index), pid);
    await until(async () => (await group.infoNodes()).length === 2, 'api info did not list 2 nodes after the restart');
    assert.ok(!(await group.infoNodes()).some((n) => n['uid'] === bNode), 'the dead worker is still listed');
  });

  test('a worker that stops answering (SIGSTOP) is killed and replaced', async () => {
    const pid = group.workerPid(1);
    const from = group.logs.length;
    process.kill(pid, 'SIGSTOP');
    const line = await group.waitLog((l) => l.msg === 'worker does not answer: killing it' && l['pid'] === pid, 'the hung worker was not detected', undefined, from);
    assert.equal(line['worker'], 1);
    await group.waitLog((l) => l.msg === 'worker listening' && l['worker'] === 1, 'the hung worker was not replaced', undefined, from);
    await until(async () => (await group.infoNodes()).length === 2, 'api info did not list 2 nodes after the replacement');
  });
});
