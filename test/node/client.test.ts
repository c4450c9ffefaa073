/**
 * Unit tests of Client (src/node/client.ts) and its subscription lifecycle
 * (src/node/client-subscriptions.ts) without sockets: a real GyreNode (in-memory engine, a config
 * from loadConfig) and a FakeTransport recording what the client sends and how it closes. Frames go
 * in through `client.handleFrame`; every wait for a reply, push or close is bounded and
 * event-driven (test/helpers/fake-transport.ts).
 *
 * The memory broker delivers a publication to the hub before `node.publish` resolves, so "no push
 * arrived" is checked right after awaiting a publish (and, where another subscriber is at hand, after
 * that subscriber received the same publication).

 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { signToken } from '../../src/auth/sign.js';
import { loadConfig, type ConfigInput } from '../../src/config/index.js';
import { MemoryBroker } from '../../src/engine/memory/broker.js';
import type { Broker, HistoryQuery, HistoryResult } from '../../src/engine/types.js';
import { Client } from '../../src/node/client.js';
import { GyreNode } from '../../src/node/node.js';
import { Disconnects } from '../../src/protocol/codes.js';
import { VERSION } from '../../src/version.js';
import { FakeTransport, type FakeTransportOptions, type Message } from '../helpers/fake-transport.js';
import { until, withTimeout } from '../helpers/wait.js';

const SECRET = 'client-unit-test-secret';

/**
 * Channels: without namespace (subscribe, publish as subscriber; no presence, no history), `hist:`
 * (history + forced recovery, history for subscribers), `pres:` (presence for subscribers), and
 * `locked:` (presence and history kept, but nobody may read them).
 */
const BASE: ConfigInput = {
  client: { token: { hmac_secret_key: SECRET } },
  channel: {
    without_namespace: { allow_subscribe_for_client: true, allow_publish_for_subscriber: true },
    namespaces: [
      {
        name: 'hist',
        history_size: 10,
        history_ttl: '300s',
        force_recovery: true,
        allow_subscribe_for_client: true,
        allow_history_for_subscriber: true,
      },
      { name: 'pres', presence: true, allow_subscribe_for_client: true, allow_presence_for_subscriber: true },
      { name: 'locked', presence: true, history_size: 10, history_ttl: '300s', allow_subscribe_for_client: true },
    ],
  },
};

/** `base` with `over` merged in (objects merged key by key; arrays and other values replaced). */
function merge(base: ConfigInput, over: ConfigInput): ConfigInput {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlain(b) && isPlain(v) ? merge(b as ConfigInput, v as ConfigInput) : v;
  }
  return out as ConfigInput;
}

function isPlain(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A connection under test: the client, its fake transport, and command helpers. */
interface Conn {
  client: Client;
  t: FakeTransport;
  /** Sends one command `{id, [method]: params}` (ids count up from 1) and returns its id. */
  send(method: string, params?: Record<string, unknown>): number;
  /** Sends one command and waits for its reply. */
  call(method: string, params?: Record<string, unknown>): Promise<Message>;
}

interface Harness {
  node: GyreNode;
  /** Log lines (only when the harness was made with `logs: true`). */
  logs: LogLine[];
  /** A connection token signed with the configured secret. */
  token(user: string, claims?: Record<string, unknown>, ttlSeconds?: number): Promise<string>;
  /** A new client on a fake transport, accepted by the node, not connected. */
  open(opts?: FakeTransportOptions): Conn;
  /** A new client connected with a token for `user`; `result` is the connect reply. */
  connect(user: string, claims?: Record<string, unknown>, opts?: FakeTransportOptions & { ttlSeconds?: number }): Promise<Conn & { result: Message }>;
}

/**
 * The memory broker with one-shot hooks around the next history read and inside the next broker
 * subscription, to make something happen at a chosen point of a subscription's set-up or of a
 * command (a publication arriving, the connection closing).
 */
class HookedBroker extends MemoryBroker {
  /** Runs (once) before the next history read. */
  beforeHistory: (() => Promise<void> | void) | undefined;
  /** Runs (once) after the next history read, before its result is returned. */
  afterHistory: (() => Promise<void> | void) | undefined;
  /** Runs (once) inside the next broker subscription (a channel's first subscriber on the node). */
  onSubscribe: (() => Promise<void> | void) | undefined;

  override async subscribe(channel: string): Promise<void> {
    const hook = this.onSubscribe;
    this.onSubscribe = undefined;
    await hook?.();
    return super.subscribe(channel);
  }

  override async history(channel: string, query: HistoryQuery): Promise<HistoryResult> {
    const before = this.beforeHistory;
    this.beforeHistory = undefined;
    await before?.();
    const res = await super.history(channel, query);
    const after = this.afterHistory;
    this.afterHistory = undefined;
    await after?.();
    return res;
  }
}

/** A started node with BASE + `overrides`, shut down when the test ends. */
async function harness(t: TestContext, overrides: ConfigInput = {}, opts: { logs?: boolean; broker?: Broker } = {}): Promise<Harness> {
  const { config } = loadConfig({ env: {}, overrides: merge(BASE, overrides) });
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  const log = pino({ level: opts.logs === true ? 'debug' : 'silent' }, sink);
  const node = new GyreNode({ config, log, ...(opts.broker !== undefined && { broker: opts.broker }) });
  await node.start();
  t.after(() => node.shutdown(Disconnects.shutdown));

  const h: Harness = {
    node,
    logs,
    token: (user, claims = {}, ttlSeconds) =>
      signToken({ sub: user, ...claims }, { hmacSecret: SECRET, ...(ttlSeconds !== undefined && { ttlSeconds }) }),
    open(topts = {}) {
      const tr = new FakeTransport(topts);
      const client = new Client(node, tr);
      node.accept(client);
      let id = 0;
      const conn: Conn = {
        client,
        t: tr,
        send(method, params = {}) {
          id++;
          client.handleFrame(JSON.stringify({ id, [method]: params }));
          return id;
        },
        call(method, params = {}) {
          return tr.reply(conn.send(method, params), `reply to ${method} ${JSON.stringify(params).slice(0, 120)}`);
        },
      };
      return conn;
    },
    async connect(user, claims = {}, copts = {}) {
      const { ttlSeconds, ...topts } = copts;
      const conn = h.open(topts);
      const result = await conn.call('connect', { token: await h.token(user, claims, ttlSeconds) });
      assert.ok(result['connect'] !== undefined, `connect failed: ${JSON.stringify(result)}`);
      return { ...conn, result };
    },
  };
  return h;
}

/** The reply `{id, error: {code, message}}`. */
function errorReply(id: number, code: number, message: string): Message {
  return { id, error: { code, message } };
}

/**
 * Lets every pending continuation of the in-memory engine run: it does no I/O, so everything a
 * command still has to do after its last await has run by the next macrotask.
 */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Publishes `data` from the server side and returns the stream position. */
async function serverPublish(node: GyreNode, channel: string, data: unknown): Promise<{ offset: number; epoch: string }> {
  return (await node.publish(channel, JSON.stringify(data))).position;
}

// ---------------------------------------------------------------------------------------------

describe('connect', () => {
  test('a valid token: the result has the client id, version, ping, pong and node id', async (t) => {
    const h = await harness(t);
    const c = await h.connect('alice');
    assert.deepEqual(c.result, {
      id: 1,
      connect: { client: c.client.id, version: VERSION, ping: 25, pong: true, node: h.node.id },
    });
    assert.equal(c.client.connected, true);
    assert.equal(c.client.user, 'alice');
    assert.equal(h.node.clientCount, 1);
    assert.deepEqual(h.node.clientsOf('alice').map((x) => x.id), [c.client.id]);
    assert.equal(c.t.closed, undefined);
  });

  test('a transport without pongs gets no "pong" field; ping_interval -1 gives neither field', async (t) => {
    const h = await harness(t);
    const noPongs = await h.connect('alice', {}, { pongs: false });
    assert.deepEqual(noPongs.result, { id: 1, connect: { client: noPongs.client.id, version: VERSION, ping: 25, node: h.node.id } });

    const h2 = await harness(t, { client: { ping_interval: -1 } });
    const noPings = await h2.connect('alice');
    assert.deepEqual(noPings.result, { id: 1, connect: { client: noPings.client.id, version: VERSION, node: h2.node.id } });
  });

  test('a token with exp: the result says it expires, with the ttl in seconds', async (t) => {
    const h = await harness(t);
    const c = await h.connect('alice', {}, { ttlSeconds: 600 });
    const r = c.result['connect'] as Message;
    assert.equal(r['expires'], true);
    // exp = signing second + 600; the connect may fall in the next second.
    assert.ok(r['ttl'] === 600 || r['ttl'] === 599, `ttl ${String(r['ttl'])}`);
    assert.ok(c.client.expireAt > 0);
    assert.deepEqual(Object.keys(r), ['client', 'version', 'expires', 'ttl', 'ping', 'pong', 'node']);
  });

  test('a token signed with another secret: closed with 3500 invalid token, no reply', async (t) => {
    const h = await harness(t);
    const c = h.open();
    const bad = await signToken({ sub: 'alice' }, { hmacSecret: 'not-the-secret' });
    c.send('connect', { token: bad });
    assert.deepEqual(await c.t.waitClosed(), { code: 3500, reason: 'invalid token' });
    assert.deepEqual(c.t.received, []);
    assert.equal(c.client.connected, false);
    assert.equal(h.node.clientCount, 0);
  });

  test('a garbage token: closed with 3500', async (t) => {
    const h = await harness(t);
    const c = h.open();
    c.send('connect', { token: 'not.a.jwt' });
    assert.deepEqual(await c.t.waitClosed(), { code: 3500, reason: 'invalid token' });
    assert.deepEqual(c.t.received, []);
  });

  test('an expired token: error 109 and the connection stays open for another connect', async (t) => {
    const h = await harness(t);
    const c = h.open();
    const reply = await c.call('connect', { token: await h.token('alice', {}, -60) });
    assert.deepEqual(reply, errorReply(1, 109, 'token expired'));
    assert.equal(c.t.closed, undefined);
    assert.equal(h.node.clientCount, 0);
    const ok = await c.call('connect', { token: await h.token('alice') });
    assert.equal((ok['connect'] as Message)['client'], c.client.id);
    assert.equal(h.node.clientCount, 1);
  });

  test('a valid token whose expire_at has passed: error 110, not connected', async (t) => {
    const h = await harness(t);
    const c = h.open();
    const token = await h.token('alice', { expire_at: Math.floor(Date.now() / 1000) - 60 }, 600);
    assert.deepEqual(await c.call('connect', { token }), errorReply(1, 110, 'expired'));
    assert.equal(c.client.connected, false);
    assert.equal(h.node.clientCount, 0);
  });

  test('connect without a token (no anonymous access configured): closed with 3501', async (t) => {
    const h = await harness(t);
    const c = h.open();
    c.send('connect', {});
    assert.deepEqual(await c.t.waitClosed(), { code: 3501, reason: 'bad request' });
    assert.deepEqual(c.t.received, []);
  });

  for (const [what, frame] of [
    ['subscribe', '{"id":1,"subscribe":{"channel":"news"}}'],
    ['ping', '{"id":1,"ping":{}}'],
    ['an unknown method', '{"id":1,"nope":{}}'],
    ['a pong', '{}'],
  ] as const) {
    test(`${what} before connect: closed with 3501 bad request, no reply`, async (t) => {
      const h = await harness(t);
      const c = h.open();
      c.client.handleFrame(frame);
      assert.deepEqual(await c.t.waitClosed(), { code: 3501, reason: 'bad request' });
      assert.deepEqual(c.t.received, []);
      assert.equal(h.node.clientCount, 0);
    });
  }

  test('a second connect: closed with 3501', async (t) => {
    const h = await harness(t);
    const c = await h.connect('alice');
    c.send('connect', { token: await h.token('alice') });
    assert.deepEqual(await c.t.waitClosed(), { code: 3501, reason: 'bad request' });
    assert.equal(c.t.received.length, 1, `only the first connect was answered: ${JSON.stringify(c.t.received)}`);
    assert.equal(h.node.clientCount, 0);
  });

  test('malformed JSON: closed with 3501', async (t) => {
    const h = await harness(t);
    const c = await h.connect('alice');
    c.client.handleFrame('{"id":2,"ping":');
    assert.deepEqual(await c.t.waitClosed(), { code: 3501, reason: 'bad request' });
  });

  test('a connection that never connects is closed as stale (3502)', async (t) => {
    const h = await harness(t, { client: { stale_close_delay: '100ms' } });
    const c = h.open();
    assert.deepEqual(await c.t.waitClosed(), { code: 3502, reason: 'stale' });
  });
});

describe('subscribe, publish, unsubscribe', () => {
  test('subscribe: an empty result, and the client is in the hub', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    assert.deepEqual(await a.call('subscribe', { channel: 'news' }), { id: 2, subscribe: {} });
    assert.deepEqual([...a.client.subscriptions.keys()], ['news']);
    assert.equal(h.node.hub.subscriberCount('news'), 1);
    assert.equal(h.node.hub.channelCount, 1);
  });

  test('a subscriber publishes: publish result, and the publication push reaches every subscriber', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice', { info: { name: 'Alice' } });
    const b = await h.connect('bob');
    await a.call('subscribe', { channel: 'news' });
    await b.call('subscribe', { channel: 'news' });
    assert.deepEqual(await a.call('publish', { channel: 'news', data: { text: 'hi' } }), { id: 3, publish: {} });
    const expected = {
      push: { channel: 'news', pub: { data: { text: 'hi' }, info: { user: 'alice', client: a.client.id, conn_info: { name: 'Alice' } } } },
    };
    assert.deepEqual(await b.t.push('news', 'pub'), expected);
    assert.deepEqual(await a.t.push('news', 'pub'), expected);
    assert.equal(b.t.pushes('news', 'pub').length, 1);
  });

  test('publish without being subscribed (allow_publish_for_subscriber only): 103, nothing published', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    const b = await h.connect('bob');
    await b.call('subscribe', { channel: 'news' });
    assert.deepEqual(await a.call('publish', { channel: 'news', data: { text: 'sneaky' } }), errorReply(2, 103, 'permission denied'));
    await serverPublish(h.node, 'news', { marker: 1 });
    assert.deepEqual(await b.t.push('news', 'pub'), { push: { channel: 'news', pub: { data: { marker: 1 } } } });
    assert.equal(b.t.pushes('news').length, 1, `only the marker arrived: ${JSON.stringify(b.t.pushes('news'))}`);
  });

  test('publish without data: 107', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    await a.call('subscribe', { channel: 'news' });
    assert.deepEqual(await a.call('publish', { channel: 'news' }), errorReply(3, 107, 'bad request'));
    assert.equal(a.t.closed, undefined);
  });

  test('subscribing twice: 105 already subscribed, the first subscription stays', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    await a.call('subscribe', { channel: 'news' });
    assert.deepEqual(await a.call('subscribe', { channel: 'news' }), errorReply(3, 105, 'already subscribed'));
    assert.equal(h.node.hub.subscriberCount('news'), 1);
    await serverPublish(h.node, 'news', { n: 1 });
    assert.deepEqual(await a.t.push('news', 'pub'), { push: { channel: 'news', pub: { data: { n: 1 } } } });
  });

  test('unsubscribe: an empty result, out of the hub, and no more publications', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    const b = await h.connect('bob');
    await a.call('subscribe', { channel: 'news' });
    await b.call('subscribe', { channel: 'news' });
    await serverPublish(h.node, 'news', { n: 1 });
    await a.t.push('news', 'pub');
    await b.t.push('news', 'pub');

    assert.deepEqual(await a.call('unsubscribe', { channel: 'news' }), { id: 3, unsubscribe: {} });
    assert.equal(a.client.subscriptions.size, 0);
    assert.equal(h.node.hub.subscriberCount('news'), 1);
    await serverPublish(h.node, 'news', { n: 2 });
    // b got n=2 from the same fan-out that would have reached a.
    assert.deepEqual(await b.t.push('news', 'pub'), { push: { channel: 'news', pub: { data: { n: 2 } } } });
    assert.deepEqual(a.t.pushes('news'), [{ push: { channel: 'news', pub: { data: { n: 1 } } } }]);
    // Subscribing again works (the old subscription is really gone).
    assert.deepEqual(await a.call('subscribe', { channel: 'news' }), { id: 4, subscribe: {} });
  });

  test('unsubscribe from a channel the client is not subscribed to: still an empty result', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    assert.deepEqual(await a.call('unsubscribe', { channel: 'news' }), { id: 2, unsubscribe: {} });
  });

  test('client.channel_limit reached: 106 limit exceeded, no subscription made', async (t) => {
    const h = await harness(t, { client: { channel_limit: 2 } });
    const a = await h.connect('alice');
    assert.deepEqual(await a.call('subscribe', { channel: 'one' }), { id: 2, subscribe: {} });
    assert.deepEqual(await a.call('subscribe', { channel: 'two' }), { id: 3, subscribe: {} });
    assert.deepEqual(await a.call('subscribe', { channel: 'three' }), errorReply(4, 106, 'limit exceeded'));
    assert.deepEqual([...a.client.subscriptions.keys()], ['one', 'two']);
    assert.equal(h.node.hub.subscriberCount('three'), 0);
    // Room again after an unsubscribe.
    await a.call('unsubscribe', { channel: 'one' });
    assert.deepEqual(await a.call('subscribe', { channel: 'three' }), { id: 6, subscribe: {} });
  });

  test('a private channel without a subscription token: 103; an unknown namespace: 102', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    assert.deepEqual(await a.call('subscribe', { channel: '$secret' }), errorReply(2, 103, 'permission denied'));
    assert.deepEqual(await a.call('subscribe', { channel: 'nope:x' }), errorReply(3, 102, 'unknown channel'));
    assert.equal(a.client.subscriptions.size, 0);
    assert.equal(h.node.hub.channelCount, 0);
  });
});

describe('presence and history', () => {
  test('presence and presence_stats of a subscribed presence channel', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice', { info: { name: 'Alice' } });
    await a.call('subscribe', { channel: 'pres:room' });
    assert.deepEqual(await a.call('presence', { channel: 'pres:room' }), {
      id: 3,
      presence: { presence: { [a.client.id]: { user: 'alice', client: a.client.id, conn_info: { name: 'Alice' } } } },
    });
    assert.deepEqual(await a.call('presence_stats', { channel: 'pres:room' }), { id: 4, presence_stats: { num_clients: 1, num_users: 1 } });
  });

  test('presence and presence_stats without being subscribed (allow_presence_for_subscriber): 103', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    const b = await h.connect('bob');
    await a.call('subscribe', { channel: 'pres:room' });
    assert.deepEqual(await b.call('presence', { channel: 'pres:room' }), errorReply(2, 103, 'permission denied'));
    assert.deepEqual(await b.call('presence_stats', { channel: 'pres:room' }), errorReply(3, 103, 'permission denied'));
  });

  test('presence, presence_stats and history of a channel without them: 108', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    await a.call('subscribe', { channel: 'news' });
    assert.deepEqual(await a.call('presence', { channel: 'news' }), errorReply(3, 108, 'not available'));
    assert.deepEqual(await a.call('presence_stats', { channel: 'news' }), errorReply(4, 108, 'not available'));
    assert.deepEqual(await a.call('history', { channel: 'news', limit: 10 }), errorReply(5, 108, 'not available'));
  });

  test('presence and history kept but not readable (no allow_* flag), even subscribed: 103', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    await a.call('subscribe', { channel: 'locked:room' });
    assert.deepEqual(await a.call('presence', { channel: 'locked:room' }), errorReply(3, 103, 'permission denied'));
    assert.deepEqual(await a.call('presence_stats', { channel: 'locked:room' }), errorReply(4, 103, 'permission denied'));
    assert.deepEqual(await a.call('history', { channel: 'locked:room', limit: 10 }), errorReply(5, 103, 'permission denied'));
  });

  test('history of a subscribed history channel: publications, epoch and offset', async (t) => {
    const h = await harness(t);
    await serverPublish(h.node, 'hist:h', { n: 1 });
    const top = await serverPublish(h.node, 'hist:h', { n: 2 });
    const a = await h.connect('alice');
    await a.call('subscribe', { channel: 'hist:h' });
    assert.deepEqual(await a.call('history', { channel: 'hist:h', limit: 10 }), {
      id: 3,
      history: {
        publications: [
          { data: { n: 1 }, offset: 1 },
          { data: { n: 2 }, offset: 2 },
        ],
        epoch: top.epoch,
        offset: 2,
      },
    });
    const b = await h.connect('bob');
    assert.deepEqual(await b.call('history', { channel: 'hist:h', limit: 10 }), errorReply(2, 103, 'permission denied'));
  });
});

describe('recovery', () => {
  test('subscribe with recover from offset 1: publications 2 and 3, recovered', async (t) => {
    const h = await harness(t);
    await serverPublish(h.node, 'hist:r', { n: 1 });
    await serverPublish(h.node, 'hist:r', { n: 2 });
    const top = await serverPublish(h.node, 'hist:r', { n: 3 });
    assert.equal(top.offset, 3);
    const a = await h.connect('alice');
    const reply = await a.call('subscribe', { channel: 'hist:r', recover: true, epoch: top.epoch, offset: 1 });
    assert.deepEqual(reply, {
      id: 2,
      subscribe: {
        recoverable: true,
        positioned: true,
        epoch: top.epoch,
        // The client's own offset: each recovered publication moves it.
        offset: 1,
        publications: [
          { data: { n: 2 }, offset: 2 },
          { data: { n: 3 }, offset: 3 },
        ],
        was_recovering: true,
        recovered: true,
      },
    });
    // Live afterwards, with the next offset.
    await serverPublish(h.node, 'hist:r', { n: 4 });
    assert.deepEqual(await a.t.push('hist:r', 'pub'), { push: { channel: 'hist:r', pub: { data: { n: 4 }, offset: 4 } } });
    assert.equal(a.t.pushes('hist:r').length, 1, 'recovered publications are not pushed again');
  });

  test('publications during set-up: those the result covers are dropped, later ones pushed after the result', async (t) => {
    const broker = new HookedBroker();
    const h = await harness(t, {}, { broker });
    await serverPublish(h.node, 'hist:p', { n: 1 });
    const top = await serverPublish(h.node, 'hist:p', { n: 2 });
    const a = await h.connect('alice');
    // n=3 arrives while the subscription is held back, before the history read (so the result
    // carries it); n=4 arrives after the read, before the subscription is live.
    broker.beforeHistory = async () => {
      assert.equal(h.node.hub.subscriberCount('hist:p'), 1, 'in the hub, held back');
      await serverPublish(h.node, 'hist:p', { n: 3 });
    };
    broker.afterHistory = async () => {
      await serverPublish(h.node, 'hist:p', { n: 4 });
    };
    const id = a.send('subscribe', { channel: 'hist:p', recover: true, epoch: top.epoch, offset: 1 });
    await a.t.push('hist:p', 'pub');
    assert.deepEqual(a.t.received.slice(1), [
      {
        id,
        subscribe: {
          recoverable: true,
          positioned: true,
          epoch: top.epoch,
          offset: 1,
          publications: [
            { data: { n: 2 }, offset: 2 },
            { data: { n: 3 }, offset: 3 },
          ],
          was_recovering: true,
          recovered: true,
        },
      },
      { push: { channel: 'hist:p', pub: { data: { n: 4 }, offset: 4 } } },
    ]);
    assert.equal(broker.beforeHistory, undefined, 'the hooks ran');
    assert.equal(broker.afterHistory, undefined, 'the hooks ran');
  });

  test('subscribe with recover from another epoch: not recovered, no publications', async (t) => {
    const h = await harness(t);
    await serverPublish(h.node, 'hist:r', { n: 1 });
    const top = await serverPublish(h.node, 'hist:r', { n: 2 });
    const a = await h.connect('alice');
    const reply = await a.call('subscribe', { channel: 'hist:r', recover: true, epoch: `x${top.epoch}`, offset: 1 });
    assert.deepEqual(reply, {
      id: 2,
      subscribe: { recoverable: true, positioned: true, epoch: top.epoch, offset: 2, was_recovering: true },
    });
  });

  test('subscribe to a history channel without recover: positioned at the stream top', async (t) => {
    const h = await harness(t);
    const top = await serverPublish(h.node, 'hist:r', { n: 1 });
    const a = await h.connect('alice');
    assert.deepEqual(await a.call('subscribe', { channel: 'hist:r' }), {
      id: 2,
      subscribe: { recoverable: true, positioned: true, epoch: top.epoch, offset: 1 },
    });
  });
});

describe('server-side subscriptions', () => {
  test('serverSubscribe: a subscribe push, then publications; serverUnsubscribe: an unsubscribe push, then none', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    await a.client.serverSubscribe({ resolved: h.node.rules.resolve('news'), serverSide: true });
    assert.deepEqual(await a.t.push('news', 'subscribe'), { push: { channel: 'news', subscribe: {} } });
    assert.equal(a.client.subscriptions.get('news')?.serverSide, true);
    assert.equal(h.node.hub.subscriberCount('news'), 1);
    await serverPublish(h.node, 'news', { n: 1 });
    assert.deepEqual(await a.t.push('news', 'pub'), { push: { channel: 'news', pub: { data: { n: 1 } } } });

    await a.client.serverUnsubscribe('news');
    assert.deepEqual(await a.t.push('news', 'unsubscribe'), {
      push: { channel: 'news', unsubscribe: { code: 2000, reason: 'server unsubscribe' } },
    });
    assert.equal(a.client.subscriptions.size, 0);
    assert.equal(h.node.hub.subscriberCount('news'), 0);
    await serverPublish(h.node, 'news', { n: 2 });
    assert.equal(a.t.pushes('news', 'pub').length, 1, `no publication after the unsubscribe: ${JSON.stringify(a.t.pushes('news'))}`);
  });

  test('serverSubscribe to a history channel with data: the push carries the position and data', async (t) => {
    const h = await harness(t);
    const top = await serverPublish(h.node, 'hist:s', { n: 1 });
    const a = await h.connect('alice');
    await a.client.serverSubscribe({ resolved: h.node.rules.resolve('hist:s'), serverSide: true, data: '{"hello":"world"}' });
    assert.deepEqual(await a.t.push('hist:s', 'subscribe'), {
      push: {
        channel: 'hist:s',
        subscribe: { recoverable: true, positioned: true, epoch: top.epoch, offset: 1, data: { hello: 'world' } },
      },
    });
  });

  test('serverSubscribe with recover: the push, then the missed publications as pushes, in order', async (t) => {
    const h = await harness(t);
    await serverPublish(h.node, 'hist:s', { n: 1 });
    await serverPublish(h.node, 'hist:s', { n: 2 });
    const top = await serverPublish(h.node, 'hist:s', { n: 3 });
    const a = await h.connect('alice');
    await a.client.serverSubscribe({
      resolved: h.node.rules.resolve('hist:s'),
      serverSide: true,
      recover: { epoch: top.epoch, offset: 1 },
    });
    await a.t.push('hist:s', 'subscribe');
    assert.deepEqual(a.t.received.slice(1), [
      { push: { channel: 'hist:s', subscribe: { recoverable: true, positioned: true, epoch: top.epoch, offset: 3 } } },
      { push: { channel: 'hist:s', pub: { data: { n: 2 }, offset: 2 } } },
      { push: { channel: 'hist:s', pub: { data: { n: 3 }, offset: 3 } } },
    ]);
  });

  test('serverSubscribe to a channel already subscribed: nothing sent; serverUnsubscribe of none: nothing sent', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    await a.call('subscribe', { channel: 'news' });
    const before = a.t.received.length;
    await a.client.serverSubscribe({ resolved: h.node.rules.resolve('news'), serverSide: true });
    await a.client.serverUnsubscribe('other');
    assert.equal(a.t.received.length, before, `unexpected: ${JSON.stringify(a.t.received.slice(before))}`);
    assert.equal(a.client.subscriptions.get('news')?.serverSide, false);
  });

  test('the token "channels" claim: server-side subscriptions in the connect result\'s subs, live at once', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice', { channels: ['news', 'hist:feed'] });
    const epoch = (await h.node.history('hist:feed', {})).position.epoch;
    assert.ok(epoch !== '', 'the history channel has an epoch');
    assert.deepEqual(a.result, {
      id: 1,
      connect: {
        client: a.client.id,
        version: VERSION,
        subs: { news: {}, 'hist:feed': { recoverable: true, positioned: true, epoch, offset: 0 } },
        ping: 25,
        pong: true,
        node: h.node.id,
      },
    });
    assert.deepEqual([...a.client.subscriptions.values()].map((s) => [s.channel, s.serverSide]), [
      ['news', true],
      ['hist:feed', true],
    ]);
    assert.equal(h.node.hub.subscriberCount('news'), 1);
    await serverPublish(h.node, 'hist:feed', { n: 1 });
    assert.deepEqual(await a.t.push('hist:feed', 'pub'), { push: { channel: 'hist:feed', pub: { data: { n: 1 }, offset: 1 } } });
  });
});

describe('bad commands', () => {
  test('an unknown method: error 104, the connection stays usable', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    a.client.handleFrame('{"id":7,"frobnicate":{}}');
    assert.deepEqual(await a.t.reply(7), errorReply(7, 104, 'method not found'));
    a.client.handleFrame('{"id":8,"ping":{}}');
    assert.deepEqual(await a.t.reply(8), { id: 8, ping: {} });
    assert.equal(a.t.closed, undefined);
  });

  test('an invalid command (JSON nested too deep): error 107, the connection stays usable', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    const deep = '['.repeat(1100) + ']'.repeat(1100);
    a.client.handleFrame(`{"id":9,"publish":{"channel":"news","data":${deep}}}`);
    assert.deepEqual(await a.t.reply(9), errorReply(9, 107, 'bad request'));
    a.client.handleFrame('{"id":10,"ping":{}}');
    assert.deepEqual(await a.t.reply(10), { id: 10, ping: {} });
    assert.equal(a.t.closed, undefined);
  });

  test('several commands in one frame: each answered once, the queued ones in order', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    a.client.handleFrame('{"id":2,"subscribe":{"channel":"news"}}\n{"id":3,"ping":{}}\n{"id":4,"nope":{}}');
    await a.t.reply(3);
    await a.t.reply(4);
    const replies = a.t.received.slice(1);
    // The 104 is answered as the frame is decoded (replies are matched by id, so it may come first).
    assert.deepEqual(
      [...replies].sort((x, y) => Number(x['id']) - Number(y['id'])),
      [{ id: 2, subscribe: {} }, { id: 3, ping: {} }, errorReply(4, 104, 'method not found')],
    );
    assert.deepEqual(
      replies.filter((m) => m['error'] === undefined).map((m) => m['id']),
      [2, 3],
    );
  });

  test('an {"id":N} flood beyond client.error_limit: every one answered 104, then closed with 3509', async (t) => {
    const h = await harness(t, { client: { error_limit: 3 } }, { logs: true });
    const a = await h.connect('alice');
    a.client.handleFrame('{"id":10}\n{"id":11}\n{"id":12}');
    await a.t.reply(12);
    // At the limit, not beyond: still open.
    assert.deepEqual(await a.call('ping'), { id: 2, ping: {} });
    assert.equal(a.t.closed, undefined);

    a.client.handleFrame('{"id":13}\n{"id":14}\n{"id":15}');
    assert.deepEqual(await a.t.waitClosed(), { code: 3509, reason: 'too many errors' });
    const errors = a.t.received.filter((m) => m['error'] !== undefined);
    assert.deepEqual(errors, [10, 11, 12, 13].map((id) => errorReply(id, 104, 'method not found')));
    assert.equal(h.node.clientCount, 0);
    assert.ok(
      h.logs.some((l) => l.msg === 'too many errors (client.error_limit): closing the connection' && l['client'] === a.client.id),
      'a warn line about the error limit',
    );
  });
});

describe('close', () => {
  test('close(): the transport is closed with the code, the client unregistered and out of hub and presence', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    const b = await h.connect('bob');
    await a.call('subscribe', { channel: 'news' });
    await a.call('subscribe', { channel: 'pres:room' });
    await b.call('subscribe', { channel: 'news' });
    assert.equal(h.node.clientCount, 2);
    assert.equal((await h.node.channelPresence('pres:room')).size, 1);

    a.client.close(Disconnects.forceNoReconnect);
    assert.deepEqual(a.t.closeCalls, [{ code: 3503, reason: 'force disconnect' }]);
    assert.equal(a.client.connected, false);
    assert.equal(h.node.clientCount, 1);
    assert.deepEqual(h.node.clientsOf('alice'), []);
    await until(() => h.node.hub.subscriberCount('pres:room') === 0 && h.node.hub.subscriberCount('news') === 1, {
      what: "alice's subscriptions dropped from the hub",
    });
    assert.equal(h.node.hub.channelCount, 1);
    assert.equal(a.client.subscriptions.size, 0);
    await until(async () => (await h.node.channelPresence('pres:room')).size === 0, { what: 'alice gone from presence' });

    // Idempotent, and a closed client ignores frames.
    a.client.close(Disconnects.shutdown);
    assert.equal(a.t.closeCalls.length, 1);
    a.client.handleFrame('{"id":50,"ping":{}}');
    await b.call('ping');
    assert.equal(a.t.sentAfterClose.length, 0);
  });

  test('the transport going away (onTransportClosed): cleaned up without closing it again', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    await a.call('subscribe', { channel: 'news' });
    a.client.onTransportClosed();
    assert.equal(h.node.clientCount, 0);
    await until(() => h.node.hub.channelCount === 0, { what: 'subscription dropped from the hub' });
    assert.deepEqual(a.t.closeCalls, []);
  });

  test('a command in flight when the client is closed: its reply is not sent', async (t) => {
    const broker = new HookedBroker();
    const h = await harness(t, {}, { broker });
    const a = await h.connect('alice');
    await a.call('subscribe', { channel: 'hist:c' });
    let readDone: () => void = () => {};
    const read = new Promise<void>((resolve) => (readDone = resolve));
    // The history command is closed under while it waits for the broker.
    broker.beforeHistory = () => a.client.close(Disconnects.forceReconnect);
    broker.afterHistory = () => readDone();
    a.send('history', { channel: 'hist:c', limit: 10 });
    assert.deepEqual(await a.t.waitClosed(), { code: 3011, reason: 'force reconnect' });
    await withTimeout(read, 'the history read of the command', 'history command');
    await settle();
    assert.equal(a.t.received.length, 2, `connect and subscribe replies only: ${JSON.stringify(a.t.received)}`);
    assert.deepEqual(a.t.sentAfterClose, [], 'nothing written to the closed transport');
  });

  // A connection closed while its subscription is set up: the cleanup (dropAll) has run by the time
  // set-up resumes, so set-up must take back what it adds afterwards (here, a presence entry the
  // memory presence manager would keep for good).
  test('closed while a subscribe is being set up: no presence entry is left behind', async (t) => {
    const broker = new HookedBroker();
    const h = await harness(t, {}, { broker });
    const a = await h.connect('alice');
    broker.onSubscribe = () => a.client.close(Disconnects.forceReconnect);
    a.send('subscribe', { channel: 'pres:room' });
    assert.deepEqual(await a.t.waitClosed(), { code: 3011, reason: 'force reconnect' });
    await settle();
    assert.equal(broker.onSubscribe, undefined, 'the hook ran');
    assert.equal(h.node.hub.subscriberCount('pres:room'), 0);
    assert.deepEqual([...(await h.node.channelPresence('pres:room')).keys()], [], 'presence of the closed client');
  });

  // A connection closed while connect sets up its server-side subscriptions: the rest are not set
  // up, and none stays in the hub.
  test('closed while connect sets up token channels: nothing is left in the hub', async (t) => {
    const broker = new HookedBroker();
    const h = await harness(t, {}, { broker });
    const c = h.open();
    broker.beforeHistory = () => c.client.close(Disconnects.forceReconnect);
    c.send('connect', { token: await h.token('alice', { channels: ['hist:a', 'hist:b'] }) });
    assert.deepEqual(await c.t.waitClosed(), { code: 3011, reason: 'force reconnect' });
    await settle();
    assert.equal(broker.beforeHistory, undefined, 'the hook ran');
    assert.deepEqual(c.t.received, [], 'no connect result');
    assert.equal(h.node.clientCount, 0);
    assert.deepEqual([...h.node.hub.channelNames()], [], 'channels with subscribers');
  });

  test('node shutdown closes connected clients with the shutdown code', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    const pending = h.open();
    await h.node.shutdown(Disconnects.shutdown);
    assert.deepEqual(a.t.closeCalls, [{ code: 3001, reason: 'shutdown' }]);
    assert.deepEqual(pending.t.closeCalls, [{ code: 3001, reason: 'shutdown' }]);
    assert.equal(h.node.clientCount, 0);
  });
});

describe('expiry and pings (driven by the node ticker)', () => {
  test('a connection token that expires: closed with 3005 after client.expired_close_delay', async (t) => {
    // ping_interval 1s makes the ticker run every 100 ms; no pongs, so no pong deadline interferes.
    const h = await harness(t, { client: { ping_interval: '1s', pong_timeout: '500ms', expired_close_delay: '300ms' } });
    const a = await h.connect('alice', {}, { ttlSeconds: 2, pongs: false });
    const r = a.result['connect'] as Message;
    assert.equal(r['expires'], true);
    assert.ok(r['ttl'] === 1 || r['ttl'] === 2, `ttl ${String(r['ttl'])}`);
    const expireAtMs = a.client.expireAt * 1000;

    assert.deepEqual(await a.t.waitClosed({ timeoutMs: 10_000, what: 'closed for expiry' }), { code: 3005, reason: 'connection expired' });
    // Not before the expiry plus the close delay (a lower bound: never flaky).
    const closedAt = a.t.closedAt ?? 0;
    assert.ok(closedAt >= expireAtMs + 300, `closed ${expireAtMs + 300 - closedAt} ms before expiry + expired_close_delay`);
    assert.equal(h.node.clientCount, 0);
  });

  test('pings are sent; a pong is accepted; an unanswered ping closes with 3012', async (t) => {
    const h = await harness(t, { client: { ping_interval: '1s', pong_timeout: '500ms' } });
    const a = await h.connect('alice');
    assert.equal((a.result['connect'] as Message)['ping'], 1);
    const isPing = (m: Message): boolean => Object.keys(m).length === 0;
    await a.t.nextReply(isPing, { timeoutMs: 10_000, what: 'first ping' });
    a.client.handleFrame('{}');
    await a.t.nextReply(isPing, { timeoutMs: 10_000, what: 'second ping (the pong kept the connection)' });
    assert.equal(a.t.closed, undefined);
    assert.deepEqual(await a.t.waitClosed({ timeoutMs: 10_000, what: 'closed for no pong' }), { code: 3012, reason: 'no pong' });
  });

  test('a pong when no ping awaits one: closed with 3501', async (t) => {
    const h = await harness(t);
    const a = await h.connect('alice');
    a.client.handleFrame('{}');
    assert.deepEqual(await a.t.waitClosed(), { code: 3501, reason: 'bad request' });
  });
});
