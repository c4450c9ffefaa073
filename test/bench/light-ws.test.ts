/**
 * The load generator's minimal WebSocket client (bench/light-ws.ts) against a `ws` server: the
 * upgrade with a subprotocol, zero-masked frames of every length encoding both ways, frames that
 * arrive with the upgrade answer, pings answered, the close code, and a refused upgrade.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { LightWs } from '../../bench/light-ws.js';

async function server(onConnection: (ws: WebSocket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const httpServer = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: httpServer, path: '/ws', handleProtocols: (set) => (set.has('p1') ? 'p1' : false) });
  wss.on('connection', onConnection);
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  return {
    port: (httpServer.address() as AddressInfo).port,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      httpServer.close();
      await once(httpServer, 'close');
    },
  };
}

test('LightWs: subprotocol, text and binary frames of every length both ways, pings, close code', async () => {
  const big = Buffer.alloc(70_000, 7);
  const mid = 'm'.repeat(300);
  let pongs = 0;
  const s = await server((ws) => {
    // Sent at once: may arrive in the same chunk as the upgrade answer.
    ws.send('hello');
    ws.on('pong', () => pongs++);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary && data.toString() === 'bye') {
        ws.ping();
        setTimeout(() => ws.close(4001, 'done'), 50);
        return;
      }
      ws.send(data, { binary: isBinary }); // echo
    });
  });
  try {
    const c = new LightWs(s.port, '/ws', { protocol: 'p1' });
    const got: Array<{ text?: string; bytes?: number; binary: boolean }> = [];
    c.on('message', (data: Buffer, isBinary: boolean) => got.push(isBinary ? { bytes: data.length, binary: true } : { text: data.toString(), binary: false }));
    await once(c, 'open');
    assert.equal(c.protocol, 'p1');
    assert.equal(c.readyState, LightWs.OPEN);
    c.send('x');
    c.send(mid);
    c.send(big);
    await new Promise((r) => setTimeout(r, 200));
    // From here on, frames go to onFrame in place.
    const frames: number[] = [];
    c.onFrame = (_buf, start, end) => frames.push(end - start);
    c.send('abc');
    await new Promise((r) => setTimeout(r, 100));
    c.send('bye');
    const [code] = (await once(c, 'close')) as [number];
    assert.deepEqual(got, [
      { text: 'hello', binary: false },
      { text: 'x', binary: false },
      { text: mid, binary: false },
      { bytes: big.length, binary: true },
    ]);
    assert.deepEqual(frames, [3]);
    assert.equal(pongs, 1, 'the ping was answered');
    assert.equal(code, 4001);
    assert.equal(c.readyState, LightWs.CLOSED);
  } finally {
    await s.close();
  }
});

test('LightWs: a refused upgrade is an error, then a close', async () => {
  const s = await server(() => {});
  try {
    const c = new LightWs(s.port, '/nowhere');
    const [err] = (await once(c, 'error')) as [Error];
    assert.match(err.message, /unexpected server response: HTTP\/1\.1 400/);
    const [code] = (await once(c, 'close')) as [number];
    assert.equal(code, 1006);
  } finally {
    await s.close();
  }
});
