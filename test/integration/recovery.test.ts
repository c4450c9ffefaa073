/**
 * Recovery edge cases over real sockets: the recovery limit, a wrong epoch, history trimmed by size
 * or expired by TTL, a lost stream meta (new epoch), exact replay order, publications racing a
 * subscribe, and idempotent API publishes. The real `centrifuge` client where it recovers by itself;
 * raw WebSockets to send exact recovery positions.
 */
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { Centrifuge, PublicationContext, Subscription, SubscribedContext } from 'centrifuge';
import { barrier, once, startGyre, until, type RawSocket, type TestGyre } from '../helpers/gyre.js';

const RECOVERY_LIMIT = 3;

let gyre: TestGyre;
before(async () => {
  gyre = await startGyre({
    client: { recovery_max_publication_limit: RECOVERY_LIMIT },
    channel: {
      namespaces: [
        { name: 'small', history_size: 2, history_ttl: '300s', force_recovery: true, allow_subscribe_for_client: true },
        { name: 'short', history_size: 10, history_ttl: '1s', force_recovery: true, allow_subscribe_for_client: true },
        {
          name: 'meta',
          history_size: 10,
          history_ttl: '1s',
          history_meta_ttl: '2s',
          force_recovery: true,
          allow_subscribe_for_client: true,
        },
      ],
    },
  });
});
after(() => gyre.close());

// ---- helpers ----

interface Received {
  n: number;
  offset: number | undefined;
}

/** A real client subscribed to `channel`, recording every publication (marker publications excluded). */
async function subscriber(channel: string): Promise<{ c: Centrifuge; sub: Subscription; got: Received[]; first: SubscribedContext }> {
  const c = gyre.client({ token: await gyre.token('reader') });
  const sub = c.newSubscription(channel);
  const got: Received[] = [];
  sub.on('publication', (ctx: PublicationContext) => {
    const data = ctx.data as { n?: number };
    if (data.n !== undefined) got.push({ n: data.n, offset: ctx.offset });
  });
  const subscribed = once<SubscribedContext>(sub, 'subscribed');
  sub.subscribe();
  c.connect();
  return { c, sub, got, first: await subscribed };
}

/** Disconnects, runs `meanwhile`, reconnects and returns the context of the resubscribe. */
async function missWhile(c: Centrifuge, sub: Subscription, meanwhile: () => Promise<void>): Promise<SubscribedContext> {
  const disconnected = once(c, 'disconnected');
  c.disconnect();
  await disconnected;
  await meanwhile();
  const resubscribed = once<SubscribedContext>(sub, 'subscribed');
  c.connect();
  return resubscribed;
}

async function publish(channel: string, n: number): Promise<{ offset: number; epoch: string }> {
  const res = await gyre.api('publish', { channel, data: { n } });
  assert.ok(res['result'], JSON.stringify(res));
  return res['result'] as { offset: number; epoch: string };
}

async function publishRange(channel: string, from: number, to: number): Promise<{ offset: number; epoch: string }> {
  let last = { offset: 0, epoch: '' };
  for (let n = from; n <= to; n++) last = await publish(channel, n);
  return last;
}

async function rawReader(): Promise<RawSocket> {
  const ws = await gyre.raw();
  const reply = await ws.connect(await gyre.token('raw-reader'));
  assert.ok(reply['connect'], JSON.stringify(reply));
  return ws;
}

interface SubscribeResult {
  recoverable?: boolean;
  positioned?: boolean;
  was_recovering?: boolean;
  recovered?: boolean;
  epoch?: string;
  offset?: number;
  publications?: Array<{ data: { n: number }; offset: number }>;
}

async function rawSubscribe(ws: RawSocket, id: number, req: Record<string, unknown>): Promise<SubscribeResult> {
  ws.sendJson({ id, subscribe: req });
  const reply = await ws.reply(id);
  assert.ok(reply['subscribe'], JSON.stringify(reply));
  return reply['subscribe'] as SubscribeResult;
}

// ---- recovery limits and positions ----

describe('recovery outcome', () => {
  test('exactly recovery_max_publication_limit missed: recovered, in order, with offsets', async () => {
    const ch = 'limit-ok';
    const { c, sub, got } = await subscriber(ch);
    await publish(ch, 1);
    await until(() => got.length === 1);
    const ctx = await missWhile(c, sub, async () => {
      await publishRange(ch, 2, 1 + RECOVERY_LIMIT);
    });
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, true);
    assert.equal(ctx.hasRecoveredPublications, true);
    await until(() => got.length === 1 + RECOVERY_LIMIT);
    assert.deepEqual(
      got,
      [1, 2, 3, 4].map((n) => ({ n, offset: n })),
    );
  });

  test('more missed than recovery_max_publication_limit: recovered false, nothing replayed', async () => {
    const ch = 'limit-over';
    const { c, sub, got, first } = await subscriber(ch);
    await publish(ch, 1);
    await until(() => got.length === 1);
    const ctx = await missWhile(c, sub, async () => {
      await publishRange(ch, 2, 2 + RECOVERY_LIMIT);
    });
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, false);
    assert.equal(ctx.hasRecoveredPublications, false);
    assert.deepEqual(ctx.streamPosition, { offset: 2 + RECOVERY_LIMIT, epoch: first.streamPosition!.epoch });
    // Live publications continue; none of the missed ones ever arrives.
    await publish(ch, 100);
    await until(() => got.length === 2);
    assert.deepEqual(got, [
      { n: 1, offset: 1 },
      { n: 100, offset: 3 + RECOVERY_LIMIT },
    ]);
  });

  test('missed publications trimmed by history_size: recovered false, nothing replayed', async () => {
    const ch = 'small:trim';
    const { c, sub, got } = await subscriber(ch);
    await publish(ch, 1);
    await until(() => got.length === 1);
    // Three missed (within the recovery limit) but only two kept.
    const ctx = await missWhile(c, sub, async () => {
      await publishRange(ch, 2, 4);
    });
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, false);
    assert.equal(ctx.streamPosition?.offset, 4);
    await barrier(gyre, sub, ch);
    assert.deepEqual(
      got.map((r) => r.n),
      [1],
    );
  });

  test('nothing missed: recovered true with no publications', async () => {
    const ch = 'nothing-missed';
    const { c, sub, got } = await subscriber(ch);
    await publish(ch, 1);
    await until(() => got.length === 1);
    const ctx = await missWhile(c, sub, async () => {});
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, true);
    assert.equal(ctx.hasRecoveredPublications, false);
    assert.deepEqual(ctx.streamPosition?.offset, 1);
  });

  test('a longer replay comes in exact order, then live publications follow', async () => {
    const ch = 'order';
    const { c, sub, got } = await subscriber(ch);
    await publish(ch, 0);
    await until(() => got.length === 1);
    const ctx = await missWhile(c, sub, async () => {
      await publishRange(ch, 1, RECOVERY_LIMIT);
    });
    assert.equal(ctx.recovered, true);
    await publishRange(ch, RECOVERY_LIMIT + 1, RECOVERY_LIMIT + 5);
    await until(() => got.length === RECOVERY_LIMIT + 6);
    assert.deepEqual(
      got.map((r) => r.n),
      Array.from({ length: RECOVERY_LIMIT + 6 }, (_, i) => i),
    );
    assert.deepEqual(
      got.map((r) => r.offset),
      Array.from({ length: RECOVERY_LIMIT + 6 }, (_, i) => i + 1),
    );
  });
});

describe('recovery on the wire', () => {
  test('a wrong epoch: recovered false (omitted), no publications, the current position', async () => {
    const ch = 'epoch-wrong';
    const top = await publishRange(ch, 1, 2);
    const ws = await rawReader();
    const res = await rawSubscribe(ws, 2, { channel: ch, recover: true, epoch: 'not-' + top.epoch, offset: 1 });
    assert.deepEqual(res, { recoverable: true, positioned: true, epoch: top.epoch, offset: 2, was_recovering: true });
  });

  test('a right epoch: the missed publications, and the offset echoes the client', async () => {
    const ch = 'epoch-right';
    const top = await publishRange(ch, 1, 3);
    const ws = await rawReader();
    const res = await rawSubscribe(ws, 2, { channel: ch, recover: true, epoch: top.epoch, offset: 1 });
    assert.equal(res.recovered, true);
    assert.equal(res.was_recovering, true);
    assert.equal(res.offset, 1);
    assert.equal(res.epoch, top.epoch);
    assert.deepEqual(res.publications, [
      { data: { n: 2 }, offset: 2 },
      { data: { n: 3 }, offset: 3 },
    ]);
  });

  test('an offset ahead of the stream is not recoverable', async () => {
    const ch = 'ahead';
    const top = await publishRange(ch, 1, 2);
    const ws = await rawReader();
    const res = await rawSubscribe(ws, 2, { channel: ch, recover: true, epoch: top.epoch, offset: 10 });
    assert.equal(res.recovered, undefined);
    assert.equal(res.was_recovering, true);
    assert.equal(res.offset, 2);
    assert.equal(res.publications, undefined);
  });

  test('a subscribe without recover is not recovering', async () => {
    const ch = 'plain-sub';
    const top = await publishRange(ch, 1, 2);
    const ws = await rawReader();
    const res = await rawSubscribe(ws, 2, { channel: ch });
    assert.deepEqual(res, { recoverable: true, positioned: true, epoch: top.epoch, offset: 2 });
  });
});

// ---- TTLs ----

// The two tests wait for real TTLs (seconds): run them side by side.
describe('history_ttl and history_meta_ttl', { concurrency: true }, () => {
  test('history_ttl drops publications but keeps the position: a later recovery fails, an up-to-date one succeeds', async () => {
    const ch = 'short:ttl';
    const top = await publishRange(ch, 1, 2);
    await until(async () => {
      const h = (await gyre.api('history', { channel: ch, limit: -1 }))['result'] as { publications: unknown[] };
      return h.publications.length === 0;
    }, 50);
    const h = (await gyre.api('history', { channel: ch, limit: -1 }))['result'] as { offset: number; epoch: string };
    assert.equal(h.offset, 2);
    assert.equal(h.epoch, top.epoch);

    const ws = await rawReader();
    const behind = await rawSubscribe(ws, 2, { channel: ch, recover: true, epoch: top.epoch, offset: 1 });
    assert.equal(behind.recovered, undefined);
    assert.equal(behind.publications, undefined);
    assert.equal(behind.offset, 2);
    const ws2 = await rawReader();
    const upToDate = await rawSubscribe(ws2, 2, { channel: ch, recover: true, epoch: top.epoch, offset: 2 });
    assert.equal(upToDate.recovered, true);
    assert.equal(upToDate.epoch, top.epoch);
    // Offsets continue in the same epoch.
    assert.deepEqual(await publish(ch, 3), { offset: 3, epoch: top.epoch });
  });

  test('history_meta_ttl: an idle stream restarts with a new epoch; the client is told recovery failed', async () => {
    const ch = 'meta:idle';
    const { c, sub, got, first } = await subscriber(ch);
    await publish(ch, 1);
    await until(() => got.length === 1);
    const oldEpoch = first.streamPosition!.epoch;
    const ctx = await missWhile(c, sub, async () => {
      // Nothing touches the stream while the client is away: its meta (2s) runs out.
      await sleep(2_300);
    });
    assert.equal(ctx.wasRecovering, true);
    assert.equal(ctx.recovered, false);
    assert.notEqual(ctx.streamPosition?.epoch, oldEpoch);
    assert.equal(ctx.streamPosition?.offset, 0);
    // The new stream numbers from 1 again, in the new epoch.
    const res = await publish(ch, 2);
    assert.deepEqual(res, { offset: 1, epoch: ctx.streamPosition!.epoch });
    await until(() => got.length === 2);
    assert.deepEqual(got[1], { n: 2, offset: 1 });
  });
});

// ---- races ----

describe('publications racing a subscribe', () => {
  const BURST = 200;

  /** Publishes n..m in-process, yielding to the event loop between publications. */
  async function burst(channel: string, from: number, to: number): Promise<void> {
    for (let n = from; n <= to; n++) {
      await gyre.server.node.publish(channel, JSON.stringify({ n }));
      await tick();
    }
  }

  test('a fresh subscribe: the position plus the pushes after it are contiguous', async () => {
    const ch = 'race-fresh';
    await burst(ch, 1, 5);
    const ws = await rawReader();
    const publishing = burst(ch, 6, 5 + BURST);
    ws.sendJson({ id: 2, subscribe: { channel: ch } });
    await publishing;
    const res = (await ws.reply(2))['subscribe'] as SubscribeResult;
    const start = res.offset!;
    assert.ok(start >= 5 && start <= 5 + BURST);
    const expected = Array.from({ length: 5 + BURST - start }, (_, i) => start + 1 + i);
    const offsets: number[] = [];
    while (offsets.length < expected.length) {
      const m = await ws.next((x) => (x['push'] as { pub?: unknown } | undefined)?.pub !== undefined);
      offsets.push(((m['push'] as { pub: { offset: number } }).pub).offset);
    }
    assert.deepEqual(offsets, expected);
  });

  test('a recovering subscribe: replayed plus live publications are contiguous, no gap, no duplicate', async () => {
    const ch = 'race-recover';
    await burst(ch, 1, 2);
    const top = (await gyre.api('history', { channel: ch }))['result'] as { offset: number; epoch: string };
    const ws = await rawReader();
    const publishing = burst(ch, 3, 2 + BURST);
    // Recover from offset 2 while publications keep coming (some within the recovery limit).
    ws.sendJson({ id: 2, subscribe: { channel: ch, recover: true, epoch: top.epoch, offset: 2 } });
    const res = (await ws.reply(2))['subscribe'] as SubscribeResult;
    await publishing;
    let offsets: number[];
    if (res.recovered === true) {
      offsets = (res.publications ?? []).map((p) => p.offset);
    } else {
      // Too many had been published already: the client starts over from the returned position.
      offsets = Array.from({ length: res.offset! - 2 }, (_, i) => 3 + i);
    }
    while (offsets.length < BURST) {
      const m = await ws.next((x) => (x['push'] as { pub?: unknown } | undefined)?.pub !== undefined);
      offsets.push(((m['push'] as { pub: { offset: number } }).pub).offset);
    }
    assert.deepEqual(
      offsets,
      Array.from({ length: BURST }, (_, i) => 3 + i),
    );
  });

  test('the real client reconnecting during a burst sees every offset exactly once', async () => {
    // Default recovery limit (300) and a history larger than the burst: it all stays recoverable.
    const big = await startGyre({ channel: { without_namespace: { history_size: 1000 } } });
    try {
      const ch = 'race-client';
      const publishTo = async (from: number, to: number) => {
        for (let n = from; n <= to; n++) {
          await big.server.node.publish(ch, JSON.stringify({ n }));
          await tick();
        }
      };
      const c = big.client({ token: await big.token('reader') });
      const sub = c.newSubscription(ch);
      const offsets: number[] = [];
      const contexts: SubscribedContext[] = [];
      sub.on('publication', (ctx: PublicationContext) => offsets.push(ctx.offset!));
      sub.on('subscribed', (ctx: SubscribedContext) => contexts.push(ctx));
      const subscribed = once(sub, 'subscribed');
      sub.subscribe();
      c.connect();
      await subscribed;
      await publishTo(1, 3);
      await until(() => offsets.length === 3);

      const disconnected = once(c, 'disconnected');
      c.disconnect();
      await disconnected;
      await publishTo(4, 5);
      const resubscribed = once<SubscribedContext>(sub, 'subscribed');
      c.connect();
      const publishing = publishTo(6, 5 + BURST);
      const ctx = await resubscribed;
      await publishing;
      assert.equal(ctx.recovered, true);
      await until(() => offsets.length >= 5 + BURST);
      assert.deepEqual(
        offsets,
        Array.from({ length: 5 + BURST }, (_, i) => i + 1),
      );
      assert.equal(contexts.length, 2);
    } finally {
      await big.close();
    }
  });
});

describe('publications inside the subscribe window', () => {
  /**
   * Arms one subscribe to `channel`: `during` publications go out while the subscription is being
   * set up (before the stream position is read), `afterRead` more right after it is read and before
   * the reply is sent. In-process publications cannot land there by themselves (the memory engine
   * completes a subscribe within one turn of the event loop), so the node's presence and recovery
   * calls are wrapped.
   */
  function arm(channel: string, during: number, afterRead: number): { published: number[] } {
    const node = gyre.server.node;
    const addPresence = node.addPresence;
    const recover = node.recover;
    const published: number[] = [];
    const publishSync = (count: number) => {
      for (let i = 0; i < count; i++) {
        void node.publish(channel, JSON.stringify({ n: 1000 + published.length })).then((r) => published.push(r.position.offset));
      }
    };
    node.addPresence = async function (ch, clientId, info) {
      if (ch === channel) {
        node.addPresence = addPresence;
        publishSync(during);
      }
      return addPresence.call(this, ch, clientId, info);
    };
    node.recover = async function (resolved, since) {
      const res = await recover.call(this, resolved, since);
      if (resolved.channel === channel) {
        node.recover = recover;
        publishSync(afterRead);
      }
      return res;
    };
    return { published };
  }

  async function pubOffsets(ws: RawSocket, untilOffset: number): Promise<number[]> {
    const offsets: number[] = [];
    while (offsets[offsets.length - 1] !== untilOffset) {
      const m = await ws.next((x) => (x['push'] as { pub?: unknown } | undefined)?.pub !== undefined);
      offsets.push((m['push'] as { pub: { offset: number } }).pub.offset);
    }
    return offsets;
  }

  test('a recovering subscribe: replayed and live publications without gap or duplicate', async () => {
    const ch = 'window-recover';
    const top = await publishRange(ch, 1, 2);
    const ws = await rawReader();
    const { published } = arm(ch, 2, 2);
    const res = await rawSubscribe(ws, 2, { channel: ch, recover: true, epoch: top.epoch, offset: 1 });
    assert.deepEqual(published.sort((a, b) => a - b), [3, 4, 5, 6]);
    assert.equal(res.recovered, true);
    assert.equal(res.offset, 1);
    assert.deepEqual(
      res.publications?.map((p) => p.offset),
      [2, 3, 4],
    );
    await publish(ch, 7);
    assert.deepEqual(await pubOffsets(ws, 7), [5, 6, 7]);
  });

  test('a fresh subscribe: the position covers what came before it, the rest is pushed once', async () => {
    const ch = 'window-fresh';
    await publishRange(ch, 1, 2);
    const ws = await rawReader();
    arm(ch, 3, 2);
    const res = await rawSubscribe(ws, 2, { channel: ch });
    assert.equal(res.offset, 5);
    assert.equal(res.publications, undefined);
    await publish(ch, 8);
    assert.deepEqual(await pubOffsets(ws, 8), [6, 7, 8]);
  });

  test('the real client recovering through the window sees every offset once', async () => {
    const ch = 'window-client';
    const { c, sub, got } = await subscriber(ch);
    await publish(ch, 1);
    await until(() => got.length === 1);
    const ctx = await missWhile(c, sub, async () => {
      await publish(ch, 2);
      arm(ch, 2, 2);
    });
    assert.equal(ctx.recovered, true);
    await publish(ch, 3);
    await until(() => got.length === 7);
    assert.deepEqual(
      got.map((r) => r.offset),
      [1, 2, 3, 4, 5, 6, 7],
    );
  });
});

// ---- idempotent publish ----

describe('idempotency_key', () => {
  test('a second API publish with the same key is not delivered and returns the same position', async () => {
    const ch = 'idem';
    const { sub, got } = await subscriber(ch);
    const first = await gyre.api('publish', { channel: ch, data: { n: 1 }, idempotency_key: 'k-1' });
    const second = await gyre.api('publish', { channel: ch, data: { n: 2 }, idempotency_key: 'k-1' });
    assert.deepEqual(second, first);
    assert.equal((first['result'] as { offset: number }).offset, 1);
    // Another key publishes.
    const third = await gyre.api('publish', { channel: ch, data: { n: 3 }, idempotency_key: 'k-2' });
    assert.equal((third['result'] as { offset: number }).offset, 2);
    await barrier(gyre, sub, ch);
    assert.deepEqual(
      got.map((r) => r.n),
      [1, 3],
    );
    const h = (await gyre.api('history', { channel: ch, limit: -1 }))['result'] as { publications: Array<{ data: { n?: number } }> };
    assert.deepEqual(
      h.publications.map((p) => p.data.n).filter((n) => n !== undefined),
      [1, 3],
    );
  });

  test('the key is per channel', async () => {
    const a = await gyre.api('publish', { channel: 'idem-a', data: 1, idempotency_key: 'same' });
    const b = await gyre.api('publish', { channel: 'idem-b', data: 1, idempotency_key: 'same' });
    assert.equal((a['result'] as { offset: number }).offset, 1);
    assert.equal((b['result'] as { offset: number }).offset, 1);
    assert.notEqual((a['result'] as { epoch: string }).epoch, (b['result'] as { epoch: string }).epoch);
  });
});
