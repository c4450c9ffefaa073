/**
 * The seed services example (`npm run example:services`), started as its own process and driven
 * with the real `centrifuge` client: each behaviour of its fixed contract.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Centrifuge, type DisconnectedContext, type PublicationContext, type SubscribedContext } from 'centrifuge';
import WebSocket from 'ws';
import { once, until } from '../helpers/gyre.js';
import { exitOf, waitFor } from '../helpers/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(import.meta.resolve('tsx'));
const API_KEY = 'example-api-key';

let proc: ChildProcess;
let port = 0;
const lines: Array<Record<string, unknown>> = [];
const clients: Centrifuge[] = [];

before(async () => {
  proc = spawn(process.execPath, ['--import', tsx, 'examples/seed-services.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', EXAMPLE_CONNECTION_TTL: '2' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buf = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a JSON line
      }
    }
  });
  // Starting a process through tsx takes seconds on a loaded machine: a longer bound.
  await until(() => lines.some((l) => l['msg'] === 'seed services example listening'), {
    timeoutMs: 30_000,
    what: 'the seed services example to log "listening"',
  });
  port = lines.find((l) => l['msg'] === 'seed services example listening')!['port'] as number;
});

after(async () => {
  for (const c of clients) c.disconnect();
  proc.kill('SIGTERM');
  await exitOf(proc, 'the seed services example to exit after SIGTERM');
});

function client(authToken?: string): Centrifuge {
  const c = new Centrifuge(`ws://127.0.0.1:${port}/connection/websocket`, {
    websocket: WebSocket,
    minReconnectDelay: 50,
    maxReconnectDelay: 200,
    ...(authToken !== undefined && { data: { authToken } }),
  });
  clients.push(c);
  return c;
}

async function connected(authToken: string): Promise<Centrifuge> {
  const c = client(authToken);
  const ready = once(c, 'connected');
  c.connect();
  await ready;
  return c;
}

/** Subscribes and resolves 'ok' or the error code. */
async function trySubscribe(c: Centrifuge, channel: string): Promise<'ok' | number> {
  const sub = c.newSubscription(channel);
  const result = waitFor<'ok' | number>(`subscribed, error or unsubscribed on "${channel}"`, (resolve) => {
    sub.once('subscribed', () => resolve('ok'));
    sub.once('error', (ctx: { error: { code: number } }) => resolve(ctx.error.code));
    sub.once('unsubscribed', (ctx: { code: number }) => resolve(ctx.code));
  });
  sub.subscribe();
  const r = await result;
  c.removeSubscription(sub);
  return r;
}

test('connect: a known auth token sets the user; none or unknown is disconnected with 4501 for good', async () => {
  const c = await connected('token-42');
  assert.deepEqual(await c.rpc('whoami', {}), { data: { user: '42' } });
  for (const token of [undefined, 'nope']) {
    const bad = client(token);
    const closed = once<DisconnectedContext>(bad, 'disconnected');
    bad.connect();
    const ctx = await closed;
    assert.equal(ctx.code, 4501);
    assert.equal(ctx.reason, 'Connection is not allowed.');
    assert.equal(bad.state, 'disconnected', 'a terminal code: no reconnect');
  }
});

test('subscribe: news for all, user.{id} for that user, order.{uuid} for its owner, anything else 103', async () => {
  const u42 = await connected('token-42');
  const u7 = await connected('token-7');
  assert.equal(await trySubscribe(u42, 'news'), 'ok');
  assert.equal(await trySubscribe(u7, 'news'), 'ok');
  assert.equal(await trySubscribe(u42, 'user.42'), 'ok');
  assert.equal(await trySubscribe(u42, 'user.7'), 103);
  assert.equal(await trySubscribe(u42, 'order.a1'), 'ok');
  assert.equal(await trySubscribe(u7, 'order.a1'), 103);
  assert.equal(await trySubscribe(u42, 'order.zz'), 103);
  assert.equal(await trySubscribe(u42, 'secret'), 103);
});

test('publish: chat messages are validated and stamped; bad ones get 400 "bad message"', async () => {
  const reader = await connected('token-7');
  const sub = reader.newSubscription('chat:lobby');
  const got: unknown[] = [];
  sub.on('publication', (ctx: PublicationContext) => got.push(ctx.data));
  const subscribed = once<SubscribedContext>(sub, 'subscribed');
  sub.subscribe();
  await subscribed;

  const writer = await connected('token-42');
  await writer.publish('chat:lobby', { text: 'hello' });
  await until(() => got.length === 1);
  const msg = got[0] as { text: string; user: string; ts: number };
  assert.equal(msg.text, 'hello');
  assert.equal(msg.user, '42');
  assert.equal(typeof msg.ts, 'number');

  for (const data of [{}, { text: '' }, { text: 'x'.repeat(281) }, { text: 5 }, 'plain']) {
    await assert.rejects(writer.publish('chat:lobby', data), (e: { code: number; message: string }) => {
      assert.equal(e.code, 400);
      assert.equal(e.message, 'bad message');
      return true;
    });
  }
  await assert.rejects(writer.publish('news', { text: 'hi' }), (e: { code: number }) => e.code === 103);
  assert.equal(got.length, 1, 'nothing rejected was delivered');
});

test('rpc: ping, whoami, HTTP routes via verb:uri with the status code, and a not-found result', async () => {
  const c = await connected('token-42');
  assert.deepEqual(await c.rpc('ping', {}), { data: 'pong' });
  assert.deepEqual(await c.rpc('get:news/123', { lang: 'en' }), { data: { id: '123', lang: 'en', code: 200 } });
  assert.deepEqual(await c.rpc('post:news/store', { title: 'Gyre' }), { data: { id: 1, title: 'Gyre', code: 201 } });
  const invalid = (await c.rpc('post:news/store', { title: '' })) as { data: { code: number; errors: Record<string, string> } };
  assert.equal(invalid.data.code, 422);
  assert.ok(typeof invalid.data.errors['title'] === 'string', 'validation errors come back');
  assert.deepEqual(await c.rpc('launch', {}), { data: { error: 'Not found', code: 404 } });
});

test('refresh: the connection is extended by the refresh service, not dropped, when it expires', async () => {
  const c = await connected('token-7');
  const id = (c as unknown as { _client: string })._client;
  let disconnects = 0;
  c.on('disconnected', () => disconnects++);
  c.on('connecting', () => disconnects++);
  await until(() => lines.some((l) => l['msg'] === 'telemetry' && l['type'] === 'refresh' && l['client'] === id));
  assert.deepEqual(await c.rpc('whoami', {}), { data: { user: '7' } });
  assert.equal(disconnects, 0);
  assert.equal((c as unknown as { _client: string })._client, id);
});

test('telemetry: every request type is logged with its duration', async () => {
  for (const type of ['connect', 'subscribe', 'publish', 'rpc', 'refresh']) {
    const line = lines.find((l) => l['msg'] === 'telemetry' && l['type'] === type);
    assert.ok(line !== undefined, `telemetry line for ${type}`);
    assert.equal(typeof line['durationMs'], 'number');
  }
});

test('the server API key from GYRE_API_KEY publishes to subscribers', async () => {
  const c = await connected('token-42');
  const sub = c.newSubscription('news');
  const got: unknown[] = [];
  sub.on('publication', (ctx: PublicationContext) => got.push(ctx.data));
  const subscribed = once(sub, 'subscribed');
  sub.subscribe();
  await subscribed;
  const res = await fetch(`http://127.0.0.1:${port}/api/publish`, {
    method: 'POST',
    headers: { 'X-API-Key': API_KEY },
    body: JSON.stringify({ channel: 'news', data: { headline: 'hi' } }),
  });
  assert.equal(res.status, 200);
  await until(() => got.length === 1);
  assert.deepEqual(got, [{ headline: 'hi' }]);
});

test('a second copy on the same port says the port is taken and how to pick another (no stack trace)', async () => {
  const second = spawn(process.execPath, ['--import', tsx, 'examples/seed-services.ts'], {
    cwd: root,
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  second.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = await exitOf(second, { timeoutMs: 30_000, what: 'the second copy to exit' });
  assert.deepEqual(exit, { code: 1, signal: null });
  assert.match(stderr, new RegExp(`port ${port} is already taken .*PORT=8001 npm run example:services`));
  assert.doesNotMatch(stderr, /\n\s+at /, 'a stack trace was printed');
});
