/**
 * The emulation endpoint across nodes, over the real Redis (127.0.0.1:6379, keys under a prefix
 * unique to this run): two in-process nodes with HTTP-streaming and SSE on, the real SDK connected
 * to node A while its emulation endpoint points at node B. The commands land on B, which sends
 * them to A over the control channel: subscribe, publish, presence, rpc and pongs work as on one
 * node. B answers 204 for a session A does not hold (A drops it with a log line) and 404 for a
 * node no one is. The same over NATS (127.0.0.1:4222) as the broker and its control channel.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { after } from 'node:test';
import type { PublicationContext, SubscribedContext } from 'centrifuge';
import { pathOf } from '../../src/http/request.js';
import { Handlers } from '../../src/handlers/pipeline.js';
import { RPCResponse } from '../../src/handlers/responses.js';
import { EMULATION_PATHS, EMULATION_VARIANTS, emulationClient, payloadFor, valueFrom, type EmulationClient } from '../helpers/emulation.js';
import { once, startGyre, until, type TestGyre } from '../helpers/gyre.js';
import { deleteKeys, NATS_URL, REDIS_URL, serviceTest, uniquePrefix } from '../helpers/services.js';

const prefix = uniquePrefix();
const nodes: TestGyre[] = [];
const clients: EmulationClient[] = [];
/** Emulation requests each node served, by node name. */
const emulationRequests = new Map<string, number>();
const serverSockets = new Set<Socket>();

after(async () => {
  for (const c of clients) c.c.disconnect();
  // Connections fetch's pool opened and never sent a request on would hold the graceful shutdown up.
  for (const socket of serverSockets) if (socket.bytesRead === 0) socket.destroy();
  for (const n of nodes) await n.close();
  await deleteKeys(REDIS_URL, prefix).catch(() => {});
});

const handlers = Handlers.from({
  services: { rpc: (r) => r.respond(new RPCResponse({ data: { transport: r.transport } })) },
});

let cluster: Promise<[TestGyre, TestGyre]> | undefined;

/** Nodes A and B sharing the Redis prefix, each knowing the other (started once). */
function twoNodes(): Promise<[TestGyre, TestGyre]> {
  cluster ??= startPair(['node-a', 'node-b'], { engine: { type: 'redis', redis: { address: REDIS_URL, prefix } } });
  return cluster;
}

/** Two nodes with both fallbacks on and short pings, on `engine`, each knowing the other. */
async function startPair(names: [string, string], engine: Parameters<typeof startGyre>[0]): Promise<[TestGyre, TestGyre]> {
  const started = await Promise.all(
    names.map(async (name) => {
      const g = await startGyre(
        {
          log: { level: 'info' },
          node: { name },
          ...engine,
          http_stream: { enabled: true },
          sse: { enabled: true },
          client: { ping_interval: '1s', pong_timeout: '900ms' },
        },
        undefined,
        { handlers },
      );
      g.server.http.on('connection', (socket: Socket) => {
        serverSockets.add(socket);
        socket.once('close', () => serverSockets.delete(socket));
      });
      g.server.http.on('request', (req: IncomingMessage) => {
        if (pathOf(req) === EMULATION_PATHS.emulation) emulationRequests.set(name, (emulationRequests.get(name) ?? 0) + 1);
      });
      return g;
    }),
  );
  nodes.push(...started);
  const [a, b] = started as [TestGyre, TestGyre];
  await until(() => a.server.node.cluster.knows(b.server.node.id) && b.server.node.cluster.knows(a.server.node.id), 'the nodes know each other');
  return [a, b];
}

function ch(name: string): string {
  return `${name}-${Math.random().toString(36).slice(2, 8)}`;
}

for (const variant of EMULATION_VARIANTS) {
  serviceTest(`cluster: an SDK client over ${variant.label} on node A, posting its commands to node B`, ['redis'], async () => {
    const [a, b] = await twoNodes();
    const user = `cross-${variant.transport}-${variant.protobuf ? 'pb' : 'json'}`;
    const client = emulationClient(variant, a.baseUrl, { token: await a.token(user) }, b.baseUrl);
    clients.push(client);
    const { c } = client;
    const connected = once<{ client: string }>(c, 'connected', 'connected to node A');
    c.connect();
    const { client: clientId } = await connected;
    assert.ok(a.server.node.client(clientId) !== undefined, 'the connection lives on node A');
    const before = emulationRequests.get('node-a') ?? 0;

    const channel = ch('cross');
    const sub = c.newSubscription(channel);
    const got: unknown[] = [];
    sub.on('publication', (ctx: PublicationContext) => got.push(valueFrom(variant, ctx.data)));
    const subscribed = once<SubscribedContext>(sub, 'subscribed', 'subscribed through node B');
    sub.subscribe();
    await subscribed;
    // A WebSocket client on node B sees what the emulated client publishes.
    const watcher = b.client({ token: await b.token('watcher') });
    const watched: unknown[] = [];
    const wsub = watcher.newSubscription(channel);
    wsub.on('publication', (ctx: PublicationContext) => watched.push(ctx.data));
    const wready = once(wsub, 'subscribed', 'watcher subscribed on node B');
    wsub.subscribe();
    watcher.connect();
    await wready;

    await sub.publish(payloadFor(variant, { text: 'via B' }));
    await until(() => got.length === 1 && watched.length === 1, 'the publication on both nodes');
    assert.deepEqual(got, [{ text: 'via B' }]);
    assert.deepEqual(watched, [{ text: 'via B' }]);
    const presence = await sub.presence();
    assert.deepEqual(Object.values(presence.clients).map((i) => i.user).sort(), [user, 'watcher']);
    const rpc = await c.rpc('where', payloadFor(variant, {}));
    assert.deepEqual(valueFrom(variant, rpc.data), { transport: variant.transport });

    // Pongs go through node B too: the connection outlives several pings.
    await until(() => client.traffic.pongs >= 2, { timeoutMs: 15_000, what: 'two pongs posted to node B' });
    assert.equal(c.state, 'connected');
    assert.ok(a.server.node.client(clientId) !== undefined, 'the same connection on node A');
    assert.ok(client.traffic.statuses.every((s) => s === 204), `every answer of node B 204: ${client.traffic.statuses.join(',')}`);
    assert.equal(emulationRequests.get('node-a') ?? 0, before, 'no command was posted to node A');
    assert.ok((emulationRequests.get('node-b') ?? 0) >= 5, 'node B took the commands');
    c.disconnect();
    watcher.disconnect();
  });
}

serviceTest('cluster: node B answers 204 for a session node A does not hold, 404 for a node no one is', ['redis'], async () => {
  const [a, b] = await twoNodes();
  const post = async (node: string) => {
    const res = await fetch(`${b.baseUrl}${EMULATION_PATHS.emulation}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ session: 'no-such-session', node, data: '{}' }),
    });
    await res.text();
    return res.status;
  };
  const dropped = () => a.logs.filter((l) => l.msg === 'emulation commands for an unknown session: dropped').length;
  const before = dropped();
  assert.equal(await post(a.server.node.id), 204);
  await until(() => dropped() > before, 'node A dropping the commands with a log line');
  assert.equal(await post('no-such-node'), 404);
});

serviceTest('cluster over NATS: an SDK client over http_stream on node A, posting its commands to node B', ['nats'], async () => {
  const [a, b] = await startPair(['nats-a', 'nats-b'], {
    broker: { enabled: true, type: 'nats', nats: { url: NATS_URL, prefix } },
    channel: { without_namespace: { history_size: 0, history_ttl: '0s', force_recovery: false, presence: false } },
  });
  const variant = EMULATION_VARIANTS[0]!;
  const client = emulationClient(variant, a.baseUrl, { token: await a.token('nats-user') }, b.baseUrl);
  clients.push(client);
  const { c } = client;
  const connected = once(c, 'connected', 'connected to node A');
  c.connect();
  await connected;
  const channel = ch('nats');
  const sub = c.newSubscription(channel);
  const got: unknown[] = [];
  sub.on('publication', (ctx: PublicationContext) => got.push(ctx.data));
  const subscribed = once(sub, 'subscribed', 'subscribed through node B');
  sub.subscribe();
  await subscribed;
  await sub.publish({ over: 'nats' });
  await b.api('publish', { channel, data: { from: 'api on B' } });
  await until(() => got.length === 2, 'both publications');
  // Two publishers (node A's NATS connection, node B's): NATS orders each one's messages, not the two
  // against each other, and without history nothing else does.
  assert.deepEqual(
    got.map((d) => JSON.stringify(d)).sort(),
    [{ from: 'api on B' }, { over: 'nats' }].map((d) => JSON.stringify(d)),
  );
  await until(() => client.traffic.pongs >= 2, { timeoutMs: 15_000, what: 'two pongs posted to node B' });
  assert.equal(c.state, 'connected');
  assert.ok(client.traffic.statuses.every((s) => s === 204), `every answer of node B 204: ${client.traffic.statuses.join(',')}`);
  assert.ok((emulationRequests.get('nats-b') ?? 0) >= 3, 'node B took the commands');
  assert.equal(emulationRequests.get('nats-a') ?? 0, 0, 'no command was posted to node A');
  c.disconnect();
});
