/**
 * Attaching Gyre to the HTTP servers of real frameworks: an Express app and a Fastify instance keep
 * serving their own routes while the real `centrifuge` client connects to Gyre on the same port,
 * and Gyre's server API is mounted in Express through `handleRequest`.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Centrifuge } from 'centrifuge';
import express from 'express';
import Fastify from 'fastify';
import WebSocket from 'ws';
import { ConnectResponse, createGyre, Handlers, RPCResponse } from '../../src/index.js';
import { once } from '../helpers/gyre.js';
import { closeServer, listen } from '../helpers/wait.js';

const API_KEY = 'framework-key';

function gyreWithHandlers() {
  const handlers = new Handlers()
    .service('connect', (r) => r.respond(new ConnectResponse({ user: 'u1' })))
    .service('rpc', (r) => r.respond(new RPCResponse({ data: { method: r.method } })));
  return createGyre({
    config: { log: { level: 'error' }, http_api: { key: API_KEY }, client: { allowed_origins: ['*'] } },
    handlers,
  });
}

async function rpcOver(url: string): Promise<unknown> {
  const client = new Centrifuge(url, { websocket: WebSocket });
  const connected = once(client, 'connected');
  client.connect();
  await connected;
  const res = await client.rpc('hello', {});
  client.disconnect();
  return res;
}

test('Express: the app keeps its routes, Gyre serves WebSocket clients at /rt and its API through handleRequest', async () => {
  const gyre = gyreWithHandlers();
  const app = express();
  app.use((req, res, next) => {
    if (!gyre.server.handleRequest(req, res)) next();
  });
  app.get('/hello', (_req, res) => {
    res.json({ from: 'express' });
  });
  const server = createServer(app);
  await gyre.server.attach(server, { path: '/rt' });
  await listen(server);
  const port = (server.address() as AddressInfo).port;
  try {
    assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/hello`)).json(), { from: 'express' });
    assert.deepEqual(await rpcOver(`ws://127.0.0.1:${port}/rt`), { data: { method: 'hello' } });
    const res = await fetch(`http://127.0.0.1:${port}/api/info`, { method: 'POST', headers: { 'X-API-Key': API_KEY }, body: '{}' });
    const body = (await res.json()) as { result: { nodes: unknown[] } };
    assert.equal(body.result.nodes.length, 1);
  } finally {
    await gyre.server.shutdown();
    server.closeAllConnections();
    await closeServer(server);
  }
});

test('Fastify: attached to fastify.server, its routes and Gyre share one port', async () => {
  const gyre = gyreWithHandlers();
  const fastify = Fastify();
  fastify.get('/hello', async () => ({ from: 'fastify' }));
  await gyre.server.attach(fastify.server, { path: '/rt' });
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  const port = (fastify.server.address() as AddressInfo).port;
  try {
    assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/hello`)).json(), { from: 'fastify' });
    assert.deepEqual(await rpcOver(`ws://127.0.0.1:${port}/rt`), { data: { method: 'hello' } });
  } finally {
    await gyre.server.shutdown();
    await fastify.close();
  }
});
