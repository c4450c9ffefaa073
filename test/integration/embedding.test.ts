/**
 * Embedding Gyre in an application: `createGyre({config, handlers})`, attached to an existing
 * `node:http` server at a path while that server keeps its own routes and upgrade paths;
 * `handleRequest` serving the server API and health endpoint there; and the in-process server API
 * (`gyre.api`) acting on real clients, with its errors as ProtocolExceptions.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  Centrifuge,
  type DisconnectedContext,
  type ServerSubscribedContext,
  type ServerUnsubscribedContext,
} from 'centrifuge';
import WebSocket, { WebSocketServer } from 'ws';
import {
  ConnectResponse,
  createGyre,
  Handlers,
  ProtocolException,
  RPCResponse,
  validateConfig,
  type CreateGyreOptions,
  type Gyre,
} from '../../src/index.js';
import { RawSocket, until } from '../helpers/gyre.js';
import { captureLogger } from '../handlers/helpers.js';
import { connectOutcome, subscribed } from '../handlers/clients.js';
import { closeServer, listen, once, waitFor } from '../helpers/wait.js';

type Json = Record<string, any>;

const API_KEY = 'embed-key';

/** Resolves with the error a promise rejects with (fails when it resolves). */
async function rejectsWith(p: Promise<unknown>): Promise<ProtocolException> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ProtocolException, String(e));
    return e;
  }
  assert.fail('expected a rejection');
}

describe('embedding', () => {
  let host: Server;
  let gyre: Gyre;
  let port: number;
  /** Paths the host's request handler saw, with whether Gyre handled them. */
  const handled: Array<[string, boolean]> = [];
  const hostUpgrades: string[] = [];
  const clients: Centrifuge[] = [];
  const { log, lines } = captureLogger();

  function client(opts: Partial<ConstructorParameters<typeof Centrifuge>[1]> = {}): Centrifuge {
    const c = new Centrifuge(`ws://127.0.0.1:${port}/rt`, { websocket: WebSocket, minReconnectDelay: 50, maxReconnectDelay: 300, ...opts });
    clients.push(c);
    return c;
  }

  /** A real client connected as `user` (the connect service takes the user from data). */
  async function clientAs(user: string): Promise<{ c: Centrifuge; id: string }> {
    const c = client({ data: { user } });
    const out = await connectOutcome(c);
    assert.ok('connected' in out, JSON.stringify(out));
    return { c, id: out.connected.client };
  }

  before(async () => {
    gyre = createGyre({
      config: {
        http_api: { key: API_KEY },
        health: { enabled: true },
        client: { allowed_origins: ['*'] },
        channel: {
          without_namespace: {
            presence: true,
            history_size: 10,
            history_ttl: '60s',
            allow_subscribe_for_client: true,
            allow_presence_for_subscriber: true,
          },
          namespaces: [{ name: 'quiet', allow_subscribe_for_client: true }],
        },
      },
      // Handlers as a config object.
      handlers: {
        services: {
          connect: (r) => r.respond(new ConnectResponse({ user: (r.data as { user?: string } | null)?.user ?? 'anon', info: { via: 'embed' } })),
          rpc: (r) => r.respond(new RPCResponse({ data: `hello ${r.user}` })),
        },
      },
      log,
    });

    host = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const ours = gyre.server.handleRequest(req, res);
      handled.push([path, ours]);
      if (ours) return;
      if (path === '/hello') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('host says hi');
        return;
      }
      res.writeHead(404);
      res.end('host 404');
    });
    // The host's own WebSocket endpoint, and a 404 for other upgrade paths Gyre leaves alone.
    const own = new WebSocketServer({ noServer: true });
    own.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m.toString()}`)));
    host.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (path === '/rt') return; // Gyre's
      hostUpgrades.push(path);
      if (path === '/own') return own.handleUpgrade(req, socket, head, (ws) => own.emit('connection', ws, req));
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    await listen(host);
    port = (host.address() as AddressInfo).port;
    await gyre.server.attach(host, { path: '/rt' });
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    await gyre.server.shutdown();
    host.closeAllConnections();
    await closeServer(host);
  });

  test('the real client connects at the attached path; handlers answer', async () => {
    const { c } = await clientAs('alice');
    assert.equal((await c.rpc('x', null)).data, 'hello alice');
    c.disconnect();
  });

  test('the host keeps its own routes and upgrade paths', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/hello`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'host says hi');
    const own = new WebSocket(`ws://127.0.0.1:${port}/own`);
    await waitFor('the host\'s own WebSocket to open', (r, j) => void (own.once('open', () => r()), own.once('error', j)));
    const got = waitFor<string>('the host\'s echo message', (r) => void own.once('message', (m: Buffer) => r(m.toString())));
    own.send('ping');
    assert.equal(await got, 'echo:ping');
    own.close();
    // Gyre's own default path is not hijacked in attach mode: the host answers it.
    await assert.rejects(RawSocket.open(`ws://127.0.0.1:${port}/connection/websocket`), /404/);
    assert.ok(hostUpgrades.includes('/own'));
    assert.ok(hostUpgrades.includes('/connection/websocket'));
    assert.ok(!hostUpgrades.includes('/rt'));
  });

  test('handleRequest serves /health and /api on the host server, and returns false for other paths', async () => {
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), {});
    const info = await fetch(`http://127.0.0.1:${port}/api/info`, {
      method: 'POST',
      headers: { 'X-API-Key': API_KEY, 'Content-Type': 'application/json' },
      body: '{}',
    });
    assert.equal(info.status, 200);
    assert.ok(((await info.json()) as Json)['result']['nodes'][0]['uid']);
    const denied = await fetch(`http://127.0.0.1:${port}/api/info`, { method: 'POST', body: '{}' });
    assert.equal(denied.status, 401);
    const rtOverHttp = await fetch(`http://127.0.0.1:${port}/rt`);
    assert.equal(await rtOverHttp.text(), 'host 404');
    await fetch(`http://127.0.0.1:${port}/elsewhere`);
    const byPath = new Map(handled);
    assert.equal(byPath.get('/health'), true);
    assert.equal(byPath.get('/api/info'), true);
    assert.equal(byPath.get('/hello'), false);
    assert.equal(byPath.get('/rt'), false);
    assert.equal(byPath.get('/elsewhere'), false);
  });

  describe('the in-process server API', () => {
    test('publish reaches a real subscriber; history and historyRemove', async () => {
      const { c } = await clientAs('sub-1');
      const { pubs } = await subscribed(c, 'embed-news');
      const pos = await gyre.api.publish('embed-news', { text: 'one' }, { tags: { k: 'v' } });
      assert.equal(pos.offset, 1);
      assert.equal(typeof pos.epoch, 'string');
      await until(() => pubs.length === 1);
      assert.deepEqual(pubs[0]!.data, { text: 'one' });
      assert.deepEqual(pubs[0]!.tags, { k: 'v' });
      await gyre.api.publish('embed-news', { text: 'two' }, { skipHistory: true });
      await until(() => pubs.length === 2);
      const hist = await gyre.api.history('embed-news', { limit: -1 });
      assert.deepEqual(
        hist.publications.map((p) => p.data),
        [{ text: 'one' }],
      );
      assert.equal(hist.offset, 1);
      await gyre.api.historyRemove('embed-news');
      assert.deepEqual((await gyre.api.history('embed-news', { limit: -1 })).publications, []);
      c.disconnect();
    });

    test('broadcast: one result per channel, errors per channel', async () => {
      const { c } = await clientAs('sub-2');
      const a = await subscribed(c, 'embed-b1');
      const b = await subscribed(c, 'embed-b2');
      const res = await gyre.api.broadcast(['embed-b1', 'embed-b2', 'nope:x'], { all: true });
      assert.equal(res.length, 3);
      assert.ok('result' in res[0]! && 'result' in res[1]!);
      assert.deepEqual(res[2], { error: { code: 102, message: 'unknown channel' } });
      await until(() => a.pubs.length === 1 && b.pubs.length === 1);
      assert.deepEqual(a.pubs[0]!.data, { all: true });
      c.disconnect();
    });

    test('presence, presenceStats, channels and info', async () => {
      const one = await clientAs('p-1');
      const two = await clientAs('p-2');
      await subscribed(one.c, 'embed-room');
      await subscribed(two.c, 'embed-room');
      const presence = await gyre.api.presence('embed-room');
      assert.deepEqual(Object.keys(presence).sort(), [one.id, two.id].sort());
      assert.deepEqual(presence[one.id], { client: one.id, user: 'p-1', conn_info: { via: 'embed' } });
      assert.deepEqual(await gyre.api.presenceStats('embed-room'), { numClients: 2, numUsers: 2 });
      const channels = await gyre.api.channels('embed-r*');
      assert.deepEqual(channels['embed-room'], { num_clients: 2 });
      const [node] = await gyre.api.info();
      assert.ok(node!.num_clients >= 2);
      assert.ok(node!.uid !== '' && node!.version !== '');
      one.c.disconnect();
      two.c.disconnect();
    });

    test('subscribe and unsubscribe a user server-side', async () => {
      const { c, id } = await clientAs('srv-user');
      const subs: ServerSubscribedContext[] = [];
      const unsubs: string[] = [];
      c.on('subscribed', (ctx: ServerSubscribedContext) => subs.push(ctx));
      c.on('unsubscribed', (ctx: ServerUnsubscribedContext) => unsubs.push(ctx.channel));
      const pubs: Array<[string, unknown]> = [];
      c.on('publication', (ctx) => pubs.push([ctx.channel, ctx.data]));

      await gyre.api.subscribe('srv-user', 'embed-srv', { data: { welcome: 1 } });
      await until(() => subs.length > 0, 'server-side subscribed event');
      assert.deepEqual(
        subs.map((s) => [s.channel, s.data]),
        [['embed-srv', { welcome: 1 }]],
      );
      // The node has the subscription: the client is in the channel's presence.
      const presence = await gyre.api.presence('embed-srv');
      assert.deepEqual(Object.keys(presence), [id]);
      assert.equal(presence[id]!.user, 'srv-user');

      await gyre.api.publish('embed-srv', { n: 1 });
      await until(() => pubs.length === 1, 'publication on embed-srv');
      assert.deepEqual(pubs, [['embed-srv', { n: 1 }]]);

      await gyre.api.unsubscribe('srv-user', 'embed-srv');
      await until(() => unsubs.length > 0, 'server-side unsubscribed event');
      assert.deepEqual(unsubs, ['embed-srv']);
      assert.deepEqual(await gyre.api.presence('embed-srv'), {});
      // Publications no longer reach it: one published after the unsubscribe is not received by
      // the time a marker published later on another server-side subscription is.
      await gyre.api.subscribe('srv-user', 'embed-srv-marker');
      await until(() => subs.length === 2, 'server-side subscribed event for the marker channel');
      await gyre.api.publish('embed-srv', { n: 2 });
      await gyre.api.publish('embed-srv-marker', { marker: true });
      await until(() => pubs.some(([ch]) => ch === 'embed-srv-marker'), 'marker publication');
      assert.deepEqual(pubs, [
        ['embed-srv', { n: 1 }],
        ['embed-srv-marker', { marker: true }],
      ]);
      c.disconnect();
    });

    test('disconnect a user (with a code), and refresh one as expired', async () => {
      const { c } = await clientAs('bye-user');
      const gone = once<DisconnectedContext>(c, 'disconnected');
      await gyre.api.disconnect('bye-user', { code: 4501, reason: 'go away' });
      const ctx = await gone;
      assert.deepEqual([ctx.code, ctx.reason], [4501, 'go away']);

      const ws = await RawSocket.open(`ws://127.0.0.1:${port}/rt`);
      ws.sendJson({ id: 1, connect: { data: { user: 'stale-user' } } });
      await ws.reply(1);
      await gyre.api.refresh('stale-user', { expired: true });
      assert.equal((await ws.closed).code, 3005);
    });

    test('errors are ProtocolExceptions with the API codes', async () => {
      assert.equal((await rejectsWith(gyre.api.publish('nope:x', { a: 1 }))).error.code, 102);
      assert.equal((await rejectsWith(gyre.api.publish('embed-x', undefined))).error.code, 107);
      assert.equal((await rejectsWith(gyre.api.presence('quiet:x'))).error.code, 108);
      assert.equal((await rejectsWith(gyre.api.history('quiet:x'))).error.code, 108);
      assert.equal((await rejectsWith(gyre.api.disconnect('u', { code: 1000 }))).error.code, 107);
      const e = await rejectsWith(gyre.api.subscribe('u', 'nope:x'));
      assert.equal(e.error.code, 102);
      assert.equal(e.error.message, 'unknown channel');
    });
  });

  test('the logger passed to createGyre gets the node’s lines', () => {
    assert.ok(lines.length > 0);
  });
});

describe('createGyre', () => {
  test('with a validated config and built Handlers, listening on its own port', async () => {
    const { config } = validateConfig({ client: { allowed_origins: ['*'] } });
    const handlers = new Handlers().service('connect', (r) => r.respond(new ConnectResponse({ user: 'own-port' })));
    const { log } = captureLogger();
    const gyre = createGyre({ config, handlers, log });
    const port = await gyre.server.listen(0, '127.0.0.1');
    const c = new Centrifuge(`ws://127.0.0.1:${port}/connection/websocket`, { websocket: WebSocket });
    try {
      const out = await connectOutcome(c);
      assert.ok('connected' in out);
      assert.equal(gyre.server.node.clientsOf('own-port').length, 1);
    } finally {
      c.disconnect();
      await gyre.server.shutdown();
    }
  });

  test('an unknown request type in a handlers config object is a TypeError', () => {
    assert.throws(
      () => createGyre({ handlers: { services: { subrefresh: () => {} } } } as unknown as CreateGyreOptions),
      TypeError,
    );
  });

  test('an invalid config is rejected', () => {
    assert.throws(() => createGyre({ config: { client: { ping_interval: 'soon' } } }));
  });

  test('after shutdown an attached Gyre refuses new connections with 503; the host keeps serving', async () => {
    const gyre = createGyre({ config: { client: { allowed_origins: ['*'] } }, log: captureLogger().log });
    const host = createServer((_req, res) => res.end('still here'));
    await listen(host);
    const port = (host.address() as AddressInfo).port;
    await gyre.server.attach(host, { path: '/rt' });
    try {
      const ws = await RawSocket.open(`ws://127.0.0.1:${port}/rt`);
      ws.sendJson({ id: 1, connect: {} });
      await gyre.server.shutdown();
      assert.equal((await ws.closed).code, 3001);
      await assert.rejects(RawSocket.open(`ws://127.0.0.1:${port}/rt`), /503/);
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'still here');
    } finally {
      host.closeAllConnections();
      await closeServer(host);
    }
  });
});
