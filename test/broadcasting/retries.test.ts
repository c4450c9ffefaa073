/**
 * Retries of the server API drivers: temporary failures (HTTP 5xx, error 100, network errors) are
 * retried with backoff — by the HTTP client for whole calls, by the driver for the channels a
 * broadcast answered with a temporary error and for clients that do not retry themselves — and
 * permanent ones never are. Idempotency keys stay the same across retries.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiClientError } from '../../src/api/client/types.js';
import type { ServerApi } from '../../src/api/server-api.js';
import type { ApiPublishRequest } from '../../src/api/types.js';
import { BroadcastError, HttpBroadcast, LocalBroadcast } from '../../src/broadcasting/index.js';
import { Errors, ProtocolException } from '../../src/protocol/codes.js';
import { API_KEY, once, startGyre, until, type TestGyre } from '../helpers/gyre.js';
import { closedPort, startEndpoint, startSpy } from './endpoint.js';

let g: TestGyre;

before(async () => {
  g = await startGyre();
});

after(() => g.close());

async function failure(p: Promise<unknown>): Promise<BroadcastError> {
  const e = await p.then(
    () => assert.fail('expected a rejection'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof BroadcastError, `expected a BroadcastError, got ${String(e)}`);
  return e;
}

async function history(channel: string): Promise<unknown[]> {
  const res = (await g.api('history', { channel, limit: 100 })) as { result: { publications: Array<{ data: unknown }> } };
  return res.result.publications.map((p) => p.data);
}

describe('http driver', () => {
  test('fails twice with HTTP 500, then succeeds: published once, the client receives it', async () => {
    const ep = await startEndpoint((_r, i) => (i < 2 ? { status: 500, body: 'down' } : 'forward'), g.baseUrl);
    try {
      const c = g.client({ token: await g.token('u') });
      c.connect();
      const sub = c.newSubscription('retry-500');
      const got: unknown[] = [];
      sub.on('publication', (ctx) => got.push(ctx.data));
      sub.subscribe();
      await once(sub, 'subscribed');
      const http = new HttpBroadcast({ url: ep.url, apiKey: API_KEY, retries: 2, backoffMs: 1, idempotencyKey: true });
      await http.publish('retry-500', { n: 1 });
      assert.equal(ep.requests.length, 3);
      const keys = ep.requests.map((r) => (r.json as { idempotency_key?: string }).idempotency_key);
      assert.equal(new Set(keys).size, 1, 'the same idempotency key on every attempt');
      assert.match(keys[0]!, /^[0-9a-f-]{36}$/);
      await until(() => got.length === 1);
      assert.deepEqual(await history('retry-500'), [{ n: 1 }]);
    } finally {
      await ep.close();
    }
  });

  test('a permanent error (102) is not retried', async () => {
    const spy = await startSpy(g.baseUrl);
    try {
      const http = new HttpBroadcast({ url: spy.url, apiKey: API_KEY, retries: 5, backoffMs: 1 }, { connection: 'main', driver: 'http' });
      const e = await failure(http.publish('nope:x', 'x'));
      assert.equal(spy.requests.length, 1);
      assert.equal(e.code, 102);
      assert.equal(e.temporary, false);
      assert.equal(e.connection, 'main');
      assert.ok(e.cause instanceof ApiClientError);
    } finally {
      await spy.close();
    }
  });

  test('retries used up: the last temporary error, as a BroadcastError', async () => {
    const ep = await startEndpoint(() => ({ status: 502 }));
    try {
      const e = await failure(new HttpBroadcast({ url: ep.url, retries: 1, backoffMs: 1 }).publish('t', 1));
      assert.equal(ep.requests.length, 2);
      assert.equal(e.temporary, true);
      assert.equal(e.code, 100);
      assert.equal(e.topic, 't');
    } finally {
      await ep.close();
    }
  });

  test('a network error is temporary', async () => {
    const port = await closedPort();
    const e = await failure(new HttpBroadcast({ url: `http://127.0.0.1:${port}/api`, retries: 1, backoffMs: 1 }).publish(['a', 'b'], 1));
    assert.equal(e.temporary, true);
    assert.deepEqual(e.topics, ['a', 'b']);
    assert.match(e.message, /request failed/);
  });

  test('a broadcast retries only the channels answered with a temporary error', async () => {
    const ep = await startEndpoint((r, i) => {
      const channels = (r.json as { channels: string[] }).channels;
      return {
        status: 200,
        body: { result: { responses: channels.map((c) => (c === 'flaky' && i === 0 ? { error: { code: 100, message: 'internal server error' } } : { result: {} })) } },
      };
    });
    try {
      await new HttpBroadcast({ url: ep.url, backoffMs: 1, idempotencyKey: (topics, m) => `${topics.join('+')}:${JSON.stringify(m.data)}` }).publish(['steady', 'flaky'], { n: 1 });
      assert.deepEqual(
        ep.requests.map((r) => r.json),
        [
          { channels: ['steady', 'flaky'], data: { n: 1 }, idempotency_key: 'steady+flaky:{"n":1}' },
          { channels: ['flaky'], data: { n: 1 }, idempotency_key: 'steady+flaky:{"n":1}' },
        ],
      );
    } finally {
      await ep.close();
    }
  });

  test('a channel that keeps failing temporarily fails the publish after the retries; permanent failures are reported with it', async () => {
    const ep = await startEndpoint((r) => {
      const channels = (r.json as { channels: string[] }).channels;
      return {
        status: 200,
        body: {
          result: {
            responses: channels.map((c) =>
              c === 'flaky' ? { error: { code: 100, message: 'internal server error' } } : c === 'bad' ? { error: { code: 102, message: 'unknown channel' } } : { result: {} },
            ),
          },
        },
      };
    });
    try {
      const e = await failure(new HttpBroadcast({ url: ep.url, retries: 2, backoffMs: 1 }).publish(['ok', 'bad', 'flaky'], 1));
      assert.deepEqual(
        ep.requests.map((r) => (r.json as { channels: string[] }).channels),
        [['ok', 'bad', 'flaky'], ['flaky'], ['flaky']],
      );
      assert.deepEqual(e.topics, ['bad', 'flaky']);
      assert.equal(e.topic, 'bad');
      assert.equal(e.code, 102);
      assert.equal(e.temporary, false);
      assert.match(e.message, /"bad": unknown channel \(code 102\); "flaky": internal server error \(code 100\)/);
    } finally {
      await ep.close();
    }
  });

  test('an idempotency key makes a repeated publish a no-op on the server', async () => {
    const http = new HttpBroadcast({ url: g.baseUrl, apiKey: API_KEY, idempotencyKey: (_t, m) => `order-${(m.data as { id: string }).id}` });
    await http.publish('idem', { id: 'a1' });
    await http.publish('idem', { id: 'a1' });
    await http.publish('idem', { id: 'a2' });
    assert.deepEqual(await history('idem'), [{ id: 'a1' }, { id: 'a2' }]);
  });
});

describe('local driver', () => {
  /** The node's server API (still a ServerApi) whose first `failures` publishes fail with `error`. */
  function failing(inner: ServerApi, failures: number, error = Errors.internal): { api: ServerApi; calls: () => number } {
    let calls = 0;
    const api = Object.assign(Object.create(inner) as ServerApi, {
      publish: (req: ApiPublishRequest) => {
        calls++;
        if (failures-- > 0) return Promise.reject(new ProtocolException(error));
        return inner.publish(req);
      },
    });
    return { api, calls: () => calls };
  }

  test('the driver retries temporary failures itself (the in-process API does not)', async () => {
    const { api, calls } = failing(g.server.api, 2);
    await new LocalBroadcast({ gyre: api, backoffMs: 1 }).publish('local-retry', 'x');
    assert.equal(calls(), 3);
    assert.deepEqual(await history('local-retry'), ['x']);
  });

  test('but not permanent ones', async () => {
    const { api, calls } = failing(g.server.api, 5, Errors.badRequest);
    const e = await failure(new LocalBroadcast({ gyre: api, backoffMs: 1 }).publish('local-bad', 'x'));
    assert.equal(calls(), 1);
    assert.equal(e.code, 107);
    assert.equal(e.driver, 'LocalBroadcast');
  });
});
