/**
 * `client.write_delay` and `client.max_messages_in_frame`: the messages for a connection collected
 * within the delay (publications of separate HTTP API requests, each handled in its own event-loop
 * turn) leave together, JSON pushes newline-separated in one WebSocket frame and protobuf messages
 * back to back in one binary frame, at most `max_messages_in_frame` per frame; the real SDK (JSON
 * and protobuf, WebSocket and the HTTP-streaming and SSE emulation) still receives every
 * publication, in order. Without a write delay each message keeps its own frame. A close sends
 * what waits first. Negative values are refused by the config validation.
 *
 * The frames are observed on the client: the SDK is given a `ws` WebSocket that records each frame
 * it receives. The delays are long (hundreds of ms) so that a burst of sequential HTTP publishes
 * fits in few ticks even on a loaded machine; nothing asserts how long anything took.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PublicationContext } from 'centrifuge';
import { Centrifuge as ProtobufCentrifuge } from 'centrifuge/build/protobuf';
import WebSocket from 'ws';
import { validateConfig } from '../../src/config/validate.js';
import { MAX_JSON_DEPTH } from '../../src/protocol/json-depth.js';
import { emulationClient, EMULATION_VARIANTS, payloadFor, valueFrom } from '../helpers/emulation.js';
import { startGyre, until, type TestGyre } from '../helpers/gyre.js';
import { once } from '../helpers/wait.js';

/** One WebSocket frame as the client received it. */
interface Frame {
  binary: boolean;
  data: Buffer;
}

/** A `ws` WebSocket class for the SDK that records every frame it receives into `frames`. */
function recordingWebSocket(frames: Frame[]): typeof WebSocket {
  return class RecordingWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols);
      this.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
        const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
        frames.push({ binary: isBinary, data: buf });
      });
    }
  } as typeof WebSocket;
}

/** The JSON messages of a text frame (newline-separated). */
function jsonLines(frame: Frame): string[] {
  assert.equal(frame.binary, false, 'a JSON connection gets text frames');
  return frame.data.toString('utf8').split('\n').filter((l) => l.trim() !== '');
}

/** The number of varint-length-delimited protobuf messages in a binary frame (checking they fill it exactly). */
function protobufMessages(frame: Frame): number {
  assert.equal(frame.binary, true, 'a protobuf connection gets binary frames');
  const b = frame.data;
  let pos = 0;
  let count = 0;
  while (pos < b.length) {
    let len = 0;
    let shift = 0;
    for (;;) {
      const byte = b[pos++]!;
      len += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if ((byte & 0x80) === 0) break;
    }
    pos += len;
    count++;
  }
  assert.equal(pos, b.length, 'the messages fill the frame exactly');
  return count;
}

let channelSeq = 0;
function channel(name: string): string {
  return `${name}-${++channelSeq}`;
}

/** Publishes `n` publications `{ i }` through the HTTP API, one request after another. */
async function publishSequentially(gyre: TestGyre, ch: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await gyre.api('publish', { channel: ch, data: { i } });
    assert.ok(res['error'] === undefined, `publish ${i}: ${JSON.stringify(res)}`);
  }
}

const gyres: TestGyre[] = [];
const clients: Array<{ disconnect(): void }> = [];
after(async () => {
  for (const c of clients) c.disconnect();
  for (const g of gyres) await g.close();
});

async function gyreWith(client: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<TestGyre> {
  const g = await startGyre({ client, ...extra });
  gyres.push(g);
  return g;
}

/** A connected JSON SDK client whose received frames are recorded, subscribed to `ch`. */
async function recordedSubscriber(gyre: TestGyre, user: string, ch: string) {
  const frames: Frame[] = [];
  const c = gyre.client({ token: await gyre.token(user), websocket: recordingWebSocket(frames) });
  const sub = c.newSubscription(ch);
  const got: unknown[] = [];
  sub.on('publication', (ctx: PublicationContext) => got.push(ctx.data));
  const subscribed = once(sub, 'subscribed', `${user} subscribed to ${ch}`);
  c.connect();
  sub.subscribe();
  await subscribed;
  // From here on: the publications (nothing else is sent to this client meanwhile).
  const start = frames.length;
  return { c, sub, got, frames, pushFrames: () => frames.slice(start) };
}

describe('client.write_delay', () => {
  let gyre: TestGyre;
  before(async () => {
    gyre = await gyreWith({ write_delay: '300ms' }, { http_stream: { enabled: true }, sse: { enabled: true } });
  });

  test('publications of separate HTTP API requests within the delay share WebSocket frames, newline-separated, and reach the SDK in order', async () => {
    const ch = channel('burst');
    const s = await recordedSubscriber(gyre, 'burst-user', ch);
    const n = 20;
    await publishSequentially(gyre, ch, n);
    await until(() => s.got.length === n, `the SDK received all ${n} publications`);
    assert.deepEqual(s.got, Array.from({ length: n }, (_, i) => ({ i })), 'every publication, in order');
    const perFrame = s.pushFrames().map((f) => jsonLines(f).length);
    assert.equal(perFrame.reduce((a, b) => a + b, 0), n, `the frames carry the ${n} pushes: ${perFrame.join(',')}`);
    assert.ok(perFrame.length < n, `fewer frames than publications: ${perFrame.join(',')}`);
    assert.ok(perFrame.some((k) => k > 1), `a frame with several pushes: ${perFrame.join(',')}`);
    for (const f of s.pushFrames()) {
      for (const line of jsonLines(f)) assert.ok((JSON.parse(line) as { push?: { pub?: unknown } }).push?.pub !== undefined, `a publication push: ${line}`);
    }
  });

  test('every subscriber of the channel gets the batched frames', async () => {
    const ch = channel('fanout');
    const subs = await Promise.all([0, 1, 2].map((k) => recordedSubscriber(gyre, `fan-${k}`, ch)));
    const n = 12;
    await publishSequentially(gyre, ch, n);
    await until(() => subs.every((s) => s.got.length === n), 'every subscriber received every publication');
    for (const s of subs) {
      assert.deepEqual(s.got, Array.from({ length: n }, (_, i) => ({ i })));
      assert.ok(s.pushFrames().length < n, `fewer frames than publications: ${s.pushFrames().map((f) => jsonLines(f).length).join(',')}`);
    }
  });

  test('commands are answered (replies wait in the same queue) and a client publication reaches the others', async () => {
    const ch = channel('commands');
    const a = await recordedSubscriber(gyre, 'cmd-a', ch);
    const b = await recordedSubscriber(gyre, 'cmd-b', ch);
    await a.sub.publish({ from: 'a' });
    await gyre.api('publish', { channel: ch, data: { from: 'api' } });
    await until(() => b.got.length === 2 && a.got.length === 2, 'both publications at both clients');
    assert.deepEqual(b.got, [{ from: 'a' }, { from: 'api' }]);
    const history = await a.sub.history({ limit: 10 });
    assert.deepEqual(history.publications.map((p) => p.data), [{ from: 'a' }, { from: 'api' }]);
    const presence = await a.sub.presence();
    assert.deepEqual(Object.values(presence.clients).map((i) => i.user).sort(), ['cmd-a', 'cmd-b']);
  });

  test('protobuf: the messages of a frame are varint-delimited back to back, and the SDK gets them in order', async () => {
    const ch = channel('pb');
    const frames: Frame[] = [];
    const c = new ProtobufCentrifuge(gyre.wsUrl, {
      token: await gyre.token('pb-user'),
      websocket: recordingWebSocket(frames),
      minReconnectDelay: 50,
      maxReconnectDelay: 300,
    });
    clients.push(c);
    const sub = c.newSubscription(ch);
    const got: unknown[] = [];
    sub.on('publication', (ctx) => got.push(JSON.parse(new TextDecoder().decode(ctx.data as Uint8Array))));
    const subscribed = once(sub, 'subscribed', 'protobuf client subscribed');
    c.connect();
    sub.subscribe();
    await subscribed;
    const start = frames.length;
    const n = 20;
    await publishSequentially(gyre, ch, n);
    await until(() => got.length === n, `the protobuf SDK received all ${n} publications`);
    assert.deepEqual(got, Array.from({ length: n }, (_, i) => ({ i })));
    const perFrame = frames.slice(start).map(protobufMessages);
    assert.equal(perFrame.reduce((x, y) => x + y, 0), n);
    assert.ok(perFrame.some((k) => k > 1), `a binary frame with several messages: ${perFrame.join(',')}`);
  });

  for (const variant of EMULATION_VARIANTS.filter((v) => !v.protobuf)) {
    test(`the SDK over ${variant.label} receives every publication, in order`, async () => {
      const ch = channel(`emulated-${variant.transport}`);
      const { c } = emulationClient(variant, gyre.baseUrl, { token: await gyre.token(`emu-${variant.transport}`) });
      clients.push(c);
      const sub = c.newSubscription(ch);
      const got: unknown[] = [];
      sub.on('publication', (ctx: PublicationContext) => got.push(valueFrom(variant, ctx.data)));
      const subscribed = once(sub, 'subscribed', `${variant.label} client subscribed`);
      c.connect();
      sub.subscribe();
      await subscribed;
      const n = 15;
      await publishSequentially(gyre, ch, n);
      await sub.publish(payloadFor(variant, { i: n }));
      await until(() => got.length === n + 1, `the ${variant.label} SDK received all publications`);
      assert.deepEqual(got, Array.from({ length: n + 1 }, (_, i) => ({ i })));
      c.disconnect();
    });
  }

  test('a close sends what waits first: a publication queued within the delay arrives before the close frame', async () => {
    const ch = channel('close');
    const s = await gyre.raw();
    await s.connect(await gyre.token('closing-user'));
    s.sendJson({ id: 2, subscribe: { channel: ch } });
    await s.reply(2);
    await gyre.api('publish', { channel: ch, data: { last: true } });
    await gyre.api('disconnect', { user: 'closing-user', disconnect: { code: 4001, reason: 'bye' } });
    const closed = await s.closed;
    assert.deepEqual(closed, { code: 4001, reason: 'bye' });
    assert.ok(
      s.messages.some((m) => (m['push'] as { pub?: { data?: unknown } } | undefined)?.pub?.data !== undefined),
      `the publication arrived before the close: ${JSON.stringify(s.messages)}`,
    );
  });

  test('bad input on a delayed connection closes only that connection', async () => {
    const ch = channel('bad');
    const ok = await recordedSubscriber(gyre, 'bad-ok', ch);
    const bad = await gyre.raw();
    await bad.connect(await gyre.token('bad-user'));
    bad.send('{not json');
    assert.equal((await bad.closed).code, 3501);
    await gyre.api('publish', { channel: ch, data: { still: 'serving' } });
    await until(() => ok.got.length === 1, 'the other client still gets publications');
  });
});

describe('client.max_messages_in_frame', () => {
  test('caps the messages joined into one frame; what waits beyond it goes in further frames', async () => {
    const gyre = await gyreWith({ write_delay: '300ms', max_messages_in_frame: 3 });
    const ch = channel('capped');
    const s = await recordedSubscriber(gyre, 'capped-user', ch);
    const n = 20;
    await publishSequentially(gyre, ch, n);
    await until(() => s.got.length === n, `the SDK received all ${n} publications`);
    assert.deepEqual(s.got, Array.from({ length: n }, (_, i) => ({ i })));
    const perFrame = s.pushFrames().map((f) => jsonLines(f).length);
    assert.ok(perFrame.every((k) => k <= 3), `at most 3 pushes a frame: ${perFrame.join(',')}`);
    assert.ok(perFrame.some((k) => k > 1), `some frames joined: ${perFrame.join(',')}`);
  });

  test('-1: no limit', async () => {
    const gyre = await gyreWith({ write_delay: '300ms', max_messages_in_frame: -1 });
    const ch = channel('unlimited');
    const s = await recordedSubscriber(gyre, 'unlimited-user', ch);
    const n = 40;
    await publishSequentially(gyre, ch, n);
    await until(() => s.got.length === n, `the SDK received all ${n} publications`);
    assert.deepEqual(s.got, Array.from({ length: n }, (_, i) => ({ i })));
    const perFrame = s.pushFrames().map((f) => jsonLines(f).length);
    assert.ok(perFrame.length < n && perFrame.some((k) => k > 1), `joined frames: ${perFrame.join(',')}`);
  });
});

describe('client.reply_without_queue', () => {
  // A delay no test waits out: whatever arrives came without it.
  let gyre: TestGyre;
  before(async () => {
    gyre = await gyreWith({ write_delay: '10m', reply_without_queue: true }, { http_stream: { enabled: true }, sse: { enabled: true } });
  });

  test('replies skip the write delay and take what was queued before them along, in order', async () => {
    const ch = channel('replies-now');
    // Connecting and subscribing finish: their replies did not wait for the 10 minutes.
    const s = await recordedSubscriber(gyre, 'replies-now-user', ch);
    await gyre.api('publish', { channel: ch, data: { queued: 'first' } });
    // The publication now waits for the delay; a command's reply takes it along.
    await s.sub.presenceStats();
    assert.deepEqual(s.got, [{ queued: 'first' }], 'the publication queued before the reply was delivered before it');
    const lines = s.pushFrames().flatMap(jsonLines);
    const pub = lines.findIndex((l) => (JSON.parse(l) as { push?: { pub?: unknown } }).push?.pub !== undefined);
    const reply = lines.findIndex((l) => (JSON.parse(l) as { presence_stats?: unknown }).presence_stats !== undefined);
    assert.ok(pub >= 0 && reply > pub, `the publication, then the reply: ${lines.join(' | ')}`);
  });

  test('publications alone still wait for the delay', async () => {
    const ch = channel('pushes-wait');
    const s = await recordedSubscriber(gyre, 'pushes-wait-user', ch);
    await gyre.api('publish', { channel: ch, data: { waits: true } });
    // A second client's command is answered at once; the first client's publication is still queued.
    const other = await recordedSubscriber(gyre, 'pushes-wait-other', channel('elsewhere'));
    await other.sub.presenceStats();
    assert.deepEqual(s.got, [], 'the publication waits for the write delay (or a reply on its own connection)');
    await s.sub.presenceStats();
    assert.deepEqual(s.got, [{ waits: true }]);
  });

  test('error replies to commands the server cannot name, and ping replies, skip the delay too', async () => {
    const ws = new WebSocket(gyre.wsUrl);
    const replies: Array<{ id?: number; error?: { code: number } }> = [];
    ws.on('message', (data: Buffer) => {
      for (const line of data.toString('utf8').split('\n')) if (line.trim() !== '') replies.push(JSON.parse(line) as { id?: number });
    });
    await once(ws, 'open', 'raw WebSocket did not open');
    try {
      ws.send(JSON.stringify({ id: 1, connect: { token: await gyre.token('unnamed-commands') } }));
      await until(() => replies.some((r) => r.id === 1), 'no connect reply within the wait (it waited for the 10-minute delay?)');
      // An unknown method (104), a command nested too deep to be read (107), a ping command.
      ws.send(JSON.stringify({ id: 2, frobnicate: {} }));
      ws.send(`{"id":3,"rpc":{"data":${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}}}`);
      ws.send(JSON.stringify({ id: 4, ping: {} }));
      await until(() => [2, 3, 4].every((id) => replies.some((r) => r.id === id)), 'the error and ping replies waited for the write delay');
      assert.equal(replies.find((r) => r.id === 2)?.error?.code, 104);
      assert.equal(replies.find((r) => r.id === 3)?.error?.code, 107);
      assert.equal(replies.find((r) => r.id === 4)?.error, undefined);
    } finally {
      ws.close();
    }
  });

  for (const variant of EMULATION_VARIANTS.filter((v) => !v.protobuf)) {
    test(`over ${variant.label}: connect and subscribe are answered without the delay`, async () => {
      const ch = channel(`replies-${variant.transport}`);
      const { c } = emulationClient(variant, gyre.baseUrl, { token: await gyre.token(`replies-${variant.transport}`) });
      clients.push(c);
      const sub = c.newSubscription(ch);
      const subscribed = once(sub, 'subscribed', `${variant.label} client subscribed despite a 10-minute write delay`);
      c.connect();
      sub.subscribe();
      await subscribed;
      c.disconnect();
    });
  }
});

describe('without a write delay (the default)', () => {
  test('each message has its own WebSocket frame, as before', async () => {
    const gyre = await gyreWith({ max_messages_in_frame: 3 });
    assert.equal(gyre.server.node.config.client.write_delay, 0);
    const ch = channel('undelayed');
    const s = await recordedSubscriber(gyre, 'undelayed-user', ch);
    const n = 10;
    await publishSequentially(gyre, ch, n);
    await until(() => s.got.length === n, `the SDK received all ${n} publications`);
    assert.deepEqual(s.got, Array.from({ length: n }, (_, i) => ({ i })));
    const perFrame = s.pushFrames().map((f) => jsonLines(f).length);
    assert.deepEqual(perFrame, Array.from({ length: n }, () => 1));
  });
});

describe('config', () => {
  test('write_delay and max_messages_in_frame: defaults, and negative values refused with the key named', () => {
    const { config } = validateConfig({});
    assert.equal(config.client.write_delay, 0);
    assert.equal(config.client.max_messages_in_frame, 16);
    assert.equal(validateConfig({ client: { write_delay: '15ms', max_messages_in_frame: -1 } }).config.client.write_delay, 15);
    assert.throws(() => validateConfig({ client: { write_delay: '-5ms' } }), /client\.write_delay: expected a non-negative duration/);
    assert.throws(() => validateConfig({ client: { write_delay: -1 } }), /client\.write_delay/);
    assert.throws(() => validateConfig({ client: { max_messages_in_frame: -2 } }), /client\.max_messages_in_frame: expected an integer >= -1/);
    assert.throws(() => validateConfig({ client: { max_messages_in_frame: 1.5 } }), /client\.max_messages_in_frame/);
  });

  test('reply_without_queue: off by default, a boolean', () => {
    assert.equal(validateConfig({}).config.client.reply_without_queue, false);
    assert.equal(validateConfig({ client: { reply_without_queue: true } }).config.client.reply_without_queue, true);
    assert.throws(() => validateConfig({ client: { reply_without_queue: 'yes' } }), /client\.reply_without_queue/);
  });
});
