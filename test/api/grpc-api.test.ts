/**
 * The gRPC server API (`centrifugal.centrifugo.api.CentrifugoApi`), driven by Gyre's typed gRPC
 * client: every method against a real node with a real `centrifuge` client, the `{error, result}`
 * response on the wire, and auth by `authorization: apikey KEY`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import type { Centrifuge, PublicationContext, ServerSubscribedContext, ServerUnsubscribedContext } from 'centrifuge';
import { GrpcApiClient } from '../../src/api/client/grpc.js';
import { ApiClientError } from '../../src/api/client/types.js';
import { loadApiService } from '../../src/protocol/grpc-services.js';
import { once, startGyre, until, type TestGyre } from '../helpers/gyre.js';
import { waitFor } from '../helpers/wait.js';

const KEY = 'grpc-secret';

let gyre: TestGyre;
let api: GrpcApiClient;
let address: string;
let c: Centrifuge;
let clientId: string;
const received: unknown[] = [];

before(async () => {
  gyre = await startGyre({
    grpc_api: { enabled: true, address: '127.0.0.1', port: 0, key: KEY },
    channel: { namespaces: [{ name: 'plain' }] },
  });
  address = `127.0.0.1:${gyre.server.grpcApiPort}`;
  api = new GrpcApiClient({ address, apiKey: KEY, timeout: '5s' });
  c = gyre.client({ token: await gyre.token('42', { info: { name: 'Alice' } }) });
  const sub = c.newSubscription('news');
  sub.on('publication', (ctx: PublicationContext) => received.push(ctx.data));
  const subscribed = once(sub, 'subscribed');
  sub.subscribe();
  c.connect();
  await subscribed;
  clientId = Object.keys((await api.presence({ channel: 'news' })).presence)[0]!;
});

after(async () => {
  await api.close();
  await gyre.close();
});

async function apiError(p: Promise<unknown>): Promise<ApiClientError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiClientError, String(e));
    return e;
  }
  throw new Error('expected an ApiClientError');
}

test('publish, broadcast, history, history_remove', async () => {
  const first = await api.publish({ channel: 'news', data: { n: 1 }, tags: { kind: 'test' } });
  assert.equal(first.offset, 1);
  assert.equal(typeof first.epoch, 'string');
  await until(() => received.length === 1);
  assert.deepEqual(received, [{ n: 1 }]);

  const b = await api.broadcast({ channels: ['news', 'plain:x', 'nowhere:x'], data: { n: 2 } });
  assert.equal(b.responses.length, 3);
  assert.equal(b.responses[0]!.result?.offset, 2);
  assert.deepEqual(b.responses[1]!.result, {});
  assert.deepEqual(b.responses[2]!.error, { code: 102, message: 'unknown channel' });
  await until(() => received.length === 2);

  const h = await api.history({ channel: 'news', limit: 10 });
  assert.deepEqual(
    h.publications.map((p) => [p.data, p.offset]),
    [
      [{ n: 1 }, 1],
      [{ n: 2 }, 2],
    ],
  );
  assert.deepEqual(h.publications[0]!.tags, { kind: 'test' });
  assert.equal(h.offset, 2);
  assert.equal(h.epoch, first.epoch);
  const reversed = await api.history({ channel: 'news', limit: 1, reverse: true });
  assert.deepEqual(reversed.publications.map((p) => p.data), [{ n: 2 }]);

  await api.historyRemove({ channel: 'news' });
  const after = await api.history({ channel: 'news', limit: 10 });
  assert.deepEqual(after.publications, []);
  assert.equal(after.offset, 2);

  assert.equal((await apiError(api.publish({ channel: 'nowhere:x', data: 1 }))).code, 102);
  assert.equal((await apiError(api.history({ channel: 'plain:x' }))).code, 108);
});

test('presence, presence_stats, channels, info', async () => {
  const p = await api.presence({ channel: 'news' });
  assert.deepEqual(p.presence[clientId], { client: clientId, user: '42', conn_info: { name: 'Alice' } });
  assert.deepEqual(await api.presenceStats({ channel: 'news' }), { num_clients: 1, num_users: 1 });
  const ch = await api.channels({});
  assert.deepEqual(ch.channels['news'], { num_clients: 1 });
  assert.deepEqual(Object.keys((await api.channels({ pattern: 'nothing*' })).channels), []);
  const info = await api.info();
  assert.equal(info.nodes.length, 1);
  assert.equal(info.nodes[0]!.uid, gyre.server.node.id);
  assert.equal(info.nodes[0]!.num_clients, 1);
});

test('subscribe, unsubscribe, refresh, rpc', async () => {
  const subscribed = once<ServerSubscribedContext>(c, 'subscribed');
  await api.subscribe({ user: '42', channel: 'extra', data: { hello: 'there' } });
  const s = await subscribed;
  assert.equal(s.channel, 'extra');
  assert.deepEqual(s.data, { hello: 'there' });

  const unsubscribed = once<ServerUnsubscribedContext>(c, 'unsubscribed');
  await api.unsubscribe({ user: '42', channel: 'extra' });
  assert.equal((await unsubscribed).channel, 'extra');

  await api.refresh({ user: '42', expire_at: Math.floor(Date.now() / 1000) + 3600 });
  assert.equal(gyre.server.node.clientsOf('42')[0]!.expireAt > 0, true);
  await api.refresh({ user: '42', expire_at: 0 });

  const rpc = await apiError(api.rpc('anything', { a: 1 }));
  assert.equal(rpc.code, 104);
  assert.equal(rpc.temporary, false);
});

test('batch: replies in order, errors in place', async () => {
  const r = await api.batch([
    { publish: { channel: 'plain:a', data: { x: 1 } } },
    { presence_stats: { channel: 'news' } },
    { history: { channel: 'nowhere:x' } },
    { channels: { pattern: 'news' } },
  ]);
  assert.equal(r.replies.length, 4);
  assert.deepEqual(r.replies[0], { publish: {} });
  assert.deepEqual(r.replies[1], { presence_stats: { num_clients: 1, num_users: 1 } });
  assert.deepEqual(r.replies[2], { error: { code: 102, message: 'unknown channel' } });
  assert.deepEqual(r.replies[3], { channels: { channels: { news: { num_clients: 1 } } } });
  const parallel = await api.batch([{ info: {} }, { presence: { channel: 'news' } }], true);
  assert.equal(parallel.replies.length, 2);
});

test('the response on the wire: {error = 1, result = 2}', async () => {
  const { grpc: g, Client } = await loadApiService();
  const raw = new Client(address, g.credentials.createInsecure());
  const md = new g.Metadata();
  md.set('authorization', `apikey ${KEY}`);
  const call = (method: string, req: object) =>
    waitFor<Record<string, unknown>>(`an answer to the gRPC ${method} call`, (resolve, reject) => {
      (raw as unknown as Record<string, (r: object, m: grpc.Metadata, cb: (e: Error | null, res: Record<string, unknown>) => void) => void>)[method]!(
        req,
        md,
        (e, res) => (e !== null ? reject(e) : resolve(res)),
      );
    });
  try {
    assert.deepEqual(await call('Publish', { channel: 'nowhere:x', data: Buffer.from('{}') }), { error: { code: 102, message: 'unknown channel' } });
    const ok = await call('Publish', { channel: 'plain:b', data: Buffer.from('{"v":1}') });
    assert.deepEqual(ok, { result: {} });
    // Payload bytes that are not JSON: binary data, published as it is.
    assert.deepEqual(await call('Publish', { channel: 'plain:b', data: Buffer.from('not json') }), { result: {} });
    // A JSON text nested too deep is still a bad request.
    const deep = Buffer.from('['.repeat(2000) + ']'.repeat(2000));
    assert.deepEqual(await call('Publish', { channel: 'plain:b', data: deep }), { error: { code: 107, message: 'JSON nested deeper than 1024 levels' } });
  } finally {
    raw.close();
  }
});

test('auth: a wrong or missing key is UNAUTHENTICATED (error 101, not retried)', async () => {
  for (const apiKey of ['wrong', undefined]) {
    const bad = new GrpcApiClient({ address, ...(apiKey !== undefined && { apiKey }), retries: 3 });
    try {
      const e = await apiError(bad.info());
      assert.equal(e.code, 101);
      assert.equal(e.temporary, false);
    } finally {
      await bad.close();
    }
  }
  assert.ok(gyre.logs.some((l) => l.msg === 'gRPC API: unauthorized request'));
});

test('disconnect, and a server that is down', async () => {
  const disconnected = once<{ code: number }>(c, 'disconnected');
  await api.disconnect({ user: '42', disconnect: { code: 4503, reason: 'bye' } });
  assert.equal((await disconnected).code, 4503);

  const down = new GrpcApiClient({ address: '127.0.0.1:1', timeout: '2s' });
  try {
    const e = await apiError(down.publish({ channel: 'news', data: 1 }));
    assert.equal(e.code, 100);
    assert.equal(e.temporary, true);
  } finally {
    await down.close();
  }
  assert.throws(() => new GrpcApiClient({ address: 'no-port' }), TypeError);
});
