/**
 * The HTTP server API client against Gyre's real HTTP API (and scripted endpoints for the
 * failures): every method, errors as ApiClientError, retries on temporary failures only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpApiClient } from '../../src/api/client/http.js';
import { ApiClientError } from '../../src/api/client/types.js';
import { API_KEY, once, startGyre, until, type TestGyre } from '../helpers/gyre.js';
import { closedPort, startEndpoint, startSpy, type Endpoint } from '../broadcasting/endpoint.js';

let g: TestGyre;
let api: HttpApiClient;

before(async () => {
  g = await startGyre({ channel: { namespaces: [{ name: 'chat', presence: true }] } });
  api = new HttpApiClient({ url: `${g.baseUrl}/api`, apiKey: API_KEY, backoffMs: 1 });
});

after(async () => {
  await api.close();
  await g.close();
});

async function rejection(p: Promise<unknown>): Promise<ApiClientError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiClientError, `expected an ApiClientError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

describe('against Gyre', () => {
  test('publish, then history returns it (history kept)', async () => {
    const res = await api.publish({ channel: 'hc-news', data: { text: 'hello' }, tags: { kind: 'greeting' } });
    assert.equal(res.offset, 1);
    assert.equal(typeof res.epoch, 'string');
    const h = await api.history({ channel: 'hc-news', limit: 10 });
    assert.deepEqual(
      h.publications.map((p) => [p.data, p.tags]),
      [[{ text: 'hello' }, { kind: 'greeting' }]],
    );
    assert.equal(h.offset, 1);
    await api.historyRemove({ channel: 'hc-news' });
    assert.deepEqual((await api.history({ channel: 'hc-news', limit: 10 })).publications, []);
  });

  test('skip_history leaves history empty', async () => {
    await api.publish({ channel: 'hc-skip', data: 1, skip_history: true });
    assert.deepEqual((await api.history({ channel: 'hc-skip', limit: 10 })).publications, []);
  });

  test('broadcast answers per channel: a result or an error', async () => {
    const res = await api.broadcast({ channels: ['hc-b1', 'nope:x', 'hc-b2'], data: { n: 1 } });
    assert.equal(res.responses.length, 3);
    assert.ok(res.responses[0]!.result);
    assert.deepEqual(res.responses[1]!.error, { code: 102, message: 'unknown channel' });
    assert.ok(res.responses[2]!.result);
  });

  test('subscribe, presence, presence_stats, channels, info, refresh, unsubscribe, disconnect', async () => {
    const c = g.client({ token: await g.token('u1') });
    c.connect();
    await once(c, 'connected');
    await api.subscribe({ user: 'u1', channel: 'chat:room' });
    const presence = await api.presence({ channel: 'chat:room' });
    assert.deepEqual(Object.values(presence.presence).map((p) => p.user), ['u1']);
    assert.deepEqual(await api.presenceStats({ channel: 'chat:room' }), { num_clients: 1, num_users: 1 });
    assert.equal((await api.channels({ pattern: 'chat:*' })).channels['chat:room']?.num_clients, 1);
    const info = await api.info();
    assert.equal(info.nodes.length, 1);
    assert.ok(info.nodes[0]!.num_clients >= 1);
    await api.refresh({ user: 'u1', expire_at: Math.floor(Date.now() / 1000) + 3600 });
    const unsubscribed = once(c, 'unsubscribed' as never);
    await api.unsubscribe({ user: 'u1', channel: 'chat:room' });
    await unsubscribed;
    const disconnected = once<{ code: number }>(c, 'disconnected');
    await api.disconnect({ user: 'u1', disconnect: { code: 4501, reason: 'bye' } });
    assert.equal((await disconnected).code, 4501);
  });

  test('a URL without a path means its /api', async () => {
    const bare = new HttpApiClient({ url: g.baseUrl, apiKey: API_KEY });
    assert.equal(bare.url, `${g.baseUrl}/api`);
    assert.ok((await bare.info()).nodes.length > 0);
  });
});

describe('errors and retries', () => {
  let spy: Endpoint;
  before(async () => {
    spy = await startSpy(g.baseUrl);
  });
  after(() => spy.close());

  test('a permanent API error (102) is thrown once, not retried', async () => {
    const before = spy.requests.length;
    const client = new HttpApiClient({ url: `${spy.url}/api`, apiKey: API_KEY, retries: 3, backoffMs: 1 });
    const e = await rejection(client.publish({ channel: 'nope:x', data: {} }));
    assert.equal(e.code, 102);
    assert.equal(e.temporary, false);
    assert.equal(e.method, 'publish');
    assert.equal(spy.requests.length - before, 1);
  });

  test('a wrong API key is a permanent error (401 → 101), not retried', async () => {
    const before = spy.requests.length;
    const client = new HttpApiClient({ url: `${spy.url}/api`, apiKey: 'wrong', retries: 3, backoffMs: 1 });
    const e = await rejection(client.info());
    assert.equal(e.code, 101);
    assert.equal(e.temporary, false);
    assert.match(e.message, /HTTP 401/);
    assert.equal(spy.requests.length - before, 1);
  });

  test('the key goes in X-API-Key', async () => {
    const before = spy.requests.length;
    const client = new HttpApiClient({ url: `${spy.url}/api`, apiKey: API_KEY });
    await client.info();
    const req = spy.requests[before]!;
    assert.equal(req.headers['x-api-key'], API_KEY);
    assert.equal(req.path, '/api/info');
    assert.equal(req.method, 'POST');
  });

  test('HTTP 500 twice, then success: three attempts, the result', async () => {
    const ep = await startEndpoint((_r, i) => (i < 2 ? { status: 500, body: 'oops' } : { status: 200, body: { result: { offset: 7, epoch: 'e' } } }));
    try {
      const client = new HttpApiClient({ url: ep.url, retries: 2, backoffMs: 1 });
      assert.deepEqual(await client.publish({ channel: 'x', data: 1 }), { offset: 7, epoch: 'e' });
      assert.equal(ep.requests.length, 3);
      assert.deepEqual(
        ep.requests.map((r) => r.json),
        Array(3).fill({ channel: 'x', data: 1 }),
      );
    } finally {
      await ep.close();
    }
  });

  test('retries are bounded: the last temporary error is thrown', async () => {
    const ep = await startEndpoint(() => ({ status: 503 }));
    try {
      const client = new HttpApiClient({ url: ep.url, retries: 1, backoffMs: 1 });
      const e = await rejection(client.publish({ channel: 'x', data: 1 }));
      assert.equal(e.code, 100);
      assert.equal(e.temporary, true);
      assert.match(e.message, /HTTP 503/);
      assert.equal(ep.requests.length, 2);
    } finally {
      await ep.close();
    }
  });

  test('error 100 in a 200 answer is temporary and retried', async () => {
    const ep = await startEndpoint((_r, i) => (i === 0 ? { status: 200, body: { error: { code: 100, message: 'internal server error' } } } : { status: 200, body: { result: {} } }));
    try {
      await new HttpApiClient({ url: ep.url, backoffMs: 1 }).publish({ channel: 'x', data: 1 });
      assert.equal(ep.requests.length, 2);
    } finally {
      await ep.close();
    }
  });

  test('retries: 0 means one attempt', async () => {
    const ep = await startEndpoint(() => ({ status: 200, body: { error: { code: 100, message: 'internal server error' } } }));
    try {
      const e = await rejection(new HttpApiClient({ url: ep.url, retries: 0 }).publish({ channel: 'x', data: 1 }));
      assert.equal(e.code, 100);
      assert.equal(e.temporary, true);
      assert.equal(ep.requests.length, 1);
    } finally {
      await ep.close();
    }
  });

  test('transport error mode (an error object with an HTTP status) keeps the code', async () => {
    const ep = await startEndpoint(() => ({ status: 404, body: { code: 102, message: 'unknown channel' } }));
    try {
      const e = await rejection(new HttpApiClient({ url: ep.url, backoffMs: 1 }).publish({ channel: 'x', data: 1 }));
      assert.equal(e.code, 102);
      assert.equal(e.temporary, false);
      assert.equal(ep.requests.length, 1);
    } finally {
      await ep.close();
    }
  });

  test('a network error is temporary (code 100) and retried', async () => {
    const port = await closedPort();
    const e = await rejection(new HttpApiClient({ url: `http://127.0.0.1:${port}/api`, retries: 1, backoffMs: 1 }).info());
    assert.equal(e.code, 100);
    assert.equal(e.temporary, true);
    assert.match(e.message, /request failed/);
  });

  test('a timeout is temporary', async () => {
    const ep = await startEndpoint(() => 'hang');
    try {
      const e = await rejection(new HttpApiClient({ url: ep.url, retries: 1, backoffMs: 1, timeout: '50ms' }).info());
      assert.equal(e.temporary, true);
      assert.match(e.message, /no answer within 50 ms/);
    } finally {
      await ep.close();
    }
  });

  test('a non-JSON 200 answer is a permanent error', async () => {
    const ep = await startEndpoint(() => ({ status: 200, body: '<html>' }));
    try {
      const e = await rejection(new HttpApiClient({ url: ep.url, backoffMs: 1 }).info());
      assert.equal(e.temporary, false);
      assert.equal(ep.requests.length, 1);
    } finally {
      await ep.close();
    }
  });

  test('close() aborts calls in flight and refuses new ones', async () => {
    const ep = await startEndpoint(() => 'hang');
    try {
      const client = new HttpApiClient({ url: ep.url, timeout: '60s' });
      const pending = rejection(client.info());
      await until(() => ep.requests.length > 0, { stepMs: 5, what: 'the request to reach the endpoint' });
      await client.close();
      const e = await pending;
      assert.match(e.message, /client closed/);
      assert.equal(e.temporary, false);
      assert.match((await rejection(client.info())).message, /client closed/);
      assert.equal(ep.requests.length, 1);
    } finally {
      await ep.close();
    }
  });

  test('bad options are TypeErrors naming the option', () => {
    assert.throws(() => new HttpApiClient({ url: 'not a url' }), /url: not a valid URL/);
    assert.throws(() => new HttpApiClient({ url: 'ftp://x' }), /expected http/);
    assert.throws(() => new HttpApiClient({ url: 'http://x', retries: -1 }), /retries must be a non-negative integer/);
    assert.throws(() => new HttpApiClient({ url: 'http://x', timeout: '5' }), /timeout: missing unit/);
  });
});
