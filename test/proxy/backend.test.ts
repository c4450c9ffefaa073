/**
 * Application handlers as a proxy backend: the fetch-style and Node HTTP endpoints (paths, methods,
 * bad bodies, unhandled events, headers, binary encoding), and the gRPC server's credentials and
 * unhandled events, seen through a Gyre node in front of them.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { ConnectResponse, Handlers, PublishResponse, RPCResponse } from '../../src/handlers/index.js';
import { GrpcProxyBackend } from '../../src/proxy/backend/grpc.js';
import { proxyFetchHandler, proxyRequestListener } from '../../src/proxy/backend/http.js';
import { startGyre, until } from '../helpers/gyre.js';
import { captureLogger, closeHttp, demoHandlers } from './helpers.js';
import type { LogLine } from '../helpers/gyre.js';
import { listen } from '../helpers/wait.js';

const logs: LogLine[] = [];
const log = captureLogger(logs);

function post(path: string, body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(`http://backend${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers });
}

describe('fetch-style HTTP backend', () => {
  const handler = proxyFetchHandler(demoHandlers(), { log });

  test('answers each event at a path ending with its name', async () => {
    const res = await handler(post('/centrifugo/connect', { client: 'c1', transport: 'websocket', protocol: 'json', encoding: 'json', data: { token: 'good-ann' } }, { 'X-App': 'web', Cookie: 'a=1' }));
    assert.equal(res.status, 200);
    const body = (await res.json()) as { result: Record<string, unknown> };
    assert.equal(body.result['user'], 'ann');
    assert.deepEqual(body.result['data'], { greeting: 'hello ann', app: 'web', transport: 'websocket' });
    assert.deepEqual(body.result['meta'], { tier: 'gold' });
    assert.equal(typeof body.result['expire_at'], 'number');

    const rpc = await handler(post('/rpc', { client: 'c1', user: 'ann', method: 'whoami', data: [1], meta: { m: 1 } }));
    assert.deepEqual(await rpc.json(), { result: { data: { user: 'ann', meta: { m: 1 }, params: [1] } } });
    const err = await handler(post('/x/rpc', { method: 'fail' }));
    assert.deepEqual(await err.json(), { error: { code: 1500, message: 'nope' } });
    const kick = await handler(post('/x/rpc', { method: 'kick' }));
    assert.deepEqual(await kick.json(), { disconnect: { code: 4000, reason: 'kicked' } });
  });

  test('the connection headers a service sees exclude those of the proxy request itself', async () => {
    let seen: Readonly<Record<string, unknown>> = {};
    const h = proxyFetchHandler(
      new Handlers().service('connect', (req) => {
        seen = req.headers;
        req.respond(new ConnectResponse({ user: '' }));
      }),
      { log },
    );
    await h(post('/connect', {}, { 'X-App': 'web', 'Content-Type': 'application/json' }));
    assert.equal(seen['x-app'], 'web');
    assert.equal(seen['content-type'], undefined);
    assert.equal(seen['host'], undefined);
  });

  test('binary encoding: b64data in, b64 fields out', async () => {
    const b64 = Buffer.from(JSON.stringify({ text: 'hi' })).toString('base64');
    const res = await handler(post('/publish', { user: 'ann', channel: 'c', b64data: b64 }));
    const body = (await res.json()) as { result: { b64data: string } };
    assert.deepEqual(JSON.parse(Buffer.from(body.result.b64data, 'base64').toString()), { text: 'hi', by: 'ann', tier: null });
  });

  test('wrong method, path, body; an event no service handles', async () => {
    assert.equal((await handler(new Request('http://backend/connect'))).status, 405);
    assert.equal((await handler(post('/centrifugo/other', {}))).status, 404);
    assert.equal((await handler(post('/connect', 'not json'))).status, 400);
    assert.equal((await handler(post('/connect', '[1]'))).status, 400);
    const only = proxyFetchHandler(new Handlers().service('rpc', (r) => r.respond(new RPCResponse())), { log });
    assert.equal((await only(post('/subrefresh', {}))).status, 501);
    assert.ok(logs.some((l) => l.msg === 'proxy backend: no service handles this request type (answering 501)'));
  });
});

test('Node HTTP backend: a body too large is 413; binary encoding and static headers end to end through Gyre', async () => {
  const bodies: unknown[] = [];
  const statics: unknown[] = [];
  const listener = proxyRequestListener(demoHandlers(), { log, maxBodySize: 4096 });
  const server = createServer((req, res) => {
    // Record what Gyre sends, then let the backend answer.
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      if (text.length < 4096) {
        bodies.push(JSON.parse(text));
        statics.push(req.headers['x-static']);
      }
      // Replay the recorded body into the backend's listener.
      const replay = Object.assign(Readable.from([Buffer.from(text)]), { method: req.method, url: req.url, headers: req.headers });
      listener(replay as never, res);
    });
  });
  await listen(server);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const big = await fetch(`${base}/publish`, { method: 'POST', body: JSON.stringify({ data: 'x'.repeat(5000) }) });
    assert.equal(big.status, 413);

    const gyre = await startGyre({
      channel: { proxy: { publish: { endpoint: `${base}/publish`, binary_encoding: true, http: { static_headers: { 'X-Static': 'yes' } } } }, without_namespace: { publish_proxy_enabled: true } },
    });
    try {
      const raw = await gyre.raw();
      await raw.connect(await gyre.token('zoe'));
      raw.sendJson({ id: 2, subscribe: { channel: 'feed' } });
      await raw.reply(2);
      raw.sendJson({ id: 3, publish: { channel: 'feed', data: { n: 1 } } });
      assert.deepEqual(await raw.reply(3), { id: 3, publish: {} });
      const push = await raw.next((m) => m['push'] !== undefined);
      assert.deepEqual((push['push'] as { pub: { data: unknown } }).pub.data, { n: 1, by: 'zoe', tier: null });
      await until(() => bodies.length === 1);
      const sent = bodies[0] as Record<string, unknown>;
      assert.equal(sent['data'], undefined);
      assert.deepEqual(JSON.parse(Buffer.from(sent['b64data'] as string, 'base64').toString()), { n: 1 });
      assert.deepEqual(statics, ['yes']);
    } finally {
      await gyre.close();
    }
  } finally {
    await closeHttp(server);
  }
});

test('gRPC backend: required credentials, and an event no service handles', async () => {
  const handlers = new Handlers()
    .service('connect', (req) => req.respond(new ConnectResponse({ user: String(req.getHeader('x-user')[0] ?? '') })))
    .service('publish', (req) => req.respond(new PublishResponse()));
  const backend = await GrpcProxyBackend.create(handlers, { log, credentials: { key: 'x-proxy-token', value: 's3cret' } });
  const port = await backend.listen();
  const endpoint = `grpc://127.0.0.1:${port}`;
  const gyre = await startGyre({
    client: {
      proxy: {
        connect: {
          enabled: true,
          endpoint,
          http_headers: ['x-user'],
          grpc: { credentials_key: 'x-proxy-token', credentials_value: 's3cret', static_metadata: { 'x-user': 'static' } },
        },
      },
    },
    rpc: { proxy: { endpoint, grpc: { credentials_key: 'x-proxy-token', credentials_value: 's3cret' } }, without_namespace: { proxy_enabled: true } },
    proxies: [{ name: 'nocred', endpoint }],
    channel: { without_namespace: { publish_proxy_enabled: true, publish_proxy_name: 'nocred' } },
  });
  try {
    // The forwarded header replaces the static metadata of the same name.
    const raw = await gyre.raw({ headers: { 'X-User': 'uma' } });
    raw.sendJson({ id: 1, connect: {} });
    const reply = await raw.reply(1);
    assert.ok(reply['connect'] !== undefined, JSON.stringify(reply));
    assert.equal(gyre.server.node.clientsOf('uma').length, 1);
    const plain = await gyre.raw();
    plain.sendJson({ id: 1, connect: {} });
    await plain.reply(1);
    assert.equal(gyre.server.node.clientsOf('static').length, 1);

    raw.sendJson({ id: 2, rpc: { method: 'm' } }, { id: 3, publish: { channel: 'feed', data: {} } });
    assert.deepEqual((await raw.reply(2))['error'], { code: 100, message: 'internal server error', temporary: true });
    assert.deepEqual((await raw.reply(3))['error'], { code: 100, message: 'internal server error', temporary: true });
    const reasons = gyre.logs.filter((l) => l.msg === 'proxy request failed: answering error 100').map((l) => String(l['reason']));
    assert.match(reasons[0]!, /^UNIMPLEMENTED/);
    assert.match(reasons[1]!, /^UNAUTHENTICATED/);
  } finally {
    await gyre.close();
    await backend.close();
  }
});
