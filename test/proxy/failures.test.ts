/**
 * Proxy calls that fail: a slow backend, a backend that is down, a non-200, an answer that is not a
 * proxy response: the client gets error 100 (temporary), never a hang, and the node logs one line
 * with the reason. And precedence: in-process handlers win over a proxy for the same event.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Handlers, RPCResponse } from '../../src/handlers/index.js';
import { startGyre, type TestGyre } from '../helpers/gyre.js';
import { closeHttp, startBackend, type BackendKind, type TestBackend } from './helpers.js';
import { listen } from '../helpers/wait.js';

const INTERNAL = { code: 100, message: 'internal server error', temporary: true };

/** A full garbage collection in this process (the server runs in it), without --expose-gc. */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await listen(s);
  const port = (s.address() as AddressInfo).port;
  await closeHttp(s);
  return port;
}

/** Calls rpc `method` over a raw socket (token-authenticated connect) and returns the reply. */
async function rawRpc(gyre: TestGyre, method: string): Promise<Record<string, unknown>> {
  const raw = await gyre.raw();
  const connect = await raw.connect(await gyre.token('42'));
  assert.ok(connect['connect'] !== undefined, JSON.stringify(connect));
  raw.sendJson({ id: 2, rpc: { method, data: {} } });
  return raw.reply(2);
}

function failureLogs(gyre: TestGyre) {
  return gyre.logs.filter((l) => l.msg === 'proxy request failed: answering error 100');
}

for (const kind of ['http', 'grpc'] as BackendKind[]) {
  describe(`${kind} backend failures`, () => {
    let backend: TestBackend;
    before(async () => {
      backend = await startBackend(kind);
    });
    after(() => backend.close());

    test('slow backend: error 100 after the timeout', async () => {
      const gyre = await startGyre({
        rpc: { proxy: { endpoint: backend.endpoint('rpc'), timeout: '200ms' }, without_namespace: { proxy_enabled: true } },
      });
      try {
        const reply = await rawRpc(gyre, 'slow');
        assert.deepEqual(reply['error'], INTERNAL);
        const logs = failureLogs(gyre);
        assert.equal(logs.length, 1);
        assert.match(String(logs[0]!['reason']), /no response within 200ms/);
        assert.equal(logs[0]!['route'], 'rpc.proxy');
        // The same connection goes on working.
      } finally {
        await gyre.close();
      }
    });

    test('slow backend while the garbage collector runs: the timeout still fires (error 100)', async () => {
      // Node 20 collects an AbortSignal.timeout() that only AbortSignal.any() refers to: the proxy
      // call then waited for the backend forever. Collect garbage often while the call waits.
      const gyre = await startGyre({
        rpc: { proxy: { endpoint: backend.endpoint('rpc'), timeout: '200ms' }, without_namespace: { proxy_enabled: true } },
      });
      const collect = setInterval(collectGarbage, 20);
      try {
        const reply = await rawRpc(gyre, 'slow');
        assert.deepEqual(reply['error'], INTERNAL);
        assert.match(String(failureLogs(gyre)[0]?.['reason']), /no response within 200ms/);
      } finally {
        clearInterval(collect);
        await gyre.close();
      }
    });

    test('backend down: error 100 for connect and rpc', async () => {
      const port = await closedPort();
      const endpoint = kind === 'grpc' ? `grpc://127.0.0.1:${port}` : `http://127.0.0.1:${port}/centrifugo/rpc`;
      const gyre = await startGyre({
        proxy_connect_endpoint: endpoint,
        proxy_rpc_endpoint: endpoint,
        proxy_rpc_timeout: '2s',
      });
      try {
        assert.deepEqual((await rawRpc(gyre, 'whoami'))['error'], INTERNAL);
        const raw = await gyre.raw();
        raw.sendJson({ id: 1, connect: {} });
        assert.deepEqual((await raw.reply(1))['error'], INTERNAL);
        assert.equal(failureLogs(gyre).length, 2);
      } finally {
        await gyre.close();
      }
    });
  });
}

describe('HTTP backend answers that are not proxy responses', () => {
  let bad: ReturnType<typeof createServer>;
  let base: string;
  before(async () => {
    bad = createServer((req, res) => {
      if (req.url === '/status') {
        res.writeHead(500).end('{"result":{}}');
      } else if (req.url === '/html') {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
      } else if (req.url === '/array') {
        res.writeHead(200).end('[1,2]');
      } else {
        res.writeHead(200).end('{"result":{"user":42}}');
      }
    });
    await listen(bad);
    base = `http://127.0.0.1:${(bad.address() as AddressInfo).port}`;
  });
  after(() => closeHttp(bad));

  test('non-200, not JSON, not an object, a result of the wrong shape: error 100', async () => {
    const gyre = await startGyre({
      rpc: {
        proxy: { endpoint: `${base}/status` },
        without_namespace: { proxy_enabled: true },
        namespaces: [
          { name: 'html', proxy_enabled: true, proxy_name: 'html' },
          { name: 'array', proxy_enabled: true, proxy_name: 'array' },
        ],
      },
      proxies: [
        { name: 'html', endpoint: `${base}/html` },
        { name: 'array', endpoint: `${base}/array` },
      ],
      client: { proxy: { connect: { enabled: true, endpoint: `${base}/wrong-user` } } },
    });
    try {
      for (const method of ['m', 'html:m', 'array:m']) assert.deepEqual((await rawRpc(gyre, method))['error'], INTERNAL, method);
      const raw = await gyre.raw();
      raw.sendJson({ id: 1, connect: {} });
      assert.deepEqual((await raw.reply(1))['error'], INTERNAL);
      const reasons = failureLogs(gyre).map((l) => l['reason']);
      assert.deepEqual(reasons, ['HTTP status 500', 'response is not JSON', 'response is not a JSON object', 'result.user is not a string']);
    } finally {
      await gyre.close();
    }
  });
});

test('in-process handlers win over a proxy for the same event', async () => {
  const backend = await startBackend('http');
  const handlers = new Handlers().service('rpc', (req) => req.respond(new RPCResponse({ data: 'in-process' })));
  const gyre = await startGyre(
    { rpc: { proxy: { endpoint: backend.endpoint('rpc') }, without_namespace: { proxy_enabled: true } } },
    undefined,
    { handlers },
  );
  try {
    assert.equal((await rawRpc(gyre, 'whoami'))['rpc'] !== undefined, true);
    assert.deepEqual(((await rawRpc(gyre, 'whoami'))['rpc'] as { data: unknown }).data, 'in-process');
    assert.equal(backend.seen.length, 0);
  } finally {
    await gyre.close();
    await backend.close();
  }
});
