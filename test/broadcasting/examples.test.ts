/**
 * The broadcasting examples: the custom Pusher-style driver against a local endpoint speaking
 * Pusher's REST API (signature checked), and as the guard answering Pusher's `{auth}` format; the
 * config file form; and the orders example end to end (OrderService → local driver → a
 * centrifuge client that got its subscription token from the authorization endpoint).
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import {
  BroadcastError,
  BroadcastManager,
  GrpcBroadcast,
  HttpBroadcast,
  LocalBroadcast,
  LogBroadcast,
  NullBroadcast,
  createGyre,
} from '../../src/index.js';
import config from '../../examples/broadcasting-config.js';
import { PusherBroadcast } from '../../examples/broadcasting-custom-driver.js';
import { Order, startOrdersExample, type OrdersExample } from '../../examples/broadcasting-orders.js';
import { once, until } from '../helpers/gyre.js';
import WebSocket from 'ws';
import { Centrifuge, type PublicationContext } from 'centrifuge';
import { startEndpoint, type Endpoint, type RecordedRequest } from './endpoint.js';

const APP = { appId: '123', key: 'pusher-key', secret: 'pusher-secret' };

/** Checks a request as Pusher's REST API does; the answer: 200, or 401 with the reason. */
function pusherVerify(r: RecordedRequest): string | undefined {
  if (r.path !== `/apps/${APP.appId}/events`) return `wrong path ${r.path}`;
  const q = new URLSearchParams(r.query);
  const signature = q.get('auth_signature');
  q.delete('auth_signature');
  q.sort();
  const expected = createHmac('sha256', APP.secret).update(`POST\n${r.path}\n${decodeURIComponent(q.toString())}`).digest('hex');
  if (signature !== expected) return 'bad signature';
  if (q.get('auth_key') !== APP.key) return 'bad key';
  if (q.get('body_md5') !== createHash('md5').update(r.text).digest('hex')) return 'bad body_md5';
  return undefined;
}

describe('custom driver (Pusher-style)', () => {
  let pusher: Endpoint;
  let failNext = false;
  let manager: BroadcastManager;

  before(async () => {
    pusher = await startEndpoint((r) => {
      if (failNext) {
        failNext = false;
        return { status: 500, body: 'pusher is down' };
      }
      const bad = pusherVerify(r);
      return bad === undefined ? { status: 200, body: {} } : { status: 401, body: bad };
    });
    manager = new BroadcastManager(
      {
        default: 'pusher',
        connections: {
          pusher: { driver: 'pusher', ...APP, host: pusher.url, userResolver: (r: Request) => r.headers.get('x-user') ?? '' },
          log: { driver: 'log' },
        },
        driverAliases: { pusher: PusherBroadcast },
        authorize: {
          path: '/pusher/user-auth',
          topics: { 'private-order.{uuid}': ({ uuid, userId }) => uuid === 'a1' && userId === '42' },
        },
      },
      { env: {} },
    );
  });

  after(() => pusher.close());

  test('registered by alias; publishes signed events, one per message, to all topics', async () => {
    const conn = manager.connection('pusher');
    assert.ok(conn instanceof PusherBroadcast);
    assert.equal(conn.driver, 'pusher');
    const before = pusher.requests.length;
    await manager.publish([new Order('a1'), 'orders'], [{ status: 'purchased' }, 'shipped']);
    const events = pusher.requests.slice(before).map((r) => r.json);
    assert.deepEqual(events, [
      { name: 'message', channels: ['order.a1', 'orders'], data: '{"status":"purchased"}' },
      { name: 'message', channels: ['order.a1', 'orders'], data: '"shipped"' },
    ]);
  });

  test('more than 100 topics: split into events of at most 100 channels', async () => {
    const before = pusher.requests.length;
    const topics = Array.from({ length: 150 }, (_, i) => `t${i}`);
    await manager.publish(topics, 1);
    const sizes = pusher.requests.slice(before).map((r) => (r.json as { channels: string[] }).channels.length);
    assert.deepEqual(sizes, [100, 50]);
  });

  test('a failure is a BroadcastError naming the topic, the driver and the connection', async () => {
    failNext = true;
    const e = await manager.publish('orders', 'x').then(
      () => assert.fail('expected a rejection'),
      (err: unknown) => err,
    );
    assert.ok(e instanceof BroadcastError);
    assert.equal(e.topic, 'orders');
    assert.equal(e.driver, 'pusher');
    assert.equal(e.connection, 'pusher');
    assert.match(e.message, /Pusher answered HTTP 500: pusher is down/);
  });

  test('extend() registers it the same way', async () => {
    const m = new BroadcastManager({ default: 'p', connections: { p: { driver: 'pusher', ...APP, host: pusher.url } } }, { env: {} });
    m.extend('pusher', PusherBroadcast);
    const before = pusher.requests.length;
    await m.publish('x', 1);
    assert.equal(pusher.requests.length - before, 1);
    assert.equal(pusherVerify(pusher.requests[before]!), undefined);
  });

  test("as the default connection it is the middleware's guard: Pusher's {auth} answer, 403 otherwise", async () => {
    const auth = manager.authorizationMiddleware();
    assert.equal(auth.guard, manager.connection());
    const ask = (channel: string, user: string, socketId = '123.456') =>
      auth.handle(
        new Request('http://app/pusher/user-auth', {
          method: 'POST',
          body: new URLSearchParams({ socket_id: socketId, channel_name: channel }),
          headers: { 'x-user': user },
        }),
      );
    const ok = (await ask('private-order.a1', '42'))!;
    assert.equal(ok.status, 200);
    const signature = createHmac('sha256', APP.secret).update('123.456:private-order.a1').digest('hex');
    assert.deepEqual(await ok.json(), { auth: `${APP.key}:${signature}` });
    assert.equal((await ask('private-order.a1', '7'))!.status, 403);
    assert.equal((await ask('private-order.b2', '42'))!.status, 403);
    assert.equal((await ask('private-order.a1', '42', 'nope'))!.status, 403);
  });
});

describe('the config file form', () => {
  test('builds every kind of connection it declares; BROADCAST_CONNECTION picks the default', async () => {
    const gyre = createGyre({ log: pino({ level: 'silent' }) });
    const m = new BroadcastManager(config, { env: { BROADCAST_CONNECTION: 'null' }, gyre, logger: pino({ level: 'silent' }) });
    assert.equal(m.defaultConnection, 'null');
    assert.ok(m.connection() instanceof NullBroadcast);
    assert.ok(m.connection('log') instanceof LogBroadcast);
    assert.ok(m.connection('realtime') instanceof LocalBroadcast);
    assert.equal(m.connection('realtime'), m.connection('local'));
    assert.ok(m.connection('centrifugo') instanceof HttpBroadcast);
    assert.ok(m.connection('grpc') instanceof GrpcBroadcast);
    assert.equal(new BroadcastManager(config, { env: {} }).defaultConnection, 'log');
    assert.equal(m.authorizationMiddleware().path, '/broadcasting/auth');
    await m.close();
  });
});

describe('the orders example', () => {
  let ex: OrdersExample;
  const clients: Centrifuge[] = [];

  before(async () => {
    ex = await startOrdersExample({ port: 0, appPort: 0, env: {}, logger: pino({ level: 'silent' }), hmacSecret: 'orders-secret' });
  });

  after(async () => {
    for (const c of clients) c.disconnect();
    await ex.close();
  });

  /** What a browser does: getToken posts channel_name to the endpoint, with its session cookie. */
  function browser(session: string): Centrifuge {
    const c = new Centrifuge(`ws://127.0.0.1:${ex.gyrePort}/connection/websocket`, {
      websocket: WebSocket,
      minReconnectDelay: 50,
      maxReconnectDelay: 200,
      getToken: async () => {
        const res = await fetch(`http://127.0.0.1:${ex.appPort}/connection-token`, { headers: { cookie: `session=${session}` } });
        return res.status === 200 ? ((await res.json()) as { token: string }).token : '';
      },
    });
    clients.push(c);
    c.connect();
    return c;
  }

  async function tokenFor(channel: string, session: string): Promise<Response> {
    return fetch(`http://127.0.0.1:${ex.appPort}/broadcasting/auth?token=1`, {
      method: 'POST',
      body: new URLSearchParams({ channel_name: channel }),
      headers: { cookie: `session=${session}` },
    });
  }

  test("the owner subscribes with a token from the endpoint and receives the purchase; history keeps it", async () => {
    const c = browser('session-42');
    const got: PublicationContext[] = [];
    const sub = c.newSubscription('order.a1', {
      getToken: async ({ channel }) => {
        const res = await tokenFor(channel, 'session-42');
        assert.equal(res.status, 200);
        return ((await res.json()) as { token: string }).token;
      },
    });
    sub.on('publication', (ctx) => got.push(ctx));
    sub.subscribe();
    await once(sub, 'subscribed');
    const res = await fetch(`http://127.0.0.1:${ex.appPort}/orders/a1/purchase`, { method: 'POST' });
    assert.equal(res.status, 204);
    await until(() => got.length === 1);
    assert.deepEqual(got[0]!.data, { status: 'purchased' });
    const history = await ex.gyre.api.history('order.a1', { limit: 10 });
    assert.deepEqual(history.publications.map((p) => p.data), [{ status: 'purchased' }]);
  });

  test('someone else gets 403 and no token; without a token the channel is refused', async () => {
    assert.equal((await tokenFor('order.a1', 'no-such-session')).status, 403);
    const c = browser('none');
    const sub = c.newSubscription('order.a1');
    const failed = once<{ code: number }>(sub, 'unsubscribed');
    sub.subscribe();
    assert.equal((await failed).code, 103);
  });

  test('other paths of the app are untouched by the middleware', async () => {
    assert.equal((await fetch(`http://127.0.0.1:${ex.appPort}/orders/zz/purchase`, { method: 'POST' })).status, 404);
  });
});
