/**
 * Server-side refresh over real sockets: a connection the connect service granted with an
 * `expireAt` is extended by the refresh service when it expires (the client is not asked: no
 * `expires` / `ttl` in the connect reply); `expired: true` closes it with 3005, a disconnect closes
 * it with that code. Likewise a subscription the subscribe service granted with an `expireAt` is
 * extended by the sub_refresh service (`expired: true` → unsubscribe 2501). RefreshResponse info
 * and meta, and SubRefreshResponse info, take effect.
 *
 * Expiry times are one second ahead; the waits poll, nothing asserts how long anything took.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ConnectResponse,
  Handlers,
  RefreshResponse,
  RPCResponse,
  SubRefreshResponse,
  SubscribeResponse,
  type RefreshRequest,
  type SubRefreshRequest,
} from '../../src/index.js';
import { startGyre, until, type RawSocket, type TestGyre } from '../helpers/gyre.js';
import { connected, subscribed } from '../handlers/clients.js';

type Json = Record<string, any>;

const nowSec = (): number => Math.floor(Date.now() / 1000);

/** Fast ticks (the node's ticker runs every ping_interval / 10). */
const FAST_TICKS = { client: { ping_interval: '2s', pong_timeout: '1s' } };

describe('server-side refresh', { concurrency: true }, () => {
  let gyre: TestGyre;
  const refreshes = new Map<string, RefreshRequest[]>();
  const subRefreshes = new Map<string, SubRefreshRequest[]>();

  before(async () => {
    const handlers = Handlers.from({
      services: {
        connect: (r) => {
          const user = (r.data as { user?: string } | null)?.user ?? 'anon';
          const expireAt = user === 'past' ? nowSec() - 10 : nowSec() + 1;
          r.respond(new ConnectResponse({ user, expireAt, info: { v: 0 }, meta: { gen: 0 } }));
        },
        refresh: (r) => {
          const list = refreshes.get(r.client) ?? [];
          list.push(r);
          refreshes.set(r.client, list);
          const n = list.length;
          if (r.user === 'kick') return r.disconnect(4501, 'refresh says no');
          if (r.user === 'refresh-past') return r.respond(new RefreshResponse({ expireAt: nowSec() - 10 }));
          if (r.user === 'expire' && n >= 2) return r.respond(new RefreshResponse({ expired: true }));
          r.respond(new RefreshResponse({ expireAt: new Date((nowSec() + 1) * 1000), info: { v: n }, meta: { gen: n } }));
        },
        subscribe: (r) => {
          if (r.channel === 'past-sub') return r.respond(new SubscribeResponse({ expireAt: new Date(Date.now() - 10_000) }));
          if (r.channel.startsWith('sr-')) return r.respond(new SubscribeResponse({ expireAt: nowSec() + 1, info: { seat: 0 } }));
          r.respond(new SubscribeResponse());
        },
        sub_refresh: (r) => {
          const key = `${r.client} ${r.channel}`;
          const list = subRefreshes.get(key) ?? [];
          list.push(r);
          subRefreshes.set(key, list);
          const n = list.length;
          if (r.channel.includes('past')) return r.respond(new SubRefreshResponse({ expireAt: nowSec() - 10 }));
          if (r.channel.includes('expire') && n >= 2) return r.respond(new SubRefreshResponse({ expired: true }));
          r.respond(new SubRefreshResponse({ expireAt: nowSec() + 1, info: { seat: n } }));
        },
        rpc: (r) => r.respond(new RPCResponse({ data: { meta: r.meta } })),
      },
    });
    gyre = await startGyre(FAST_TICKS, undefined, { handlers });
  });
  after(() => gyre.close());

  /**
   * A raw socket connected through the connect service as `user`; returns it and the connect result.
   * It answers pings as a real client does: with FAST_TICKS the server pings 1-2 s after connect and
   * closes a silent socket with 3012 (no pong) 1 s later, which is within the 1-3 s these tests wait
   * for refreshes (an unanswered ping made "sub_refresh expired: true unsubscribes with 2501" fail
   * with "socket closed" when the subscribe came after the next whole second on a loaded machine).
   */
  async function rawAs(user: string): Promise<{ ws: RawSocket; result: Json }> {
    const ws = await gyre.raw();
    ws.pongs = true;
    ws.sendJson({ id: 1, connect: { data: { user } } });
    const reply = (await ws.reply(1)) as Json;
    assert.ok(reply['connect'], JSON.stringify(reply));
    return { ws, result: reply['connect'] as Json };
  }

  test('the refresh service extends the connection; the client is not asked; info and meta take effect', async () => {
    const { ws, result } = await rawAs('extend');
    const id = result['client'] as string;
    assert.equal(result['expires'], undefined, 'no client-side refresh');
    assert.equal(result['ttl'], undefined);
    ws.sendJson({ id: 2, subscribe: { channel: 'refresh-info' } });
    await ws.reply(2);
    await until(() => (refreshes.get(id)?.length ?? 0) >= 2);
    const [first, second] = refreshes.get(id)!;
    assert.equal(first!.type, 'refresh');
    assert.equal(first!.client, id);
    assert.equal(first!.user, 'extend');
    assert.equal(first!.transport, 'websocket');
    assert.deepEqual(first!.meta, { gen: 0 }, 'meta from the connect response');
    assert.deepEqual(second!.meta, { gen: 1 }, 'meta from the first refresh response');
    // Still connected and serving; later requests see the refreshed meta; publications carry the new info.
    ws.sendJson({ id: 3, rpc: { method: 'meta' } });
    const rpc = (await ws.reply(3)) as Json;
    assert.ok(rpc['rpc']['data']['meta']['gen'] >= 2, JSON.stringify(rpc));
    ws.sendJson({ id: 4, publish: { channel: 'refresh-info', data: { hi: 1 } } });
    await ws.reply(4);
    const hist = (await gyre.api('history', { channel: 'refresh-info', limit: -1 }))['result'] as Json;
    assert.ok(hist['publications'][0]['info']['conn_info']['v'] >= 1, JSON.stringify(hist));
  });

  test('expired: true closes the connection with 3005', async () => {
    const { ws, result } = await rawAs('expire');
    assert.equal(result['expires'], undefined);
    assert.deepEqual(await ws.closed, { code: 3005, reason: 'connection expired' });
    assert.equal(refreshes.get(result['client'] as string)!.length, 2);
  });

  test('a refresh service disconnect closes the connection with its code', async () => {
    const { ws } = await rawAs('kick');
    assert.deepEqual(await ws.closed, { code: 4501, reason: 'refresh says no' });
  });

  test('the real client stays connected across server-side refreshes, without errors', async () => {
    const { c, ctx } = await connected(gyre, { data: { user: 'extend' } });
    const events: string[] = [];
    c.on('disconnected', (e) => events.push(`disconnected ${e.code}`));
    c.on('error', (e) => events.push(`error ${e.type}`));
    await until(() => (refreshes.get(ctx.client)?.length ?? 0) >= 2);
    assert.deepEqual((await c.rpc('x', null)).data, { meta: { gen: refreshes.get(ctx.client)!.length } });
    assert.equal(c.state, 'connected');
    assert.deepEqual(events, []);
    c.disconnect();
  });

  test('the sub_refresh service extends a subscription; its info replaces the channel info', async () => {
    const { ws, result } = await rawAs('sub-user');
    const id = result['client'] as string;
    ws.sendJson({ id: 2, subscribe: { channel: 'sr-extend' } });
    const sub = ((await ws.reply(2)) as Json)['subscribe'] as Json;
    assert.equal(sub['expires'], undefined, 'no client-side sub_refresh');
    assert.equal(sub['ttl'], undefined);
    const key = `${id} sr-extend`;
    await until(() => (subRefreshes.get(key)?.length ?? 0) >= 2);
    const first = subRefreshes.get(key)![0]!;
    assert.equal(first.type, 'sub_refresh');
    assert.equal(first.channel, 'sr-extend');
    assert.equal(first.client, id);
    assert.equal(first.user, 'sub-user');
    assert.ok(first.meta !== undefined);
    // Still subscribed; presence shows the refreshed channel info.
    const presence = (await gyre.api('presence', { channel: 'sr-extend' }))['result'] as Json;
    assert.ok(presence['presence'][id]['chan_info']['seat'] >= 1, JSON.stringify(presence));
    assert.ok(!ws.messages.some((m) => (m['push'] as Json | undefined)?.['unsubscribe'] !== undefined));
  });

  test('sub_refresh expired: true unsubscribes with 2501', async () => {
    const { ws, result } = await rawAs('sub-user-2');
    ws.sendJson({ id: 2, subscribe: { channel: 'sr-expire' } });
    await ws.reply(2);
    const push = (await ws.next((m) => (m['push'] as Json | undefined)?.['unsubscribe'] !== undefined)) as Json;
    assert.deepEqual(push['push'], { channel: 'sr-expire', unsubscribe: { code: 2501, reason: 'subscription expired' } });
    assert.equal(subRefreshes.get(`${result['client']} sr-expire`)!.length, 2);
  });

  test('the real client stays subscribed across server-side sub refreshes', async () => {
    const { c, ctx } = await connected(gyre, { data: { user: 'rc-sub' } });
    const { sub } = await subscribed(c, 'sr-rc');
    const events: string[] = [];
    sub.on('unsubscribed', (e) => events.push(`unsubscribed ${e.code}`));
    sub.on('error', (e) => events.push(`error ${e.type}`));
    await until(() => (subRefreshes.get(`${ctx.client} sr-rc`)?.length ?? 0) >= 2);
    assert.equal(sub.state, 'subscribed');
    assert.deepEqual(events, []);
    c.disconnect();
  });

  test('an expiry already past: connect and subscribe answer 110; a refresh or sub_refresh into the past ends at once', async () => {
    const ws = await gyre.raw();
    ws.sendJson({ id: 1, connect: { data: { user: 'past' } } });
    assert.deepEqual(await ws.reply(1), { id: 1, error: { code: 110, message: 'expired' } });

    const { ws: sws } = await rawAs('sub-past');
    sws.sendJson({ id: 2, subscribe: { channel: 'past-sub' } });
    assert.deepEqual(await sws.reply(2), { id: 2, error: { code: 110, message: 'expired' } });

    const { ws: rws, result } = await rawAs('refresh-past');
    assert.equal((await rws.closed).code, 3005);
    assert.equal(refreshes.get(result['client'] as string)!.length, 1, 'not asked again');

    const { ws: uws, result: uresult } = await rawAs('sub-past-2');
    uws.sendJson({ id: 2, subscribe: { channel: 'sr-past' } });
    await uws.reply(2);
    const push = (await uws.next((m) => (m['push'] as Json | undefined)?.['unsubscribe'] !== undefined)) as Json;
    assert.equal(push['push']['unsubscribe']['code'], 2501);
    assert.equal(subRefreshes.get(`${uresult['client']} sr-past`)!.length, 1);
  });
});
