/**
 * Every request gets an answer, over real sockets: a service that throws (error 100 + an error log
 * line with the stack), one that does not answer in time (error 100 temporary + a warning), a
 * second answer (ignored + a warning); and who decides what: a connection token over the connect
 * service, the subscribe order (token → `$` private → user-limited → service → flags), the publish
 * service alone, RPC without a service (108), and the config rules when no service is registered.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ConnectResponse,
  Handlers,
  PublishResponse,
  RPCResponse,
  SubscribeResponse,
  type RPCRequest,
} from '../../src/index.js';
import { signToken } from '../../src/auth/sign.js';
import { SECRET, startGyre, until, type TestGyre } from '../helpers/gyre.js';
import { connected, connectOutcome, ERROR, logLine, rejection, subscribeOutcome, subscribed, WARN } from '../handlers/clients.js';

type Json = Record<string, any>;

const INTERNAL = { code: 100, message: 'internal server error', temporary: true };

describe('handler answers', { concurrency: true }, () => {
  // ---------------------------------------------------------------------------------------------
  describe('always an answer', () => {
    let gyre: TestGyre;
    /** RPC requests left unanswered by the "slow" method, to answer late. */
    const unanswered: RPCRequest[] = [];
    before(async () => {
      const handlers = Handlers.from({
        services: {
          connect: function connectService(r) {
            const mode = (r.data as { mode?: string } | null)?.mode;
            if (mode === 'throw') throw new Error('connect exploded');
            if (mode === 'slow') return; // never answers
            r.respond(new ConnectResponse({ user: 'u' }));
          },
          subscribe: async function subscribeService(r) {
            if (r.channel === 'sub-throw') throw new Error('subscribe exploded');
            if (r.channel === 'sub-slow') return;
            r.respond(new SubscribeResponse());
          },
          publish: (r) => {
            if (r.channel === 'pub-throw') throw new RangeError('publish exploded');
            r.respond(new PublishResponse());
          },
          rpc: async function rpcService(r) {
            switch (r.method) {
              case 'throw':
                throw new Error('rpc exploded');
              case 'slow':
                unanswered.push(r);
                return;
              case 'twice':
                r.respond(new RPCResponse({ data: 'first' }));
                r.respond(new RPCResponse({ data: 'second' }));
                return;
              case 'error-then-respond':
                r.error(418, 'teapot');
                r.respond(new RPCResponse({ data: 'ignored' }));
                return;
              default:
                r.respond(new RPCResponse({ data: 'ok' }));
            }
          },
        },
        timeouts: { connect: 300, subscribe: 300, rpc: 300 },
      });
      gyre = await startGyre({}, undefined, { handlers });
    });
    after(() => gyre.close());

    /** The error log line of a service that threw with `message`. */
    function thrownLine(message: string): Promise<Json> {
      return logLine(gyre, (l) => l.level === ERROR && (l['err'] as Json | undefined)?.['message'] === message);
    }

    test('connect service throws: error 100 (temporary) on the wire, an error log line with the stack', async () => {
      const ws = await gyre.raw();
      ws.sendJson({ id: 1, connect: { data: { mode: 'throw' } } });
      assert.deepEqual(await ws.reply(1), { id: 1, error: INTERNAL });
      const line = await thrownLine('connect exploded');
      assert.equal(line['type'], 'connect');
      assert.match(line['err']['stack'], /connect exploded[\s\S]*connectService/);
      // The real client sees a temporary connect error (and would retry).
      const c = gyre.client({ data: { mode: 'throw' } });
      const out = await connectOutcome(c);
      c.disconnect();
      assert.ok('error' in out, JSON.stringify(out));
      assert.equal(out.error.type, 'connect');
      assert.equal(out.error.error.code, 100);
    });

    test('connect service never answers: error 100 temporary after its timeout, with a warning', async () => {
      const ws = await gyre.raw();
      ws.sendJson({ id: 1, connect: { data: { mode: 'slow' } } });
      assert.deepEqual(await ws.reply(1), { id: 1, error: INTERNAL });
      const line = await logLine(gyre, (l) => l.level === WARN && l['type'] === 'connect' && /in time/.test(l.msg));
      assert.equal(line['timeoutMs'], 300);
      const c = gyre.client({ data: { mode: 'slow' } });
      const out = await connectOutcome(c);
      c.disconnect();
      assert.ok('error' in out && out.error.error.code === 100, JSON.stringify(out));
    });

    test('rpc service throws: the real client gets error 100; the stack is logged', async () => {
      const { c } = await connected(gyre);
      assert.deepEqual(await rejection(c.rpc('throw', null)), INTERNAL);
      const line = await thrownLine('rpc exploded');
      assert.equal(line['type'], 'rpc');
      assert.match(line['err']['stack'], /rpcService/);
      // The connection is still usable.
      assert.equal((await c.rpc('fine', null)).data, 'ok');
      c.disconnect();
    });

    test('rpc service never answers: error 100 temporary; its late answer is ignored with a warning', async () => {
      const { c } = await connected(gyre);
      const before = unanswered.length;
      assert.deepEqual(await rejection(c.rpc('slow', null)), INTERNAL);
      await logLine(gyre, (l) => l.level === WARN && l['type'] === 'rpc' && /in time/.test(l.msg));
      await until(() => unanswered.length > before);
      const late = unanswered[before]!;
      late.respond(new RPCResponse({ data: 'late' }));
      const twice = await logLine(gyre, (l) => l.level === WARN && /answered twice/.test(l.msg) && l['client'] === late.client);
      assert.equal(twice['first'], 'error');
      assert.equal(twice['second'], 'respond');
      assert.equal((await c.rpc('fine', null)).data, 'ok');
      c.disconnect();
    });

    test('a second answer is ignored with a warning: the client gets the first', async () => {
      const { c, ctx } = await connected(gyre);
      assert.equal((await c.rpc('twice', null)).data, 'first');
      const warn = await logLine(gyre, (l) => l.level === WARN && /answered twice/.test(l.msg) && l['client'] === ctx.client);
      assert.deepEqual([warn['type'], warn['first'], warn['second']], ['rpc', 'respond', 'respond']);
      const err = await rejection(c.rpc('error-then-respond', null));
      assert.deepEqual(err, { code: 418, message: 'teapot' });
      c.disconnect();
    });

    test('subscribe service throws or never answers: error 100 temporary', async () => {
      const ws = await gyre.raw();
      await ws.connect();
      ws.sendJson({ id: 2, subscribe: { channel: 'sub-throw' } }, { id: 3, subscribe: { channel: 'sub-slow' } }, { id: 4, subscribe: { channel: 'sub-ok' } });
      assert.deepEqual(await ws.reply(2), { id: 2, error: INTERNAL });
      assert.deepEqual(await ws.reply(3), { id: 3, error: INTERNAL });
      assert.ok(((await ws.reply(4)) as Json)['subscribe']);
      const line = await thrownLine('subscribe exploded');
      assert.match(line['err']['stack'], /subscribeService/);
      await logLine(gyre, (l) => l.level === WARN && l['type'] === 'subscribe' && /in time/.test(l.msg));
      // The real client gets the temporary error (and would resubscribe).
      const { c } = await connected(gyre);
      const out = await subscribeOutcome(c, 'sub-throw');
      c.disconnect();
      assert.ok('error' in out, JSON.stringify(out.sub.state));
      assert.equal(out.error.error.code, 100);
    });

    test('publish service throws: the real client gets error 100', async () => {
      const { c } = await connected(gyre);
      assert.deepEqual(await rejection(c.publish('pub-throw', { x: 1 })), INTERNAL);
      const line = await thrownLine('publish exploded');
      assert.equal(line['type'], 'publish');
      assert.equal(line['err']['type'], 'RangeError');
      c.disconnect();
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('who decides', () => {
    let gyre: TestGyre;
    const asked = { connect: [] as string[], subscribe: [] as string[], publish: [] as string[] };
    before(async () => {
      const handlers = Handlers.from({
        services: {
          connect: (r) => {
            const user = (r.data as { user?: string } | null)?.user ?? '';
            asked.connect.push(user);
            r.respond(new ConnectResponse({ user }));
          },
          subscribe: (r) => {
            asked.subscribe.push(r.channel);
            if (r.channel.includes('deny')) return r.error(103, 'permission denied');
            r.respond(new SubscribeResponse({ data: { by: 'service' } }));
          },
          publish: (r) => {
            asked.publish.push(r.channel);
            if (r.channel.includes('deny')) return r.error(400, 'bad message');
            r.respond(new PublishResponse({ data: { stamped: r.data } }));
          },
        },
      });
      gyre = await startGyre(
        {
          channel: {
            namespaces: [
              { name: 'open', allow_subscribe_for_client: true, allow_publish_for_client: true, allow_user_limited_channels: true },
              { name: 'closed', allow_user_limited_channels: true },
            ],
          },
        },
        undefined,
        { handlers },
      );
    });
    after(() => gyre.close());

    test('a connection token wins: the connect service is not asked', async () => {
      const { c } = await connected(gyre, { token: await gyre.token('token-user'), data: { user: 'tokwin-service-user' } });
      assert.ok(!asked.connect.includes('tokwin-service-user'), 'connect service not called');
      assert.equal(gyre.server.node.clientsOf('token-user').length, 1);
      assert.equal(gyre.server.node.clientsOf('tokwin-service-user').length, 0);
      c.disconnect();
      // Without a token it is asked.
      const other = await connected(gyre, { data: { user: 'tokwin-service-user' } });
      assert.ok(asked.connect.includes('tokwin-service-user'));
      assert.equal(gyre.server.node.clientsOf('tokwin-service-user').length, 1);
      other.c.disconnect();
    });

    test('a subscription token decides alone (the service is not asked, even where it would deny)', async () => {
      const { c } = await connected(gyre, { data: { user: '42' } });
      const token = await signToken({ sub: '42', channel: 'closed:deny-tok' }, { hmacSecret: SECRET });
      const { ctx } = await subscribed(c, 'closed:deny-tok', { token });
      assert.equal(ctx.data, undefined);
      assert.ok(!asked.subscribe.includes('closed:deny-tok'));
      c.disconnect();
    });

    test('a $ private channel needs a token: 103 without one, the service is not asked', async () => {
      const ws = await gyre.raw();
      ws.sendJson({ id: 1, connect: { data: { user: '42' } } });
      await ws.reply(1);
      ws.sendJson({ id: 2, subscribe: { channel: '$open:secret' } });
      assert.deepEqual(await ws.reply(2), { id: 2, error: { code: 103, message: 'permission denied' } });
      assert.ok(!asked.subscribe.includes('$open:secret'));
    });

    test('a user-limited channel admits its listed users without the service; others are asked', async () => {
      const { c } = await connected(gyre, { data: { user: '42' } });
      const { ctx } = await subscribed(c, 'closed:dm#42,7');
      assert.equal(ctx.data, undefined, 'no service data: admitted by the channel');
      assert.ok(!asked.subscribe.includes('closed:dm#42,7'));
      const out = await subscribeOutcome(c, 'closed:deny#7,8');
      assert.ok('unsubscribed' in out);
      assert.equal(out.unsubscribed.code, 103);
      assert.ok(asked.subscribe.includes('closed:deny#7,8'), 'not a listed user: the service decides');
      c.disconnect();
    });

    test('the subscribe service decides before the flags: allows a closed channel, denies an open one', async () => {
      const { c } = await connected(gyre, { data: { user: '42' } });
      const { ctx } = await subscribed(c, 'closed:room');
      assert.deepEqual(ctx.data, { by: 'service' });
      const out = await subscribeOutcome(c, 'open:deny-room');
      assert.ok('unsubscribed' in out);
      assert.equal(out.unsubscribed.code, 103);
      c.disconnect();
    });

    test('the publish service decides alone: allows where flags would not, denies where they would', async () => {
      const writer = await connected(gyre, { data: { user: '42' } });
      const reader = await connected(gyre, { data: { user: '7' } });
      const { pubs } = await subscribed(reader.c, 'closed:feed');
      await writer.c.publish('closed:feed', { text: 'x' });
      await until(() => pubs.length === 1);
      assert.deepEqual(pubs[0]!.data, { stamped: { text: 'x' } });
      assert.deepEqual(await rejection(writer.c.publish('open:deny-feed', { text: 'x' })), { code: 400, message: 'bad message' });
      writer.c.disconnect();
      reader.c.disconnect();
    });

    test('rpc without a service: error 108', async () => {
      const { c } = await connected(gyre, { data: { user: '42' } });
      assert.deepEqual(await rejection(c.rpc('anything', null)), { code: 108, message: 'not available' });
      c.disconnect();
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('no service for a type: the config rules decide', () => {
    let gyre: TestGyre;
    before(async () => {
      // Only a connect service: subscribe and publish follow the namespace flags.
      const handlers = new Handlers().service('connect', (r) => r.respond(new ConnectResponse({ user: 'u1' })));
      gyre = await startGyre(
        {
          channel: {
            namespaces: [
              { name: 'open', allow_subscribe_for_client: true, allow_publish_for_client: true },
              { name: 'closed' },
            ],
          },
        },
        undefined,
        { handlers },
      );
    });
    after(() => gyre.close());

    test('subscribe follows allow_subscribe_for_client; publish follows allow_publish_for_client; rpc is 108', async () => {
      const { c } = await connected(gyre);
      const { pubs } = await subscribed(c, 'open:a');
      await c.publish('open:a', { n: 1 });
      await until(() => pubs.length === 1);
      assert.deepEqual(pubs[0]!.data, { n: 1 });
      const out = await subscribeOutcome(c, 'closed:a');
      assert.ok('unsubscribed' in out);
      assert.equal(out.unsubscribed.code, 103);
      assert.deepEqual(await rejection(c.publish('closed:a', { n: 1 })), { code: 103, message: 'permission denied' });
      assert.deepEqual(await rejection(c.rpc('m', null)), { code: 108, message: 'not available' });
      c.disconnect();
    });

    test('without a connect service, a client without a token is refused as before', async () => {
      const handlers = new Handlers().service('rpc', (r) => r.respond(new RPCResponse()));
      const g = await startGyre({}, undefined, { handlers });
      try {
        const ws = await g.raw();
        ws.sendJson({ id: 1, connect: {} });
        assert.equal((await ws.closed).code, 3501);
      } finally {
        await g.close();
      }
    });
  });
});
