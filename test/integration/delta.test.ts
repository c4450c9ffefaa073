/**
 * Fossil delta compression over real sockets: the real `centrifuge` client decodes a series of
 * similar large publications exactly (ASCII and non-ASCII), raw WebSockets check the wire (a full
 * payload as a JSON string first, then smaller `delta: true` patches that apply), and clients that
 * did not negotiate delta get plain JSON.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Centrifuge, PublicationContext, Subscription, SubscribedContext } from 'centrifuge';
import { applyDelta } from 'fossil-delta';
import { once, startGyre, until, type RawSocket, type TestGyre } from '../helpers/gyre.js';

let gyre: TestGyre;
before(async () => {
  gyre = await startGyre({
    channel: {
      namespaces: [
        { name: 'delta', allowed_delta_types: ['fossil'], delta_publish: true, allow_subscribe_for_client: true },
        // Delta allowed, but publications go as deltas only when a publish asks for it.
        { name: 'ondemand', allowed_delta_types: ['fossil'], allow_subscribe_for_client: true },
        { name: 'nodelta', allow_subscribe_for_client: true },
        {
          name: 'dhist',
          allowed_delta_types: ['fossil'],
          delta_publish: true,
          history_size: 50,
          history_ttl: '300s',
          force_recovery: true,
          allow_subscribe_for_client: true,
        },
      ],
    },
  });
});
after(() => gyre.close());

/** A large JSON document; consecutive `step`s differ in a few places only. */
function doc(step: number, text = 'item'): Record<string, unknown> {
  return {
    step,
    title: `${text} document`,
    items: Array.from({ length: 60 }, (_, i) => ({
      id: i,
      name: `${text}-${i}`,
      value: i === step % 60 ? step * 7 : i,
      tags: ['alpha', 'beta', 'gamma'],
    })),
  };
}

const UNICODE = 'ключ ✓ 数据 😀 café';

async function publish(channel: string, data: unknown, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await gyre.api('publish', { channel, data, ...extra });
  assert.ok(res['result'], JSON.stringify(res));
}

/** A real client subscribed to `channel`, recording decoded publication data. */
async function realSubscriber(
  channel: string,
  delta: boolean,
): Promise<{ c: Centrifuge; sub: Subscription; got: unknown[]; ctx: SubscribedContext }> {
  const c = gyre.client({ token: await gyre.token('viewer') });
  const sub = c.newSubscription(channel, delta ? { delta: 'fossil' } : {});
  const got: unknown[] = [];
  sub.on('publication', (ctx: PublicationContext) => got.push(ctx.data));
  const subscribed = once<SubscribedContext>(sub, 'subscribed');
  sub.subscribe();
  c.connect();
  return { c, sub, got, ctx: await subscribed };
}

interface WirePub {
  data: unknown;
  delta?: boolean;
  offset?: number;
}

/** A raw socket subscribed to `channel`, optionally asking for fossil delta; returns the subscribe result. */
async function rawSubscriber(channel: string, delta: boolean): Promise<{ ws: RawSocket; result: Record<string, unknown> }> {
  const ws = await gyre.raw();
  assert.ok((await ws.connect(await gyre.token('raw')))['connect']);
  ws.sendJson({ id: 2, subscribe: { channel, ...(delta && { delta: 'fossil' }) } });
  const reply = await ws.reply(2);
  assert.ok(reply['subscribe'], JSON.stringify(reply));
  return { ws, result: reply['subscribe'] as Record<string, unknown> };
}

/** The next publication push, with the size of the whole frame line it came in. */
async function nextPub(ws: RawSocket): Promise<{ pub: WirePub; size: number }> {
  const m = await ws.next((x) => (x['push'] as { pub?: unknown } | undefined)?.pub !== undefined);
  return { pub: (m['push'] as { pub: WirePub }).pub, size: Buffer.byteLength(JSON.stringify(m)) };
}

/** Decodes delta-mode publications the way a client must: full JSON strings and fossil patches. */
class DeltaDecoder {
  private prev: Uint8Array | undefined;

  decode(pub: WirePub): unknown {
    assert.equal(typeof pub.data, 'string', 'delta mode carries data as a JSON string');
    const bytes = new TextEncoder().encode(pub.data as string);
    if (pub.delta === true) {
      assert.ok(this.prev, 'a patch needs a previous payload');
      this.prev = applyDelta(this.prev, bytes);
    } else {
      this.prev = bytes;
    }
    return JSON.parse(new TextDecoder().decode(this.prev)) as unknown;
  }
}

describe('the real client with delta: fossil', () => {
  test('a series of similar large publications decodes exactly, mostly as patches', async () => {
    const ch = 'delta:series';
    const { sub, got, ctx } = await realSubscriber(ch, true);
    assert.equal(ctx.channel, ch);
    const sent = Array.from({ length: 12 }, (_, i) => doc(i));
    for (const d of sent) await publish(ch, d);
    await until(() => got.length === sent.length);
    assert.deepEqual(got, sent);
    const stats = sub.deltaStats();
    assert.equal(stats.numPublications, sent.length);
    assert.equal(stats.numFullPayloads, 1);
    assert.equal(stats.numDeltaPayloads, sent.length - 1);
    assert.ok(stats.bytesReceived < stats.bytesDecoded / 3, `compression: ${JSON.stringify(stats)}`);
  });

  test('non-ASCII payloads decode exactly', async () => {
    const ch = 'delta:unicode';
    const { sub, got } = await realSubscriber(ch, true);
    const sent = Array.from({ length: 10 }, (_, i) => ({ ...doc(i, UNICODE), note: `${UNICODE} #${i} ${'é'.repeat(i)}` }));
    for (const d of sent) await publish(ch, d);
    await until(() => got.length === sent.length);
    assert.deepEqual(got, sent);
    assert.ok(sub.deltaStats().numDeltaPayloads > 0);
  });

  test('changes inside multi-byte characters still decode (full payload fallback where needed)', async () => {
    const ch = 'delta:mbchange';
    const { got } = await realSubscriber(ch, true);
    // Neighbouring code points share their leading UTF-8 bytes: patches may cut into a character.
    const base = 'Ж'.repeat(300);
    const sent = Array.from({ length: 8 }, (_, i) => ({ s: base.slice(0, 100 + i) + String.fromCodePoint(0x416 + i) + base + '😀😁😂'.slice(0, 2 + (i % 2) * 2) }));
    for (const d of sent) await publish(ch, d);
    await until(() => got.length === sent.length);
    assert.deepEqual(got, sent);
  });

  test('a client without delta on the same channel gets the same plain data', async () => {
    const ch = 'delta:mixed';
    const withDelta = await realSubscriber(ch, true);
    const plain = await realSubscriber(ch, false);
    const sent = Array.from({ length: 6 }, (_, i) => doc(i));
    for (const d of sent) await publish(ch, d);
    await until(() => withDelta.got.length === sent.length && plain.got.length === sent.length);
    assert.deepEqual(withDelta.got, sent);
    assert.deepEqual(plain.got, sent);
    assert.equal(plain.sub.deltaStats().numPublications, 0);
  });

  test('a delta subscriber joining mid-stream starts from a full payload', async () => {
    const ch = 'delta:late';
    const early = await realSubscriber(ch, true);
    for (let i = 0; i < 3; i++) await publish(ch, doc(i));
    await until(() => early.got.length === 3);
    const late = await realSubscriber(ch, true);
    for (let i = 3; i < 6; i++) await publish(ch, doc(i));
    await until(() => late.got.length === 3 && early.got.length === 6);
    assert.deepEqual(late.got, [doc(3), doc(4), doc(5)]);
    assert.equal(late.sub.deltaStats().numFullPayloads, 1);
  });

  test('recovery in delta mode replays full payloads, then patches continue', async () => {
    const ch = 'dhist:recover';
    const { c, sub, got } = await realSubscriber(ch, true);
    await publish(ch, doc(0));
    await publish(ch, doc(1));
    await until(() => got.length === 2);
    const disconnected = once(c, 'disconnected');
    c.disconnect();
    await disconnected;
    await publish(ch, doc(2));
    await publish(ch, doc(3));
    const resubscribed = once<SubscribedContext>(sub, 'subscribed');
    c.connect();
    assert.equal((await resubscribed).recovered, true);
    await publish(ch, doc(4));
    await publish(ch, doc(5));
    await until(() => got.length === 6);
    assert.deepEqual(got, [0, 1, 2, 3, 4, 5].map((i) => doc(i)));
  });
});

describe('delta on the wire', () => {
  test('the subscribe result says delta; the first push is full (a JSON string), later ones are smaller patches', async () => {
    const ch = 'delta:wire';
    const { ws, result } = await rawSubscriber(ch, true);
    assert.equal(result['delta'], true);
    const decoder = new DeltaDecoder();
    const sent = Array.from({ length: 5 }, (_, i) => doc(i));
    for (const d of sent) await publish(ch, d);
    const first = await nextPub(ws);
    assert.equal(typeof first.pub.data, 'string');
    assert.equal(first.pub.delta, undefined);
    assert.equal(first.pub.data, JSON.stringify(sent[0]));
    assert.deepEqual(decoder.decode(first.pub), sent[0]);
    for (let i = 1; i < sent.length; i++) {
      const next = await nextPub(ws);
      assert.equal(next.pub.delta, true);
      assert.equal(typeof next.pub.data, 'string');
      assert.ok(next.size < first.size / 3, `patch frame ${next.size} vs full ${first.size}`);
      assert.deepEqual(decoder.decode(next.pub), sent[i]);
    }
  });

  test('non-ASCII patches are valid UTF-8 text and apply exactly', async () => {
    const ch = 'delta:wire-unicode';
    const { ws } = await rawSubscriber(ch, true);
    const decoder = new DeltaDecoder();
    const sent = Array.from({ length: 6 }, (_, i) => ({ ...doc(i, UNICODE), extra: `${UNICODE}${i}` }));
    for (const d of sent) await publish(ch, d);
    let patches = 0;
    for (const d of sent) {
      const { pub } = await nextPub(ws);
      if (pub.delta === true) patches++;
      assert.deepEqual(decoder.decode(pub), d);
    }
    assert.ok(patches > 0);
  });

  test('a subscriber that did not ask for delta gets plain JSON, never a patch', async () => {
    const ch = 'delta:wire-plain';
    const { ws, result } = await rawSubscriber(ch, false);
    assert.equal(result['delta'], undefined);
    const sent = Array.from({ length: 3 }, (_, i) => doc(i));
    for (const d of sent) await publish(ch, d);
    for (const d of sent) {
      const { pub } = await nextPub(ws);
      assert.deepEqual(pub.data, d);
      assert.equal(pub.delta, undefined);
    }
  });

  test('delta asked in a namespace that does not allow it: not negotiated, plain JSON', async () => {
    const ch = 'nodelta:x';
    const { ws, result } = await rawSubscriber(ch, true);
    assert.equal(result['delta'], undefined);
    await publish(ch, doc(0));
    await publish(ch, doc(1));
    assert.deepEqual((await nextPub(ws)).pub.data, doc(0));
    assert.deepEqual((await nextPub(ws)).pub, { data: doc(1) });
  });

  test('an unknown delta type is not negotiated', async () => {
    const ws = await gyre.raw();
    await ws.connect(await gyre.token('raw'));
    ws.sendJson({ id: 2, subscribe: { channel: 'delta:weird', delta: 'xdelta' } });
    const res = (await ws.reply(2))['subscribe'] as Record<string, unknown>;
    assert.equal(res['delta'], undefined);
    await publish('delta:weird', { a: 1 });
    assert.deepEqual((await nextPub(ws)).pub, { data: { a: 1 } });
  });

  test('delta_publish off: full JSON strings unless the API publish asks for delta', async () => {
    const ch = 'ondemand:x';
    const { ws, result } = await rawSubscriber(ch, true);
    assert.equal(result['delta'], true);
    const decoder = new DeltaDecoder();
    await publish(ch, doc(0));
    await publish(ch, doc(1));
    await publish(ch, doc(2), { delta: true });
    const p0 = (await nextPub(ws)).pub;
    const p1 = (await nextPub(ws)).pub;
    const p2 = (await nextPub(ws)).pub;
    assert.equal(p0.delta, undefined);
    assert.equal(p1.delta, undefined);
    assert.equal(p2.delta, true);
    assert.deepEqual([p0, p1, p2].map((p) => decoder.decode(p)), [doc(0), doc(1), doc(2)]);
  });

  test('an API publish with delta: false in a delta_publish namespace sends a full payload', async () => {
    const ch = 'delta:forcefull';
    const { ws } = await rawSubscriber(ch, true);
    const decoder = new DeltaDecoder();
    await publish(ch, doc(0));
    await publish(ch, doc(1), { delta: false });
    await publish(ch, doc(2));
    const pubs = [(await nextPub(ws)).pub, (await nextPub(ws)).pub, (await nextPub(ws)).pub];
    assert.deepEqual(
      pubs.map((p) => p.delta === true),
      [false, false, true],
    );
    assert.deepEqual(pubs.map((p) => decoder.decode(p)), [doc(0), doc(1), doc(2)]);
  });

  test('a publication a patch would not shrink goes out in full', async () => {
    const ch = 'delta:unrelated';
    const { ws } = await rawSubscriber(ch, true);
    await publish(ch, { a: 'x'.repeat(50) });
    await publish(ch, { z: 123 });
    assert.equal((await nextPub(ws)).pub.delta, undefined);
    const second = (await nextPub(ws)).pub;
    assert.equal(second.delta, undefined);
    assert.equal(second.data, '{"z":123}');
  });
});
