/**
 * The SDK's bidirectional emulation transports end to end, on real sockets with the real
 * `centrifuge` SDK: HTTP-streaming (JSON, and protobuf with `centrifuge/build/protobuf`) and SSE
 * (JSON, with the `eventsource` package), their commands posted to the emulation endpoint. For
 * each: connect, subscribe, presence, publish, history, rpc through a handler (which sees the
 * transport's name), token refresh, recovery after a dropped stream, fossil delta,
 * subscribe/unsubscribe loops, errors 102 / 103, pings answered through /emulation, and a server
 * disconnect code reaching the SDK. Then the wire itself with raw requests (replies as lines and
 * SSE events, commands posted to /emulation) and bad input answered with Centrifugo's statuses
 * while the server keeps serving.
 */
import assert from 'node:assert/strict';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Centrifuge as JsonCentrifuge, Options, PublicationContext, SubscribedContext } from 'centrifuge';
import { ConfigError } from '../../src/config/errors.js';
import { validateConfig } from '../../src/config/validate.js';
import { pathOf } from '../../src/http/request.js';
import { Handlers } from '../../src/handlers/pipeline.js';
import { RPCResponse } from '../../src/handlers/responses.js';
import { startGyre, until, type TestGyre } from '../helpers/gyre.js';
import {
  EMULATION_PATHS as PATHS,
  EMULATION_VARIANTS,
  emulationClient,
  payloadFor,
  valueFrom,
  type EmulationClient,
  type EmulationVariant,
} from '../helpers/emulation.js';
import { SocketInbox, type CloseInfo } from '../helpers/inbox.js';
import { deadline, once, waitOptions, type WaitArg } from '../helpers/wait.js';

type Json = Record<string, any>;

/** Both fallbacks on, short pings, expiry closing one second after it, a delta namespace. */
const EMULATION = {
  http_stream: { enabled: true },
  sse: { enabled: true },
  client: { ping_interval: '1s', pong_timeout: '900ms', expired_close_delay: '1s' },
  channel: {
    namespaces: [
      { name: 'delta', history_size: 10, history_ttl: '60s', allowed_delta_types: ['fossil'], delta_publish: true, allow_subscribe_for_client: true },
    ],
  },
};

const handlers = Handlers.from({
  services: {
    rpc: (r) => r.respond(new RPCResponse({ data: { method: r.method, transport: r.transport, protocol: r.protocol } })),
  },
});

let gyre: TestGyre;
const clients: Array<{ disconnect(): void }> = [];
const requests: ClientRequest[] = [];
/** The stream requests the server took from each SDK client (by its `x-test-client` tag), in order. */
const serverStreams = new Map<string, IncomingMessage[]>();

before(async () => {
  gyre = await startGyre(EMULATION, undefined, { handlers });
  gyre.server.http.on('request', (req: IncomingMessage) => {
    const tag = req.headers['x-test-client'];
    if (typeof tag !== 'string' || pathOf(req) === PATHS.emulation) return;
    const list = serverStreams.get(tag) ?? [];
    list.push(req);
    serverStreams.set(tag, list);
  });
});

after(async () => {
  for (const c of clients) c.disconnect();
  for (const r of requests) r.destroy();
  await gyre.close();
});

// ---- the SDK over an emulation transport ----

interface SdkClient extends EmulationClient {
  /** The stream requests of this client as the server took them (the last one is the current stream). */
  streams(): IncomingMessage[];
}

/** An SDK client (not connected) of `variant` on the test server. */
function sdkClient(variant: EmulationVariant, opts: Partial<Options> = {}): SdkClient {
  const client = emulationClient(variant, gyre.baseUrl, opts);
  clients.push(client.c);
  return { ...client, streams: () => serverStreams.get(client.tag) ?? [] };
}

async function connected(variant: EmulationVariant, user: string, opts: Partial<Options> = {}): Promise<SdkClient & { clientId: string; transport: string }> {
  const client = sdkClient(variant, { token: await gyre.token(user), ...opts });
  const ready = once<{ client: string; transport: string }>(client.c, 'connected', `${variant.label} client of ${user} connected`);
  client.c.connect();
  const ctx = await ready;
  return { ...client, clientId: ctx.client, transport: ctx.transport };
}

/** A subscription, subscribed, collecting its publications' data as JSON values. */
async function subscribed(variant: EmulationVariant, c: JsonCentrifuge, channel: string, opts: Parameters<JsonCentrifuge['newSubscription']>[1] = {}) {
  const sub = c.newSubscription(channel, opts);
  const got: unknown[] = [];
  sub.on('publication', (ctx: PublicationContext) => got.push(valueFrom(variant, ctx.data)));
  const ready = once<SubscribedContext>(sub, 'subscribed', `subscribed to ${channel}`);
  sub.subscribe();
  const ctx = await ready;
  return { sub, got, ctx };
}

let seq = 0;
function ch(name: string): string {
  return `${name}-${++seq}-${Math.random().toString(36).slice(2, 7)}`;
}

function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

/** Waits until the wall clock has passed `ms` (for expiries that must go by). */
function untilTime(ms: number): Promise<void> {
  return until(() => Date.now() >= ms, { timeoutMs: Math.max(0, ms - Date.now()) + 5000, what: `the time to pass ${new Date(ms).toISOString()}` });
}

describe('the SDK over the emulation transports', { concurrency: true }, () => {
  for (const variant of EMULATION_VARIANTS) {
    // Users of their own per variant: the variants run side by side.
    const u = (name: string): string => `${name}-${variant.transport}-${variant.protobuf ? 'pb' : 'json'}`;
    describe(`the SDK over ${variant.label}`, { concurrency: true }, () => {
      test('connects with session and node; subscribe, publish, presence, history', async () => {
        const alice = await connected(variant, u('alice'));
        assert.equal(alice.transport, variant.transport);
        const server = gyre.server.node.client(alice.clientId);
        assert.equal(server?.transport.name, variant.transport);
        assert.equal(server?.transport.protocol, variant.protobuf ? 'protobuf' : 'json');
        assert.ok(server?.session !== undefined && server.session !== alice.clientId, 'a session apart from the client id');
        const channel = ch('news');
        const { sub, got } = await subscribed(variant, alice.c, channel);
        const bob = await connected(variant, u('bob'));
        const onBob = await subscribed(variant, bob.c, channel);
        await sub.publish(payloadFor(variant, { text: 'from alice' }));
        await gyre.api('publish', { channel, data: { text: 'from api' } });
        await until(() => got.length === 2 && onBob.got.length === 2, 'both subscribers got both publications');
        assert.deepEqual(got, [{ text: 'from alice' }, { text: 'from api' }]);
        assert.deepEqual(onBob.got, got);
        const presence = await sub.presence();
        assert.deepEqual(Object.values(presence.clients).map((i) => i.user).sort(), [u('alice'), u('bob')]);
        const stats = await sub.presenceStats();
        assert.deepEqual([stats.numClients, stats.numUsers], [2, 2]);
        const history = await sub.history({ limit: 10 });
        assert.deepEqual(history.publications.map((p) => valueFrom(variant, p.data)), got);
        assert.ok(alice.traffic.requests >= 5, 'the commands went through /emulation');
        assert.ok(alice.traffic.statuses.every((s) => s === 204), `every emulation answer 204: ${alice.traffic.statuses.join(',')}`);
        alice.c.disconnect();
        bob.c.disconnect();
      });

      test('rpc through a handler, which sees the transport and protocol', async () => {
        const { c } = await connected(variant, u('rpc-user'));
        const res = await c.rpc('whoami', payloadFor(variant, { q: 1 }));
        assert.deepEqual(valueFrom(variant, res.data), { method: 'whoami', transport: variant.transport, protocol: variant.protobuf ? 'protobuf' : 'json' });
        c.disconnect();
      });

      test('errors: 102 for an unknown namespace, 103 for a publish without permission', async () => {
        const { c } = await connected(variant, u('errors'));
        const sub = c.newSubscription('nowhere:x');
        const failed = once<{ code: number }>(sub, 'unsubscribed', 'the subscription refused');
        sub.subscribe();
        assert.equal((await failed).code, 102);
        c.removeSubscription(sub);
        await assert.rejects(c.publish(ch('unsubscribed'), payloadFor(variant, { x: 1 })), (e: { code?: number }) => e.code === 103);
        // The connection is still usable.
        await subscribed(variant, c, ch('after-errors'));
        assert.equal(c.state, 'connected');
        c.disconnect();
      });

      test('subscribe / unsubscribe loops leave nothing behind', async () => {
        const { c } = await connected(variant, u('looper'));
        const channel = ch('loop');
        const sub = c.newSubscription(channel);
        for (let i = 0; i < 5; i++) {
          const on = once(sub, 'subscribed', `subscribed, round ${i}`);
          sub.subscribe();
          await on;
          const off = once(sub, 'unsubscribed', `unsubscribed, round ${i}`);
          sub.unsubscribe();
          await off;
        }
        await until(async () => ((await gyre.api('presence_stats', { channel }))['result'] as { num_clients: number }).num_clients === 0, 'presence empty');
        assert.equal(gyre.server.node.clientsOf(u('looper'))[0]?.subscriptions.has(channel), false);
        const { got } = await subscribed(variant, c, ch('loop-after'));
        assert.deepEqual(got, []);
        c.disconnect();
      });

      test('fossil delta: publications decode exactly, most as patches', async () => {
        const { c } = await connected(variant, u('delta-user'));
        const channel = `delta:${ch('series')}`;
        const { sub, got } = await subscribed(variant, c, channel, { delta: 'fossil' });
        const doc = (i: number) => ({ title: 'a long enough document to make patches pay', body: 'x'.repeat(400), n: i });
        const sent = Array.from({ length: 6 }, (_, i) => doc(i));
        for (const d of sent) await gyre.api('publish', { channel, data: d });
        await until(() => got.length === sent.length, 'every delta publication');
        assert.deepEqual(got, sent);
        const stats = sub.deltaStats();
        assert.equal(stats.numFullPayloads, 1);
        assert.equal(stats.numDeltaPayloads, sent.length - 1);
        c.disconnect();
      });

      test('pings are answered through /emulation: the connection outlives several of them', async () => {
        const { c, traffic, clientId } = await connected(variant, u('pinged'));
        let disconnects = 0;
        c.on('disconnected', () => disconnects++);
        c.on('connecting', () => disconnects++);
        await until(() => traffic.pongs >= 3, { timeoutMs: 15_000, what: 'three pongs posted to /emulation' });
        assert.equal(c.state, 'connected');
        assert.equal(disconnects, 0);
        assert.ok(gyre.server.node.client(clientId) !== undefined, 'the same connection on the server');
        assert.equal(gyre.logs.some((l) => l.msg === 'no pong: closing connection' && l['client'] === clientId), false);
        c.disconnect();
      });

      test('a server disconnect code reaches the SDK', async () => {
        const user = u('kicked');
        const { c } = await connected(variant, user);
        const gone = once<{ code: number; reason: string }>(c, 'disconnected', 'disconnected by the server');
        await gyre.api('disconnect', { user, disconnect: { code: 4501, reason: 'go away' } });
        assert.deepEqual(await gone, { code: 4501, reason: 'go away' });
      });

      test('token refresh through /emulation keeps the connection past its first expiry', async () => {
        const user = u('refresher');
        const firstExp = nowSec() + 2;
        let calls = 0;
        const client = sdkClient(variant, {
          token: await gyre.token(user, { exp: firstExp }),
          getToken: async () => {
            calls++;
            return gyre.token(user, {}, 3);
          },
        });
        const ready = once<{ client: string }>(client.c, 'connected');
        client.c.connect();
        const { client: clientId } = await ready;
        let reconnects = 0;
        client.c.on('connecting', () => reconnects++);
        // Past the first expiry plus the close delay (1 s) and a ticker period.
        await untilTime(firstExp * 1000 + 2500);
        await until(() => calls >= 1, 'getToken called');
        assert.equal(client.c.state, 'connected');
        assert.equal(reconnects, 0);
        assert.ok((gyre.server.node.client(clientId)?.expireAt ?? 0) > firstExp, 'the expiry moved forward');
        client.c.disconnect();
      });

      test('recovery after a dropped stream: the publications missed meanwhile arrive once', async () => {
        const client = sdkClient(variant, { token: await gyre.token(u('recoverer')) });
        const ready = once(client.c, 'connected');
        client.c.connect();
        await ready;
        const channel = ch('recover');
        const { sub, got } = await subscribed(variant, client.c, channel);
        await gyre.api('publish', { channel, data: { n: 1 } });
        await until(() => got.length === 1, 'the first publication');
        // Drop the stream from the server side; hold the reconnect until two more are published.
        client.gate.hold();
        const reconnecting = once(client.c, 'connecting', 'the SDK noticing the dropped stream');
        const resubscribed = once<SubscribedContext>(sub, 'subscribed', 'resubscribed after the reconnect');
        client.streams().at(-1)!.socket.destroy();
        await reconnecting;
        await gyre.api('publish', { channel, data: { n: 2 } });
        await gyre.api('publish', { channel, data: { n: 3 } });
        client.gate.release();
        const ctx = await resubscribed;
        assert.equal(ctx.wasRecovering, true);
        assert.equal(ctx.recovered, true);
        await until(() => got.length === 3, 'the missed publications');
        assert.deepEqual(got, [{ n: 1 }, { n: 2 }, { n: 3 }]);
        client.c.disconnect();
      });
    });
  }
});

// ---- raw requests ----

/**
 * One emulation stream opened with `node:http` (its own connection): the status, headers, raw
 * bytes, and the replies parsed as they arrive (JSON lines, or SSE `data:` events).
 */
class RawStream {
  readonly inbox: SocketInbox<Json>;
  text = '';
  private pending = '';

  private constructor(
    readonly kind: 'http_stream' | 'sse',
    readonly req: ClientRequest,
    readonly res: IncomingMessage,
  ) {
    this.inbox = new SocketInbox<Json>(`RawStream(${kind})`);
    const parse = res.statusCode === 200;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.text += chunk;
      if (parse) this.parse(chunk);
    });
    res.on('end', () => this.inbox.closed(0, 'end'));
    res.on('close', () => this.inbox.closed(-1, 'closed'));
  }

  static open(
    kind: 'http_stream' | 'sse',
    r: { method?: string; body?: string | Buffer; cfConnect?: string; headers?: Record<string, string> } = {},
    wait?: WaitArg,
    g: TestGyre = gyre,
  ): Promise<RawStream> {
    const method = r.method ?? (kind === 'sse' && r.body === undefined ? 'GET' : 'POST');
    const query = r.cfConnect === undefined ? '' : `?cf_connect=${encodeURIComponent(r.cfConnect)}`;
    const { timeoutMs, what } = waitOptions(wait, `a response from ${method} ${PATHS[kind]}`);
    return deadline<RawStream>(timeoutMs, () => `RawStream.open: no ${what} within ${timeoutMs} ms`, (resolve, reject) => {
      const req = httpRequest(`${g.baseUrl}${PATHS[kind]}${query}`, { method, agent: false, headers: r.headers ?? {} });
      requests.push(req);
      req.on('response', (res) => resolve(new RawStream(kind, req, res)));
      req.on('error', reject);
      req.end(r.body);
    });
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  next(pred: (m: Json) => boolean = () => true, opts?: WaitArg): Promise<Json> {
    return this.inbox.next(pred, opts);
  }

  ended(opts?: WaitArg): Promise<CloseInfo> {
    return this.inbox.waitClosed(opts);
  }

  private parse(chunk: string): void {
    this.pending += chunk;
    if (this.kind === 'http_stream') {
      const lines = this.pending.split('\n');
      this.pending = lines.pop()!;
      this.inbox.push(...lines.filter((l) => l !== '').map((l) => JSON.parse(l) as Json));
      return;
    }
    if (this.pending.startsWith('\r\n')) this.pending = this.pending.slice(2);
    const events = this.pending.split('\n\n');
    this.pending = events.pop()!;
    for (const event of events) {
      const data = event
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      this.inbox.push(JSON.parse(data) as Json);
    }
  }
}

// ---- protobuf by hand ----

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

/** A length-delimited field (string, bytes or message). */
function pbField(field: number, value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([varint((field << 3) | 2), varint(bytes.length), bytes]);
}

/** A Command with an id and one request (its field number and encoded message). */
function pbCommand(id: number, field: number, request: Buffer): Buffer {
  return Buffer.concat([varint(1 << 3), varint(id), pbField(field, request)]);
}

function delimited(message: Buffer): Buffer {
  return Buffer.concat([varint(message.length), message]);
}

type PbMessage = Map<number, Array<number | Buffer>>;

/** The fields of a message (varints and length-delimited ones; nothing else is used here). */
function pbFields(bytes: Buffer): PbMessage {
  const out: PbMessage = new Map();
  let i = 0;
  const readVarint = (): number => {
    let n = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[i++]!;
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
      shift += 7;
    }
  };
  while (i < bytes.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    let value: number | Buffer;
    if ((tag & 7) === 0) value = readVarint();
    else if ((tag & 7) === 2) {
      const len = readVarint();
      value = bytes.subarray(i, i + len);
      i += len;
    } else throw new Error(`unexpected wire type ${tag & 7}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}

const pbFirst = (m: PbMessage, field: number): number | Buffer | undefined => m.get(field)?.[0];
const pbBytes = (m: PbMessage, field: number): Buffer | undefined => pbFirst(m, field) as Buffer | undefined;
const pbString = (m: PbMessage, field: number): string | undefined => pbBytes(m, field)?.toString('utf8');

/** A protobuf http_stream opened with `node:http`: the Reply messages as they arrive, split on their varint lengths. */
class PbStream {
  readonly inbox = new SocketInbox<PbMessage>('PbStream');
  private pending = Buffer.alloc(0);

  private constructor(
    readonly req: ClientRequest,
    readonly res: IncomingMessage,
  ) {
    res.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      for (;;) {
        let len = 0;
        let shift = 0;
        let i = 0;
        for (; i < this.pending.length; i++) {
          len += (this.pending[i]! & 0x7f) * 2 ** shift;
          shift += 7;
          if (this.pending[i]! < 0x80) break;
        }
        if (i >= this.pending.length || this.pending.length < i + 1 + len) return;
        this.inbox.push(pbFields(this.pending.subarray(i + 1, i + 1 + len)));
        this.pending = this.pending.subarray(i + 1 + len);
      }
    });
    res.on('close', () => this.inbox.closed(-1, 'closed'));
  }

  static open(body: Buffer): Promise<PbStream> {
    return deadline<PbStream>(10_000, () => 'PbStream.open: no response within 10000 ms', (resolve, reject) => {
      const req = httpRequest(`${gyre.baseUrl}${PATHS.http_stream}`, { method: 'POST', agent: false, headers: { 'Content-Type': 'application/octet-stream' } });
      requests.push(req);
      req.on('response', (res) => resolve(new PbStream(req, res)));
      req.on('error', reject);
      req.end(body);
    });
  }

  next(pred: (m: PbMessage) => boolean, opts?: WaitArg): Promise<PbMessage> {
    return this.inbox.next(pred, opts);
  }
}

/** POSTs to the emulation endpoint; the status and body. */
async function emulate(body: string | Uint8Array, headers: Record<string, string> = { 'Content-Type': 'application/json' }, method = 'POST') {
  const res = await fetch(`${gyre.baseUrl}${PATHS.emulation}`, { method, headers, ...(method !== 'GET' && { body: body as unknown as BodyInit }) });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** A raw JSON http_stream connection with a token; its connect result. */
async function rawConnected(user: string): Promise<{ s: RawStream; result: Json }> {
  const s = await RawStream.open('http_stream', {
    body: JSON.stringify({ connect: { token: await gyre.token(user) }, id: 1 }),
    headers: { 'Content-Type': 'application/json' },
  });
  const reply = await s.next((m) => m['id'] === 1, 'connect reply');
  return { s, result: reply['connect'] as Json };
}

/** The server still serves: a new raw http_stream connection gets its connect reply. */
async function stillServes(): Promise<void> {
  const { s, result } = await rawConnected('still-here');
  assert.equal(typeof result['client'], 'string');
  s.req.destroy();
}

describe('the wire, with raw requests', () => {
  test('http_stream (JSON): connect reply with session, node, ping and pong; commands through /emulation', async () => {
    const { s, result } = await rawConnected('raw-1');
    assert.equal(s.status, 200);
    assert.equal(s.res.headers['cache-control'], 'private, no-cache, no-store, must-revalidate, max-age=0');
    assert.equal(s.res.headers['x-accel-buffering'], 'no');
    assert.equal(result['node'], gyre.server.node.id);
    assert.equal(typeof result['session'], 'string');
    assert.notEqual(result['session'], result['client']);
    assert.equal(result['ping'], 1);
    assert.equal(result['pong'], true);
    const channel = ch('raw');
    const data = [{ subscribe: { channel }, id: 2 }, { publish: { channel, data: { a: 1 } }, id: 3 }].map((c) => JSON.stringify(c)).join('\n');
    const answer = await emulate(JSON.stringify({ session: result['session'], node: result['node'], data }));
    assert.equal(answer.status, 204);
    assert.equal(answer.body, '');
    await s.next((m) => m['id'] === 2 && m['subscribe'] !== undefined, 'subscribe reply');
    await s.next((m) => m['id'] === 3, 'publish reply');
    const pub = await s.next((m) => m['push']?.['pub'] !== undefined, 'the publication push');
    assert.deepEqual(pub['push'], { channel, pub: { data: { a: 1 }, info: { user: 'raw-1', client: result['client'] }, offset: 1 } });
    // A ping arrives as {} and is answered with an empty command.
    await s.next((m) => Object.keys(m).length === 0, { timeoutMs: 5000, what: 'a ping' });
    assert.equal((await emulate(JSON.stringify({ session: result['session'], node: result['node'], data: '{}' }))).status, 204);
    s.req.destroy();
  });

  test('sse: \\r\\n, then one data: event per reply; a disconnect push ends the stream', async () => {
    const user = 'raw-sse';
    const s = await RawStream.open('sse', { cfConnect: JSON.stringify({ connect: { token: await gyre.token(user) }, id: 7 }) });
    assert.equal(s.status, 200);
    assert.equal(s.res.headers['content-type'], 'text/event-stream; charset=utf-8');
    const reply = await s.next((m) => m['id'] === 7, 'connect reply');
    assert.ok(s.text.startsWith('\r\ndata: {"id":7,"connect":'), s.text.slice(0, 40));
    assert.equal(reply['connect']['pong'], true);
    await gyre.api('disconnect', { user, disconnect: { code: 4000, reason: 'bye' } });
    const push = await s.next((m) => m['push']?.['disconnect'] !== undefined, 'the disconnect push');
    assert.deepEqual(push['push']['disconnect'], { code: 4000, reason: 'bye' });
    await s.ended();
  });

  test('http_stream (protobuf): varint-delimited replies; commands and pongs as protobuf EmulationRequests', async () => {
    const connect = pbCommand(1, 4, pbField(1, await gyre.token('raw-pb')));
    const s = await PbStream.open(delimited(connect));
    assert.equal(s.res.statusCode, 200);
    assert.equal(s.res.headers['content-type'], 'application/octet-stream');
    const reply = await s.next((r) => pbFirst(r, 1) === 1, 'the connect reply');
    const result = pbFields(pbBytes(reply, 5)!);
    const session = pbString(result, 9);
    const node = pbString(result, 10);
    assert.equal(node, gyre.server.node.id);
    assert.ok(session !== undefined && session !== pbString(result, 1));
    assert.equal(pbFirst(result, 8), 1, 'pong: true');
    const channel = ch('raw-pb');
    const emulation = (data: Buffer) => Buffer.concat([pbField(1, node!), pbField(2, session!), pbField(3, data)]);
    const subscribe = delimited(pbCommand(2, 5, pbField(1, channel)));
    assert.equal((await emulate(emulation(subscribe), { 'Content-Type': 'application/octet-stream' })).status, 204);
    const sub = await s.next((r) => pbFirst(r, 1) === 2, 'the subscribe reply');
    assert.ok(pbBytes(sub, 6) !== undefined, 'a subscribe result');
    // A ping is an empty Reply (the single byte 0), answered with an empty Command.
    await s.next((r) => r.size === 0, { timeoutMs: 5000, what: 'a ping' });
    assert.equal((await emulate(emulation(Buffer.from([0])), { 'Content-Type': 'application/octet-stream' })).status, 204);
    s.req.destroy();
  });
});

describe('bad input is answered as Centrifugo does, and the server keeps serving', () => {
  test('emulation: a session the node does not hold 204, a node no one is 404', async () => {
    const node = gyre.server.node.id;
    assert.equal((await emulate(JSON.stringify({ session: 'no-such-session', node, data: '{}' }))).status, 204);
    assert.ok(gyre.logs.some((l) => l.msg === 'emulation commands for an unknown session: dropped'));
    assert.equal((await emulate(JSON.stringify({ session: 'x', node: 'no-such-node', data: '{}' }))).status, 404);
    assert.ok(gyre.logs.some((l) => l.msg === 'emulation request for an unknown node'));
    await stillServes();
  });

  test('emulation: malformed bodies 400 (bad JSON, not an object, data not a string, bad protobuf, a GET)', async () => {
    const node = gyre.server.node.id;
    for (const body of ['{"session":', '[]', 'null', JSON.stringify({ session: 's', node, data: { x: 1 } }), JSON.stringify({ session: 1, node, data: '' })]) {
      assert.equal((await emulate(body)).status, 400, body);
    }
    // A JSON body sent as protobuf, and protobuf sent as JSON.
    assert.equal((await emulate(JSON.stringify({ session: 's', node, data: '{}' }), { 'Content-Type': 'application/octet-stream' })).status, 400);
    assert.equal((await emulate(new Uint8Array([0x0a, 0x05, 0x61]), { 'Content-Type': 'application/json' })).status, 400);
    assert.equal((await emulate('', {}, 'GET')).status, 400);
    assert.ok(gyre.logs.filter((l) => l.msg === 'malformed emulation request').length >= 8);
    await stillServes();
  });

  test('emulation: a body over emulation.max_request_body_size 413; OPTIONS 200 with CORS', async () => {
    const big = JSON.stringify({ session: 's', node: gyre.server.node.id, data: 'x'.repeat(70_000) });
    assert.equal((await emulate(big)).status, 413);
    const preflight = await fetch(`${gyre.baseUrl}${PATHS.emulation}`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://app.example', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.equal(preflight.status, 200);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://app.example');
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'content-type');
    await stillServes();
  });

  test('emulation: malformed commands close that connection with 3501; the request is still 204', async () => {
    const { s, result } = await rawConnected('bad-commands');
    const answer = await emulate(JSON.stringify({ session: result['session'], node: result['node'], data: '{"subscribe":' }));
    assert.equal(answer.status, 204);
    const push = await s.next((m) => m['push']?.['disconnect'] !== undefined, 'the disconnect push');
    assert.deepEqual(push['push']['disconnect'], { code: 3501, reason: 'bad request' });
    await s.ended();
    // The session is gone now: its commands are dropped with 204.
    assert.equal((await emulate(JSON.stringify({ session: result['session'], node: result['node'], data: '{}' }))).status, 204);
    await stillServes();
  });

  test('emulation: commands in another protocol than the connection\'s are dropped, the connection stays', async () => {
    const { s, result } = await rawConnected('other-protocol');
    // EmulationRequest { node = 1, session = 2, data = 3 (a delimited empty Command) }.
    const str = (field: number, v: string) => Buffer.concat([Buffer.from([(field << 3) | 2, Buffer.byteLength(v)]), Buffer.from(v)]);
    const pb = Buffer.concat([str(1, result['node'] as string), str(2, result['session'] as string), Buffer.from([0x1a, 0x01, 0x00])]);
    assert.equal((await emulate(pb, { 'Content-Type': 'application/octet-stream' })).status, 204);
    assert.ok(gyre.logs.some((l) => l.msg === "emulation commands in another protocol than the connection's: dropped"));
    assert.ok(gyre.server.node.client(result['client'] as string) !== undefined);
    s.req.destroy();
  });

  test('sse: a GET without cf_connect 400; broken JSON in it a 3501 disconnect on a 200 stream', async () => {
    const none = await RawStream.open('sse');
    assert.equal(none.status, 400);
    const broken = await RawStream.open('sse', { cfConnect: '{"connect":' });
    assert.equal(broken.status, 200);
    const push = await broken.next((m) => m['push']?.['disconnect'] !== undefined, 'the disconnect push');
    assert.deepEqual(push['push']['disconnect'], { code: 3501, reason: 'bad request' });
    await broken.ended();
    await stillServes();
  });

  test('http_stream: malformed, empty or non-connect bodies, protobuf sent as JSON: a 3501 disconnect on a 200 stream', async () => {
    const protobufConnect = Buffer.from([0x04, 0x08, 0x01, 0x22, 0x00]);
    for (const [body, headers] of [
      ['{"connect":', { 'Content-Type': 'application/json' }],
      ['', { 'Content-Type': 'application/json' }],
      [JSON.stringify({ subscribe: { channel: 'x' }, id: 1 }), { 'Content-Type': 'application/json' }],
      [protobufConnect, { 'Content-Type': 'application/json' }],
      [protobufConnect, { 'Content-Type': 'text/plain' }],
    ] as const) {
      const s = await RawStream.open('http_stream', { body, headers });
      assert.equal(s.status, 200);
      const push = await s.next((m) => m['push']?.['disconnect'] !== undefined, `the disconnect push for ${String(body)}`);
      assert.deepEqual(push['push']['disconnect'], { code: 3501, reason: 'bad request' });
      await s.ended();
    }
    await stillServes();
  });

  test('http_stream: a bad token is a 3500 disconnect push, then the end', async () => {
    const s = await RawStream.open('http_stream', { body: JSON.stringify({ connect: { token: 'not-a-jwt' }, id: 1 }) });
    const push = await s.next((m) => m['push']?.['disconnect'] !== undefined, 'the disconnect push');
    assert.deepEqual(push['push']['disconnect'], { code: 3500, reason: 'invalid token' });
    await s.ended();
  });

  test('wrong methods 405 (http_stream answers OPTIONS 200), a body too large 413', async () => {
    for (const [path, method] of [
      [PATHS.http_stream, 'GET'],
      [PATHS.http_stream, 'PUT'],
      [PATHS.sse, 'PUT'],
      [PATHS.sse, 'OPTIONS'],
    ] as const) {
      const res = await fetch(`${gyre.baseUrl}${path}`, { method });
      assert.equal(res.status, 405, `${method} ${path}`);
      await res.text();
    }
    const options = await fetch(`${gyre.baseUrl}${PATHS.http_stream}`, { method: 'OPTIONS' });
    assert.equal(options.status, 200);
    for (const kind of ['http_stream', 'sse'] as const) {
      const s = await RawStream.open(kind, { method: 'POST', body: 'x'.repeat(70_000) });
      assert.equal(s.status, 413, kind);
    }
    await stillServes();
  });
});

describe('configuration', () => {
  test('disabled by default: the stream paths and /emulation answer 404', async () => {
    const plain = await startGyre();
    try {
      for (const path of Object.values(PATHS)) {
        const res = await fetch(`${plain.baseUrl}${path}`, { method: 'POST', body: '{}' });
        assert.equal(res.status, 404, path);
        await res.text();
      }
    } finally {
      await plain.close();
    }
  });

  test('older flat switches ("sse": true, "http_stream": true) turn the transports and /emulation on', async () => {
    const flat = await startGyre({ sse: true, http_stream: true } as never);
    try {
      assert.equal(flat.server.config.sse.enabled, true);
      assert.equal(flat.server.config.http_stream.enabled, true);
      const res = await fetch(`${flat.baseUrl}${PATHS.emulation}`, { method: 'POST', body: JSON.stringify({ session: 's', node: flat.server.node.id, data: '{}' }) });
      assert.equal(res.status, 204);
    } finally {
      await flat.close();
    }
  });

  test('the emulation path must differ from the stream paths (when one is enabled)', () => {
    assert.throws(
      () => validateConfig({ http_stream: { enabled: true }, emulation: { handler_prefix: '/connection/http_stream' } }),
      (e: unknown) => e instanceof ConfigError && /emulation\.handler_prefix: must differ from http_stream\.handler_prefix/.test(e.message),
    );
    assert.throws(
      () => validateConfig({ sse: { enabled: true, handler_prefix: 'sse' } }),
      (e: unknown) => e instanceof ConfigError && /sse\.handler_prefix: must start with "\/"/.test(e.message),
    );
    // Not served: not checked.
    assert.doesNotThrow(() => validateConfig({ emulation: { handler_prefix: '/connection/websocket' } }));
  });

  test('shutdown: every emulated connection gets the disconnect push 3001, then its end', async () => {
    const g = await startGyre({ ...EMULATION, shutdown: { timeout: '60s' } });
    const open = async (kind: 'http_stream' | 'sse') => {
      const cmd = JSON.stringify({ connect: { token: await g.token('leaving') }, id: 1 });
      const s = await RawStream.open(kind, kind === 'sse' ? { cfConnect: cmd } : { body: cmd }, undefined, g);
      await s.next((m) => m['id'] === 1, 'connect reply');
      return s;
    };
    const streams = [await open('http_stream'), await open('sse')];
    await g.close();
    for (const s of streams) {
      const push = await s.next((m) => m['push']?.['disconnect'] !== undefined, 'the disconnect push');
      assert.deepEqual(push['push']['disconnect'], { code: 3001, reason: 'shutdown' });
      await s.ended();
    }
  });

  test('handler prefixes and limits are configurable; another origin is refused with 403', async () => {
    const custom = await startGyre({
      http_stream: { enabled: true, handler_prefix: '/hs', max_request_body_size: 100 },
      emulation: { handler_prefix: '/emu', max_request_body_size: 200 },
      client: { allowed_origins: ['https://app.example'] },
    });
    try {
      const big = await fetch(`${custom.baseUrl}/hs`, { method: 'POST', body: 'x'.repeat(200) });
      assert.equal(big.status, 413);
      await big.text();
      const emu = await fetch(`${custom.baseUrl}/emu`, { method: 'POST', body: JSON.stringify({ session: 'x', node: 'y', data: 'z'.repeat(300) }) });
      assert.equal(emu.status, 413);
      await emu.text();
      const foreign = await fetch(`${custom.baseUrl}/emu`, { method: 'POST', headers: { Origin: 'https://evil.example' }, body: '{}' });
      assert.equal(foreign.status, 403);
      await foreign.text();
      const allowed = await fetch(`${custom.baseUrl}/emu`, {
        method: 'POST',
        headers: { Origin: 'https://app.example' },
        body: JSON.stringify({ session: 'x', node: custom.server.node.id, data: '{}' }),
      });
      assert.equal(allowed.status, 204);
      assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example');
      assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true');
    } finally {
      await custom.close();
    }
  });
});
