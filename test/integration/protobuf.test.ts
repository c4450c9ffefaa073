/**
 * The protobuf client protocol over WebSocket with the real SDK's protobuf build
 * (`centrifuge/build/protobuf`): connect, subscribe with recovery and delta, publish, presence,
 * history, rpc, refresh, server-side subscriptions, join/leave, pings, disconnects; JSON and
 * protobuf clients on one channel; binary data; malformed protobuf from a raw socket.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Centrifuge as JsonCentrifuge, type PublicationContext, type Subscription } from 'centrifuge';
import { Centrifuge, type Options } from 'centrifuge/build/protobuf';
import WebSocket from 'ws';
import { Handlers } from '../../src/handlers/pipeline.js';
import { RPCResponse } from '../../src/handlers/responses.js';
import { PROTOBUF_SUBPROTOCOL } from '../../src/transport/websocket.js';
import { startGyre, until, type TestGyre } from '../helpers/gyre.js';
import { closeServer, listen, once, waitFor } from '../helpers/wait.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const json = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v));
const parse = (b: unknown): unknown => JSON.parse(dec.decode(b as Uint8Array));

let gyre: TestGyre;
const clients: Array<{ disconnect(): void }> = [];

function pbClient(opts: Partial<Options> = {}): Centrifuge {
  const c = new Centrifuge(gyre.wsUrl, { websocket: WebSocket, minReconnectDelay: 50, maxReconnectDelay: 300, ...opts });
  clients.push(c);
  return c;
}

function jsonClient(token: string): JsonCentrifuge {
  const c = new JsonCentrifuge(gyre.wsUrl, { websocket: WebSocket, token, minReconnectDelay: 50, maxReconnectDelay: 300 });
  clients.push(c);
  return c;
}

/** Collects the publications a subscription receives. */
function collect(sub: { on(e: 'publication', f: (ctx: PublicationContext) => void): unknown }): PublicationContext[] {
  const out: PublicationContext[] = [];
  sub.on('publication', (ctx) => out.push(ctx));
  return out;
}

async function connected(token: string, opts: Partial<Options> = {}): Promise<Centrifuge> {
  const c = pbClient({ token, ...opts });
  const ready = once(c, 'connected', 'protobuf client connected');
  c.connect();
  await ready;
  return c;
}

before(async () => {
  const handlers = Handlers.from({
    services: {
      rpc: (r) => r.respond(new RPCResponse({ data: { method: r.method, echo: r.data, binary: r.data instanceof Uint8Array } })),
    },
  });
  gyre = await startGyre(
    {
      client: { ping_interval: '1s', pong_timeout: '800ms' },
      channel: {
        namespaces: [{ name: 'delta', history_size: 10, history_ttl: '60s', allowed_delta_types: ['fossil'], allow_subscribe_for_client: true }],
      },
    },
    undefined,
    { handlers },
  );
});

after(async () => {
  for (const c of clients) c.disconnect();
  await gyre.close();
});

describe('protobuf over WebSocket with the SDK', () => {
  test('connect, subscribe, presence and presence stats', async () => {
    const c = await connected(await gyre.token('pb-1'));
    const sub = c.newSubscription('pb-connect');
    sub.subscribe();
    await sub.ready(5000);
    const presence = await sub.presence();
    const ids = Object.keys(presence.clients);
    assert.equal(ids.length, 1);
    assert.equal(presence.clients[ids[0]!]!.user, 'pb-1');
    const stats = await sub.presenceStats();
    assert.deepEqual(stats, { numClients: 1, numUsers: 1 });
  });

  test('publications from the API reach protobuf subscribers as the JSON bytes; client publish and history', async () => {
    const c = await connected(await gyre.token('pb-2'));
    const sub = c.newSubscription('pb-pub');
    const got = collect(sub);
    sub.subscribe();
    await sub.ready(5000);
    await gyre.api('publish', { channel: 'pb-pub', data: { n: 1, text: 'é✓' } });
    await sub.publish(json({ n: 2 }));
    await until(() => got.length === 2, 'two publications on pb-pub');
    assert.deepEqual(parse(got[0]!.data), { n: 1, text: 'é✓' });
    assert.deepEqual(parse(got[1]!.data), { n: 2 });
    assert.equal(got[1]!.info?.user, 'pb-2');
    assert.deepEqual(got.map((p) => p.offset), [1, 2]);
    const h = await sub.history({ limit: 10 });
    assert.deepEqual(h.publications.map((p) => parse(p.data)), [{ n: 1, text: 'é✓' }, { n: 2 }]);
    assert.equal(h.offset, 2);
    // The server API sees the protobuf client's publication as JSON.
    const api = await gyre.api('history', { channel: 'pb-pub', limit: 10 });
    assert.deepEqual((api['result'] as { publications: Array<{ data: unknown }> }).publications[1]!.data, { n: 2 });
  });

  test('JSON and protobuf subscribers of one channel receive the same publications in the same order', async () => {
    const pb = await connected(await gyre.token('pb-3'));
    const js = jsonClient(await gyre.token('js-3'));
    js.connect();
    const pbSub = pb.newSubscription('mixed');
    const jsSub = js.newSubscription('mixed');
    const pbGot = collect(pbSub);
    const jsGot = collect(jsSub as unknown as Subscription);
    pbSub.subscribe();
    jsSub.subscribe();
    await Promise.all([pbSub.ready(5000), jsSub.ready(5000)]);
    for (let i = 0; i < 20; i++) {
      if (i % 3 === 0) await pbSub.publish(json({ i, from: 'pb' }));
      else if (i % 3 === 1) await jsSub.publish({ i, from: 'json' });
      else await gyre.api('publish', { channel: 'mixed', data: { i, from: 'api' } });
    }
    await until(() => pbGot.length === 20 && jsGot.length === 20, 'both subscribers received 20 publications');
    const pbData = pbGot.map((p) => parse(p.data));
    assert.deepEqual(pbData, jsGot.map((p) => p.data));
    assert.deepEqual(pbGot.map((p) => p.offset), jsGot.map((p) => p.offset));
  });

  test('binary data: bytes reach protobuf subscribers unchanged, JSON subscribers as a base64 string', async () => {
    const pb = await connected(await gyre.token('pb-4'));
    const js = jsonClient(await gyre.token('js-4'));
    js.connect();
    const pbSub = pb.newSubscription('binary');
    const jsSub = js.newSubscription('binary');
    const pbGot = collect(pbSub);
    const jsGot = collect(jsSub as unknown as Subscription);
    pbSub.subscribe();
    jsSub.subscribe();
    await Promise.all([pbSub.ready(5000), jsSub.ready(5000)]);
    const bytes = new Uint8Array([0, 1, 2, 0xfe, 0xff, 0x80, 10, 13]);
    await pbSub.publish(bytes);
    await until(() => pbGot.length === 1 && jsGot.length === 1, 'the binary publication on both clients');
    assert.deepEqual([...(pbGot[0]!.data as Uint8Array)], [...bytes]);
    assert.equal(jsGot[0]!.data, Buffer.from(bytes).toString('base64'));
    // History keeps the bytes; the HTTP API returns them as b64data.
    const h = await pbSub.history({ limit: 1, since: { offset: 0, epoch: (await pbSub.history({ limit: 0 })).epoch } });
    assert.deepEqual([...(h.publications[0]!.data as Uint8Array)], [...bytes]);
    const api = await gyre.api('history', { channel: 'binary', limit: 10 });
    assert.equal((api['result'] as { publications: Array<{ b64data?: string }> }).publications[0]!.b64data, Buffer.from(bytes).toString('base64'));
  });

  test('rpc: JSON bytes reach the handler as a JSON value, other bytes as bytes', async () => {
    const c = await connected(await gyre.token('pb-5'));
    const r1 = await c.rpc('calc', json([1, 2]));
    assert.deepEqual(parse(r1.data), { method: 'calc', echo: [1, 2], binary: false });
    const r2 = await c.rpc('raw', new Uint8Array([0xff, 0x00]));
    // The handler got a Buffer (JSON.stringify writes it as {type, data}).
    assert.deepEqual(parse(r2.data), { method: 'raw', echo: { type: 'Buffer', data: [255, 0] }, binary: true });
  });

  test('errors: unknown namespace (102), permission denied (103)', async () => {
    const c = await connected(await gyre.token('pb-6'));
    const bad = c.newSubscription('nope:x');
    const refused = waitFor<{ code: number }>('unsubscribed (refused) on nope:x', (resolve) => {
      bad.on('unsubscribed', resolve as never);
    });
    bad.subscribe();
    assert.equal((await refused).code, 102);
    await assert.rejects(c.publish('delta:x', json({ a: 1 })), (e: { code: number }) => e.code === 103);
  });

  test('token refresh: an expiring token is refreshed through the SDK getToken', async () => {
    let calls = 0;
    const c = pbClient({
      token: await gyre.token('pb-7', {}, 2),
      getToken: async () => {
        calls++;
        return gyre.token('pb-7', {}, 60);
      },
    });
    c.connect();
    await once(c, 'connected', 'connected with a 2 s token');
    await until(() => calls >= 1, { timeoutMs: 15_000, what: 'the SDK refreshed its token' });
    const sub = c.newSubscription('pb-refresh');
    sub.subscribe();
    await sub.ready(5000);
    assert.equal(c.state, 'connected');
  });

  test('recovery after a dropped connection: missed publications arrive, in order', async () => {
    const c = await connected(await gyre.token('pb-8'));
    const sub = c.newSubscription('pb-recover');
    const got = collect(sub);
    sub.subscribe();
    await sub.ready(5000);
    await gyre.api('publish', { channel: 'pb-recover', data: { n: 1 } });
    await until(() => got.length === 1, 'first publication');
    const resubscribed = waitFor<{ wasRecovering: boolean; recovered: boolean }>('resubscribed with recovery', (resolve) => {
      sub.on('subscribed', (ctx) => {
        if (ctx.wasRecovering) resolve(ctx);
      });
    });
    // Drop the connection from the server side with a reconnecting code, then publish while it is away.
    await gyre.api('disconnect', { user: 'pb-8', disconnect: { code: 3011, reason: 'force reconnect' } });
    await gyre.api('publish', { channel: 'pb-recover', data: { n: 2 } });
    await gyre.api('publish', { channel: 'pb-recover', data: { n: 3 } });
    const ctx = await resubscribed;
    assert.equal(ctx.recovered, true);
    await until(() => got.length === 3, 'the two missed publications');
    assert.deepEqual(got.map((p) => parse(p.data)), [{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  test('delta: patches applied by the SDK give the published payloads', async () => {
    const c = await connected(await gyre.token('pb-9'));
    const sub = c.newSubscription('delta:prices', { delta: 'fossil' });
    const got = collect(sub);
    sub.subscribe();
    await sub.ready(5000);
    const base = { symbol: 'GYRE', history: 'x'.repeat(400) };
    for (let i = 1; i <= 4; i++) await gyre.api('publish', { channel: 'delta:prices', data: { ...base, price: i }, delta: true });
    await until(() => got.length === 4, 'four delta publications');
    assert.deepEqual(got.map((p) => (parse(p.data) as { price: number }).price), [1, 2, 3, 4]);
    assert.deepEqual(parse(got[3]!.data), { ...base, price: 4 });
  });

  test('subscribe / unsubscribe loops leave no subscription behind', async () => {
    const c = await connected(await gyre.token('pb-10'));
    const sub = c.newSubscription('pb-loop');
    for (let i = 0; i < 10; i++) {
      sub.subscribe();
      await sub.ready(5000);
      sub.unsubscribe();
    }
    sub.subscribe();
    await sub.ready(5000);
    const stats = await sub.presenceStats();
    assert.equal(stats.numClients, 1);
  });

  test('server-side subscriptions from the token, join/leave, and a server unsubscribe', async () => {
    const c = pbClient({ token: await gyre.token('pb-11', { channels: ['pb-server'] }) });
    const pubs: PublicationContext[] = [];
    const subscribed = waitFor<{ channel: string }>('server-side subscribed to pb-server', (resolve) => {
      c.on('subscribed', resolve as never);
    });
    c.on('publication', (ctx) => pubs.push(ctx as unknown as PublicationContext));
    c.connect();
    assert.equal((await subscribed).channel, 'pb-server');
    await gyre.api('publish', { channel: 'pb-server', data: { s: 1 } });
    await until(() => pubs.length === 1, 'server-side publication');
    assert.deepEqual(parse(pubs[0]!.data), { s: 1 });

    // Join and leave of another client, pushed to a subscriber that asked for them.
    const watcher = await connected(await gyre.token('pb-watch'));
    const sub = watcher.newSubscription('pb-joins', { joinLeave: true });
    const joins: string[] = [];
    // The watcher's own join is pushed to it too: only pb-other's are counted.
    sub.on('join', (ctx) => ctx.info.user === 'pb-other' && joins.push(`join:${ctx.info.user}`));
    sub.on('leave', (ctx) => ctx.info.user === 'pb-other' && joins.push(`leave:${ctx.info.user}`));
    sub.subscribe();
    await sub.ready(5000);
    const other = await connected(await gyre.token('pb-other'));
    const otherSub = other.newSubscription('pb-joins');
    otherSub.subscribe();
    await otherSub.ready(5000);
    otherSub.unsubscribe();
    await until(() => joins.length === 2, 'join and leave of pb-other');
    assert.deepEqual(joins, ['join:pb-other', 'leave:pb-other']);

    const unsubscribed = waitFor<{ channel: string }>('server-side unsubscribe', (resolve) => {
      c.on('unsubscribed', resolve as never);
    });
    await gyre.api('unsubscribe', { channel: 'pb-server', user: 'pb-11' });
    assert.equal((await unsubscribed).channel, 'pb-server');
  });

  test('pings: the SDK answers every ping (1 s interval, 800 ms pong timeout) and stays connected', async () => {
    // A WebSocket that counts the pings it receives (an empty Reply: a binary frame of one 0x00 byte).
    let pings = 0;
    class CountingWebSocket extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        // The SDK sets binaryType 'arraybuffer'.
        this.on('message', (data: Buffer | ArrayBuffer) => {
          const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
          if (bytes.length === 1 && bytes[0] === 0) pings++;
        });
      }
    }
    const c = await connected(await gyre.token('pb-12'), { websocket: CountingWebSocket });
    let disconnects = 0;
    c.on('disconnected', () => disconnects++);
    // Without a pong within 800 ms of a ping the server closes with 3012: three pings survived.
    await until(() => pings >= 4, { timeoutMs: 15_000, what: 'four pings on one protobuf connection' });
    assert.equal(disconnects, 0, 'no disconnect between the pings');
    assert.equal(c.state, 'connected');
  });

  test('a disconnect from the server API reaches the SDK with its code', async () => {
    const c = await connected(await gyre.token('pb-13'));
    const gone = waitFor<{ code: number }>('disconnected event', (resolve) => {
      c.on('disconnected', resolve as never);
    });
    await gyre.api('disconnect', { user: 'pb-13' });
    assert.equal((await gone).code, 3503);
  });
});

describe('malformed protobuf from a raw socket', () => {
  /** Opens a raw protobuf WebSocket and sends `bytes`; resolves with the close code. */
  async function closeCodeFor(bytes: Buffer | string): Promise<number> {
    const ws = new WebSocket(gyre.wsUrl, PROTOBUF_SUBPROTOCOL);
    await once(ws, 'open', 'raw protobuf socket open');
    assert.equal(ws.protocol, PROTOBUF_SUBPROTOCOL);
    const closed = waitFor<number>('the server closes the raw socket', (resolve) => {
      ws.on('close', (code: number) => resolve(code));
    });
    ws.send(bytes);
    return closed;
  }

  /** A connect command with a token, length-delimited, as the SDK frames it. */
  function connectFrame(token: string): Buffer {
    const tokenBytes = Buffer.from(token);
    const connect = Buffer.concat([Buffer.from([0x0a]), varint(tokenBytes.length), tokenBytes]);
    const command = Buffer.concat([Buffer.from([0x08, 0x01, 0x22]), varint(connect.length), connect]);
    return Buffer.concat([varint(command.length), command]);
  }

  function varint(n: number): Buffer {
    const out: number[] = [];
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
    return Buffer.from(out);
  }

  test('a raw connect command works (the baseline for the malformed cases)', async () => {
    const ws = new WebSocket(gyre.wsUrl, PROTOBUF_SUBPROTOCOL);
    await once(ws, 'open', 'raw protobuf socket open');
    const reply = waitFor<Buffer>('a connect reply', (resolve) => {
      ws.once('message', (d: Buffer) => resolve(d));
    });
    ws.send(connectFrame(await gyre.token('raw-pb')));
    const bytes = await reply;
    // varint length, then Reply{id=1 (0x08 0x01), connect=5 (0x2a ...)}.
    assert.equal(bytes[1], 0x08);
    assert.equal(bytes[2], 0x01);
    assert.equal(bytes[3], 0x2a);
    ws.close();
  });

  const cases: Array<[string, Buffer | string]> = [
    ['a truncated varint', Buffer.from([0x80])],
    ['a length past the end of the frame', Buffer.from([0x10, 0x08, 0x01])],
    ['a field of the wrong wire type (id length-delimited)', Buffer.from([0x03, 0x0a, 0x01, 0x00])],
    ['an invalid wire type', Buffer.from([0x02, 0x0f, 0x00])],
    ['a text frame on a protobuf connection', '{"id":1,"connect":{}}'],
    ['garbage bytes', Buffer.from([0x05, 0xff, 0xff, 0xff, 0xff, 0xff])],
  ];
  for (const [name, bytes] of cases) {
    test(`${name}: closed with 3501, and other clients keep being served`, async () => {
      assert.equal(await closeCodeFor(bytes), 3501);
      const c = await connected(await gyre.token('still-served'));
      const sub = c.newSubscription('still-served');
      sub.subscribe();
      await sub.ready(5000);
      c.disconnect();
    });
  }

  test('a frame over websocket.message_size_limit closes the connection (1009)', async () => {
    const big = Buffer.alloc(70 * 1024, 0x01);
    assert.equal(await closeCodeFor(big), 1009);
  });

  test('the cf_protocol=protobuf URL parameter selects protobuf without a subprotocol', async () => {
    const ws = new WebSocket(`${gyre.wsUrl}?cf_protocol=protobuf`);
    await once(ws, 'open', 'raw socket open');
    const reply = waitFor<{ data: Buffer; binary: boolean }>('a binary connect reply', (resolve) =>
      void ws.once('message', (data: Buffer, binary: boolean) => resolve({ data, binary })),
    );
    ws.send(connectFrame(await gyre.token('raw-pb-q')));
    const r = await reply;
    assert.equal(r.binary, true);
    assert.equal(r.data[3], 0x2a);
    ws.close();
  });
});

describe('a publish proxy sees protobuf clients', () => {
  test('JSON bytes arrive as `data`, binary data as `b64data`, with protocol "protobuf"', async () => {
    const bodies: Array<Record<string, unknown>> = [];
    const backend = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(body) as Record<string, unknown>);
        res.setHeader('Content-Type', 'application/json');
        res.end('{"result":{}}');
      });
    });
    await listen(backend);
    const port = (backend.address() as AddressInfo).port;
    const proxied = await startGyre({
      channel: {
        proxy: { publish: { endpoint: `http://127.0.0.1:${port}/publish`, timeout: '5s' } },
        namespaces: [{ name: 'proxied', publish_proxy_enabled: true, allow_subscribe_for_client: true }],
      },
    });
    try {
      const c = new Centrifuge(proxied.wsUrl, { websocket: WebSocket, token: await proxied.token('pb-proxy') });
      clients.push(c);
      c.connect();
      await once(c, 'connected', 'connected to the proxied server');
      await c.publish('proxied:a', json({ hello: 'proxy' }));
      await c.publish('proxied:a', new Uint8Array([0xff, 0x01]));
      assert.equal(bodies.length, 2);
      assert.deepEqual(bodies[0]!['data'], { hello: 'proxy' });
      assert.equal(bodies[0]!['protocol'], 'protobuf');
      assert.equal(bodies[0]!['encoding'], 'json');
      assert.equal(bodies[1]!['b64data'], Buffer.from([0xff, 0x01]).toString('base64'));
      assert.equal(bodies[1]!['data'], undefined);
      c.disconnect();
    } finally {
      await proxied.close();
      await closeServer(backend);
    }
  });
});
