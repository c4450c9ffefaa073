/**
 * Connection and subscription expiry end to end: the real `centrifuge` client refreshing its tokens
 * (refresh / sub_refresh) and staying connected and subscribed past the first expiry; raw clients
 * that do not refresh being closed with 3005 or unsubscribed with 2501 after the configured close
 * delays; bad refresh tokens; and the connection limits (3504).
 *
 * The waits here are polls on wall-clock time or on events; nothing asserts how long anything took.
 * The slow cases run concurrently, each with its own users and channels.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Centrifuge, SubscriptionState } from 'centrifuge';
import { DEFAULT_WAIT_MS, once, startGyre, until, type RawSocket, type TestGyre } from '../helpers/gyre.js';

type Json = Record<string, any>;

const nowSec = (): number => Math.floor(Date.now() / 1000);

/**
 * Polls until wall-clock time passes `ms` since epoch (real time passing for an expiry, not a
 * synchronisation): bounded by that time plus the default wait.
 */
function untilTime(ms: number): Promise<void> {
  return until(() => Date.now() > ms, {
    stepMs: 50,
    timeoutMs: Math.max(0, ms - Date.now()) + DEFAULT_WAIT_MS,
    what: `wall-clock time to pass ${new Date(ms).toISOString()}`,
  });
}

/** A command round trip on a raw socket: proves the connection is alive and serving. */
async function alive(raw: RawSocket, id: number): Promise<void> {
  raw.sendJson({ id, presence_stats: { channel: `alive-${id}` } });
  const reply = (await raw.reply(id)) as Json;
  assert.equal(reply['id'], id);
}

/** Connects a raw socket with `token` and returns it with the connect result. */
async function rawConnected(gyre: TestGyre, token: string): Promise<{ raw: RawSocket; connect: Json }> {
  const raw = await gyre.raw();
  const reply = (await raw.connect(token)) as Json;
  assert.equal(reply['error'], undefined, JSON.stringify(reply['error']));
  return { raw, connect: reply['connect'] as Json };
}

/** Records a real client's state changes and errors. */
function watch(client: Centrifuge): { states: string[]; errors: unknown[] } {
  const out = { states: [] as string[], errors: [] as unknown[] };
  client.on('state', (ctx) => out.states.push(ctx.newState));
  client.on('error', (ctx) => out.errors.push(ctx));
  return out;
}

// The groups are independent (each its own server): run them side by side.
describe('expiry', { concurrency: true }, () => {
  describe('clients that refresh their tokens stay', { concurrency: true }, () => {
    // Generous close delays: the SDK refreshes right at expiry, the server closes 3 s after it.
    let gyre: TestGyre;
    before(async () => {
      gyre = await startGyre({ client: { expired_close_delay: '3s', expired_sub_close_delay: '3s' } });
    });
    after(() => gyre.close());
    const DELAY_MS = 3000;

    test('the real client refreshes its connection token with getToken and stays connected', async () => {
      const firstExp = nowSec() + 2;
      let calls = 0;
      const client = gyre.client({
        token: await gyre.token('conn-refresher', { exp: firstExp }),
        getToken: async () => {
          calls++;
          return gyre.token('conn-refresher', {}, 2);
        },
      });
      const seen = watch(client);
      const connected = once<{ client: string }>(client, 'connected');
      client.connect();
      const { client: clientId } = await connected;

      // Past the first expiry plus the close delay (and a ticker period): without refreshes the
      // server would have closed this connection with 3005 by now.
      await untilTime(firstExp * 1000 + DELAY_MS + 1500);
      await until(() => calls >= 2);
      assert.equal(client.state, 'connected');
      assert.deepEqual(seen.states, ['connecting', 'connected']);
      assert.deepEqual(seen.errors, []);
      // Still the same connection on the server.
      const node = gyre.server.node;
      assert.equal(node.client(clientId)?.user, 'conn-refresher');
      assert.ok((node.client(clientId)?.expireAt ?? 0) > firstExp, 'the expiry moved forward');
      assert.equal(gyre.logs.some((l) => l.msg === 'connection expired' && l['client'] === clientId), false);
      client.disconnect();
    });

    test('the real client refreshes its subscription token (sub_refresh) and stays subscribed', async () => {
      const client = gyre.client({ token: await gyre.token('sub-refresher') });
      const connected = once(client, 'connected');
      client.connect();
      await connected;

      const channel = '$sub-refresh';
      let calls = 0;
      let firstExp = 0;
      const sub = client.newSubscription(channel, {
        getToken: async (ctx) => {
          calls++;
          assert.equal(ctx.channel, channel);
          const exp = nowSec() + 2;
          if (firstExp === 0) firstExp = exp;
          return gyre.token('sub-refresher', { channel, exp });
        },
      });
      const states: SubscriptionState[] = [];
      const errors: unknown[] = [];
      sub.on('state', (ctx) => states.push(ctx.newState));
      sub.on('error', (ctx) => errors.push(ctx));
      const pubs: unknown[] = [];
      sub.on('publication', (ctx) => pubs.push(ctx.data));
      const subscribed = once(sub, 'subscribed');
      sub.subscribe();
      await subscribed;

      await untilTime(firstExp * 1000 + DELAY_MS + 1500);
      await until(() => calls >= 2);
      assert.equal(sub.state, 'subscribed');
      assert.deepEqual(states, ['subscribing', 'subscribed']);
      assert.deepEqual(errors, []);
      assert.equal(gyre.logs.some((l) => l.msg === 'subscription expired' && l['channel'] === channel), false);
      // And the subscription still delivers.
      await gyre.api('publish', { channel, data: { still: 'here' } });
      await until(() => pubs.length === 1);
      assert.deepEqual(pubs, [{ still: 'here' }]);
      client.disconnect();
    });

    test('a raw refresh with a valid token moves the expiry: reply carries the new ttl', async () => {
      const firstExp = nowSec() + 2;
      const { raw, connect } = await rawConnected(gyre, await gyre.token('raw-refresher', { exp: firstExp }));
      assert.equal(connect['expires'], true);
      assert.ok(connect['ttl'] >= 1 && connect['ttl'] <= 2, `ttl ${connect['ttl']}`);

      raw.sendJson({ id: 2, refresh: { token: await gyre.token('raw-refresher', { info: { v: 2 } }, 600) } });
      const refresh = ((await raw.reply(2)) as Json)['refresh'] as Json;
      assert.equal(refresh['expires'], true);
      assert.ok(refresh['ttl'] > 500 && refresh['ttl'] <= 600, `ttl ${refresh['ttl']}`);

      await untilTime(firstExp * 1000 + DELAY_MS + 1500);
      await alive(raw, 3);
      // The refreshed info is the connection's info now.
      raw.sendJson({ id: 4, subscribe: { channel: 'raw-refresher-chan' } });
      await raw.reply(4);
      const presence = (await gyre.api('presence', { channel: 'raw-refresher-chan' })) as Json;
      assert.deepEqual(
        Object.values(presence['result']['presence']).map((c: any) => c.conn_info),
        [{ v: 2 }],
      );
    });

    test('a refresh token without exp makes the connection never expire', async () => {
      const firstExp = nowSec() + 2;
      const { raw } = await rawConnected(gyre, await gyre.token('no-exp', { exp: firstExp }));
      raw.sendJson({ id: 2, refresh: { token: await gyre.token('no-exp') } });
      const refresh = ((await raw.reply(2)) as Json)['refresh'] as Json;
      assert.equal(refresh['expires'], undefined);
      await untilTime(firstExp * 1000 + DELAY_MS + 1500);
      await alive(raw, 3);
    });

    test('the server API refresh with expire_at extends a connection', async () => {
      const firstExp = nowSec() + 2;
      const { raw } = await rawConnected(gyre, await gyre.token('api-refreshed', { exp: firstExp }));
      const res = (await gyre.api('refresh', { user: 'api-refreshed', expire_at: nowSec() + 600 })) as Json;
      assert.deepEqual(res, { result: {} });
      await untilTime(firstExp * 1000 + DELAY_MS + 1500);
      await alive(raw, 2);
    });
  });

  describe('clients that do not refresh are closed or unsubscribed', { concurrency: true }, () => {
    let gyre: TestGyre;
    before(async () => {
      gyre = await startGyre({ client: { expired_close_delay: '1s', expired_sub_close_delay: '1s' } });
    });
    after(() => gyre.close());

    test('an expired connection is closed with 3005 after expired_close_delay', async () => {
      const exp = nowSec() + 2;
      const { raw, connect } = await rawConnected(gyre, await gyre.token('expiring', { exp }));
      assert.equal(connect['expires'], true);
      await alive(raw, 2);
      const closed = await raw.closed;
      assert.deepEqual(closed, { code: 3005, reason: 'connection expired' });
      // Never before the expiry itself.
      assert.ok(Date.now() >= exp * 1000, 'closed before the connection expired');
      assert.equal(gyre.server.node.userClientCount('expiring'), 0);
    });

    test('an expired subscription gets the unsubscribe push 2501 after expired_sub_close_delay', async () => {
      const { raw } = await rawConnected(gyre, await gyre.token('sub-expiring'));
      const channel = '$sub-expiring';
      const exp = nowSec() + 2;
      raw.sendJson({ id: 2, subscribe: { channel, token: await gyre.token('sub-expiring', { channel, exp }) } });
      const sub = ((await raw.reply(2)) as Json)['subscribe'] as Json;
      assert.equal(sub['expires'], true);
      assert.ok(sub['ttl'] >= 1 && sub['ttl'] <= 2, `ttl ${sub['ttl']}`);
      const stats = (await gyre.api('presence_stats', { channel })) as Json;
      assert.equal(stats['result']['num_clients'], 1);

      const push = (await raw.next((m) => (m as Json)['push']?.['channel'] === channel)) as Json;
      assert.deepEqual(push['push']['unsubscribe'], { code: 2501, reason: 'subscription expired' });
      assert.ok(Date.now() >= exp * 1000, 'unsubscribed before the subscription expired');
      // Out of the channel, but the connection itself lives on.
      await until(async () => ((await gyre.api('presence_stats', { channel })) as Json)['result']['num_clients'] === 0);
      await alive(raw, 3);
      await gyre.api('publish', { channel, data: { late: true } });
      raw.sendJson({ id: 4, subscribe: { channel: 'after-expiry' } });
      await raw.reply(4);
      assert.equal(raw.messages.some((m) => (m as Json)['push']?.['pub'] !== undefined && (m as Json)['push']['channel'] === channel), false);
    });
  });

  describe('bad refresh commands', () => {
    let gyre: TestGyre;
    before(async () => {
      gyre = await startGyre();
    });
    after(() => gyre.close());

    test('refresh with a token of another user closes with 3500', async () => {
      const { raw } = await rawConnected(gyre, await gyre.token('alice', {}, 60));
      raw.sendJson({ id: 2, refresh: { token: await gyre.token('mallory', {}, 60) } });
      assert.deepEqual(await raw.closed, { code: 3500, reason: 'invalid token' });
    });

    test('refresh with an invalid token closes with 3500', async () => {
      const { raw } = await rawConnected(gyre, await gyre.token('bob', {}, 60));
      raw.sendJson({ id: 2, refresh: { token: 'garbage' } });
      assert.deepEqual(await raw.closed, { code: 3500, reason: 'invalid token' });
    });

    test('refresh with an expired token answers 109 and keeps the connection', async () => {
      const { raw } = await rawConnected(gyre, await gyre.token('carol', {}, 60));
      raw.sendJson({ id: 2, refresh: { token: await gyre.token('carol', {}, -10) } });
      assert.deepEqual(((await raw.reply(2)) as Json)['error'], { code: 109, message: 'token expired' });
      await alive(raw, 3);
    });

    test('refresh with a token of the wrong type is a bad request (3501)', async () => {
      const { raw } = await rawConnected(gyre, await gyre.token('dave', {}, 60));
      raw.sendJson({ id: 2, refresh: { token: 42 } });
      assert.equal((await raw.closed).code, 3501);
    });

    test('sub_refresh: expired token 109, not subscribed 103, other channel 3500', async () => {
      const { raw } = await rawConnected(gyre, await gyre.token('erin'));
      const channel = '$erin';
      raw.sendJson({ id: 2, subscribe: { channel, token: await gyre.token('erin', { channel }, 60) } });
      assert.equal(((await raw.reply(2)) as Json)['error'], undefined);

      raw.sendJson({ id: 3, sub_refresh: { channel, token: await gyre.token('erin', { channel }, -10) } });
      assert.deepEqual(((await raw.reply(3)) as Json)['error'], { code: 109, message: 'token expired' });

      raw.sendJson({ id: 4, sub_refresh: { channel: '$not-subscribed', token: await gyre.token('erin', { channel: '$not-subscribed' }, 60) } });
      assert.equal(((await raw.reply(4)) as Json)['error']['code'], 103);

      raw.sendJson({ id: 5, sub_refresh: { channel, token: await gyre.token('erin', { channel }, 600) } });
      const ok = ((await raw.reply(5)) as Json)['sub_refresh'] as Json;
      assert.equal(ok['expires'], true);
      assert.ok(ok['ttl'] > 500 && ok['ttl'] <= 600, `ttl ${ok['ttl']}`);

      raw.sendJson({ id: 6, sub_refresh: { channel, token: await gyre.token('erin', { channel: '$elsewhere' }, 60) } });
      assert.equal((await raw.closed).code, 3500);
    });
  });

  describe('connection limits', () => {
    test('client.connection_limit: connections over the limit are closed with 3504', async () => {
      const gyre = await startGyre({ client: { connection_limit: 2 } });
      try {
        const a = await rawConnected(gyre, await gyre.token('limit-a'));
        await rawConnected(gyre, await gyre.token('limit-b'));
        const third = await gyre.raw();
        third.sendJson({ id: 1, connect: { token: await gyre.token('limit-c') } });
        assert.deepEqual(await third.closed, { code: 3504, reason: 'connection limit' });

        // The real client treats 3504 as terminal.
        const client = gyre.client({ token: await gyre.token('limit-sdk') });
        const disconnected = once<{ code: number }>(client, 'disconnected');
        client.connect();
        assert.equal((await disconnected).code, 3504);
        assert.equal(client.state, 'disconnected');

        // A freed slot can be taken again.
        a.raw.ws.close();
        await until(() => gyre.server.node.clientCount === 1);
        await rawConnected(gyre, await gyre.token('limit-d'));
      } finally {
        await gyre.close();
      }
    });

    test('client.user_connection_limit: a user over the limit is closed with 3504, others connect', async () => {
      const gyre = await startGyre({ client: { user_connection_limit: 2 } });
      try {
        const first = await rawConnected(gyre, await gyre.token('busy'));
        await rawConnected(gyre, await gyre.token('busy'));
        const third = await gyre.raw();
        third.sendJson({ id: 1, connect: { token: await gyre.token('busy') } });
        assert.deepEqual(await third.closed, { code: 3504, reason: 'connection limit' });

        const client = gyre.client({ token: await gyre.token('busy') });
        const disconnected = once<{ code: number }>(client, 'disconnected');
        client.connect();
        assert.equal((await disconnected).code, 3504);
        assert.equal(client.state, 'disconnected');

        // Another user is not affected, and the existing connections keep working.
        await rawConnected(gyre, await gyre.token('idle'));
        await alive(first.raw, 2);
        assert.equal(gyre.server.node.userClientCount('busy'), 2);
      } finally {
        await gyre.close();
      }
    });
  });
});
