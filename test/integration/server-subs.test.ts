/**
 * Server-side subscriptions and the server API acting on connections, over real sockets: the
 * `channels` and `subs` claims of a connection token, the personal channel, and the server API
 * `subscribe`, `unsubscribe`, `disconnect` and `refresh`. The real `centrifuge` client checks what an
 * application sees; raw WebSockets check the exact frames.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type {
  Centrifuge,
  DisconnectedContext,
  PublicationContext,
  ServerPublicationContext,
  ServerSubscribedContext,
  ServerUnsubscribedContext,
  SubscribedContext,
  UnsubscribedContext,
} from 'centrifuge';
import { once, startGyre, until, type RawSocket, type TestGyre } from '../helpers/gyre.js';

let gyre: TestGyre;
before(async () => {
  gyre = await startGyre({
    client: {
      allow_anonymous_connect_without_token: true,
      subscribe_to_user_personal_channel: { enabled: true },
    },
    channel: {
      namespaces: [{ name: 'srv', presence: true, allow_subscribe_for_client: true, allow_presence_for_client: true }],
    },
  });
});
after(() => gyre.close());

// ---- helpers ----

/** A real client for `user`, connected, recording server-side subscription events and publications. */
async function realClient(
  user: string,
  claims: Record<string, unknown> = {},
  g: TestGyre = gyre,
): Promise<{
  c: Centrifuge;
  id: string;
  subscribed: Map<string, ServerSubscribedContext>;
  pubs: Array<{ channel: string; data: unknown; offset: number | undefined }>;
  unsubscribed: string[];
}> {
  const c = g.client({ token: await g.token(user, claims) });
  const subscribed = new Map<string, ServerSubscribedContext>();
  const pubs: Array<{ channel: string; data: unknown; offset: number | undefined }> = [];
  const unsubscribed: string[] = [];
  c.on('subscribed', (ctx: ServerSubscribedContext) => subscribed.set(ctx.channel, ctx));
  c.on('publication', (ctx: ServerPublicationContext) => pubs.push({ channel: ctx.channel, data: ctx.data, offset: ctx.offset }));
  c.on('unsubscribed', (ctx: ServerUnsubscribedContext) => unsubscribed.push(ctx.channel));
  const connected = once<{ client: string }>(c, 'connected');
  c.connect();
  const { client: id } = await connected;
  return { c, id, subscribed, pubs, unsubscribed };
}

/** A raw socket connected with a token for `user`; returns the connect result. */
async function rawConnect(user: string, claims: Record<string, unknown> = {}): Promise<{ ws: RawSocket; result: Record<string, unknown> }> {
  const ws = await gyre.raw();
  const reply = await ws.connect(await gyre.token(user, claims));
  assert.ok(reply['connect'], JSON.stringify(reply));
  return { ws, result: reply['connect'] as Record<string, unknown> };
}

async function api(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await gyre.api(method, params);
  assert.ok(res['result'], `${method}: ${JSON.stringify(res)}`);
  return res['result'] as Record<string, unknown>;
}

function isPush(kind: string, channel?: string): (m: Record<string, unknown>) => boolean {
  return (m) => {
    const push = m['push'] as Record<string, unknown> | undefined;
    return push !== undefined && push[kind] !== undefined && (channel === undefined || push['channel'] === channel);
  };
}

async function nextPush(ws: RawSocket, kind: string, channel?: string): Promise<Record<string, unknown>> {
  return (await ws.next(isPush(kind, channel)))['push'] as Record<string, unknown>;
}

// ---- connection token claims ----

describe('token channels', () => {
  test('the connect result lists the server-side subscriptions with their positions', async () => {
    const top = await api('publish', { channel: 'news-wire', data: { n: 1 } });
    const { ws, result } = await rawConnect('42', { channels: ['news-wire', 'srv:plain'] });
    const subs = result['subs'] as Record<string, Record<string, unknown>>;
    assert.deepEqual(subs['news-wire'], { recoverable: true, positioned: true, epoch: top['epoch'], offset: 1 });
    assert.deepEqual(subs['srv:plain'], {});
    // The personal channel comes too (subscribe_to_user_personal_channel).
    assert.ok(subs['#42']);
    assert.deepEqual(Object.keys(subs).sort(), ['#42', 'news-wire', 'srv:plain']);

    await api('publish', { channel: 'news-wire', data: { n: 2 } });
    assert.deepEqual(await nextPush(ws, 'pub', 'news-wire'), { channel: 'news-wire', pub: { data: { n: 2 }, offset: 2 } });
  });

  test('the real client gets subscribed events and publications on the client', async () => {
    const { subscribed, pubs } = await realClient('42', { channels: ['news-real', 'srv:room'] });
    await until(() => subscribed.has('news-real') && subscribed.has('srv:room'));
    assert.equal(subscribed.get('news-real')!.recoverable, true);
    assert.equal(subscribed.get('srv:room')!.recoverable, false);
    await api('publish', { channel: 'news-real', data: { text: 'hello' } });
    await api('publish', { channel: 'srv:room', data: { text: 'room' } });
    await until(() => pubs.length === 2);
    assert.deepEqual(pubs, [
      { channel: 'news-real', data: { text: 'hello' }, offset: 1 },
      { channel: 'srv:room', data: { text: 'room' }, offset: undefined },
    ]);
  });

  test('a channel the token lists but config does not know is skipped, the others work', async () => {
    const { result } = await rawConnect('42', { channels: ['nope:x', 'srv:ok'] });
    const subs = result['subs'] as Record<string, unknown>;
    assert.equal(subs['nope:x'], undefined);
    assert.ok(subs['srv:ok']);
  });

  test('server-side subscriptions are recovered on reconnect by the real client', async () => {
    const { c, subscribed, pubs } = await realClient('42', { channels: ['news-recover'] });
    await api('publish', { channel: 'news-recover', data: { n: 1 } });
    await until(() => pubs.length === 1);
    const disconnected = once(c, 'disconnected');
    c.disconnect();
    await disconnected;
    await api('publish', { channel: 'news-recover', data: { n: 2 } });
    await api('publish', { channel: 'news-recover', data: { n: 3 } });
    subscribed.clear();
    c.connect();
    await until(() => subscribed.has('news-recover'));
    const ctx = subscribed.get('news-recover')!;
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, true);
    await until(() => pubs.length === 3);
    assert.deepEqual(
      pubs.map((p) => [p.data, p.offset]),
      [
        [{ n: 1 }, 1],
        [{ n: 2 }, 2],
        [{ n: 3 }, 3],
      ],
    );
  });
});

describe('token subs', () => {
  test('info, data and override per channel; channels is ignored when subs is given', async () => {
    const claims = {
      channels: ['srv:ignored'],
      subs: {
        'srv:a': {
          info: { role: 'reader' },
          data: { hello: 1 },
          override: { join_leave: { value: true }, force_push_join_leave: { value: true } },
        },
        'srv:b': { override: { presence: { value: false } } },
        'srv:c': { b64info: Buffer.from('{"b64":true}').toString('base64'), b64data: Buffer.from('"raw"').toString('base64') },
      },
    };
    const { ws, result } = await rawConnect('7', claims);
    const id = result['client'] as string;
    const subs = result['subs'] as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(subs).sort(), ['#7', 'srv:a', 'srv:b', 'srv:c']);
    assert.deepEqual(subs['srv:a'], { data: { hello: 1 } });
    assert.deepEqual(subs['srv:c'], { data: 'raw' });

    // chan_info in presence; the override switched presence off for srv:b.
    const presence = (await api('presence', { channel: 'srv:a' }))['presence'] as Record<string, unknown>;
    assert.deepEqual(presence[id], { client: id, user: '7', chan_info: { role: 'reader' } });
    assert.deepEqual((await api('presence', { channel: 'srv:b' }))['presence'], {});
    const presenceC = (await api('presence', { channel: 'srv:c' }))['presence'] as Record<string, { chan_info?: unknown }>;
    assert.deepEqual(presenceC[id]?.chan_info, { b64: true });

    // join_leave + force_push_join_leave switched on for srv:a only. Its own join comes first (it is
    // subscribed when it publishes join).
    const own = await nextPush(ws, 'join', 'srv:a');
    assert.deepEqual(own, { channel: 'srv:a', join: { info: { user: '7', client: id, chan_info: { role: 'reader' } } } });
    // Another client whose subscriptions emit join (join_leave switched on by its own token).
    const emitJoin = { override: { join_leave: { value: true } } };
    const other = await realClient('8', { subs: { 'srv:a': emitJoin, 'srv:b': emitJoin } });
    const join = await nextPush(ws, 'join', 'srv:a');
    assert.deepEqual(join, { channel: 'srv:a', join: { info: { user: '8', client: other.id } } });
    // In srv:b the first client did not get join/leave switched on: no push there.
    await api('publish', { channel: 'srv:b', data: { after: 'join' } });
    await nextPush(ws, 'pub', 'srv:b');
    assert.equal(ws.messages.some(isPush('join', 'srv:b')), false);
    // Leave when the other client goes.
    other.c.disconnect();
    assert.deepEqual(await nextPush(ws, 'leave', 'srv:a'), { channel: 'srv:a', leave: { info: { user: '8', client: other.id } } });
  });

  test('the real client sees the subs data in its subscribed event', async () => {
    const { subscribed } = await realClient('7', { subs: { 'srv:data': { data: { welcome: 'yes' } } } });
    await until(() => subscribed.has('srv:data'));
    assert.deepEqual(subscribed.get('srv:data')!.data, { welcome: 'yes' });
  });
});

describe('personal channel', () => {
  test('an authenticated user is subscribed to #user and receives what is published there', async () => {
    const { subscribed, pubs } = await realClient('42');
    await until(() => subscribed.has('#42'));
    await api('publish', { channel: '#42', data: { personal: true } });
    await api('publish', { channel: '#43', data: { personal: false } });
    await api('publish', { channel: '#42', data: { personal: 'again' } });
    await until(() => pubs.length === 2);
    assert.deepEqual(
      pubs.map((p) => [p.channel, p.data]),
      [
        ['#42', { personal: true }],
        ['#42', { personal: 'again' }],
      ],
    );
  });

  test('an anonymous connection gets no personal channel', async () => {
    const ws = await gyre.raw();
    const reply = await ws.connect();
    assert.equal((reply['connect'] as Record<string, unknown>)['subs'], undefined);
  });

  test('personal_channel_namespace puts it in a namespace', async () => {
    const g = await startGyre({
      client: { subscribe_to_user_personal_channel: { enabled: true, personal_channel_namespace: 'personal' } },
      channel: { namespaces: [{ name: 'personal', presence: true }] },
    });
    try {
      const { subscribed, pubs } = await realClient('42', {}, g);
      await until(() => subscribed.has('personal:#42'));
      await g.api('publish', { channel: 'personal:#42', data: 1 });
      await until(() => pubs.length === 1);
      assert.equal(pubs[0]!.channel, 'personal:#42');
      const stats = (await g.api('presence_stats', { channel: 'personal:#42' }))['result'];
      assert.deepEqual(stats, { num_clients: 1, num_users: 1 });
    } finally {
      await g.close();
    }
  });
});

// ---- server API acting on connections ----

describe('server API subscribe', () => {
  test('the client gets a subscribe push (with data) and then publications', async () => {
    const { ws } = await rawConnect('api-user');
    const top = await api('publish', { channel: 'api-wire', data: { n: 1 } });
    assert.deepEqual(await api('subscribe', { user: 'api-user', channel: 'api-wire', data: { why: 'test' } }), {});
    const push = await nextPush(ws, 'subscribe', 'api-wire');
    assert.deepEqual(push, {
      channel: 'api-wire',
      subscribe: { recoverable: true, positioned: true, epoch: top['epoch'], offset: 1, data: { why: 'test' } },
    });
    await api('publish', { channel: 'api-wire', data: { n: 2 } });
    assert.deepEqual(await nextPush(ws, 'pub', 'api-wire'), { channel: 'api-wire', pub: { data: { n: 2 }, offset: 2 } });
  });

  test('the real client: a server-side subscribed event, then publications', async () => {
    const { subscribed, pubs } = await realClient('api-real');
    await api('subscribe', { user: 'api-real', channel: 'srv:api', data: { hi: 1 } });
    await until(() => subscribed.has('srv:api'));
    assert.deepEqual(subscribed.get('srv:api')!.data, { hi: 1 });
    await api('publish', { channel: 'srv:api', data: 'x' });
    await until(() => pubs.some((p) => p.channel === 'srv:api'));
    assert.deepEqual(pubs.filter((p) => p.channel === 'srv:api').map((p) => p.data), ['x']);
  });

  test('every connection of the user, or one picked by client id', async () => {
    const a = await realClient('multi');
    const b = await realClient('multi');
    await api('subscribe', { user: 'multi', channel: 'srv:both' });
    await until(() => a.subscribed.has('srv:both') && b.subscribed.has('srv:both'));
    await api('subscribe', { user: 'multi', channel: 'srv:one', client: b.id });
    await until(() => b.subscribed.has('srv:one'));
    await api('publish', { channel: 'srv:one', data: 1 });
    await until(() => b.pubs.length === 1);
    await api('publish', { channel: 'srv:both', data: 2 });
    await until(() => a.pubs.length === 1 && b.pubs.length === 2);
    assert.equal(a.subscribed.has('srv:one'), false);
    assert.deepEqual(a.pubs.map((p) => p.channel), ['srv:both']);
  });

  test('recover_since: the missed publications follow the subscribe push as publications', async () => {
    const ch = 'api-recover';
    await api('publish', { channel: ch, data: { n: 1 } });
    await api('publish', { channel: ch, data: { n: 2 } });
    const top = await api('publish', { channel: ch, data: { n: 3 } });
    const { ws } = await rawConnect('api-rec');
    await api('subscribe', { user: 'api-rec', channel: ch, recover_since: { offset: 1, epoch: top['epoch'] } });
    const push = await nextPush(ws, 'subscribe', ch);
    assert.deepEqual(push['subscribe'], { recoverable: true, positioned: true, epoch: top['epoch'], offset: 3 });
    assert.deepEqual(await nextPush(ws, 'pub', ch), { channel: ch, pub: { data: { n: 2 }, offset: 2 } });
    assert.deepEqual(await nextPush(ws, 'pub', ch), { channel: ch, pub: { data: { n: 3 }, offset: 3 } });
    await api('publish', { channel: ch, data: { n: 4 } });
    assert.deepEqual(await nextPush(ws, 'pub', ch), { channel: ch, pub: { data: { n: 4 }, offset: 4 } });

    // The real client gets them as publications.
    const real = await realClient('api-rec-real');
    await api('subscribe', { user: 'api-rec-real', channel: ch, recover_since: { offset: 2, epoch: top['epoch'] } });
    await until(() => real.pubs.length === 2);
    assert.deepEqual(
      real.pubs.map((p) => p.offset),
      [3, 4],
    );
  });

  test('bad requests: unknown namespace 102, missing channel 107; unknown user is a no-op', async () => {
    assert.deepEqual((await gyre.api('subscribe', { user: 'x', channel: 'nope:a' }))['error'], { code: 102, message: 'unknown channel' });
    assert.equal(((await gyre.api('subscribe', { user: 'x' }))['error'] as { code: number }).code, 107);
    assert.equal(((await gyre.api('subscribe', { user: 'x', channel: 5 }))['error'] as { code: number }).code, 107);
    assert.deepEqual(await api('subscribe', { user: 'nobody-here', channel: 'srv:x' }), {});
  });
});

describe('server API unsubscribe', () => {
  test('a server-side subscription ends with an unsubscribe push (2000)', async () => {
    const { ws } = await rawConnect('unsub-raw', { channels: ['srv:u'] });
    await api('unsubscribe', { user: 'unsub-raw', channel: 'srv:u' });
    assert.deepEqual(await nextPush(ws, 'unsubscribe', 'srv:u'), {
      channel: 'srv:u',
      unsubscribe: { code: 2000, reason: 'server unsubscribe' },
    });
    // No more publications from it.
    await api('publish', { channel: 'srv:u', data: 'late' });
    await api('publish', { channel: '#unsub-raw', data: 'marker' });
    await nextPush(ws, 'pub', '#unsub-raw');
    assert.equal(ws.messages.some(isPush('pub', 'srv:u')), false);
  });

  test('the real client: server-side unsubscribed event; a client-side subscription ends with code 2000', async () => {
    const real = await realClient('unsub-real', { channels: ['srv:s'] });
    await until(() => real.subscribed.has('srv:s'));
    await api('unsubscribe', { user: 'unsub-real', channel: 'srv:s' });
    await until(() => real.unsubscribed.includes('srv:s'));

    const sub = real.c.newSubscription('srv:client-side');
    const subscribed = once<SubscribedContext>(sub, 'subscribed');
    sub.subscribe();
    await subscribed;
    const unsubscribed = once<UnsubscribedContext>(sub, 'unsubscribed');
    await api('unsubscribe', { user: 'unsub-real', channel: 'srv:client-side' });
    const ctx = await unsubscribed;
    assert.equal(ctx.code, 2000);
    assert.equal(sub.state, 'unsubscribed');
    const got: unknown[] = [];
    sub.on('publication', (p: PublicationContext) => got.push(p.data));
    await api('publish', { channel: 'srv:client-side', data: 'late' });
    await api('publish', { channel: '#unsub-real', data: 'marker' });
    await until(() => real.pubs.some((p) => p.channel === '#unsub-real'));
    assert.deepEqual(got, []);
  });
});

describe('server API disconnect', () => {
  test('default: close code 3503, and the real client does not reconnect', async () => {
    const { ws } = await rawConnect('dc-raw');
    await api('disconnect', { user: 'dc-raw' });
    assert.deepEqual(await ws.closed, { code: 3503, reason: 'force disconnect' });

    const real = await realClient('dc-real');
    const disconnected = once<DisconnectedContext>(real.c, 'disconnected');
    await api('disconnect', { user: 'dc-real' });
    const ctx = await disconnected;
    assert.equal(ctx.code, 3503);
    assert.equal(real.c.state, 'disconnected');
  });

  test('a custom code and reason from the params; 4000-4499 makes the client reconnect', async () => {
    const { ws } = await rawConnect('dc-custom');
    await api('disconnect', { user: 'dc-custom', disconnect: { code: 4001, reason: 'go away' } });
    assert.deepEqual(await ws.closed, { code: 4001, reason: 'go away' });

    const real = await realClient('dc-custom-real');
    const connecting = once<{ code: number }>(real.c, 'connecting');
    const reconnected = once(real.c, 'connected');
    await api('disconnect', { user: 'dc-custom-real', disconnect: { code: 4002, reason: 'reconnect please' } });
    assert.equal((await connecting).code, 4002);
    await reconnected;
  });

  test('client and whitelist narrow who is disconnected', async () => {
    const a = await rawConnect('dc-multi');
    const b = await rawConnect('dc-multi');
    const c = await rawConnect('dc-multi');
    await api('disconnect', { user: 'dc-multi', client: b.result['client'] });
    assert.equal((await b.ws.closed).code, 3503);
    await api('disconnect', { user: 'dc-multi', whitelist: [a.result['client']] });
    assert.equal((await c.ws.closed).code, 3503);
    // `a` is still connected and working.
    a.ws.sendJson({ id: 9, presence_stats: { channel: 'srv:any' } });
    assert.deepEqual(await a.ws.reply(9), { id: 9, presence_stats: { num_clients: 0, num_users: 0 } });
  });

  test('a disconnect code outside 3000-4999 or a long reason is 107', async () => {
    for (const disconnect of [{ code: 2000, reason: 'x' }, { code: 5000, reason: 'x' }, { code: 4000, reason: 'r'.repeat(124) }]) {
      const res = await gyre.api('disconnect', { user: 'whoever', disconnect });
      assert.equal((res['error'] as { code: number }).code, 107, JSON.stringify(disconnect));
    }
  });
});

describe('server API refresh', () => {
  test('expired: true closes with 3005', async () => {
    const { ws } = await rawConnect('rf-raw');
    await api('refresh', { user: 'rf-raw', expired: true });
    assert.deepEqual(await ws.closed, { code: 3005, reason: 'connection expired' });
  });

  test('the real client reconnects after 3005 (a reconnect code)', async () => {
    const real = await realClient('rf-real');
    const connecting = once<{ code: number }>(real.c, 'connecting');
    const reconnected = once(real.c, 'connected');
    await api('refresh', { user: 'rf-real', expired: true });
    assert.equal((await connecting).code, 3005);
    await reconnected;
  });

  test('without expired the connection stays', async () => {
    const { ws } = await rawConnect('rf-keep');
    await api('refresh', { user: 'rf-keep', expire_at: Math.floor(Date.now() / 1000) + 3600 });
    ws.sendJson({ id: 5, presence_stats: { channel: 'srv:any' } });
    assert.ok((await ws.reply(5))['presence_stats']);
  });
});
