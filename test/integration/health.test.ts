/**
 * Liveness and readiness: `/health` answers 200 `{}` while the process runs; `/health/ready`
 * answers 200 while the node can serve and 503 with the reason while its engine (a private Redis,
 * a private NATS) is unreachable or the server shuts down, and 200 again once the engine is back.
 * Both are absent (404) when `health.enabled` is false, and served on `http_server.internal_port`
 * when that is set.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { startGyre } from '../helpers/gyre.js';
import { freePort, OwnNats, OwnRedis, serviceTest } from '../helpers/services.js';
import { listen, until } from '../helpers/wait.js';
import { createGyre } from '../../src/gyre.js';

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

test('memory engine: /health is 200 {}, /health/ready is 200 ready; both 404 when health is disabled', async () => {
  const g = await startGyre({ health: { enabled: true } });
  const off = await startGyre({ health: { enabled: false } });
  try {
    assert.deepEqual(await get(`${g.baseUrl}/health`), { status: 200, body: {} });
    assert.deepEqual(await get(`${g.baseUrl}/health/ready`), { status: 200, body: { status: 'ready' } });
    assert.equal((await get(`${off.baseUrl}/health`)).status, 404);
    assert.equal((await get(`${off.baseUrl}/health/ready`)).status, 404);
  } finally {
    await g.close();
    await off.close();
  }
});

test('a custom handler_prefix moves both; with internal_port they are served there only', async () => {
  const g = await startGyre({ health: { enabled: true, handler_prefix: '/hc' } });
  const internal = await startGyre({ health: { enabled: true }, http_server: { internal_port: await freePort() } });
  try {
    assert.equal((await get(`${g.baseUrl}/hc`)).status, 200);
    assert.deepEqual(await get(`${g.baseUrl}/hc/ready`), { status: 200, body: { status: 'ready' } });
    assert.equal((await get(`${g.baseUrl}/health/ready`)).status, 404);
    const port = internal.server.internalPort!;
    assert.deepEqual(await get(`http://127.0.0.1:${port}/health/ready`), { status: 200, body: { status: 'ready' } });
    assert.equal((await get(`${internal.baseUrl}/health/ready`)).status, 404);
  } finally {
    await g.close();
    await internal.close();
  }
});

test('readiness is 503 "shutting down" as soon as the shutdown starts, while liveness stays 200', async () => {
  // Embedded in a host server, which Gyre's shutdown does not close: the probes keep reaching it.
  const gyre = createGyre({ config: { health: { enabled: true }, log: { level: 'error' } } });
  const host = createServer((req, res) => {
    if (!gyre.server.handleRequest(req, res)) res.writeHead(404).end();
  });
  await listen(host);
  const base = `http://127.0.0.1:${(host.address() as { port: number }).port}`;
  try {
    await gyre.server.attach(host);
    assert.equal((await get(`${base}/health/ready`)).status, 200);
    const stopping = gyre.server.shutdown();
    assert.deepEqual(await get(`${base}/health/ready`), { status: 503, body: { status: 'unavailable', reason: 'shutting down' } });
    assert.deepEqual(await get(`${base}/health`), { status: 200, body: {} });
    await stopping;
  } finally {
    host.close();
  }
});

serviceTest('Redis engine: readiness is 503 while Redis is down, 200 again once it is back', ['redis-server'], async () => {
  const redis = await OwnRedis.start();
  const g = await startGyre({ health: { enabled: true }, engine: { type: 'redis', redis: { address: redis.url } } });
  try {
    assert.deepEqual(await get(`${g.baseUrl}/health/ready`), { status: 200, body: { status: 'ready' } });
    await redis.down();
    await until(async () => (await get(`${g.baseUrl}/health/ready`)).status === 503, 'readiness did not turn 503 with Redis down');
    const down = await get(`${g.baseUrl}/health/ready`);
    assert.match((down.body as { reason: string }).reason, /Redis .* is not connected/);
    assert.equal((await get(`${g.baseUrl}/health`)).status, 200);
    await redis.up();
    await until(async () => (await get(`${g.baseUrl}/health/ready`)).status === 200, { timeoutMs: 30_000, what: 'readiness did not come back with Redis' });
  } finally {
    await g.close();
    await redis.stop();
  }
});

serviceTest('NATS broker: readiness is 503 while NATS is down, 200 again once it is back', ['nats-server'], async () => {
  const nats = await OwnNats.start();
  const g = await startGyre({ health: { enabled: true }, broker: { enabled: true, type: 'nats', nats: { url: nats.url } } });
  try {
    await until(async () => (await get(`${g.baseUrl}/health/ready`)).status === 200, 'readiness was not 200 with NATS up');
    await nats.down();
    await until(async () => (await get(`${g.baseUrl}/health/ready`)).status === 503, 'readiness did not turn 503 with NATS down');
    assert.deepEqual((await get(`${g.baseUrl}/health/ready`)).body, { status: 'unavailable', reason: 'NATS is not connected' });
    await nats.up();
    await until(async () => (await get(`${g.baseUrl}/health/ready`)).status === 200, { timeoutMs: 30_000, what: 'readiness did not come back with NATS' });
  } finally {
    await g.close();
    await nats.down();
  }
});
