/**
 * A proxy backend that answers badly on purpose: a body over the size limit (announced or not),
 * JSON nested too deeply, a disconnect whose reason is longer than a close frame holds. The client
 * gets error 100 or the disconnect (its reason cut to 123 bytes on a character boundary) at once,
 * the download is stopped, and the node goes on serving.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { MAX_PROXY_RESPONSE_BYTES } from '../../src/proxy/transport.js';
import { startGyre, type TestGyre } from '../helpers/gyre.js';
import { listen, waitFor } from '../helpers/wait.js';
import { closeHttp } from './helpers.js';

const INTERNAL = { code: 100, message: 'internal server error', temporary: true };
const LONG_REASON = 'é'.repeat(200); // 400 bytes
const CUT_REASON = 'é'.repeat(61); // 122 bytes: the most whole characters within 123

let backend: Server;
let base: string;
/** Bytes the backend wrote for a big answer before Gyre hung up, by path. */
const sentBeforeHangUp = new Map<string, number>();
let gyre: TestGyre;

/** Writes `total` bytes of a JSON string answer as the socket takes them; stops when Gyre hangs up. */
function streamBig(res: ServerResponse, path: string, total: number): void {
  const piece = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  res.on('close', () => sentBeforeHangUp.set(path, sent));
  res.write('{"result":{"data":"');
  const pump = (): void => {
    while (sent < total && !res.destroyed) {
      sent += piece.length;
      if (!res.write(piece)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end('"}}');
  };
  pump();
}

before(async () => {
  const big = 256 * 1024 * 1024;
  backend = createServer((req, res) => {
    req.resume();
    const path = req.url ?? '';
    if (path === '/big-announced') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(big + 22) });
      streamBig(res, path, big);
    } else if (path === '/big-chunked') {
      res.writeHead(200, { 'content-type': 'application/json' });
      streamBig(res, path, big);
    } else if (path === '/deep') {
      res.writeHead(200).end(`{"result":{"data":${'['.repeat(5000)}${']'.repeat(5000)}}}`);
    } else {
      res.writeHead(200).end(JSON.stringify({ disconnect: { code: 4000, reason: LONG_REASON } }));
    }
  });
  await listen(backend);
  base = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  gyre = await startGyre({
    rpc: {
      without_namespace: { proxy_enabled: true, proxy_name: 'disconnect' },
      namespaces: ['big-announced', 'big-chunked', 'deep'].map((name) => ({ name, proxy_enabled: true, proxy_name: name })),
    },
    proxies: ['big-announced', 'big-chunked', 'deep', 'disconnect'].map((name) => ({ name, endpoint: `${base}/${name}`, timeout: '20s' })),
  });
});
after(async () => {
  await gyre.close();
  await closeHttp(backend);
});

async function rpc(method: string): Promise<{ reply: Record<string, unknown>; s: Awaited<ReturnType<TestGyre['raw']>> }> {
  const s = await gyre.raw();
  await s.connect(await gyre.token('42'));
  s.sendJson({ id: 2, rpc: { method, data: {} } });
  return { reply: await s.reply(2), s };
}

function reasons(): string[] {
  return gyre.logs.filter((l) => l.msg === 'proxy request failed: answering error 100').map((l) => String(l['reason']));
}

describe('a hostile HTTP proxy backend', () => {
  for (const name of ['big-announced', 'big-chunked']) {
    test(`${name}: a body over ${MAX_PROXY_RESPONSE_BYTES} bytes is error 100, and the download is stopped`, async () => {
      const { reply } = await rpc(`${name}:m`);
      assert.deepEqual(reply['error'], INTERNAL);
      assert.ok(reasons().includes(`response body larger than ${MAX_PROXY_RESPONSE_BYTES} bytes`), reasons().join(' | '));
      await waitFor(`the backend to see ${name} hung up`, (resolve) => {
        const check = setInterval(() => sentBeforeHangUp.has(`/${name}`) && resolve(), 10);
        return () => clearInterval(check);
      });
      assert.ok(sentBeforeHangUp.get(`/${name}`)! < 64 * 1024 * 1024, `the backend sent ${sentBeforeHangUp.get(`/${name}`)} bytes`);
    });
  }

  test('JSON nested too deeply is error 100', async () => {
    const { reply } = await rpc('deep:m');
    assert.deepEqual(reply['error'], INTERNAL);
    assert.ok(reasons().includes('response JSON nested deeper than 1024 levels'), reasons().join(' | '));
  });

  test('a disconnect with a 400-byte reason on rpc closes at once, the reason cut to 123 bytes', async () => {
    const s = await gyre.raw();
    await s.connect(await gyre.token('42'));
    s.sendJson({ id: 2, rpc: { method: 'anything', data: {} } });
    assert.deepEqual(await s.closed, { code: 4000, reason: CUT_REASON });
  });

  test('a connect proxy disconnect with a 400-byte reason closes at once too', async () => {
    const g = await startGyre({ client: { proxy: { connect: { enabled: true, endpoint: `${base}/disconnect` } } } });
    try {
      const s = await g.raw();
      s.sendJson({ id: 1, connect: {} });
      assert.deepEqual(await s.closed, { code: 4000, reason: CUT_REASON });
      assert.equal(g.server.node.clientCount, 0);
      const unhandled = g.logs.filter((l) => l.level >= 50);
      assert.deepEqual(unhandled, []);
    } finally {
      // Shuts down at once: no connection left hanging.
      await g.close();
    }
  });

  test('the node goes on serving', async () => {
    const s = await gyre.raw();
    await s.connect(await gyre.token('7'));
    s.sendJson({ id: 2, ping: {} });
    assert.deepEqual(await s.reply(2), { id: 2, ping: {} });
  });
});
