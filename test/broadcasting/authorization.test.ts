/**
 * Topic authorization over HTTP: the TopicGuard (channel_name from the query, a form or JSON body,
 * through the topic registry, with the user from userResolver) and the middleware at one exact path,
 * in fetch style and Node http / connect style: empty 200 / 403 / the guard's own response, other
 * paths and methods untouched, and subscription tokens that a real Gyre accepts.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { Hono } from 'hono';
import { jwtVerify } from 'jose';
import {
  AuthorizationMiddleware,
  AuthorizationStatus,
  BroadcastConfigError,
  BroadcastManager,
  TopicGuard,
  channelNameOf,
  type Guard,
} from '../../src/broadcasting/index.js';
import { TopicRegistry } from '../../src/handlers/topics.js';
import { once, SECRET, startGyre } from '../helpers/gyre.js';
import { closeServer, listen } from '../helpers/wait.js';

const PATH = '/broadcasting/auth';
const orders = new Map([['a1', '42']]);

function registry(): TopicRegistry<Request> {
  return new TopicRegistry<Request>()
    .register('topic', ({ request }) => request?.headers.get('secret') === 'secret')
    .register('order.{uuid}', ({ uuid, userId }) => userId !== '' && orders.get(uuid) === userId)
    .register('item.{id:\\d+}', () => true)
    .register('$private.{user}', ({ user, userId }) => user === userId);
}

/** The user is the `x-user` header (a stand-in for a session lookup). */
const guard = new TopicGuard(registry(), { userResolver: (r) => r.headers.get('x-user') ?? '' });

function post(path: string, body: string | FormData | URLSearchParams, headers: Record<string, string> = {}): Request {
  return new Request(`http://app.test${path}`, { method: 'POST', body, headers });
}

function form(fields: Record<string, string>, headers: Record<string, string> = {}): Request {
  return post(PATH, new URLSearchParams(fields), headers);
}

describe('TopicGuard', () => {
  test('channel_name from the query, a form, multipart or JSON', async () => {
    assert.equal(await channelNameOf(new Request(`http://x${PATH}?channel_name=item.1`)), 'item.1');
    assert.equal(await channelNameOf(form({ channel_name: 'item.2' })), 'item.2');
    const fd = new FormData();
    fd.set('channel_name', 'item.3');
    assert.equal(await channelNameOf(post(PATH, fd)), 'item.3');
    assert.equal(await channelNameOf(post(PATH, JSON.stringify({ channel_name: 'item.4' }), { 'content-type': 'application/json' })), 'item.4');
    assert.equal(await channelNameOf(post(PATH, '{nope', { 'content-type': 'application/json' })), undefined);
    assert.equal(await channelNameOf(post(PATH, JSON.stringify({ channel_name: 5 }), { 'content-type': 'application/json' })), undefined);
    assert.equal(await channelNameOf(new Request(`http://x${PATH}`)), undefined);
    // the request's own body stays readable
    const r = form({ channel_name: 'item.5' });
    await channelNameOf(r);
    assert.equal(await r.text(), 'channel_name=item.5');
  });

  test('authorizes through the registry with params, user and request', async () => {
    const ok = await guard.authorize(form({ channel_name: 'order.a1' }, { 'x-user': '42' }));
    assert.equal(ok.success, true);
    assert.deepEqual(ok.topics, ['order.a1']);
    assert.deepEqual(ok.attributes, { user: '42', pattern: 'order.{uuid}', params: { uuid: 'a1' } });
    assert.equal((await guard.authorize(form({ channel_name: 'order.a1' }, { 'x-user': '7' }))).success, false);
    assert.equal((await guard.authorize(form({ channel_name: 'order.a1' }))).success, false, 'anonymous');
    assert.equal((await guard.authorize(form({ channel_name: 'topic' }, { secret: 'secret' }))).success, true);
    assert.equal((await guard.authorize(form({ channel_name: 'topic' }, { secret: 'nope' }))).success, false);
  });

  test('refuses: no channel named, no pattern matching, a constraint not met', async () => {
    assert.deepEqual(await guard.authorize(form({})), new AuthorizationStatus(false, []));
    const none = await guard.authorize(form({ channel_name: 'other' }, { 'x-user': '42' }));
    assert.equal(none.success, false);
    assert.deepEqual(none.topics, ['other']);
    assert.deepEqual(none.attributes, { user: '42' });
    assert.equal((await guard.authorize(form({ channel_name: 'item.x1' }))).success, false);
    assert.equal((await guard.authorize(form({ channel_name: 'item.12' }))).success, true);
  });

  test('without a userResolver everyone is anonymous', async () => {
    const anon = new TopicGuard(new TopicRegistry<Request>().register('who', ({ userId }) => userId === ''));
    const s = await anon.authorize(form({ channel_name: 'who' }, { 'x-user': '42' }));
    assert.equal(s.success, true);
    assert.equal(s.attributes['user'], '');
  });
});

/** A guard answering with a response of its own (like the Pusher driver's `{auth}`). */
const customGuard: Guard<Request> = {
  authorize: async (request) => {
    const channel = (await channelNameOf(request)) ?? '';
    const headers = new Headers({ 'content-type': 'application/json' });
    headers.append('set-cookie', 'a=1');
    headers.append('set-cookie', 'b=2');
    return new AuthorizationStatus(channel === 'mine', [channel], {}, new Response(JSON.stringify({ auth: `key:${channel}` }), { status: 202, headers }));
  },
};

const throwingGuard: Guard<Request> = {
  authorize: () => {
    throw new Error('guard broke');
  },
};

const quiet = { write: () => undefined };
const silentLogger = (await import('pino')).pino({ level: 'silent' }, quiet as never);

function middleware(g: Guard<Request> = guard, options: ConstructorParameters<typeof AuthorizationMiddleware>[1] = {}): AuthorizationMiddleware {
  return new AuthorizationMiddleware(g, { path: PATH, env: {}, logger: silentLogger, ...options });
}

describe('middleware, fetch style', () => {
  const auth = middleware();

  test('an empty 200 on success, 403 on failure', async () => {
    const ok = await auth.handle(form({ channel_name: 'order.a1' }, { 'x-user': '42' }));
    assert.equal(ok?.status, 200);
    assert.equal(await ok?.text(), '');
    const no = await auth.handle(form({ channel_name: 'order.a1' }, { 'x-user': '7' }));
    assert.equal(no?.status, 403);
    assert.equal((await auth.handle(new Request(`http://x${PATH}?channel_name=item.1`)))?.status, 200, 'GET with a query works too');
  });

  test('other paths and methods are not answered (the exact path only)', async () => {
    assert.equal(await auth.handle(post('/other', 'x')), undefined);
    assert.equal(await auth.handle(post(`${PATH}/more`, 'x')), undefined);
    assert.equal(await auth.handle(post(`${PATH}/`, 'x')), undefined);
    assert.equal(await auth.handle(new Request(`http://x${PATH}`, { method: 'OPTIONS' })), undefined);
    assert.equal(await auth.handle(new Request(`http://x${PATH}`, { method: 'PUT', body: 'x' })), undefined);
  });

  test('fetch(next) passes every other request on, the same object', async () => {
    let seen: Request | undefined;
    const handler = auth.fetch((r: Request) => {
      seen = r;
      return new Response('app');
    });
    const other = post('/orders', 'payload');
    const res = await handler(other);
    assert.equal(await res.text(), 'app');
    assert.equal(seen, other);
    assert.equal(await other.text(), 'payload', 'its body untouched');
    assert.equal((await handler(form({ channel_name: 'item.1' }))).status, 200);
  });

  test('wraps a Hono app', async () => {
    const app = new Hono().get('/hello', (c) => c.text('hi')).post(PATH, (c) => c.text('never reached'));
    const fetch = auth.fetch(app.fetch);
    assert.equal(await (await fetch(new Request('http://x/hello'))).text(), 'hi');
    assert.equal((await fetch(form({ channel_name: 'order.a1' }, { 'x-user': '7' }))).status, 403);
  });

  test("the guard's own response is sent as it is", async () => {
    const res = (await middleware(customGuard).handle(form({ channel_name: 'other' })))!;
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { auth: 'key:other' });
  });

  test('a guard that throws: 500', async () => {
    assert.equal((await middleware(throwingGuard).handle(form({ channel_name: 'x' })))?.status, 500);
  });
});

/** A Node server: the middleware, then an app echoing what reached it. */
async function serve(listener: RequestListener): Promise<{ url: string; server: Server }> {
  const server = createServer(listener);
  await listen(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function echo(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ app: true, method: req.method, url: req.url, body: Buffer.concat(chunks).toString() }));
  });
}

describe('middleware, Node http / connect style', () => {
  const servers: Server[] = [];
  after(() => Promise.all(servers.map((s) => closeServer(s))));

  async function start(listener: RequestListener): Promise<string> {
    const { url, server } = await serve(listener);
    servers.push(server);
    return url;
  }

  test('200 / 403 at the path; everything else reaches the app untouched, body included', async () => {
    const auth = middleware();
    const url = await start((req, res) => void auth.node(req, res, () => echo(req, res)));
    const formPost = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${url}${PATH}`, { method: 'POST', body: new URLSearchParams(fields), headers });
    const ok = await formPost({ channel_name: 'order.a1' }, { 'x-user': '42' });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), '');
    assert.equal((await formPost({ channel_name: 'order.a1' }, { 'x-user': '7' })).status, 403);
    const json = await fetch(`${url}${PATH}`, { method: 'POST', body: JSON.stringify({ channel_name: 'item.9' }), headers: { 'content-type': 'application/json' } });
    assert.equal(json.status, 200);
    const other = await fetch(`${url}/orders/a1?x=1`, { method: 'POST', body: 'channel_name=order.a1' });
    assert.deepEqual(await other.json(), { app: true, method: 'POST', url: '/orders/a1?x=1', body: 'channel_name=order.a1' });
    const put = await fetch(`${url}${PATH}`, { method: 'PUT', body: 'x' });
    assert.deepEqual(await put.json(), { app: true, method: 'PUT', url: PATH, body: 'x' });
  });

  test('in a plain server without next: resolves whether it answered', async () => {
    const auth = middleware();
    const answered: boolean[] = [];
    const url = await start(async (req, res) => {
      const done = await auth.node(req, res);
      answered.push(done);
      if (!done) echo(req, res);
    });
    assert.equal((await fetch(`${url}${PATH}?channel_name=item.1`)).status, 200);
    assert.equal((await (await fetch(`${url}/x`)).json() as { app: boolean }).app, true);
    assert.deepEqual(answered, [true, false]);
  });

  test("the guard's own response: status, body and headers (several cookies)", async () => {
    const auth = middleware(customGuard);
    const url = await start((req, res) => void auth.node(req, res, () => echo(req, res)));
    const res = await fetch(`${url}${PATH}`, { method: 'POST', body: new URLSearchParams({ channel_name: 'mine' }) });
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { auth: 'key:mine' });
    assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2']);
  });

  test('after a body parser (Express style): req.body is used; a parser that skipped leaves the stream to read', async () => {
    const auth = middleware();
    const url = await start((req, res) => {
      const r = req as IncomingMessage & { body?: unknown; _body?: boolean };
      if (req.headers['content-type'] === 'application/x-www-form-urlencoded') {
        // like express.urlencoded(): consume the stream, set req.body
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          r.body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
          r._body = true;
          void auth.node(req, res, () => echo(req, res));
        });
      } else {
        // like express.json() on a request that is not JSON: req.body = {}, stream untouched
        r.body = {};
        void auth.node(req, res, () => echo(req, res));
      }
    });
    const parsed = await fetch(`${url}${PATH}`, { method: 'POST', body: new URLSearchParams({ channel_name: 'order.a1' }), headers: { 'x-user': '42' } });
    assert.equal(parsed.status, 200);
    const raw = await fetch(`${url}${PATH}`, { method: 'POST', body: 'channel_name=item.3', headers: { 'content-type': 'text/plain' } });
    assert.equal(raw.status, 403, 'a text/plain body names no channel');
    const multipart = new FormData();
    multipart.set('channel_name', 'item.4');
    assert.equal((await fetch(`${url}${PATH}`, { method: 'POST', body: multipart })).status, 200);
  });

  test('a guard that throws: next(err) with next, 500 without', async () => {
    const auth = middleware(throwingGuard);
    const errors: unknown[] = [];
    const url = await start((req, res) => {
      if (req.url!.startsWith('/no-next')) {
        void auth.node(Object.assign(req, { url: req.url!.slice('/no-next'.length) }), res);
        return;
      }
      void auth.node(req, res, (err) => {
        errors.push(err);
        res.writeHead(599).end();
      });
    });
    assert.equal((await fetch(`${url}${PATH}?channel_name=x`)).status, 599);
    assert.match(String(errors[0]), /guard broke/);
    assert.equal((await fetch(`${url}/no-next${PATH}?channel_name=x`)).status, 500);
  });

  test('a body over 64 KiB: 413', async () => {
    const auth = middleware();
    const url = await start((req, res) => void auth.node(req, res, () => echo(req, res)));
    const res = await fetch(`${url}${PATH}`, { method: 'POST', body: 'x'.repeat(70_000), headers: { 'content-type': 'text/plain' } });
    assert.equal(res.status, 413);
  });

  test('mounted under a prefix (Express originalUrl): the configured path is the full one', async () => {
    const auth = middleware();
    const url = await start((req, res) => {
      const r = req as IncomingMessage & { originalUrl?: string };
      r.originalUrl = req.url;
      req.url = req.url!.replace('/broadcasting', '') || '/';
      void auth.node(req, res, () => echo(req, res));
    });
    assert.equal((await fetch(`${url}${PATH}?channel_name=item.1`)).status, 200);
  });
});

describe('path configuration', () => {
  test('BROADCAST_AUTHORIZE_PATH overrides authorize.path', async () => {
    const auth = new AuthorizationMiddleware(guard, { path: PATH, env: { BROADCAST_AUTHORIZE_PATH: '/pusher/user-auth' } });
    assert.equal(auth.path, '/pusher/user-auth');
    assert.equal(await auth.handle(form({ channel_name: 'item.1' })), undefined);
    assert.equal((await auth.handle(post('/pusher/user-auth?channel_name=item.1', '')))?.status, 200);
    assert.equal(new AuthorizationMiddleware(guard, { env: { BROADCAST_AUTHORIZE_PATH: '/env-only' } }).path, '/env-only');
  });

  test('no path at all, or a relative one: BroadcastConfigError', () => {
    assert.throws(() => new AuthorizationMiddleware(guard, { env: {} }), (e: unknown) => {
      assert.ok(e instanceof BroadcastConfigError);
      assert.match(e.message, /no authorization path: set authorize.path in the broadcasting config or BROADCAST_AUTHORIZE_PATH/);
      return true;
    });
    assert.throws(() => new AuthorizationMiddleware(guard, { path: 'auth', env: {} }), /must start with "\/"/);
    assert.throws(() => new AuthorizationMiddleware(guard, { path: PATH, env: {}, token: { hmacSecret: '' } }), /hmacSecret must be a non-empty string/);
  });

  test('from the manager: authorize.topics as patterns → callbacks, userResolver, path', async () => {
    const manager = new BroadcastManager(
      {
        default: 'null',
        connections: { null: { driver: 'null' } },
        authorize: {
          path: '/auth',
          topics: { 'order.{uuid}': ({ uuid, userId }) => orders.get(uuid) === userId },
          userResolver: (r) => r.headers.get('x-user') ?? '',
        },
      },
      { env: {} },
    );
    const auth = manager.authorizationMiddleware();
    assert.equal(auth.path, '/auth');
    assert.ok(auth.guard instanceof TopicGuard);
    assert.equal((await auth.handle(post('/auth?channel_name=order.a1', '', { 'x-user': '42' })))?.status, 200);
    assert.equal((await auth.handle(post('/auth?channel_name=order.a1', '', { 'x-user': '1' })))?.status, 403);
    assert.equal(manager.guard(), manager.guard(), 'one guard');
  });

  test('from the manager without topics: a clear error; a bad pattern: a clear error', () => {
    const bare = new BroadcastManager({ connections: { null: { driver: 'null' } } }, { env: {} });
    assert.throws(() => bare.authorizationMiddleware(), /no topic authorization rules: set authorize.topics/);
    const bad = new BroadcastManager({ connections: {}, authorize: { path: '/a', topics: { 'order.{': () => true } } }, { env: {} });
    assert.throws(() => bad.guard(), (e: unknown) => e instanceof BroadcastConfigError && /authorize.topics: topic pattern "order.\{": unclosed/.test(e.message));
  });
});

describe('subscription tokens', () => {
  test('?token=1 on success answers {token}: a JWT for the channel and the user, signed with the key', async () => {
    const auth = middleware(guard, { token: { hmacSecret: SECRET, ttlSeconds: 600 } });
    const res = (await auth.handle(post(`${PATH}?token=1`, new URLSearchParams({ channel_name: 'order.a1' }), { 'x-user': '42' })))!;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const { token } = (await res.json()) as { token: string };
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(SECRET));
    assert.equal(protectedHeader.alg, 'HS256');
    assert.equal(payload.sub, '42');
    assert.equal(payload['channel'], 'order.a1');
    assert.equal(payload.exp! - payload.iat!, 600);
    await assert.rejects(jwtVerify(token, new TextEncoder().encode('another key')));
  });

  test('no token on failure, none unless asked, always with `always`', async () => {
    const auth = middleware(guard, { token: { hmacSecret: SECRET } });
    assert.equal((await auth.handle(post(`${PATH}?token=1`, new URLSearchParams({ channel_name: 'order.a1' }), { 'x-user': '7' })))?.status, 403);
    const plain = (await auth.handle(post(PATH, new URLSearchParams({ channel_name: 'item.1' }))))!;
    assert.equal(await plain.text(), '');
    const always = middleware(guard, { token: { hmacSecret: SECRET, always: true } });
    const res = (await always.handle(post(PATH, new URLSearchParams({ channel_name: 'item.1' }))))!;
    assert.equal(typeof ((await res.json()) as { token: unknown }).token, 'string');
  });

  test('asked for a token without token signing configured: 501 saying so', async () => {
    const res = (await middleware().handle(post(`${PATH}?token=1`, new URLSearchParams({ channel_name: 'item.1' }))))!;
    assert.equal(res.status, 501);
    assert.match(((await res.json()) as { error: string }).error, /not configured/);
  });

  test('a real Gyre accepts the token: a centrifuge client subscribes to a private channel through getToken', async () => {
    const g = await startGyre();
    const auth = middleware(guard, { token: { hmacSecret: SECRET } });
    const { url, server } = await serve((req, res) => void auth.node(req, res, () => res.writeHead(404).end()));
    try {
      const getToken = (user: string) => async (ctx: { channel: string }): Promise<string> => {
        const res = await fetch(`${url}${PATH}?token=1`, { method: 'POST', body: new URLSearchParams({ channel_name: ctx.channel }), headers: { 'x-user': user } });
        if (res.status !== 200) throw new Error(`authorization: HTTP ${res.status}`);
        return ((await res.json()) as { token: string }).token;
      };
      const c = g.client({ token: await g.token('42') });
      c.connect();
      await once(c, 'connected');
      const sub = c.newSubscription('$private.42', { getToken: getToken('42') });
      sub.subscribe();
      await once(sub, 'subscribed');
      // someone else's private channel: the endpoint refuses, no token, no subscription
      const res = await fetch(`${url}${PATH}?token=1`, { method: 'POST', body: new URLSearchParams({ channel_name: '$private.7' }), headers: { 'x-user': '42' } });
      assert.equal(res.status, 403);
    } finally {
      await closeServer(server);
      await g.close();
    }
  });
});
