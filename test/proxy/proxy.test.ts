/**
 * A Gyre node in front of a real backend (the project's own handler backend on a real port), over
 * HTTP and over gRPC, configured with the v6 keys and with the older flat keys: the real
 * `centrifuge` client connects, subscribes, publishes and calls RPC, and sees the backend's
 * decisions (user, data replaced, errors, disconnects, forwarded headers, connection meta).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConnectingContext, DisconnectedContext, PublicationContext } from 'centrifuge';
import type { ConfigInput } from '../../src/config/tree.js';
import { ConnectResponse, Handlers, RefreshResponse, SubRefreshResponse, SubscribeResponse } from '../../src/handlers/index.js';
import { once, startGyre, until } from '../helpers/gyre.js';
import { connectOutcome, refusedCode, rejection, startBackend, subscribeOutcome, withHeaders, type BackendKind, type TestBackend } from './helpers.js';

/** v6 layout: client.proxy, channel.proxy with namespaces, a named proxy, rpc.proxy. */
function v6Config(b: TestBackend): ConfigInput {
  return {
    client: {
      proxy: {
        connect: { enabled: true, endpoint: b.endpoint('connect'), timeout: '5s', http_headers: ['X-App'] },
        refresh: { enabled: true, endpoint: b.endpoint('refresh'), timeout: '5s' },
      },
    },
    channel: {
      proxy: {
        subscribe: { endpoint: b.endpoint('subscribe'), timeout: '5s' },
        publish: { endpoint: b.endpoint('publish'), timeout: '5s', include_connection_meta: true },
      },
      namespaces: [
        { name: 'chat', subscribe_proxy_enabled: true, publish_proxy_enabled: true },
        { name: 'secret', subscribe_proxy_enabled: true },
        { name: 'rooms', subscribe_proxy_enabled: true, subscribe_proxy_name: 'rooms-backend' },
      ],
    },
    proxies: [{ name: 'rooms-backend', endpoint: b.endpoint('subscribe'), timeout: '5s', grpc_metadata: ['x-app'] }],
    rpc: { proxy: { endpoint: b.endpoint('rpc'), timeout: '5s', include_connection_meta: true }, without_namespace: { proxy_enabled: true } },
  };
}

/** The older flat keys, as the getting-started config.json writes them. */
function flatConfig(b: TestBackend): ConfigInput {
  return {
    proxy_connect_endpoint: b.endpoint('connect'),
    proxy_connect_timeout: '5s',
    proxy_refresh_endpoint: b.endpoint('refresh'),
    proxy_refresh_timeout: '5s',
    proxy_subscribe_endpoint: b.endpoint('subscribe'),
    proxy_subscribe_timeout: '5s',
    proxy_publish_endpoint: b.endpoint('publish'),
    proxy_publish_timeout: '5s',
    proxy_rpc_endpoint: b.endpoint('rpc'),
    proxy_rpc_timeout: '5s',
    proxy_subscribe: true,
    proxy_publish: true,
    proxy_http_headers: ['X-App'],
    proxy_include_connection_meta: true,
  };
}

const CASES: Array<{ kind: BackendKind; layout: 'v6' | 'flat' }> = [
  { kind: 'http', layout: 'v6' },
  { kind: 'grpc', layout: 'v6' },
  { kind: 'http', layout: 'flat' },
  { kind: 'grpc', layout: 'flat' },
];

for (const { kind, layout } of CASES) {
  describe(`${kind} proxy, ${layout} config`, () => {
    test('the backend decides connect, subscribe, publish and rpc', async () => {
      const backend = await startBackend(kind);
      const gyre = await startGyre(layout === 'v6' ? v6Config(backend) : flatConfig(backend));
      try {
        const chan = layout === 'v6' ? 'chat:room1' : 'room1';
        const secret = layout === 'v6' ? 'secret:plans' : 'secret-plans';
        const blocked = layout === 'v6' ? 'chat:blocked' : 'blocked';

        // connect: the backend names the user and answers data; the X-App header is forwarded.
        const c = gyre.client({ data: { token: 'good-alice' }, websocket: withHeaders({ 'X-App': 'demo' }) });
        const out = await connectOutcome(c);
        assert.ok('connected' in out, JSON.stringify(out));
        assert.deepEqual(out.connected.data, { greeting: 'hello alice', app: 'demo', transport: 'websocket' });
        const connectSeen = backend.seen.find((s) => s.event === 'connect');
        assert.equal(connectSeen?.headers['x-app'], 'demo');

        // subscribe: allowed with the backend's data; the channel info shows in presence.
        const sub = c.newSubscription(chan);
        const subbed = await subscribeOutcome(sub);
        assert.ok('subscribed' in subbed, JSON.stringify(subbed));
        assert.deepEqual(subbed.subscribed.data, { welcome: chan, user: 'alice' });

        // publish: the backend replaces the data (adding the user and the connection meta).
        const received: unknown[] = [];
        sub.on('publication', (ctx: PublicationContext) => received.push(ctx.data));
        await sub.publish({ text: 'hi' });
        await until(() => received.length === 1);
        assert.deepEqual(received[0], { text: 'hi', by: 'alice', tier: 'gold' });

        // rpc: answered by the backend, with the connection meta.
        const who = await c.rpc('whoami', { x: 1 });
        assert.deepEqual(who.data, { user: 'alice', meta: { tier: 'gold' }, params: { x: 1 } });

        // errors of the backend reach the client as they are.
        assert.equal((await rejection(c.rpc('fail', {}))).code, 1500);
        assert.equal((await rejection(c.publish(blocked, { text: 'x' }))).code, 1000);
        assert.equal(refusedCode(await subscribeOutcome(c.newSubscription(secret))), 403);

        if (layout === 'v6') {
          // A namespace whose subscribe proxy is a named one.
          const rooms = await subscribeOutcome(c.newSubscription('rooms:1'));
          assert.ok('subscribed' in rooms, JSON.stringify(rooms));
          assert.equal(backend.seen.filter((s) => s.event === 'subscribe').at(-1)?.headers['x-app'], 'demo');
        }

        // A disconnect answered by the backend closes the connection with its code (4000: reconnect).
        const reconnecting = once<ConnectingContext>(c, 'connecting');
        void c.rpc('kick', {}).catch(() => {});
        assert.equal((await reconnecting).code, 4000);
        c.disconnect();

        // connect refused: an error code, or a terminal disconnect.
        const banned = gyre.client({ data: { token: 'ban' } });
        const bannedOut = await connectOutcome(banned);
        const code = 'disconnected' in bannedOut ? (bannedOut.disconnected as DisconnectedContext).code : -1;
        assert.equal(code, 4501, JSON.stringify(bannedOut));
        banned.disconnect();

        const raw = await gyre.raw();
        raw.sendJson({ id: 1, connect: { data: { token: 'bad' } } });
        assert.deepEqual((await raw.reply(1))['error'], { code: 401, message: 'unauthorized' });
      } finally {
        await gyre.close();
        await backend.close();
      }
    });
  });
}

test('refresh and sub_refresh proxies extend what connect and subscribe granted', async () => {
  const seen: string[] = [];
  const soon = () => Math.floor(Date.now() / 1000) + 1;
  const later = () => Math.floor(Date.now() / 1000) + 3600;
  const handlers = new Handlers()
    .service('connect', (req) => req.respond(new ConnectResponse({ user: 'kim', expireAt: soon() })))
    .service('refresh', (req) => {
      seen.push(`refresh ${req.user}`);
      req.respond(new RefreshResponse({ expireAt: later(), info: { refreshed: true } }));
    })
    .service('subscribe', (req) => req.respond(new SubscribeResponse({ expireAt: soon() })))
    .service('sub_refresh', (req) => {
      seen.push(`sub_refresh ${req.user} ${req.channel}`);
      req.respond(new SubRefreshResponse({ expireAt: later() }));
    });
  const backend = await startBackend('grpc', handlers);
  const endpoint = backend.endpoint('');
  const gyre = await startGyre({
    client: { proxy: { connect: { enabled: true, endpoint }, refresh: { enabled: true, endpoint } } },
    channel: { proxy: { subscribe: { endpoint }, sub_refresh: { endpoint } }, namespaces: [{ name: 'live', subscribe_proxy_enabled: true, sub_refresh_proxy_enabled: true }] },
  });
  try {
    const c = gyre.client();
    assert.ok('connected' in (await connectOutcome(c)));
    assert.ok('subscribed' in (await subscribeOutcome(c.newSubscription('live:score'))));
    await until(() => seen.length === 2);
    assert.deepEqual(seen.sort(), ['refresh kim', 'sub_refresh kim live:score']);
    const client = gyre.server.node.clientsOf('kim')[0]!;
    await until(() => client.expireAt > soon() + 60 && client.subscriptions.get('live:score')!.expireAt > soon() + 60);
    assert.equal(client.connected, true);
    c.disconnect();
  } finally {
    await gyre.close();
    await backend.close();
  }
});
