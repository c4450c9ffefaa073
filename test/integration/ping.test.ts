/**
 * Server pings: `{}` every client.ping_interval, answered by `{}` pongs; no pong closes with 3012,
 * an unexpected pong with 3501, and a connection that never sends connect is closed as stale (3502).
 * Short intervals keep the file fast; waits are bounded by the test timeout, never asserted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ConnectedContext, ConnectingContext, PublicationContext } from 'centrifuge';
import WebSocket from 'ws';
import { once, startGyre, until, type RawSocket, type TestGyre } from '../helpers/gyre.js';

// pong_timeout close to ping_interval leaves room for a busy test machine to answer in time.
const PING = { ping_interval: '1s', pong_timeout: '900ms' };

let gyre: TestGyre;
before(async () => {
  gyre = await startGyre({ client: { ...PING, stale_close_delay: '1s' } });
});
after(() => gyre.close());

function isPing(m: Record<string, unknown>): boolean {
  return Object.keys(m).length === 0;
}

/** A raw socket connected with a token; returns it with the connect result. */
async function connected(g: TestGyre, user = '42'): Promise<{ s: RawSocket; result: Record<string, unknown> }> {
  const s = await g.raw();
  const reply = await s.connect(await g.token(user));
  const result = reply['connect'] as Record<string, unknown> | undefined;
  assert.ok(result !== undefined, JSON.stringify(reply));
  return { s, result };
}

/** Answers `count` pings with pongs, then checks the connection still serves commands. */
async function answerPings(s: RawSocket, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await s.next(isPing);
    s.sendJson({});
  }
  s.sendJson({ id: 99, unsubscribe: { channel: 'none' } });
  assert.deepEqual(await s.reply(99), { id: 99, unsubscribe: {} });
  assert.equal(s.ws.readyState, WebSocket.OPEN);
}

function logsOf(g: TestGyre, client: string): string[] {
  return g.logs.filter((l) => l['client'] === client).map((l) => l.msg);
}

// The cases are independent connections, so they run side by side to keep the file short.
describe('pings', { concurrency: true }, () => {
  test('the connect reply announces ping (seconds) and pong', async () => {
    const { s, result } = await connected(gyre);
    assert.equal(result['ping'], 1);
    assert.equal(result['pong'], true);
    s.ws.close();
  });

  test('a client answering each ping with {} stays connected over several pings', async () => {
    const { s, result } = await connected(gyre);
    await answerPings(s, 3);
    assert.deepEqual(logsOf(gyre, result['client'] as string), []);
    s.ws.close();
  });

  test('a client that does not answer a ping is closed with 3012 "no pong"', async () => {
    const { s, result } = await connected(gyre);
    const closed = await s.closed;
    assert.deepEqual(closed, { code: 3012, reason: 'no pong' });
    assert.ok(s.messages.some(isPing), 'a ping came before the close');
    assert.deepEqual(logsOf(gyre, result['client'] as string), ['no pong: closing connection']);
  });

  test('a pong before any ping closes with 3501', async () => {
    const { s, result } = await connected(gyre);
    s.sendJson({});
    assert.deepEqual(await s.closed, { code: 3501, reason: 'bad request' });
    assert.deepEqual(logsOf(gyre, result['client'] as string), ['unexpected pong: closing connection']);
  });

  test('a second pong for one ping closes with 3501', async () => {
    const { s, result } = await connected(gyre);
    await s.next(isPing);
    s.sendJson({}, {});
    assert.deepEqual(await s.closed, { code: 3501, reason: 'bad request' });
    assert.deepEqual(logsOf(gyre, result['client'] as string), ['unexpected pong: closing connection']);
  });

  test('a pong before connect closes with 3501', async () => {
    const s = await gyre.raw();
    s.sendJson({});
    assert.deepEqual(await s.closed, { code: 3501, reason: 'bad request' });
  });

  test('a socket that never sends connect is closed as stale (3502) after client.stale_close_delay', async () => {
    const s = await gyre.raw();
    assert.deepEqual(await s.closed, { code: 3502, reason: 'stale' });
    assert.deepEqual(s.messages, [], 'no ping before connect');
  });

  test('the centrifuge client answers pings and stays connected', async () => {
    let pings = 0;
    /** Node's ws, counting the server's `{}` pings the SDK receives. */
    class CountingWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        this.on('message', (data: Buffer) => {
          for (const line of data.toString().split('\n')) if (line.trim() === '{}') pings++;
        });
      }
    }
    const client = gyre.client({ websocket: CountingWebSocket, token: await gyre.token('7') });
    const reconnects: ConnectingContext[] = [];
    const connectedCtx = once<ConnectedContext>(client, 'connected');
    client.connect();
    const first = await connectedCtx;
    client.on('connecting', (ctx: ConnectingContext) => reconnects.push(ctx));
    const sub = client.newSubscription('after-pings');
    const received: unknown[] = [];
    sub.on('publication', (ctx: PublicationContext) => received.push(ctx.data));
    sub.subscribe();

    await until(() => pings >= 3, 20);
    assert.equal(client.state, 'connected');
    assert.deepEqual(reconnects, []);
    assert.deepEqual(logsOf(gyre, first.client), []);
    // Still the same, working connection.
    await gyre.api('publish', { channel: 'after-pings', data: { ok: true } });
    await until(() => received.length === 1);
    assert.deepEqual(received, [{ ok: true }]);
    client.disconnect();
  });

  test('with pong_timeout disabled, pongs to pings are still welcome', async () => {
    const g = await startGyre({ client: { ping_interval: '1s', pong_timeout: '0s' } });
    try {
      const { s, result } = await connected(g);
      assert.equal(result['pong'], true);
      await answerPings(s, 2);
      assert.deepEqual(logsOf(g, result['client'] as string), []);
    } finally {
      await g.close();
    }
  });
});
