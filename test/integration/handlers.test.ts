/**
 * Application handlers over real sockets, with the real `centrifuge` client (raw WebSockets where
 * the exact frame matters): what each service receives, what each response does, registration
 * forms, and interceptors.
 *
 * Always-an-answer and the order of decisions are in handlers-answers.test.ts, server-side refresh
 * in handlers-refresh.test.ts, the topic registry and RPC router in handlers-routing.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServerSubscribedContext } from 'centrifuge';
import {
  ConnectResponse,
  Handlers,
  PublishResponse,
  RPCResponse,
  SubscribeResponse,
  type AnyRequest,
  type ConnectRequest,
  type PublishRequest,
  type RPCRequest,
  type SubscribeRequest,
} from '../../src/index.js';
import { startGyre, until, type TestGyre } from '../helpers/gyre.js';
import { connected, connectOutcome, headerWebSocket, rejection, subscribed } from '../handlers/clients.js';

type Json = Record<string, any>;

const nowSec = (): number => Math.floor(Date.now() / 1000);

describe('handlers over real sockets', { concurrency: true }, () => {
  // ---------------------------------------------------------------------------------------------
  describe('what services receive', () => {
    const seen = {
      connect: [] as ConnectRequest[],
      subscribe: [] as SubscribeRequest[],
      publish: [] as PublishRequest[],
      rpc: [] as RPCRequest[],
    };
    let gyre: TestGyre;
    before(async () => {
      const handlers = Handlers.from({
        services: {
          connect: (r) => {
            seen.connect.push(r);
            const user = (r.data as { user?: string } | null)?.user ?? 'anon';
            r.respond(new ConnectResponse({ user, meta: { tenant: 'acme', user } }));
          },
          subscribe: (r) => {
            seen.subscribe.push(r);
            r.respond(new SubscribeResponse());
          },
          publish: (r) => {
            seen.publish.push(r);
            r.respond(new PublishResponse());
          },
          rpc: (r) => {
            seen.rpc.push(r);
            r.respond(new RPCResponse({ data: { ok: true } }));
          },
        },
      });
      gyre = await startGyre({}, undefined, { handlers });
    });
    after(() => gyre.close());

    test('every field of connect / subscribe / publish / rpc requests, headers and meta included', async () => {
      const { c, ctx } = await connected(gyre, {
        name: 'test-app',
        version: '1.2.3',
        data: { user: '42', x: 1 },
        websocket: headerWebSocket({ 'X-App-Version': '9.9.9', 'X-Tenant': 'acme' }),
      });
      const conn = seen.connect.find((r) => r.client === ctx.client);
      assert.ok(conn, 'the connect request carries the client id the SDK sees');
      assert.equal(conn.type, 'connect');
      assert.equal(conn.transport, 'websocket');
      assert.equal(conn.protocol, 'json');
      assert.equal(conn.encoding, 'json');
      assert.equal(conn.user, '', 'no user yet on connect');
      assert.equal(conn.meta, undefined);
      assert.deepEqual(conn.data, { user: '42', x: 1 });
      assert.equal(conn.name, 'test-app');
      assert.equal(conn.version, '1.2.3');
      assert.deepEqual(conn.channels, []);
      assert.equal(conn.headers['x-app-version'], '9.9.9');
      assert.deepEqual(conn.getHeader('X-App-Version'), ['9.9.9']);
      assert.deepEqual(conn.getHeader('x-tenant'), ['acme']);
      assert.deepEqual(conn.getHeader('X-TENANT'), ['acme']);
      assert.deepEqual(conn.getHeader('X-Absent'), []);
      assert.ok(conn.getHeader('host')[0]!.startsWith('127.0.0.1:'));

      const { sub } = await subscribed(c, 'fields-news', { data: { want: 'all' } });
      const s = seen.subscribe.find((r) => r.client === ctx.client)!;
      assert.equal(s.type, 'subscribe');
      assert.equal(s.channel, 'fields-news');
      assert.deepEqual(s.data, { want: 'all' });
      assert.equal(s.token, '', 'no subscription token');
      assert.equal(s.user, '42');
      assert.deepEqual(s.meta, { tenant: 'acme', user: '42' }, 'the connect response meta is handed to later requests');
      assert.equal(s.transport, 'websocket');
      assert.deepEqual(s.getHeader('X-App-Version'), ['9.9.9']);

      await sub.publish({ text: 'hi' });
      const p = seen.publish.find((r) => r.client === ctx.client)!;
      assert.equal(p.type, 'publish');
      assert.equal(p.channel, 'fields-news');
      assert.deepEqual(p.data, { text: 'hi' });
      assert.equal(p.user, '42');
      assert.deepEqual(p.meta, { tenant: 'acme', user: '42' });
      assert.equal(p.protocol, 'json');

      const res = await c.rpc('echo', { q: 1 });
      assert.deepEqual(res.data, { ok: true });
      const r = seen.rpc.find((x) => x.client === ctx.client)!;
      assert.equal(r.type, 'rpc');
      assert.equal(r.method, 'echo');
      assert.deepEqual(r.data, { q: 1 });
      assert.equal(r.user, '42');
      assert.deepEqual(r.meta, { tenant: 'acme', user: '42' });
      assert.equal(r.encoding, 'json');
      assert.deepEqual(r.getHeader('x-tenant'), ['acme']);
      c.disconnect();
    });

    test('channels: what a reconnecting client asks to recover; raw headers with several values', async () => {
      const ws = await gyre.raw({ headers: { 'X-Custom': 'raw-value', Cookie: 'a=1' } });
      ws.sendJson({ id: 1, connect: { data: { user: '7' }, subs: { 'srv-1': { recover: true, offset: 1, epoch: 'e' }, 'srv-2': {} } } });
      const reply = (await ws.reply(1)) as Json;
      const id = reply['connect']['client'] as string;
      const conn = seen.connect.find((r) => r.client === id)!;
      assert.deepEqual([...conn.channels].sort(), ['srv-1', 'srv-2']);
      assert.equal(conn.name, '');
      assert.equal(conn.version, '');
      assert.deepEqual(conn.getHeader('x-custom'), ['raw-value']);
      assert.deepEqual(conn.getHeader('COOKIE'), ['a=1']);
    });

    test('a connect without data: data is undefined', async () => {
      const ws = await gyre.raw();
      const reply = (await ws.connect()) as Json;
      const conn = seen.connect.find((r) => r.client === reply['connect']['client'])!;
      assert.equal(conn.data, undefined);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('responses', () => {
    let gyre: TestGyre;
    const metaSeen = new Map<string, unknown>();
    before(async () => {
      const handlers = Handlers.from({
        services: {
          connect: (r) => {
            const d = (r.data ?? {}) as { user?: string; mode?: string };
            const user = d.user ?? 'u';
            switch (d.mode) {
              case 'info':
                return r.respond(new ConnectResponse({ user, info: { name: 'Alice' }, data: { welcome: true } }));
              case 'exp-seconds':
                return r.respond(new ConnectResponse({ user, expireAt: nowSec() + 600 }));
              case 'exp-date':
                return r.respond(new ConnectResponse({ user, expireAt: new Date(Date.now() + 600_000) }));
              case 'channels':
                return r.respond(new ConnectResponse({ user, channels: ['srv-a', 'srv-b'] }));
              case 'subs':
                return r.respond(
                  new ConnectResponse({
                    user,
                    subscriptions: {
                      'srv-c': { info: { role: 'admin' }, data: { hello: 'c' } },
                      'srv-d': { override: { presence: false } },
                    },
                  }),
                );
              case 'meta':
                return r.respond(new ConnectResponse({ user, meta: { secret: 'never-on-the-wire' } }));
              default:
                return r.respond(new ConnectResponse({ user }));
            }
          },
          subscribe: (r) => {
            if (r.channel.startsWith('sub-info')) return r.respond(new SubscribeResponse({ info: { seat: 7 }, data: { greeting: 'hi' } }));
            if (r.channel.startsWith('sub-exp')) return r.respond(new SubscribeResponse({ expireAt: new Date(Date.now() + 600_000) }));
            if (r.channel.startsWith('sub-nopresence')) return r.respond(new SubscribeResponse({ override: { presence: false } }));
            r.respond(new SubscribeResponse());
          },
          publish: (r) => {
            if (r.channel.startsWith('pub-replace'))
              return r.respond(new PublishResponse({ data: { replaced: true, by: r.user, original: r.data } }));
            if (r.channel.startsWith('pub-skip')) return r.respond(new PublishResponse({ skipHistory: true }));
            if (r.channel.startsWith('pub-tags')) return r.respond(new PublishResponse({ tags: { kind: 'news' } }));
            r.respond(new PublishResponse());
          },
          rpc: (r) => {
            metaSeen.set(r.client, r.meta);
            if (r.method === 'none') return r.respond(new RPCResponse());
            r.respond(new RPCResponse({ data: { method: r.method, echo: r.data } }));
          },
        },
      });
      gyre = await startGyre({}, undefined, { handlers });
    });
    after(() => gyre.close());

    test('ConnectResponse: user, info (in presence), data (in the connected context)', async () => {
      const { c, ctx } = await connected(gyre, { data: { user: 'alice', mode: 'info' } });
      assert.deepEqual(ctx.data, { welcome: true });
      const { sub } = await subscribed(c, 'resp-presence');
      const presence = await sub.presence();
      const me = presence.clients[ctx.client]!;
      assert.equal(me.user, 'alice');
      assert.deepEqual(me.connInfo, { name: 'Alice' });
      c.disconnect();
    });

    test('ConnectResponse: expireAt in seconds and as a Date give expires + ttl (no refresh service)', async () => {
      for (const mode of ['exp-seconds', 'exp-date']) {
        const ws = await gyre.raw();
        ws.sendJson({ id: 1, connect: { data: { mode } } });
        const res = ((await ws.reply(1)) as Json)['connect'] as Json;
        assert.equal(res['expires'], true, mode);
        assert.ok(res['ttl'] > 590 && res['ttl'] <= 600, `${mode}: ttl ${res['ttl']}`);
      }
      const ws = await gyre.raw();
      ws.sendJson({ id: 1, connect: { data: {} } });
      const res = ((await ws.reply(1)) as Json)['connect'] as Json;
      assert.equal(res['expires'], undefined);
      assert.equal(res['ttl'], undefined);
    });

    test('ConnectResponse: channels become server-side subscriptions', async () => {
      const c = gyre.client({ data: { user: 'chan-user', mode: 'channels' } });
      const subs: string[] = [];
      c.on('subscribed', (ctx: ServerSubscribedContext) => subs.push(ctx.channel));
      assert.ok('connected' in (await connectOutcome(c)));
      await until(() => subs.length === 2);
      assert.deepEqual(subs.sort(), ['srv-a', 'srv-b']);
      const pubs: unknown[] = [];
      c.on('publication', (ctx) => pubs.push([ctx.channel, ctx.data]));
      await gyre.api('publish', { channel: 'srv-a', data: { n: 1 } });
      await until(() => pubs.length === 1);
      assert.deepEqual(pubs, [['srv-a', { n: 1 }]]);
      c.disconnect();
    });

    test('ConnectResponse: subscriptions with per-channel info, data and override', async () => {
      const c = gyre.client({ data: { user: 'subs-user', mode: 'subs' } });
      const subs = new Map<string, ServerSubscribedContext>();
      c.on('subscribed', (ctx: ServerSubscribedContext) => subs.set(ctx.channel, ctx));
      const out = await connectOutcome(c);
      assert.ok('connected' in out);
      await until(() => subs.size === 2);
      assert.deepEqual(subs.get('srv-c')!.data, { hello: 'c' });
      assert.equal(subs.get('srv-d')!.data, undefined);
      const presenceC = (await gyre.api('presence', { channel: 'srv-c' }))['result'] as Json;
      assert.deepEqual(presenceC['presence'][out.connected.client]['chan_info'], { role: 'admin' });
      const presenceD = (await gyre.api('presence', { channel: 'srv-d' }))['result'] as Json;
      assert.deepEqual(presenceD['presence'], {}, 'override presence: false keeps the client out of presence');
      c.disconnect();
    });

    test('ConnectResponse: meta never reaches the client, and is handed to later requests', async () => {
      const ws = await gyre.raw();
      ws.sendJson({ id: 1, connect: { data: { mode: 'meta' } } });
      const reply = (await ws.reply(1)) as Json;
      assert.ok(!JSON.stringify(reply).includes('never-on-the-wire'));
      ws.sendJson({ id: 2, rpc: { method: 'm' } });
      await ws.reply(2);
      assert.deepEqual(metaSeen.get(reply['connect']['client']), { secret: 'never-on-the-wire' });
    });

    test('SubscribeResponse: data in the subscribed context, info as chan_info in presence', async () => {
      const { c, ctx } = await connected(gyre, { data: { user: 'bob' } });
      const { sub, ctx: subCtx } = await subscribed(c, 'sub-info-1');
      assert.deepEqual(subCtx.data, { greeting: 'hi' });
      const presence = await sub.presence();
      assert.deepEqual(presence.clients[ctx.client]!.chanInfo, { seat: 7 });
      // Publications of this client carry its channel info too.
      const other = await connected(gyre, { data: { user: 'carol' } });
      const { pubs } = await subscribed(other.c, 'sub-info-1');
      await sub.publish({ x: 1 });
      await until(() => pubs.length === 1);
      assert.deepEqual(pubs[0]!.info?.chanInfo, { seat: 7 });
      c.disconnect();
      other.c.disconnect();
    });

    test('SubscribeResponse: expireAt gives expires + ttl in the subscribe reply (no sub_refresh service)', async () => {
      const ws = await gyre.raw();
      await ws.connect();
      ws.sendJson({ id: 2, subscribe: { channel: 'sub-exp-1' } });
      const res = ((await ws.reply(2)) as Json)['subscribe'] as Json;
      assert.equal(res['expires'], true);
      assert.ok(res['ttl'] > 590 && res['ttl'] <= 600, String(res['ttl']));
    });

    test('SubscribeResponse: override presence false keeps the subscriber out of presence', async () => {
      const { c } = await connected(gyre, { data: { user: 'dave' } });
      await subscribed(c, 'sub-nopresence-1');
      const stats = (await gyre.api('presence_stats', { channel: 'sub-nopresence-1' }))['result'] as Json;
      assert.deepEqual(stats, { num_clients: 0, num_users: 0 });
      const channels = (await gyre.api('channels', { pattern: 'sub-nopresence-1' }))['result'] as Json;
      assert.equal(channels['channels']['sub-nopresence-1']['num_clients'], 1, 'still subscribed');
      c.disconnect();
    });

    test('PublishResponse: data replaces what the client published', async () => {
      const a = await connected(gyre, { data: { user: 'writer' } });
      const b = await connected(gyre, { data: { user: 'reader' } });
      const { sub } = await subscribed(a.c, 'pub-replace-1');
      const { pubs } = await subscribed(b.c, 'pub-replace-1');
      await sub.publish({ text: 'raw' });
      await until(() => pubs.length === 1);
      assert.deepEqual(pubs[0]!.data, { replaced: true, by: 'writer', original: { text: 'raw' } });
      assert.equal(pubs[0]!.info?.user, 'writer');
      const hist = (await gyre.api('history', { channel: 'pub-replace-1', limit: -1 }))['result'] as Json;
      assert.deepEqual(hist['publications'][0]['data'], { replaced: true, by: 'writer', original: { text: 'raw' } });
      a.c.disconnect();
      b.c.disconnect();
    });

    test('PublishResponse: skipHistory keeps the publication out of history (subscribers still get it)', async () => {
      const { c } = await connected(gyre, { data: { user: 'w' } });
      const { sub, pubs } = await subscribed(c, 'pub-skip-1');
      await sub.publish({ n: 1 });
      await until(() => pubs.length === 1);
      const hist = (await gyre.api('history', { channel: 'pub-skip-1', limit: -1 }))['result'] as Json;
      assert.deepEqual(hist['publications'], []);
      // Without skipHistory the channel keeps history.
      await gyre.api('publish', { channel: 'pub-skip-1', data: { n: 2 } });
      const hist2 = (await gyre.api('history', { channel: 'pub-skip-1', limit: -1 }))['result'] as Json;
      assert.deepEqual(
        hist2['publications'].map((p: Json) => p['data']),
        [{ n: 2 }],
      );
      c.disconnect();
    });

    test('PublishResponse: tags reach subscribers', async () => {
      const a = await connected(gyre, { data: { user: 'w' } });
      const b = await connected(gyre, { data: { user: 'r' } });
      const { sub } = await subscribed(a.c, 'pub-tags-1');
      const { pubs } = await subscribed(b.c, 'pub-tags-1');
      await sub.publish({ n: 1 });
      await until(() => pubs.length === 1);
      assert.deepEqual(pubs[0]!.tags, { kind: 'news' });
      a.c.disconnect();
      b.c.disconnect();
    });

    test('RPCResponse: its data is the reply; no data is an empty result', async () => {
      const { c } = await connected(gyre, { data: { user: 'x' } });
      assert.deepEqual((await c.rpc('calc', [1, 2])).data, { method: 'calc', echo: [1, 2] });
      assert.equal((await c.rpc('none', null)).data, undefined);
      c.disconnect();
      const ws = await gyre.raw();
      await ws.connect();
      ws.sendJson({ id: 2, rpc: { method: 'none' } });
      assert.deepEqual(await ws.reply(2), { id: 2, rpc: {} });
      ws.sendJson({ id: 3, rpc: { method: 'm', data: { a: 'b' } } });
      assert.deepEqual(await ws.reply(3), { id: 3, rpc: { data: { method: 'm', echo: { a: 'b' } } } });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('registration', () => {
    test('fluently, with services as objects with handle(), sync and async', async () => {
      const handlers = new Handlers()
        .service('connect', {
          async handle(r: ConnectRequest) {
            await new Promise((res) => setTimeout(res, 5));
            r.respond(new ConnectResponse({ user: 'fluent' }));
          },
        })
        .service('rpc', { handle: (r) => r.respond(new RPCResponse({ data: `sync ${r.user}` })) })
        .service('subscribe', async (r) => r.respond(new SubscribeResponse({ data: { via: 'async fn' } })));
      const gyre = await startGyre({}, undefined, { handlers });
      try {
        const { c } = await connected(gyre);
        assert.equal((await c.rpc('x', null)).data, 'sync fluent');
        const { ctx } = await subscribed(c, 'reg-1');
        assert.deepEqual(ctx.data, { via: 'async fn' });
      } finally {
        await gyre.close();
      }
    });

    test('Handlers.from a config object with services, interceptors and timeouts', async () => {
      const trace: string[] = [];
      const handlers = Handlers.from({
        services: { connect: { handle: (r) => r.respond(new ConnectResponse({ user: 'cfg' })) }, rpc: async (r) => r.respond(new RPCResponse({ data: 1 })) },
        interceptors: { '*': [(r, next) => (trace.push(r.type), next(r))] },
        timeouts: { rpc: 1000 },
      });
      const gyre = await startGyre({}, undefined, { handlers });
      try {
        const { c } = await connected(gyre);
        assert.equal((await c.rpc('x', null)).data, 1);
        assert.deepEqual(trace, ['connect', 'rpc']);
      } finally {
        await gyre.close();
      }
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('interceptors', { concurrency: false }, () => {
    let gyre: TestGyre;
    const trace: string[] = [];
    const originals: AnyRequest[] = [];
    const tokens = new Map([
      ['token-42', '42'],
      ['token-7', '7'],
    ]);
    before(async () => {
      /** Outermost: records every request's type, before and after. */
      const telemetry = async (r: AnyRequest, next: (q: AnyRequest) => Promise<void>): Promise<void> => {
        trace.push(`*>${r.type}`);
        await next(r);
        trace.push(`*<${r.type}`);
      };
      const handlers = Handlers.from({
        interceptors: {
          // Type interceptors listed before '*' on purpose: '*' still runs outermost.
          connect: [
            (r, next) => {
              originals.push(r);
              const token = (r.data as { authToken?: string } | null)?.authToken ?? '';
              trace.push('auth');
              return next(r.withAttribute('userId', tokens.get(token) ?? ''));
            },
          ],
          rpc: [
            (r, next) => {
              trace.push('rpc-guard');
              if (r.method === 'admin') return r.error(403, 'forbidden');
              return next(r.withAttribute('tenant', 'acme'));
            },
            async (r, next) => {
              trace.push('rpc-wrap>');
              await next(r);
              trace.push(`rpc-wrap<${r.answered}`);
            },
          ],
          '*': [telemetry],
        },
        services: {
          connect: (r) => {
            trace.push('connect-service');
            const user = r.getAttribute<string>('userId', '') ?? '';
            if (user === '') return r.disconnect(4501, 'Connection is not allowed.');
            r.respond(new ConnectResponse({ user }));
          },
          rpc: (r) => {
            trace.push('rpc-service');
            r.respond(new RPCResponse({ data: { user: r.user, tenant: r.getAttribute('tenant') } }));
          },
        },
      });
      gyre = await startGyre({}, undefined, { handlers });
    });
    after(() => gyre.close());

    test("order: '*' outermost, then the type's own in order; an attribute reaches the service, not the original", async () => {
      trace.length = 0;
      const { c } = await connected(gyre, { data: { authToken: 'token-42' } });
      const res = await c.rpc('hello', null);
      assert.deepEqual(res.data, { user: '42', tenant: 'acme' });
      await until(() => trace.includes('*<rpc'));
      assert.deepEqual(trace, [
        '*>connect',
        'auth',
        'connect-service',
        '*<connect',
        '*>rpc',
        'rpc-guard',
        'rpc-wrap>',
        'rpc-service',
        'rpc-wrap<true',
        '*<rpc',
      ]);
      assert.equal(originals.at(-1)!.getAttribute('userId'), undefined);
      c.disconnect();
    });

    test('short-circuit: an interceptor answers an error and the service is not called', async () => {
      const { c } = await connected(gyre, { data: { authToken: 'token-7' } });
      trace.length = 0;
      const err = await rejection(c.rpc('admin', null));
      assert.equal(err.code, 403);
      assert.equal(err.message, 'forbidden');
      await until(() => trace.includes('*<rpc'));
      assert.deepEqual(trace, ['*>rpc', 'rpc-guard', '*<rpc']);
      c.disconnect();
    });

    test('a service disconnect (4501) is terminal for the real client', async () => {
      const c = gyre.client({ data: { authToken: 'wrong' } });
      const out = await connectOutcome(c);
      assert.ok('disconnected' in out, JSON.stringify(out));
      assert.equal(out.disconnected.code, 4501);
      assert.equal(out.disconnected.reason, 'Connection is not allowed.');
      assert.equal(c.state, 'disconnected');
      const ws = await gyre.raw();
      ws.sendJson({ id: 1, connect: { data: { authToken: 'nope' } } });
      assert.deepEqual(await ws.closed, { code: 4501, reason: 'Connection is not allowed.' });
    });
  });
});
