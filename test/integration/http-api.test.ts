/**
 * The HTTP server API over real HTTP (fetch) against a real Gyre server: every method of the
 * server API table, the legacy `POST /api` form, API key auth, the transport error mode, bad input,
 * and the effects of subscribe / unsubscribe / disconnect / refresh on real connections (the real
 * `centrifuge` client and raw WebSockets).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  PublicationContext,
  ServerPublicationContext,
  ServerSubscribedContext,
  ServerUnsubscribedContext,
  UnsubscribedContext,
} from 'centrifuge';
import { API_KEY, once, startGyre, until, type TestGyre } from '../helpers/gyre.js';

type Json = Record<string, any>;

interface HttpResult {
  status: number;
  body: Json;
}

/** POSTs `body` (a string is sent verbatim) to `path` of `gyre`, with the API key unless `headers` say otherwise. */
async function post(
  gyre: TestGyre,
  path: string,
  body: unknown,
  headers: Record<string, string> = { 'X-API-Key': API_KEY },
): Promise<HttpResult> {
  const res = await fetch(gyre.baseUrl + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Json) };
}

/** Calls a method and returns its `result`, failing the test on an `error`. */
async function ok(gyre: TestGyre, method: string, params: unknown = {}): Promise<Json> {
  const res = (await gyre.api(method, params)) as Json;
  assert.equal(res['error'], undefined, `${method} failed: ${JSON.stringify(res['error'])}`);
  assert.ok(res['result'] !== undefined, `${method}: no result`);
  return res['result'] as Json;
}

/** Calls a method and returns the code of its `error`, failing the test on a `result`. */
async function errCode(gyre: TestGyre, method: string, params: unknown = {}): Promise<number> {
  const res = (await gyre.api(method, params)) as Json;
  assert.equal(res['result'], undefined, `${method} unexpectedly succeeded`);
  assert.equal(typeof res['error']?.message, 'string');
  return res['error'].code as number;
}

const OVERRIDES = {
  channel: {
    namespaces: [
      // No history, no presence: history / presence here are "not available" (108).
      { name: 'plain', allow_subscribe_for_client: true },
      // A channel_regex in Go syntax: inline flags and a named group.
      { name: 'ids', channel_regex: '(?i)^(?P<kind>[a-z]+)-[0-9]+$' },
    ],
  },
};

describe('HTTP API methods', () => {
  let gyre: TestGyre;
  before(async () => {
    gyre = await startGyre(OVERRIDES);
  });
  after(() => gyre.close());

  /** A connected real client of `user` (token with optional extra claims). */
  async function connectedClient(user: string, claims: Record<string, unknown> = {}) {
    const client = gyre.client({ token: await gyre.token(user, claims) });
    const connected = once(client, 'connected');
    client.connect();
    await connected;
    return client;
  }

  test('publish returns offset and epoch; offsets grow within one epoch', async () => {
    const a = await ok(gyre, 'publish', { channel: 'pub-1', data: { n: 1 } });
    const b = await ok(gyre, 'publish', { channel: 'pub-1', data: { n: 2 } });
    assert.equal(a['offset'], 1);
    assert.equal(b['offset'], 2);
    assert.equal(typeof a['epoch'], 'string');
    assert.notEqual(a['epoch'], '');
    assert.equal(b['epoch'], a['epoch']);
  });

  test('publish with b64data stores and delivers the decoded JSON', async () => {
    const b64data = Buffer.from(JSON.stringify({ from: 'b64' })).toString('base64');
    await ok(gyre, 'publish', { channel: 'pub-b64', b64data });
    const h = await ok(gyre, 'history', { channel: 'pub-b64', limit: 10 });
    assert.deepEqual(
      h['publications'].map((p: Json) => p['data']),
      [{ from: 'b64' }],
    );
    // b64data that is not JSON is binary data: kept as bytes, returned as b64data.
    const binary = Buffer.from([0x00, 0xff, 0x10, 0x80]).toString('base64');
    await ok(gyre, 'publish', { channel: 'pub-b64', b64data: binary });
    const h2 = await ok(gyre, 'history', { channel: 'pub-b64', limit: 10 });
    assert.deepEqual(h2['publications'][1], { b64data: binary, offset: 2 });
  });

  test('publish with skip_history reaches subscribers but leaves history unchanged', async () => {
    await ok(gyre, 'publish', { channel: 'pub-skip', data: { kept: true } });
    const before = await ok(gyre, 'history', { channel: 'pub-skip', limit: 10 });

    const client = await connectedClient('skip-user');
    const sub = client.newSubscription('pub-skip');
    const got: unknown[] = [];
    sub.on('publication', (ctx: PublicationContext) => got.push(ctx.data));
    const subscribed = once(sub, 'subscribed');
    sub.subscribe();
    await subscribed;

    const res = await ok(gyre, 'publish', { channel: 'pub-skip', data: { skipped: true }, skip_history: true });
    assert.equal(res['offset'], undefined);
    await until(() => got.length === 1);
    assert.deepEqual(got, [{ skipped: true }]);

    const afterSkip = await ok(gyre, 'history', { channel: 'pub-skip', limit: 10 });
    assert.equal(afterSkip['offset'], before['offset']);
    assert.equal(afterSkip['epoch'], before['epoch']);
    assert.deepEqual(afterSkip['publications'], before['publications']);
    client.disconnect();
  });

  test('publication tags arrive in the subscriber publication context', async () => {
    const client = await connectedClient('tags-user');
    const sub = client.newSubscription('pub-tags');
    const subscribed = once(sub, 'subscribed');
    sub.subscribe();
    await subscribed;
    const pub = once<PublicationContext>(sub, 'publication');
    await ok(gyre, 'publish', { channel: 'pub-tags', data: { t: 1 }, tags: { kind: 'alert', level: '3' } });
    const ctx = await pub;
    assert.deepEqual(ctx.data, { t: 1 });
    assert.deepEqual(ctx.tags, { kind: 'alert', level: '3' });
    // Tags are kept in history too.
    const h = await ok(gyre, 'history', { channel: 'pub-tags', limit: 10 });
    assert.deepEqual(h['publications'][0]['tags'], { kind: 'alert', level: '3' });
    client.disconnect();
  });

  test('publish with the same idempotency_key is applied once', async () => {
    const first = await ok(gyre, 'publish', { channel: 'pub-idem', data: { n: 1 }, idempotency_key: 'k1' });
    const again = await ok(gyre, 'publish', { channel: 'pub-idem', data: { n: 1 }, idempotency_key: 'k1' });
    assert.equal(again['offset'], first['offset']);
    assert.equal(again['epoch'], first['epoch']);
    const other = await ok(gyre, 'publish', { channel: 'pub-idem', data: { n: 2 }, idempotency_key: 'k2' });
    assert.equal(other['offset'], (first['offset'] as number) + 1);
    const h = await ok(gyre, 'history', { channel: 'pub-idem', limit: 10 });
    assert.deepEqual(
      h['publications'].map((p: Json) => p['data']),
      [{ n: 1 }, { n: 2 }],
    );
  });

  test('publish checks the namespace, not channel_regex (which applies to client-named channels), as Centrifugo', async () => {
    assert.deepEqual(await ok(gyre, 'publish', { channel: 'ids:Order-42', data: {} }), {});
    assert.deepEqual(await ok(gyre, 'publish', { channel: 'ids:order', data: {} }), {});
    assert.equal(await errCode(gyre, 'publish', { channel: 'nope:order', data: {} }), 102);
  });

  test('broadcast answers per channel, with an error for an unknown namespace', async () => {
    const res = await ok(gyre, 'broadcast', { channels: ['bc-1', 'nope:x', 'bc-2'], data: { b: 1 } });
    const responses = res['responses'] as Json[];
    assert.equal(responses.length, 3);
    assert.equal(responses[0]!['result']['offset'], 1);
    assert.equal(typeof responses[0]!['result']['epoch'], 'string');
    assert.equal(responses[1]!['error']['code'], 102);
    assert.equal(responses[1]!['result'], undefined);
    assert.equal(responses[2]!['result']['offset'], 1);
    for (const ch of ['bc-1', 'bc-2']) {
      const h = await ok(gyre, 'history', { channel: ch, limit: 10 });
      assert.deepEqual(h['publications'][0]['data'], { b: 1 });
    }
    assert.equal(await errCode(gyre, 'broadcast', { channels: [], data: {} }), 107);
    assert.equal(await errCode(gyre, 'broadcast', { channels: 'bc-1', data: {} }), 107);
    assert.equal(await errCode(gyre, 'broadcast', { channels: [1, 2], data: {} }), 107);
  });

  test('subscribe and unsubscribe act on the user’s connected clients (server-side subscription)', async () => {
    const client = await connectedClient('srv-user');
    const subscribed = once<ServerSubscribedContext>(client, 'subscribed');
    await ok(gyre, 'subscribe', { user: 'srv-user', channel: 'srv-chan', data: { welcome: true } });
    const ctx = await subscribed;
    assert.equal(ctx.channel, 'srv-chan');
    assert.deepEqual(ctx.data, { welcome: true });

    const pub = once<ServerPublicationContext>(client, 'publication');
    await ok(gyre, 'publish', { channel: 'srv-chan', data: { to: 'server-side sub' } });
    const p = await pub;
    assert.equal(p.channel, 'srv-chan');
    assert.deepEqual(p.data, { to: 'server-side sub' });

    const presence = await ok(gyre, 'presence', { channel: 'srv-chan' });
    assert.deepEqual(
      Object.values(presence['presence']).map((i: any) => i.user),
      ['srv-user'],
    );

    const unsubscribed = once<ServerUnsubscribedContext>(client, 'unsubscribed');
    await ok(gyre, 'unsubscribe', { user: 'srv-user', channel: 'srv-chan' });
    assert.equal((await unsubscribed).channel, 'srv-chan');
    const stats = await ok(gyre, 'presence_stats', { channel: 'srv-chan' });
    assert.deepEqual(stats, { num_clients: 0, num_users: 0 });

    // Unknown namespace and missing channel are rejected.
    assert.equal(await errCode(gyre, 'subscribe', { user: 'srv-user', channel: 'nope:x' }), 102);
    assert.equal(await errCode(gyre, 'subscribe', { user: 'srv-user' }), 107);
    assert.equal(await errCode(gyre, 'unsubscribe', { user: 'srv-user' }), 107);
    client.disconnect();
  });

  test('unsubscribe of a client-side subscription: push 2000, the subscription stays unsubscribed', async () => {
    const client = await connectedClient('unsub-user');
    const sub = client.newSubscription('unsub-chan');
    const subscribed = once(sub, 'subscribed');
    sub.subscribe();
    await subscribed;
    const unsubscribed = once<UnsubscribedContext>(sub, 'unsubscribed');
    await ok(gyre, 'unsubscribe', { user: 'unsub-user', channel: 'unsub-chan' });
    const ctx = await unsubscribed;
    assert.equal(ctx.code, 2000);
    assert.equal(sub.state, 'unsubscribed');
    client.disconnect();
  });

  test('subscribe narrowed to one client id subscribes only that connection', async () => {
    const a = await gyre.raw();
    const b = await gyre.raw();
    const token = await gyre.token('two-conn');
    const ca = (await a.connect(token))['connect'] as Json;
    await b.connect(token);
    await ok(gyre, 'subscribe', { user: 'two-conn', channel: 'one-client', client: ca['client'] });
    const push = (await a.next((m) => (m as Json)['push']?.['channel'] === 'one-client')) as Json;
    assert.equal(typeof push['push']['subscribe'], 'object');
    const stats = await ok(gyre, 'presence_stats', { channel: 'one-client' });
    assert.deepEqual(stats, { num_clients: 1, num_users: 1 });
    assert.equal(b.messages.some((m) => (m as Json)['push']?.['channel'] === 'one-client'), false);
  });

  test('disconnect closes the user’s connections with the given code, sparing the whitelist', async () => {
    const a = await gyre.raw();
    const b = await gyre.raw();
    const token = await gyre.token('dc-user');
    const ca = (await a.connect(token))['connect'] as Json;
    await b.connect(token);
    await ok(gyre, 'disconnect', {
      user: 'dc-user',
      whitelist: [ca['client']],
      disconnect: { code: 4501, reason: 'go away' },
    });
    assert.deepEqual(await b.closed, { code: 4501, reason: 'go away' });
    // The whitelisted connection still works.
    a.sendJson({ id: 2, subscribe: { channel: 'dc-still-here' } });
    const still = await a.reply(2);
    assert.equal(still['error'], undefined);
    assert.equal(typeof still['subscribe'], 'object');
    // Without a disconnect object: 3503 "force disconnect".
    await ok(gyre, 'disconnect', { user: 'dc-user' });
    assert.equal((await a.closed).code, 3503);
  });

  test('disconnect of a real client with a terminal code: it stays disconnected', async () => {
    const client = await connectedClient('dc-real');
    const disconnected = once<{ code: number; reason: string }>(client, 'disconnected');
    await ok(gyre, 'disconnect', { user: 'dc-real', disconnect: { code: 4600, reason: 'banned' } });
    const ctx = await disconnected;
    assert.equal(ctx.code, 4600);
    assert.equal(ctx.reason, 'banned');
    assert.equal(client.state, 'disconnected');
  });

  test('disconnect rejects codes outside 3000-4999 and long reasons', async () => {
    assert.equal(await errCode(gyre, 'disconnect', { user: 'x', disconnect: { code: 2000, reason: 'r' } }), 107);
    assert.equal(await errCode(gyre, 'disconnect', { user: 'x', disconnect: { code: 4000, reason: 'r'.repeat(124) } }), 107);
    assert.equal(await errCode(gyre, 'disconnect', { user: 'x', disconnect: { code: '4000' } }), 107);
    assert.equal(await errCode(gyre, 'disconnect', { user: 'x', whitelist: 'abc' }), 107);
  });

  test('refresh: expired closes with 3005 and the real client reconnects; info updates conn_info', async () => {
    const client = await connectedClient('rf-user');
    const connecting = once<{ code: number }>(client, 'connecting');
    const reconnected = once(client, 'connected', 'the real client to reconnect after 3005');
    await ok(gyre, 'refresh', { user: 'rf-user', expired: true });
    assert.equal((await connecting).code, 3005);
    await reconnected;
    client.disconnect();

    const raw = await gyre.raw();
    await raw.connect(await gyre.token('rf-info', { info: { v: 1 } }));
    await ok(gyre, 'refresh', { user: 'rf-info', info: { v: 2 } });
    raw.sendJson({ id: 2, subscribe: { channel: 'rf-info-chan' } });
    await raw.reply(2);
    const presence = await ok(gyre, 'presence', { channel: 'rf-info-chan' });
    assert.deepEqual(
      Object.values(presence['presence']).map((i: any) => i.conn_info),
      [{ v: 2 }],
    );
    assert.equal(await errCode(gyre, 'refresh', { user: 'rf-info', expire_at: 'soon' }), 107);
  });

  test('presence and presence_stats list the subscribers with their conn_info', async () => {
    const a = await connectedClient('pr-1', { info: { name: 'Ann' } });
    const b = await connectedClient('pr-2');
    for (const c of [a, b]) {
      const sub = c.newSubscription('presence-chan');
      const subscribed = once(sub, 'subscribed');
      sub.subscribe();
      await subscribed;
    }
    const presence = await ok(gyre, 'presence', { channel: 'presence-chan' });
    const entries = Object.entries(presence['presence'] as Record<string, Json>);
    assert.equal(entries.length, 2);
    for (const [id, info] of entries) assert.equal(info['client'], id);
    const byUser = Object.fromEntries(entries.map(([, info]) => [info['user'], info]));
    assert.deepEqual(byUser['pr-1']!['conn_info'], { name: 'Ann' });
    assert.equal(byUser['pr-2']!['conn_info'], undefined);
    assert.deepEqual(await ok(gyre, 'presence_stats', { channel: 'presence-chan' }), { num_clients: 2, num_users: 2 });

    // An empty channel has an empty (but present) presence map.
    assert.deepEqual(await ok(gyre, 'presence', { channel: 'nobody-here' }), { presence: {} });
    assert.equal(await errCode(gyre, 'presence', { channel: 'plain:x' }), 108);
    assert.equal(await errCode(gyre, 'presence_stats', { channel: 'plain:x' }), 108);
    assert.equal(await errCode(gyre, 'presence', { channel: 'nope:x' }), 102);
    assert.equal(await errCode(gyre, 'presence', {}), 107);
    a.disconnect();
    b.disconnect();
  });

  test('history: limit, since, reverse; without limit only the stream position', async () => {
    const ch = 'hist-chan';
    let epoch = '';
    for (let n = 1; n <= 5; n++) epoch = (await ok(gyre, 'publish', { channel: ch, data: { n } }))['epoch'];
    const ns = (r: Json): number[] => r['publications'].map((p: Json) => p['data']['n']);

    const top = await ok(gyre, 'history', { channel: ch });
    assert.deepEqual(top, { publications: [], offset: 5, epoch });

    const first2 = await ok(gyre, 'history', { channel: ch, limit: 2 });
    assert.deepEqual(ns(first2), [1, 2]);
    assert.deepEqual(
      first2['publications'].map((p: Json) => p['offset']),
      [1, 2],
    );
    assert.equal(first2['offset'], 5);
    assert.equal(first2['epoch'], epoch);

    assert.deepEqual(ns(await ok(gyre, 'history', { channel: ch, limit: 10, since: { offset: 2, epoch } })), [3, 4, 5]);
    assert.deepEqual(ns(await ok(gyre, 'history', { channel: ch, limit: 2, reverse: true })), [5, 4]);
    assert.deepEqual(
      ns(await ok(gyre, 'history', { channel: ch, limit: 10, reverse: true, since: { offset: 3, epoch } })),
      [2, 1],
    );
    assert.deepEqual(ns(await ok(gyre, 'history', { channel: ch, limit: -1 })), [1, 2, 3, 4, 5]);

    assert.equal(await errCode(gyre, 'history', { channel: ch, limit: 10, since: { offset: 1, epoch: 'other-epoch' } }), 112);
    assert.equal(await errCode(gyre, 'history', { channel: 'plain:x', limit: 10 }), 108);
    assert.equal(await errCode(gyre, 'history', { channel: ch, limit: '10' }), 107);
    assert.equal(await errCode(gyre, 'history', { channel: ch, limit: 1.5 }), 107);
    assert.equal(await errCode(gyre, 'history', { channel: ch, reverse: 'yes' }), 107);
    assert.equal(await errCode(gyre, 'history', { channel: ch, since: 5 }), 107);
  });

  test('history_remove empties the history and keeps the stream position', async () => {
    const ch = 'hist-remove';
    await ok(gyre, 'publish', { channel: ch, data: { n: 1 } });
    const { epoch } = await ok(gyre, 'publish', { channel: ch, data: { n: 2 } });
    assert.deepEqual(await ok(gyre, 'history_remove', { channel: ch }), {});
    assert.deepEqual(await ok(gyre, 'history', { channel: ch, limit: 10 }), { publications: [], offset: 2, epoch });
    const next = await ok(gyre, 'publish', { channel: ch, data: { n: 3 } });
    assert.equal(next['offset'], 3);
    assert.equal(await errCode(gyre, 'history_remove', { channel: 'nope:x' }), 102);
    assert.equal(await errCode(gyre, 'history_remove', {}), 107);
  });

  test('channels lists active channels with their client counts, filtered by pattern', async () => {
    const a = await gyre.raw();
    const b = await gyre.raw();
    await a.connect(await gyre.token('ch-1'));
    await b.connect(await gyre.token('ch-2'));
    a.sendJson({ id: 2, subscribe: { channel: 'list-alpha' } }, { id: 3, subscribe: { channel: 'list-beta' } });
    b.sendJson({ id: 2, subscribe: { channel: 'list-alpha' } }, { id: 3, subscribe: { channel: 'other-gamma' } });
    await Promise.all([a.reply(2), a.reply(3), b.reply(2), b.reply(3)]);

    const filtered = await ok(gyre, 'channels', { pattern: 'list-*' });
    assert.deepEqual(filtered, { channels: { 'list-alpha': { num_clients: 2 }, 'list-beta': { num_clients: 1 } } });
    const all = await ok(gyre, 'channels', {});
    assert.deepEqual(all['channels']['other-gamma'], { num_clients: 1 });
    assert.deepEqual(await ok(gyre, 'channels', { pattern: 'list-?eta' }), { channels: { 'list-beta': { num_clients: 1 } } });
    assert.deepEqual(await ok(gyre, 'channels', { pattern: 'no-match-*' }), { channels: {} });
    assert.equal(await errCode(gyre, 'channels', { pattern: 7 }), 107);

    a.ws.close();
    b.ws.close();
    await until(async () => (await ok(gyre, 'channels', { pattern: 'list-*' }))['channels']['list-alpha'] === undefined);
  });

  test('info describes this node', async () => {
    const raw = await gyre.raw();
    await raw.connect(await gyre.token('info-user'));
    raw.sendJson({ id: 2, subscribe: { channel: 'info-chan' } });
    await raw.reply(2);
    const res = await ok(gyre, 'info');
    const nodes = res['nodes'] as Json[];
    assert.equal(nodes.length, 1);
    const node = nodes[0]!;
    assert.equal(node['uid'], gyre.server.node.id);
    assert.equal(node['name'], gyre.server.node.name);
    assert.equal(node['version'], gyre.server.node.version);
    for (const key of ['num_clients', 'num_users', 'num_channels', 'uptime', 'num_subs']) {
      assert.equal(typeof node[key], 'number', key);
    }
    assert.ok(node['num_clients'] >= 1, 'num_clients');
    assert.ok(node['num_users'] >= 1, 'num_users');
    assert.ok(node['num_channels'] >= 1, 'num_channels');
    assert.ok(node['num_subs'] >= 1, 'num_subs');
    raw.ws.close();
  });

  test('rpc without a handler answers method not found', async () => {
    assert.equal(await errCode(gyre, 'rpc', { method: 'sum', params: { a: 1 } }), 104);
  });

  test('batch runs commands in order (sequential) with a failing command inside', async () => {
    const res = await ok(gyre, 'batch', {
      commands: [
        { publish: { channel: 'batch-seq', data: { n: 1 } } },
        { publish: { channel: 'nope:x', data: { n: 2 } } },
        { history: { channel: 'batch-seq', limit: 10 } },
        { frobnicate: {} },
        { publish: { channel: 'batch-seq' } },
      ],
    });
    const replies = res['replies'] as Json[];
    assert.equal(replies.length, 5);
    assert.equal(replies[0]!['publish']['offset'], 1);
    assert.equal(replies[1]!['error']['code'], 102);
    // Sequential: the history sees the publish before it.
    assert.deepEqual(
      replies[2]!['history']['publications'].map((p: Json) => p['data']),
      [{ n: 1 }],
    );
    assert.equal(replies[3]!['error']['code'], 104);
    assert.equal(replies[4]!['error']['code'], 107);
  });

  test('batch: a command with params of the wrong type answers 107 in its place, the others run', async () => {
    const res = await ok(gyre, 'batch', {
      commands: [
        { publish: { channel: 'batch-typed', data: { n: 1 } } },
        { publish: { channel: 'batch-typed', data: { n: 2 }, skip_history: 'yes' } },
        { history: { channel: 'batch-typed', limit: 10 } },
      ],
    });
    const replies = res['replies'] as Json[];
    assert.equal(replies.length, 3);
    assert.equal(replies[0]!['publish']['offset'], 1);
    assert.deepEqual(replies[1], { error: { code: 107, message: 'bad request' } });
    assert.deepEqual(
      replies[2]!['history']['publications'].map((p: Json) => p['data']),
      [{ n: 1 }],
    );
    // A command that is not an object fails the whole batch.
    assert.equal(await errCode(gyre, 'batch', { commands: [{ info: {} }, 'info'] }), 107);
  });

  test('batch with parallel: true keeps the replies in command order', async () => {
    const res = await ok(gyre, 'batch', {
      parallel: true,
      commands: [
        { publish: { channel: 'batch-par-a', data: { n: 1 } } },
        { presence: { channel: 'plain:x' } },
        { publish: { channel: 'batch-par-b', data: { n: 2 } } },
      ],
    });
    const replies = res['replies'] as Json[];
    assert.equal(replies.length, 3);
    assert.equal(replies[0]!['publish']['offset'], 1);
    assert.equal(replies[1]!['error']['code'], 108);
    assert.equal(replies[2]!['publish']['offset'], 1);
    assert.equal(await errCode(gyre, 'batch', { commands: {} }), 107);
    assert.equal(await errCode(gyre, 'batch', { commands: [], parallel: 'yes' }), 107);
    // A batch cannot nest batches.
    const nested = await ok(gyre, 'batch', { commands: [{ batch: { commands: [] } }] });
    assert.equal(nested['replies'][0]['error']['code'], 104);
  });

  test('legacy POST /api with {method, params}', async () => {
    const res = await post(gyre, '/api', { method: 'publish', params: { channel: 'legacy', data: { old: true } } });
    assert.equal(res.status, 200);
    assert.equal(res.body['result']['offset'], 1);
    const h = await post(gyre, '/api', { method: 'history', params: { channel: 'legacy', limit: 10 } });
    assert.deepEqual(h.body['result']['publications'][0]['data'], { old: true });

    assert.equal((await post(gyre, '/api', { method: 'nope', params: {} })).body['error']['code'], 104);
    assert.equal((await post(gyre, '/api', { params: {} })).body['error']['code'], 104);
    assert.equal((await post(gyre, '/api', { method: 'publish', params: 'text' })).body['error']['code'], 107);
    assert.equal((await post(gyre, '/api', [1, 2])).body['error']['code'], 104);
  });
});

describe('HTTP API auth', () => {
  let gyre: TestGyre;
  before(async () => {
    gyre = await startGyre();
  });
  after(() => gyre.close());

  const params = { channel: 'auth-chan', data: {} };

  test('X-API-Key, Authorization: apikey and ?api_key= are accepted', async () => {
    assert.equal((await post(gyre, '/api/publish', params, { 'X-API-Key': API_KEY })).status, 200);
    const viaAuth = await post(gyre, '/api/publish', params, { Authorization: `apikey ${API_KEY}` });
    assert.equal(viaAuth.status, 200);
    assert.equal(typeof viaAuth.body['result'], 'object');
    const viaQuery = await post(gyre, `/api/publish?api_key=${encodeURIComponent(API_KEY)}`, params, {});
    assert.equal(viaQuery.status, 200);
    assert.equal(typeof viaQuery.body['result'], 'object');
  });

  test('a wrong or missing key is 401 and nothing is published', async () => {
    const h0 = await ok(gyre, 'history', { channel: 'auth-deny' });
    const deny = { channel: 'auth-deny', data: {} };
    assert.equal((await post(gyre, '/api/publish', deny, { 'X-API-Key': 'wrong' })).status, 401);
    assert.equal((await post(gyre, '/api/publish', deny, { Authorization: 'apikey wrong' })).status, 401);
    assert.equal((await post(gyre, '/api/publish', deny, { Authorization: `Bearer ${API_KEY}` })).status, 401);
    assert.equal((await post(gyre, '/api/publish?api_key=wrong', deny, {})).status, 401);
    assert.equal((await post(gyre, '/api/publish', deny, {})).status, 401);
    assert.equal((await post(gyre, '/api/publish', deny, { 'X-API-Key': '' })).status, 401);
    assert.equal((await post(gyre, '/api', { method: 'publish', params: deny }, {})).status, 401);
    const h1 = await ok(gyre, 'history', { channel: 'auth-deny' });
    assert.equal(h1['offset'], h0['offset']);
  });

  test('no key configured: 401 for everyone', async () => {
    const nokey = await startGyre({ http_api: { key: '' } });
    try {
      assert.equal((await post(nokey, '/api/info', {}, {})).status, 401);
      assert.equal((await post(nokey, '/api/info', {}, { 'X-API-Key': API_KEY })).status, 401);
      assert.equal((await post(nokey, '/api/info', {}, { 'X-API-Key': '' })).status, 401);
    } finally {
      await nokey.close();
    }
  });

  test('http_api.insecure: no key needed', async () => {
    const open = await startGyre({ http_api: { key: '', insecure: true } });
    try {
      const res = await post(open, '/api/info', {}, {});
      assert.equal(res.status, 200);
      assert.equal(res.body['result']['nodes'].length, 1);
    } finally {
      await open.close();
    }
  });
});

describe('HTTP API error mode', () => {
  let gyre: TestGyre;
  before(async () => {
    gyre = await startGyre(OVERRIDES);
  });
  after(() => gyre.close());

  const transport = { 'X-API-Key': API_KEY, 'X-Centrifugo-Error-Mode': 'transport' };

  test('default: errors travel in a 200 body', async () => {
    const res = await post(gyre, '/api/publish', { channel: 'nope:x', data: {} });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { error: { code: 102, message: 'unknown channel' } });
  });

  test('header X-Centrifugo-Error-Mode: transport maps codes to HTTP statuses', async () => {
    const unknown = await post(gyre, '/api/publish', { channel: 'nope:x', data: {} }, transport);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body['code'], 102);
    const bad = await post(gyre, '/api/publish', { channel: 'x' }, transport);
    assert.equal(bad.status, 400);
    assert.equal(bad.body['code'], 107);
    const na = await post(gyre, '/api/history', { channel: 'plain:x', limit: 1 }, transport);
    assert.equal(na.status, 400);
    assert.equal(na.body['code'], 108);
    const rpc = await post(gyre, '/api/rpc', { method: 'x' }, transport);
    assert.equal(rpc.status, 404);
    assert.equal(rpc.body['code'], 104);
    const good = await post(gyre, '/api/publish', { channel: 'x', data: {} }, transport);
    assert.equal(good.status, 200);
    assert.equal(good.body['result']['offset'], 1);
  });

  test('config http_api.error_mode: transport', async () => {
    const t = await startGyre({ http_api: { error_mode: 'transport' } });
    try {
      const unknown = await post(t, '/api/publish', { channel: 'nope:x', data: {} });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body['code'], 102);
      const bad = await post(t, '/api/history', { channel: 'x', limit: 'many' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body['code'], 107);
      // A broadcast reports per-channel errors inside a 200 response.
      const bc = await post(t, '/api/broadcast', { channels: ['x', 'nope:x'], data: {} });
      assert.equal(bc.status, 200);
      assert.equal(bc.body['result']['responses'][1]['error']['code'], 102);
    } finally {
      await t.close();
    }
  });
});

describe('HTTP API bad input', () => {
  let gyre: TestGyre;
  before(async () => {
    gyre = await startGyre();
  });
  after(() => gyre.close());

  test('malformed JSON body is 400', async () => {
    const res = await post(gyre, '/api/publish', '{"channel": "x", "data": ');
    assert.equal(res.status, 400);
    assert.equal((await post(gyre, '/api', 'not json')).status, 400);
  });

  test('non-object params and wrong field types are error 107', async () => {
    for (const body of ['[1,2]', '"text"', '42', 'true']) {
      const res = await post(gyre, '/api/publish', body);
      assert.equal(res.status, 200, body);
      assert.equal(res.body['error']['code'], 107, body);
    }
    const cases: Array<[string, unknown]> = [
      ['publish', { channel: 5, data: {} }],
      ['publish', { channel: 'x' }],
      ['publish', { channel: 'x', data: {}, skip_history: 'yes' }],
      ['publish', { channel: 'x', data: {}, tags: { a: 1 } }],
      ['publish', { channel: 'x', data: {}, tags: ['a'] }],
      ['publish', { channel: 'x', data: {}, idempotency_key: 1 }],
      ['publish', { channel: 'x', b64data: 12 }],
      ['publish', { channel: '', data: {} }],
      ['subscribe', { user: 1, channel: 'x' }],
      ['subscribe', { user: 'u', channel: 'x', recover_since: 'x' }],
      ['subscribe', { user: 'u', channel: 'x', override: { presence: { value: 'yes' } } }],
      ['subscribe', { user: 'u', channel: 'x', expire_at: 'later' }],
      ['unsubscribe', { user: 'u', channel: ['x'] }],
      ['disconnect', { user: 'u', client: 7 }],
      ['presence', { channel: null }],
      ['presence_stats', { channel: {} }],
      ['history', { channel: 'x', since: { offset: 'one' } }],
      ['history_remove', { channel: 3 }],
      ['batch', { commands: 'publish' }],
    ];
    for (const [method, params] of cases) {
      const res = await post(gyre, `/api/${method}`, params);
      assert.equal(res.status, 200, `${method} ${JSON.stringify(params)}`);
      assert.equal(res.body['error']?.['code'], 107, `${method} ${JSON.stringify(params)}: ${JSON.stringify(res.body)}`);
    }
    // A name that is not valid UTF-8 (a lone surrogate) is a bad request too.
    assert.equal(await errCode(gyre, 'publish', { channel: 'kanal-\uD800', data: {} }), 107);
  });

  test('unknown method path is 404, GET is 405', async () => {
    assert.equal((await post(gyre, '/api/frobnicate', {})).status, 404);
    assert.equal((await post(gyre, '/api/publish/extra', { channel: 'x', data: {} })).status, 404);
    const get = await fetch(`${gyre.baseUrl}/api/info`, { headers: { 'X-API-Key': API_KEY } });
    assert.equal(get.status, 405);
    await get.arrayBuffer();
    const put = await fetch(`${gyre.baseUrl}/api/info`, { method: 'PUT', headers: { 'X-API-Key': API_KEY }, body: '{}' });
    assert.equal(put.status, 405);
    await put.arrayBuffer();
  });

  test('an oversized body is 413 and the server keeps serving', async () => {
    const big = '{"channel":"big","data":"' + 'a'.repeat(16 * 1024 * 1024 + 16) + '"}';
    const res = await post(gyre, '/api/publish', big);
    assert.equal(res.status, 413);
    const h = await ok(gyre, 'history', { channel: 'big' });
    assert.equal(h['offset'], 0);
    const after = await ok(gyre, 'publish', { channel: 'big', data: { small: true } });
    assert.equal(after['offset'], 1);
  });

  test('the server keeps serving after bad requests', async () => {
    await post(gyre, '/api/publish', '{{{');
    await post(gyre, '/api/nope', {});
    const res = await ok(gyre, 'publish', { channel: 'still-alive', data: { ok: true } });
    assert.equal(res['offset'], 1);
  });
});

describe('HTTP API and health switches', () => {
  test('http_api.disabled: the API paths are 404', async () => {
    const g = await startGyre({ http_api: { disabled: true } });
    try {
      assert.equal((await post(g, '/api/info', {})).status, 404);
      assert.equal((await post(g, '/api', { method: 'info', params: {} })).status, 404);
      assert.equal((await fetch(`${g.baseUrl}/health`)).status, 200);
    } finally {
      await g.close();
    }
  });

  test('/health is 200 when enabled and 404 when not', async () => {
    const on = await startGyre({ health: { enabled: true } });
    const off = await startGyre({ health: { enabled: false } });
    try {
      const a = await fetch(`${on.baseUrl}/health`);
      assert.equal(a.status, 200);
      await a.arrayBuffer();
      const b = await fetch(`${off.baseUrl}/health`);
      assert.equal(b.status, 404);
      await b.arrayBuffer();
    } finally {
      await on.close();
      await off.close();
    }
  });

  test('a custom handler_prefix moves the API', async () => {
    const g = await startGyre({ http_api: { handler_prefix: '/server-api' } });
    try {
      const res = await post(g, '/server-api/info', {});
      assert.equal(res.status, 200);
      assert.equal(res.body['result']['nodes'].length, 1);
      assert.equal((await post(g, '/api/info', {})).status, 404);
    } finally {
      await g.close();
    }
  });
});
