/**
 * The topic registry's subscribe service and the RPC router over real sockets with the real
 * `centrifuge` client: allowed topics subscribe, others get 103 (a throwing callback 100); RPC
 * methods by name, `verb:uri` methods served by a Hono app (status merged as `code`, validation
 * errors as data), the fallback, and 104 without one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Hono } from 'hono';
import { ConnectResponse, Handlers, RpcRouter, TopicRegistry, topicSubscribeService, type SubscribeRequest } from '../../src/index.js';
import { startGyre, type TestGyre } from '../helpers/gyre.js';
import { connected, headerWebSocket, rejection, subscribeOutcome, subscribed } from '../handlers/clients.js';

/** The application's HTTP routes. */
function httpApp(): Hono {
  const app = new Hono();
  app.get('/news/:id', (c) => c.json({ id: c.req.param('id'), lang: c.req.query('lang') ?? null }));
  app.post('/news/store', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { title?: unknown };
    if (typeof body.title !== 'string' || body.title.trim() === '') {
      return c.json({ message: 'validation failed', errors: { title: 'The title is required.' } }, 422);
    }
    return c.json({ id: 1, title: body.title }, 201);
  });
  app.get('/broken', () => {
    throw new Error('route exploded');
  });
  app.get('/plain', (c) => c.text('just text'));
  app.onError((err, c) => c.json({ message: err.message }, 500));
  return app;
}

const orders = new Map([['a1', '42']]);

function registry(): TopicRegistry<SubscribeRequest> {
  return new TopicRegistry<SubscribeRequest>()
    .register('news', () => true)
    .register('user.{id}', ({ id, userId }) => id === userId)
    .register('order.{uuid}', ({ uuid, userId }) => orders.get(uuid) === userId)
    .register('item.{id:\\d+}', async ({ id }) => Number(id) < 1000)
    .register('boom.{x}', () => {
      throw new Error('topic callback exploded');
    });
}

describe('topic registry and RPC router over real sockets', { concurrency: true }, () => {
  describe('with the connection user, and an RPC router without fallback', () => {
    let gyre: TestGyre;
    before(async () => {
      const rpc = new RpcRouter()
        .method('ping', () => 'pong')
        .method('whoami', (r) => ({ user: r.user }))
        .http((req) => httpApp().fetch(req));
      const handlers = Handlers.from({
        services: {
          connect: (r) => r.respond(new ConnectResponse({ user: (r.data as { user: string }).user })),
          subscribe: topicSubscribeService(registry()),
          rpc: rpc.service,
        },
      });
      gyre = await startGyre({}, undefined, { handlers });
    });
    after(() => gyre.close());

    test('allowed topics subscribe; others get 103', async () => {
      const { c } = await connected(gyre, { data: { user: '42' } });
      for (const ch of ['news', 'user.42', 'order.a1', 'item.999']) await subscribed(c, ch);
      for (const ch of ['user.7', 'order.b2', 'item.abc', 'item.1000', 'unknown', 'news.x', 'user.42.extra']) {
        const out = await subscribeOutcome(c, ch);
        assert.ok('unsubscribed' in out, `${ch}: ${out.sub.state}`);
        assert.equal(out.unsubscribed.code, 103, ch);
      }
      c.disconnect();
    });

    test('another user: their own channel only', async () => {
      const { c } = await connected(gyre, { data: { user: '7' } });
      await subscribed(c, 'user.7');
      for (const ch of ['user.42', 'order.a1']) {
        const out = await subscribeOutcome(c, ch);
        assert.ok('unsubscribed' in out && out.unsubscribed.code === 103, ch);
      }
      c.disconnect();
    });

    test('a topic callback that throws: error 100 (temporary), logged', async () => {
      const { c } = await connected(gyre, { data: { user: '42' } });
      const out = await subscribeOutcome(c, 'boom.1');
      c.disconnect();
      assert.ok('error' in out);
      assert.equal(out.error.error.code, 100);
      assert.ok(gyre.logs.some((l) => (l['err'] as { message?: string } | undefined)?.message === 'topic callback exploded'));
    });

    test('RPC methods by name', async () => {
      const { c } = await connected(gyre, { data: { user: '42' } });
      assert.equal((await c.rpc('ping', null)).data, 'pong');
      assert.deepEqual((await c.rpc('whoami', null)).data, { user: '42' });
      c.disconnect();
    });

    test('verb:uri methods through the Hono app', async () => {
      const { c } = await connected(gyre, { data: { user: '42' } });
      assert.deepEqual((await c.rpc('get:news/123', { lang: 'en' })).data, { id: '123', lang: 'en', code: 200 });
      assert.deepEqual((await c.rpc('post:news/store', { title: 'Hello' })).data, { id: 1, title: 'Hello', code: 201 });
      assert.deepEqual((await c.rpc('post:news/store', { title: ' ' })).data, {
        message: 'validation failed',
        errors: { title: 'The title is required.' },
        code: 422,
      });
      assert.deepEqual((await c.rpc('get:plain', null)).data, { data: 'just text', code: 200 });
      // A throwing route: the app's error handler answers 500.
      assert.deepEqual((await c.rpc('get:broken', null)).data, { message: 'route exploded', code: 500 });
      assert.equal(((await c.rpc('get:nowhere', null)).data as { code: number }).code, 404);
      c.disconnect();
    });

    test('an unknown method without a fallback: 104; a uri leaving the base: 104', async () => {
      const { c } = await connected(gyre, { data: { user: '42' } });
      assert.deepEqual(await rejection(c.rpc('nope', null)), { code: 104, message: 'method not found' });
      assert.deepEqual(await rejection(c.rpc('get:http://example.com/x', null)), { code: 104, message: 'method not found' });
      c.disconnect();
    });
  });

  describe('with the user from an interceptor attribute, and an RPC router with a fallback', () => {
    let gyre: TestGyre;
    before(async () => {
      const rpc = new RpcRouter()
        .method('whoami', (r) => ({ user: r.getAttribute('userId') }))
        .http((req) => httpApp().fetch(req))
        .fallback(() => ({ error: 'Not found', code: 404 }));
      const handlers = Handlers.from({
        services: {
          connect: (r) => r.respond(new ConnectResponse({ user: '' })),
          subscribe: topicSubscribeService(registry(), (r) => r.getAttribute<string>('userId', '') ?? ''),
          rpc: rpc.service,
        },
        interceptors: {
          // The user comes from a header of the connection (as an auth gateway would set it).
          '*': [(r, next) => next(r.withAttribute('userId', r.getHeader('X-User-Id')[0] ?? ''))],
        },
      });
      gyre = await startGyre({}, undefined, { handlers });
    });
    after(() => gyre.close());

    test('topicSubscribeService with userOf reads the attribute', async () => {
      const { c } = await connected(gyre, { websocket: headerWebSocket({ 'X-User-Id': '42' }) });
      await subscribed(c, 'user.42');
      await subscribed(c, 'order.a1');
      const out = await subscribeOutcome(c, 'user.7');
      assert.ok('unsubscribed' in out && out.unsubscribed.code === 103);
      assert.deepEqual((await c.rpc('whoami', null)).data, { user: '42' });
      c.disconnect();
    });

    test('an unknown method goes to the fallback', async () => {
      const { c } = await connected(gyre);
      assert.deepEqual((await c.rpc('anything', null)).data, { error: 'Not found', code: 404 });
      // A uri leaving the base URL is not routed to the app: the fallback answers.
      assert.deepEqual((await c.rpc('get:http://example.com/x', null)).data, { error: 'Not found', code: 404 });
      c.disconnect();
    });
  });
});
