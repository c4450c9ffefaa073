/**
 * Slow consumers: whatever the compression, the bytes held for one client are bounded by
 * `client.queue_max_size` (3008 "slow"), a socket that does not drain within
 * `websocket.write_timeout` is closed (3009 "write error"), the close frame reaches a client that
 * reads again, and the socket of one that never does is destroyed, releasing its memory.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { RawSocket, startGyre, until, type TestGyre } from '../helpers/gyre.js';

const gyres: TestGyre[] = [];
after(async () => {
  for (const g of gyres) await g.close();
});

async function gyreWith(overrides: Parameters<typeof startGyre>[0]): Promise<TestGyre> {
  const g = await startGyre(overrides);
  gyres.push(g);
  return g;
}

/** A raw client subscribed to `channel`, then paused: the server's data piles up for it. */
async function pausedSubscriber(gyre: TestGyre, channel: string, deflate: boolean): Promise<RawSocket> {
  const s = await RawSocket.open(gyre.wsUrl, { perMessageDeflate: deflate });
  assert.equal(s.ws.extensions.includes('permessage-deflate'), deflate, 'compression negotiated as asked');
  await s.connect(await gyre.token('slow'));
  s.sendJson({ id: 2, subscribe: { channel } });
  await s.reply(2);
  socketOf(s).pause();
  return s;
}

function socketOf(s: RawSocket): Socket {
  return (s.ws as unknown as { _socket: Socket })._socket;
}

function slowLines(gyre: TestGyre, code: number): number {
  return gyre.logs.filter((l) => l.msg.startsWith('client too slow') && l['code'] === code).length;
}

/**
 * Publishes `payload` in bursts of `burst` publications, one burst per event-loop turn, until
 * `done()` or `maxBytes` have been published; returns the bytes published.
 */
async function publishUntil(gyre: TestGyre, channel: string, payload: () => string, burst: number, maxBytes: number, done: () => boolean): Promise<number> {
  let bytes = 0;
  while (!done() && bytes < maxBytes) {
    const all: Array<Promise<unknown>> = [];
    for (let i = 0; i < burst; i++) {
      const data = payload();
      bytes += data.length;
      all.push(gyre.server.api.publish({ channel, data }));
    }
    await Promise.all(all);
    await nextTurn();
  }
  return bytes;
}

function openConnections(gyre: TestGyre): Promise<number> {
  return new Promise((resolve, reject) => gyre.server.http.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

describe('slow consumers', () => {
  test('with permessage-deflate, the deflate backlog counts: the client is closed with 3008 and sees it when it reads again', async () => {
    // Bursts of incompressible publications arrive faster than zlib compresses them: without
    // counting the deflate backlog, it grows without bound while the socket itself looks empty.
    const gyre = await gyreWith({ websocket: { compression: true, write_timeout: '60s' }, client: { queue_max_size: 256 * 1024 } });
    const s = await pausedSubscriber(gyre, 'deflate', true);
    const published = await publishUntil(gyre, 'deflate', () => randomBytes(768).toString('base64'), 200, 64 * 1024 * 1024, () => slowLines(gyre, 3008) > 0);
    assert.equal(slowLines(gyre, 3008), 1, `no 3008 "client too slow" line after ${published} bytes published to a paused compressed client`);
    await until(() => gyre.server.node.clientCount === 0, 'the slow client to be unregistered');
    socketOf(s).resume();
    assert.deepEqual(await s.closed, { code: 3008, reason: 'slow' });
  });

  test('without compression: closed with 3008 at queue_max_size, the close frame right behind what the socket held', async () => {
    const gyre = await gyreWith({ websocket: { write_timeout: '60s' }, client: { queue_max_size: 256 * 1024 } });
    const s = await pausedSubscriber(gyre, 'plain', false);
    const chunk = 'x'.repeat(64 * 1024);
    const published = await publishUntil(gyre, 'plain', () => chunk, 4, 256 * 1024 * 1024, () => slowLines(gyre, 3008) > 0);
    assert.equal(slowLines(gyre, 3008), 1, `no 3008 line after ${published} bytes`);
    socketOf(s).resume();
    assert.deepEqual(await s.closed, { code: 3008, reason: 'slow' });
  });

  test('a socket that does not drain within websocket.write_timeout is closed with 3009 and destroyed', async () => {
    // The queue limit is out of reach: only the write timeout can end this client.
    const gyre = await gyreWith({ websocket: { write_timeout: '300ms' }, client: { queue_max_size: 512 * 1024 * 1024 } });
    const s = await pausedSubscriber(gyre, 'stuck', false);
    const chunk = 'y'.repeat(1024 * 1024);
    // Until the kernel's buffers are full and the socket backs up (a few MB on loopback).
    const published = await publishUntil(gyre, 'stuck', () => chunk, 1, 256 * 1024 * 1024, () => slowLines(gyre, 3009) > 0);
    await until(() => slowLines(gyre, 3009) === 1, { timeoutMs: 15_000, what: `a 3009 "client too slow" line (${published} bytes published)` });
    await until(() => gyre.server.node.clientCount === 0, 'the stuck client to be unregistered');
    // The peer never read: its socket is destroyed rather than kept with everything queued on it.
    await until(async () => (await openConnections(gyre)) === 0, { timeoutMs: 15_000, what: 'the stuck socket to be destroyed' });
    socketOf(s).resume();
    const closed = await s.closed;
    assert.equal(closed.code, 1006, 'the close frame could not reach a peer that did not read');
  });

  test('a client that keeps reading is not disturbed by the limits', async () => {
    const gyre = await gyreWith({ websocket: { compression: true, write_timeout: '1s' }, client: { queue_max_size: 256 * 1024 } });
    const s = await RawSocket.open(gyre.wsUrl, { perMessageDeflate: true });
    await s.connect(await gyre.token('fast'));
    s.sendJson({ id: 2, subscribe: { channel: 'steady' } });
    await s.reply(2);
    for (let i = 0; i < 200; i++) await gyre.server.api.publish({ channel: 'steady', data: { i, pad: 'z'.repeat(1000) } });
    await s.next((m) => (m['push'] as { pub?: { data?: { i?: number } } } | undefined)?.pub?.data?.i === 199, 'the last publication');
    assert.equal(slowLines(gyre, 3008) + slowLines(gyre, 3009), 0);
    assert.equal(gyre.server.node.clientCount, 1);
  });
});
