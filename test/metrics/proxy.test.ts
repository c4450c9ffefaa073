/**
 * Proxy metrics (`centrifugo_proxy_*{protocol, type, name}`): every call timed, failed calls
 * (a backend that is down) counted as errors, answers with an application error not; the HTTP
 * and gRPC backends told apart, the default proxy named "default", a named one by its name.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startGyre, type TestGyre } from '../helpers/gyre.js';
import { scrape } from '../helpers/prometheus.js';
import { listen } from '../helpers/wait.js';
import { closeHttp, startBackend, type TestBackend } from '../proxy/helpers.js';

let http: TestBackend;
let grpc: TestBackend;
let gyre: TestGyre;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await listen(s);
  const port = (s.address() as AddressInfo).port;
  await closeHttp(s);
  return port;
}

before(async () => {
  http = await startBackend('http');
  grpc = await startBackend('grpc');
  const down = await closedPort();
  gyre = await startGyre({
    prometheus: { enabled: true },
    rpc: {
      proxy: { endpoint: http.endpoint('rpc'), timeout: '5s' },
      without_namespace: { proxy_enabled: true },
      namespaces: [
        { name: 'down', proxy_enabled: true, proxy_name: 'down' },
        { name: 'gr', proxy_enabled: true, proxy_name: 'gr' },
      ],
    },
    proxies: [
      { name: 'down', endpoint: `http://127.0.0.1:${down}/rpc`, timeout: '5s' },
      { name: 'gr', endpoint: grpc.endpoint('rpc'), timeout: '5s' },
    ],
  });
});

after(async () => {
  await gyre?.close();
  await http?.close();
  await grpc?.close();
});

async function rpc(method: string): Promise<Record<string, unknown>> {
  const raw = await gyre.raw();
  await raw.connect(await gyre.token('42'));
  raw.sendJson({ id: 2, rpc: { method, data: {} } });
  const reply = await raw.reply(2);
  raw.ws.close();
  return reply;
}

test('calls are timed by protocol, type and proxy name; only failed calls are proxy errors', async () => {
  assert.ok((await rpc('whoami'))['rpc'] !== undefined);
  assert.equal((await rpc('fail'))['error'] !== undefined, true, 'the backend answers error 1500');
  assert.deepEqual((await rpc('down:x'))['error'], { code: 100, message: 'internal server error', temporary: true });
  // The backend knows no "gr:whoami": an answer with error 404, through the gRPC proxy.
  assert.equal((await rpc('gr:whoami'))['error'] !== undefined, true);

  const m = await scrape(`${gyre.baseUrl}/metrics`);
  const def = { protocol: 'http', type: 'rpc', name: 'default' };
  const down = { protocol: 'http', type: 'rpc', name: 'down' };
  const g = { protocol: 'grpc', type: 'rpc', name: 'gr' };
  assert.equal(m.value('centrifugo_proxy_duration_seconds_count', def), 2);
  assert.equal(m.value('centrifugo_proxy_duration_seconds_histogram_count', def), 2);
  assert.equal(m.value('centrifugo_proxy_errors', def), 0, 'an application error is an answer, not a failed call');
  assert.equal(m.value('centrifugo_proxy_duration_seconds_count', down), 1);
  assert.equal(m.value('centrifugo_proxy_errors', down), 1);
  assert.equal(m.value('centrifugo_proxy_duration_seconds_count', g), 1);
  assert.equal(m.value('centrifugo_proxy_errors', g), 0);
  for (const labels of [def, down, g]) assert.equal(m.value('centrifugo_proxy_inflight_requests', labels), 0);
  assert.equal(m.value('centrifugo_client_num_reply_errors', { method: 'rpc', code: '1500' }), 1);
  assert.equal(m.value('centrifugo_client_num_reply_errors', { method: 'rpc', code: '100' }), 1);
  assert.equal(m.value('centrifugo_client_num_reply_errors', { method: 'rpc', code: '404' }), 1);
  assert.ok(m.value('centrifugo_proxy_duration_seconds_histogram_bucket', { ...g, le: '+Inf' }) === 1);
});
