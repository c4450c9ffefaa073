/**
 * RpcRouter on its own: methods by name, `verb:uri` methods onto a fetch-style handler (Hono and a
 * hand-written one), the result shape (`{...json, code}`), non-JSON bodies, a throwing handler,
 * the fallback, 104 without one, and uris that try to leave the base URL.
 * (The router over real sockets with the real client is in test/integration/handlers-routing.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Hono } from 'hono';
import { Handlers, RpcRouter, type FetchHandler } from '../../src/index.js';
import type { Outcome } from '../../src/handlers/answer.js';
import type { RPCResponse } from '../../src/handlers/responses.js';
import type { RPCRequest } from '../../src/handlers/requests.js';
import { captureLogger, context, requests, WARN } from './helpers.js';

/** Calls `method` with `data` through the router as the rpc service; returns the answer. */
async function call(router: RpcRouter, method: string, data: unknown = null): Promise<Outcome<RPCResponse>> {
  const { log } = captureLogger();
  return new Handlers().service('rpc', router.service).run<'rpc'>(requests.rpc(log, method, data), log);
}

/** The RPC result data of a successful call. */
async function dataOf(router: RpcRouter, method: string, data: unknown = null): Promise<unknown> {
  const out = await call(router, method, data);
  assert.equal(out.kind, 'respond', JSON.stringify(out));
  return out.kind === 'respond' ? out.response.fields.data : undefined;
}

/** A fetch handler recording the requests it gets and answering with `answer`. */
function recorder(answer: () => Response | Promise<Response>): { handler: FetchHandler; seen: Array<{ method: string; url: string; body: string; type: string | null }> } {
  const seen: Array<{ method: string; url: string; body: string; type: string | null }> = [];
  return {
    seen,
    handler: async (req) => {
      seen.push({ method: req.method, url: req.url, body: await req.text(), type: req.headers.get('content-type') });
      return answer();
    },
  };
}

describe('methods by name', () => {
  test('a method returns the result data, sync or async; undefined is no data', async () => {
    const router = new RpcRouter()
      .method('ping', () => 'pong')
      .method('echo', async (r) => ({ got: r.data, method: r.method }))
      .method('nothing', () => undefined);
    assert.equal(await dataOf(router, 'ping'), 'pong');
    assert.deepEqual(await dataOf(router, 'echo', { a: 1 }), { got: { a: 1 }, method: 'echo' });
    assert.equal(await dataOf(router, 'nothing'), undefined);
  });

  test('a method may answer itself (error) without a second answer', async () => {
    const { log, lines } = captureLogger();
    const router = new RpcRouter().method('guarded', (r) => r.error(403, 'forbidden'));
    const out = await new Handlers().service('rpc', router.service).run<'rpc'>(requests.rpc(log, 'guarded'), log);
    assert.deepEqual(out, { kind: 'error', error: { code: 403, message: 'forbidden' } });
    assert.equal(lines.filter((l) => l.level === WARN).length, 0);
  });

  test('a method that throws becomes error 100 through the pipeline', async () => {
    const router = new RpcRouter().method('boom', () => {
      throw new Error('x');
    });
    const out = await call(router, 'boom');
    assert.equal(out.kind === 'error' && out.error.code, 100);
  });

  test('unknown method without a fallback: error 104; with a fallback: its result', async () => {
    const bare = new RpcRouter().method('ping', () => 'pong');
    assert.deepEqual(await call(bare, 'nope'), { kind: 'error', error: { code: 104, message: 'method not found' } });
    const withFallback = new RpcRouter().fallback((r) => ({ error: 'Not found', code: 404, method: r.method }));
    assert.deepEqual(await dataOf(withFallback, 'nope'), { error: 'Not found', code: 404, method: 'nope' });
  });

  test('verb:uri without an HTTP handler is an ordinary unknown method', async () => {
    assert.equal((await call(new RpcRouter(), 'get:news/1')).kind, 'error');
    assert.equal(await dataOf(new RpcRouter().fallback(() => 'fb'), 'get:news/1'), 'fb');
  });

  test('an exact method wins over verb:uri routing', async () => {
    const { handler, seen } = recorder(() => Response.json({}));
    const router = new RpcRouter().http(handler).method('get:news/1', () => 'exact');
    assert.equal(await dataOf(router, 'get:news/1'), 'exact');
    assert.equal(seen.length, 0);
  });
});

describe('verb:uri onto a fetch handler', () => {
  const app = new Hono();
  app.get('/news/:id', (c) => c.json({ id: c.req.param('id'), lang: c.req.query('lang') ?? null, n: c.req.query('n') ?? null }));
  app.post('/news/store', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { title?: unknown };
    if (typeof body.title !== 'string' || body.title.trim() === '') {
      return c.json({ message: 'validation failed', errors: { title: 'The title is required.' } }, 422);
    }
    return c.json({ id: 1, title: body.title }, 201);
  });
  app.delete('/news/:id', (c) => c.body(null, 204));
  app.get('/text', (c) => c.text('plain words'));
  app.get('/list', (c) => c.json([1, 2]));
  app.get('/coded', (c) => c.json({ code: 'body-code', ok: true }, 202));
  const router = new RpcRouter().http((req) => app.fetch(req));

  test('GET: the data becomes the query string; the status is merged as code', async () => {
    assert.deepEqual(await dataOf(router, 'get:news/123', { lang: 'en', n: 5 }), { id: '123', lang: 'en', n: '5', code: 200 });
    assert.deepEqual(await dataOf(router, 'get:news/7'), { id: '7', lang: null, n: null, code: 200 });
  });

  test('POST: the data is the JSON body; 201 and 422 validation errors come back as data', async () => {
    assert.deepEqual(await dataOf(router, 'post:news/store', { title: 'Hello' }), { id: 1, title: 'Hello', code: 201 });
    assert.deepEqual(await dataOf(router, 'post:news/store', { title: '' }), {
      message: 'validation failed',
      errors: { title: 'The title is required.' },
      code: 422,
    });
  });

  test('verbs are case-insensitive; a leading slash is allowed', async () => {
    assert.deepEqual(await dataOf(router, 'GET:/news/9'), { id: '9', lang: null, n: null, code: 200 });
    assert.deepEqual(await dataOf(router, 'Post:news/store', { title: 't' }), { id: 1, title: 't', code: 201 });
  });

  test('an empty body is just the code; a non-object or non-JSON body is data; the status overrides a body code', async () => {
    assert.deepEqual(await dataOf(router, 'delete:news/1'), { code: 204 });
    assert.deepEqual(await dataOf(router, 'get:text'), { data: 'plain words', code: 200 });
    assert.deepEqual(await dataOf(router, 'get:list'), { data: [1, 2], code: 200 });
    assert.deepEqual(await dataOf(router, 'get:coded'), { ok: true, code: 202 });
  });

  test('an unknown route is the app’s 404', async () => {
    const data = (await dataOf(router, 'get:missing')) as { code: number };
    assert.equal(data.code, 404);
  });

  test('the handler gets the RPC request as its second argument: Hono routes read the caller from c.env', async () => {
    const caller = new Hono<{ Bindings: RPCRequest }>();
    caller.post('/whoami', async (c) => c.json({ user: c.env.user, client: c.env.client, meta: c.env.meta, method: c.env.method, body: await c.req.json() }));
    const r = new RpcRouter().http(caller.fetch);
    const { log } = captureLogger();
    const request = requests.rpc(log, 'post:whoami', { x: 1 }, context({ user: 'alice', client: 'c-9', meta: { role: 'agent' } }));
    const out = await new Handlers().service('rpc', r.service).run<'rpc'>(request, log);
    assert.equal(out.kind, 'respond', JSON.stringify(out));
    assert.deepEqual(out.kind === 'respond' && out.response.fields.data, {
      user: 'alice',
      client: 'c-9',
      meta: { role: 'agent' },
      method: 'post:whoami',
      body: { x: 1 },
      code: 200,
    });
  });

  test('the HTTP request: method, URL under the base, JSON content type, body', async () => {
    const { handler, seen } = recorder(() => Response.json({ ok: 1 }));
    const r = new RpcRouter().http(handler, 'http://app.internal/api');
    await dataOf(r, 'get:news/1', { q: 'a b', obj: { x: 1 } });
    await dataOf(r, 'post:news/store', { title: 't' });
    await dataOf(r, 'put:news/1', null);
    await dataOf(r, 'patch:news/1', [1]);
    assert.deepEqual(
      seen.map((s) => [s.method, s.url, s.body]),
      [
        ['GET', 'http://app.internal/api/news/1?q=a+b&obj=%7B%22x%22%3A1%7D', ''],
        ['POST', 'http://app.internal/api/news/store', '{"title":"t"}'],
        ['PUT', 'http://app.internal/api/news/1', '{}'],
        ['PATCH', 'http://app.internal/api/news/1', '[1]'],
      ],
    );
    assert.ok(seen.every((s) => s.type === 'application/json'));
  });

  test('a handler that throws (or rejects) gives code 500 with its message', async () => {
    const r = new RpcRouter().http(() => {
      throw new Error('router exploded');
    });
    assert.deepEqual(await dataOf(r, 'get:x'), { code: 500, message: 'router exploded' });
    const r2 = new RpcRouter().http(async () => Promise.reject(new Error('async explosion')));
    assert.deepEqual(await dataOf(r2, 'post:x', {}), { code: 500, message: 'async explosion' });
  });

  test('a uri that leaves the base URL is not routed: fallback, else 104', async () => {
    const { handler, seen } = recorder(() => Response.json({ reached: true }));
    const r = new RpcRouter().http(handler, 'http://app.internal/api/');
    const escaping = [
      'get:http://evil.example/x',
      'get:https://app.internal/api/x',
      'get:../admin',
      'get:%2e%2e/admin',
      'get:news/../../admin',
    ];
    for (const method of escaping) {
      const out = await call(r, method);
      assert.deepEqual(out, { kind: 'error', error: { code: 104, message: 'method not found' } }, method);
      assert.throws(() => r.toHttpRequest(method, null), TypeError, method);
    }
    assert.equal(seen.length, 0);
    r.fallback(() => 'fallback');
    assert.equal(await dataOf(r, 'get:../admin'), 'fallback');
    // `..` that stays under the base is fine; leading slashes and backslashes are path separators.
    assert.deepEqual(await dataOf(r, 'get:news/../items/1'), { reached: true, code: 200 });
    assert.deepEqual(await dataOf(r, 'get:\\\\evil.example/x'), { reached: true, code: 200 });
    assert.deepEqual(await dataOf(r, 'get://evil.example/x'), { reached: true, code: 200 });
    assert.deepEqual(
      seen.map((x) => x.url),
      ['http://app.internal/api/items/1', 'http://app.internal/api/evil.example/x', 'http://app.internal/api/evil.example/x'],
    );
  });

  test('toHttpRequest rejects a method that is not verb:uri; http() rejects a bad base URL', () => {
    assert.throws(() => new RpcRouter().http(() => new Response()).toHttpRequest('ping', null), TypeError);
    assert.throws(() => new RpcRouter().http(() => new Response(), 'not a url'), TypeError);
  });
});
