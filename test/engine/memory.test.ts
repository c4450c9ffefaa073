/**
 * Unit tests of the in-memory engine: HistoryStream (offsets, size trim, TTL, meta TTL, reads),
 * MemoryBroker (epochs, idempotency, delivery to the node, history queries) and
 * MemoryPresenceManager. Time is either passed explicitly or Date is mocked: no real waiting.
 */
import assert from 'node:assert/strict';
import { afterEach, mock, test } from 'node:test';
import { MemoryBroker, newEpoch } from '../../src/engine/memory/broker.js';
import { HistoryStream } from '../../src/engine/memory/history-stream.js';
import { MemoryPresenceManager } from '../../src/engine/memory/presence.js';
import type { BrokerEventHandler, PublishOptions } from '../../src/engine/types.js';
import type { ClientInfo, Publication, StreamPosition } from '../../src/protocol/types.js';

const HOUR = 3_600_000;
const KEEP = { size: 5, ttl: 60_000, metaTtl: HOUR };

function pub(n: number): Publication {
  return { data: JSON.stringify({ n }), offset: 0 };
}

function offsets(pubs: readonly Publication[]): number[] {
  return pubs.map((p) => p.offset);
}

/** A stream with publications 1..count appended at `now`. */
function streamWith(count: number, now = 1_000, opts = KEEP): HistoryStream {
  const s = new HistoryStream('ep', now, opts.metaTtl);
  for (let i = 1; i <= count; i++) s.append(pub(i), opts, now);
  return s;
}

// ---- HistoryStream ----

test('stream: offsets increase by one from 1; the epoch stays', () => {
  const s = new HistoryStream('ep1', 0, HOUR);
  const positions: StreamPosition[] = [];
  for (let i = 1; i <= 4; i++) positions.push(s.append(pub(i), KEEP, i));
  assert.deepEqual(positions, [1, 2, 3, 4].map((offset) => ({ offset, epoch: 'ep1' })));
  assert.equal(s.last()?.offset, 4);
  assert.equal(s.last()?.data, '{"n":4}');
});

test('stream: size trims the oldest publications but not the top offset', () => {
  const s = streamWith(8);
  const res = s.read({ limit: -1, metaTtl: HOUR }, 1_000);
  assert.deepEqual(offsets(res.publications), [4, 5, 6, 7, 8]);
  assert.deepEqual(res.position, { offset: 8, epoch: 'ep' });
});

test('stream: a smaller size on a later publish trims further', () => {
  const s = streamWith(5);
  s.append(pub(6), { ...KEEP, size: 2 }, 1_000);
  assert.deepEqual(offsets(s.read({ limit: -1, metaTtl: HOUR }, 1_000).publications), [5, 6]);
});

test('stream: limit 0 returns only the position', () => {
  const res = streamWith(3).read({ limit: 0, metaTtl: HOUR }, 1_000);
  assert.deepEqual(res.publications, []);
  assert.deepEqual(res.position, { offset: 3, epoch: 'ep' });
});

test('stream: limit, since and reverse', () => {
  const s = streamWith(5);
  const read = (q: { limit: number; since?: StreamPosition; reverse?: boolean }) =>
    offsets(s.read({ metaTtl: HOUR, ...q }, 1_000).publications);
  assert.deepEqual(read({ limit: -1 }), [1, 2, 3, 4, 5]);
  assert.deepEqual(read({ limit: 2 }), [1, 2]);
  assert.deepEqual(read({ limit: 2, reverse: true }), [5, 4]);
  assert.deepEqual(read({ limit: -1, reverse: true }), [5, 4, 3, 2, 1]);
  assert.deepEqual(read({ limit: -1, since: { offset: 2, epoch: 'ep' } }), [3, 4, 5]);
  assert.deepEqual(read({ limit: 2, since: { offset: 2, epoch: 'ep' } }), [3, 4]);
  assert.deepEqual(read({ limit: -1, since: { offset: 4, epoch: 'ep' }, reverse: true }), [3, 2, 1]);
  assert.deepEqual(read({ limit: 1, since: { offset: 4, epoch: 'ep' }, reverse: true }), [3]);
  assert.deepEqual(read({ limit: -1, since: { offset: 5, epoch: 'ep' } }), []);
  assert.deepEqual(read({ limit: -1, since: { offset: 0, epoch: 'ep' } }), [1, 2, 3, 4, 5]);
  // A limit larger than what is there returns what is there.
  assert.deepEqual(read({ limit: 100 }), [1, 2, 3, 4, 5]);
});

test('stream: reading does not hand out the internal list', () => {
  const s = streamWith(3);
  s.read({ limit: -1, metaTtl: HOUR }, 1_000).publications.length = 0;
  s.read({ limit: -1, reverse: true, metaTtl: HOUR }, 1_000).publications.length = 0;
  assert.deepEqual(offsets(s.read({ limit: -1, metaTtl: HOUR }, 1_000).publications), [1, 2, 3]);
});

test('stream: publications expire ttl after the last publish; the position stays', () => {
  const s = new HistoryStream('ep', 0, HOUR);
  s.append(pub(1), { ...KEEP, ttl: 100 }, 0);
  s.append(pub(2), { ...KEEP, ttl: 100 }, 50);
  // The second publish extends the TTL of both.
  assert.deepEqual(offsets(s.read({ limit: -1, metaTtl: HOUR }, 149).publications), [1, 2]);
  const expired = s.read({ limit: -1, metaTtl: HOUR }, 150);
  assert.deepEqual(expired.publications, []);
  assert.deepEqual(expired.position, { offset: 2, epoch: 'ep' });
  // Offsets continue after expiry.
  assert.equal(s.append(pub(3), { ...KEEP, ttl: 100 }, 200).offset, 3);
  assert.deepEqual(offsets(s.read({ limit: -1, metaTtl: HOUR }, 200).publications), [3]);
});

test('stream: dropExpired and clear keep the position', () => {
  const s = streamWith(3, 0, { ...KEEP, ttl: 10 });
  s.dropExpired(9);
  assert.equal(s.last()?.offset, 3);
  s.dropExpired(10);
  assert.equal(s.last(), undefined);
  const t = streamWith(3);
  t.clear();
  const res = t.read({ limit: -1, metaTtl: HOUR }, 1_000);
  assert.deepEqual(res.publications, []);
  assert.deepEqual(res.position, { offset: 3, epoch: 'ep' });
});

test('stream: the meta expires metaTtl after the last publish; 0 means never', () => {
  const s = new HistoryStream('ep', 0, 1_000);
  assert.equal(s.metaExpired(999), false);
  assert.equal(s.metaExpired(1_000), true);
  s.append(pub(1), { size: 5, ttl: 100, metaTtl: 1_000 }, 500);
  assert.equal(s.metaExpired(1_499), false);
  assert.equal(s.metaExpired(1_500), true);
  assert.equal(new HistoryStream('ep', 0, 0).metaExpired(Number.MAX_SAFE_INTEGER), false);
});

test('stream: touch (a read) extends the meta TTL from now; 0 leaves it', () => {
  const s = new HistoryStream('ep', 0, 1_000);
  s.touch(900, 1_000);
  assert.equal(s.metaExpired(1_899), false);
  assert.equal(s.metaExpired(1_900), true);
  s.touch(1_000, 0);
  assert.equal(s.metaExpired(1_900), true);
});

test('newEpoch makes distinct non-empty epochs', () => {
  const a = newEpoch();
  const b = newEpoch();
  assert.ok(a.length > 0);
  assert.notEqual(a, b);
});

// ---- MemoryBroker ----

interface Delivered {
  channel: string;
  pub: Publication;
  position: StreamPosition;
  useDelta: boolean;
}

/** A running broker that records what it delivers to the node. */
async function broker(): Promise<{ b: MemoryBroker; delivered: Delivered[]; joins: string[] }> {
  const b = new MemoryBroker();
  const delivered: Delivered[] = [];
  const joins: string[] = [];
  const handler: BrokerEventHandler = {
    onPublication: (channel, p, position, useDelta) => delivered.push({ channel, pub: p, position, useDelta }),
    onJoin: (channel, info) => joins.push(`join ${channel} ${info.client}`),
    onLeave: (channel, info) => joins.push(`leave ${channel} ${info.client}`),
  };
  await b.run(handler);
  return { b, delivered, joins };
}

const HISTORY: PublishOptions = { history: { size: 10, ttl: 60_000, metaTtl: HOUR } };
const NO_HISTORY: PublishOptions = { history: { size: 0, ttl: 0, metaTtl: HOUR } };

afterEach(() => mock.timers.reset());

test('broker: offsets increase per channel, the epoch is stable, channels are independent', async () => {
  const { b, delivered } = await broker();
  const a1 = await b.publish('a', '{"i":1}', HISTORY);
  const a2 = await b.publish('a', '{"i":2}', HISTORY);
  const b1 = await b.publish('b', '{"i":1}', HISTORY);
  assert.equal(a1.position.offset, 1);
  assert.equal(a2.position.offset, 2);
  assert.equal(a1.position.epoch, a2.position.epoch);
  assert.ok(a1.position.epoch.length > 0);
  assert.equal(b1.position.offset, 1);
  assert.notEqual(b1.position.epoch, a1.position.epoch);
  assert.equal(a1.suppressed, false);
  assert.deepEqual(
    delivered.map((d) => [d.channel, d.pub.offset, d.pub.data, d.position.offset]),
    [
      ['a', 1, '{"i":1}', 1],
      ['a', 2, '{"i":2}', 2],
      ['b', 1, '{"i":1}', 1],
    ],
  );
  const h = await b.history('a', { limit: -1, metaTtl: HOUR });
  assert.deepEqual(h.position, a2.position);
  assert.deepEqual(h.publications.map((p) => p.data), ['{"i":1}', '{"i":2}']);
  await b.close();
});

test('broker: without history a publication has offset 0 and an empty epoch, and is still delivered', async () => {
  const { b, delivered } = await broker();
  const res = await b.publish('x', '{}', NO_HISTORY);
  assert.deepEqual(res.position, { offset: 0, epoch: '' });
  assert.equal(delivered.length, 1);
  assert.equal(delivered[0]!.pub.offset, 0);
  const h = await b.history('x', { limit: -1, metaTtl: HOUR });
  assert.deepEqual(h.publications, []);
  assert.equal(h.position.offset, 0);
  await b.close();
});

test('broker: info, tags and useDelta travel with the publication', async () => {
  const { b, delivered } = await broker();
  const info: ClientInfo = { user: 'u', client: 'c', connInfo: '{"a":1}' };
  await b.publish('x', '"d"', { ...HISTORY, info, tags: { k: 'v' }, useDelta: true });
  assert.deepEqual(delivered[0]!.pub.info, info);
  assert.deepEqual(delivered[0]!.pub.tags, { k: 'v' });
  assert.equal(delivered[0]!.useDelta, true);
  const h = await b.history('x', { limit: 1, metaTtl: HOUR });
  assert.deepEqual(h.publications[0]!.info, info);
  await b.close();
});

test('broker: a history read of an unknown channel starts a stream: its epoch is kept by the next publish', async () => {
  const { b } = await broker();
  const before = await b.history('fresh', { limit: 0, metaTtl: HOUR });
  assert.equal(before.position.offset, 0);
  assert.ok(before.position.epoch.length > 0);
  const res = await b.publish('fresh', '1', HISTORY);
  assert.deepEqual(res.position, { offset: 1, epoch: before.position.epoch });
  await b.close();
});

test('broker: size trims history', async () => {
  const { b } = await broker();
  for (let i = 1; i <= 6; i++) await b.publish('x', String(i), { history: { size: 3, ttl: 60_000, metaTtl: HOUR } });
  const h = await b.history('x', { limit: -1, metaTtl: HOUR });
  assert.deepEqual(offsets(h.publications), [4, 5, 6]);
  assert.equal(h.position.offset, 6);
  await b.close();
});

test('broker: since / limit / reverse queries', async () => {
  const { b } = await broker();
  let top: StreamPosition = { offset: 0, epoch: '' };
  for (let i = 1; i <= 5; i++) top = (await b.publish('x', String(i), HISTORY)).position;
  const q = async (limit: number, since?: number, reverse = false) =>
    offsets(
      (
        await b.history('x', {
          limit,
          reverse,
          metaTtl: HOUR,
          ...(since !== undefined && { since: { offset: since, epoch: top.epoch } }),
        })
      ).publications,
    );
  assert.deepEqual(await q(-1, 3), [4, 5]);
  assert.deepEqual(await q(1, 3), [4]);
  assert.deepEqual(await q(2, undefined, true), [5, 4]);
  assert.deepEqual(await q(-1, 3, true), [2, 1]);
  assert.deepEqual(await q(0, 1), []);
  await b.close();
});

test('broker: history ttl drops publications but keeps the position and the epoch', async () => {
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const { b } = await broker();
  const opts: PublishOptions = { history: { size: 10, ttl: 1_000, metaTtl: HOUR } };
  await b.publish('x', '1', opts);
  const top = (await b.publish('x', '2', opts)).position;
  mock.timers.tick(999);
  assert.equal((await b.history('x', { limit: -1, metaTtl: HOUR })).publications.length, 2);
  mock.timers.tick(1);
  const h = await b.history('x', { limit: -1, metaTtl: HOUR });
  assert.deepEqual(h.publications, []);
  assert.deepEqual(h.position, top);
  const next = await b.publish('x', '3', opts);
  assert.deepEqual(next.position, { offset: 3, epoch: top.epoch });
  await b.close();
});

test('broker: when the meta TTL passes with no activity, the stream restarts with a new epoch', async () => {
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const { b } = await broker();
  const opts: PublishOptions = { history: { size: 10, ttl: 1_000, metaTtl: 5_000 } };
  const first = (await b.publish('x', '1', opts)).position;
  await b.publish('x', '2', opts);
  mock.timers.tick(4_999);
  assert.equal((await b.publish('x', '3', opts)).position.epoch, first.epoch);
  mock.timers.tick(5_000);
  const after = await b.history('x', { limit: -1, metaTtl: 5_000 });
  assert.notEqual(after.position.epoch, first.epoch);
  assert.equal(after.position.offset, 0);
  assert.deepEqual(after.publications, []);
  const restarted = await b.publish('x', '4', opts);
  assert.deepEqual(restarted.position, { offset: 1, epoch: after.position.epoch });
  await b.close();
});

test('broker: history reads keep the stream meta alive (as Centrifugo extends it on reads)', async () => {
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const { b } = await broker();
  const opts: PublishOptions = { history: { size: 10, ttl: 1_000, metaTtl: 5_000 } };
  const first = (await b.publish('x', '1', opts)).position;
  for (let i = 0; i < 3; i++) {
    mock.timers.tick(4_000);
    assert.deepEqual((await b.history('x', { limit: 0, metaTtl: 5_000 })).position, first);
  }
  await b.close();
});

test('broker: an idempotency key suppresses a second publish and returns the first result', async () => {
  const { b, delivered } = await broker();
  const first = await b.publish('x', '"a"', { ...HISTORY, idempotencyKey: 'k1' });
  const again = await b.publish('x', '"b"', { ...HISTORY, idempotencyKey: 'k1' });
  assert.equal(again.suppressed, true);
  assert.deepEqual(again.position, first.position);
  assert.equal(delivered.length, 1);
  assert.equal((await b.history('x', { limit: -1, metaTtl: HOUR })).publications.length, 1);
  // Another key, or the same key in another channel, publishes.
  const other = await b.publish('x', '"c"', { ...HISTORY, idempotencyKey: 'k2' });
  assert.equal(other.suppressed, false);
  assert.equal(other.position.offset, 2);
  assert.equal((await b.publish('y', '"d"', { ...HISTORY, idempotencyKey: 'k1' })).suppressed, false);
  assert.equal(delivered.length, 3);
  await b.close();
});

test('broker: an idempotency key works without history and expires after its ttl', async () => {
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const { b, delivered } = await broker();
  await b.publish('x', '1', { ...NO_HISTORY, idempotencyKey: 'k', idempotentResultTtl: 1_000 });
  assert.equal((await b.publish('x', '1', { ...NO_HISTORY, idempotencyKey: 'k', idempotentResultTtl: 1_000 })).suppressed, true);
  mock.timers.tick(1_000);
  assert.equal((await b.publish('x', '1', { ...NO_HISTORY, idempotencyKey: 'k', idempotentResultTtl: 1_000 })).suppressed, false);
  assert.equal(delivered.length, 2);
  await b.close();
});

test('broker: removeHistory clears publications but keeps the position', async () => {
  const { b } = await broker();
  await b.publish('x', '1', HISTORY);
  const top = (await b.publish('x', '2', HISTORY)).position;
  await b.removeHistory('x');
  await b.removeHistory('never-used');
  const h = await b.history('x', { limit: -1, metaTtl: HOUR });
  assert.deepEqual(h.publications, []);
  assert.deepEqual(h.position, top);
  await b.close();
});

test('broker: join and leave reach the node', async () => {
  const { b, joins } = await broker();
  await b.publishJoin('x', { user: 'u', client: 'c1' });
  await b.publishLeave('x', { user: 'u', client: 'c1' });
  assert.deepEqual(joins, ['join x c1', 'leave x c1']);
  await b.close();
});

// ---- MemoryPresenceManager ----

test('presence: two clients of one user count as two clients and one user', async () => {
  const p = new MemoryPresenceManager();
  await p.addPresence('ch', 'c1', { user: 'u1', client: 'c1', connInfo: '{"n":1}' });
  await p.addPresence('ch', 'c2', { user: 'u1', client: 'c2' });
  assert.deepEqual(await p.presenceStats('ch'), { numClients: 2, numUsers: 1 });
  await p.addPresence('ch', 'c3', { user: 'u2', client: 'c3' });
  assert.deepEqual(await p.presenceStats('ch'), { numClients: 3, numUsers: 2 });
  const all = await p.presence('ch');
  assert.deepEqual([...all.keys()].sort(), ['c1', 'c2', 'c3']);
  assert.deepEqual(all.get('c1'), { user: 'u1', client: 'c1', connInfo: '{"n":1}' });
  await p.close();
});

test('presence: adding again refreshes, removing drops; other channels are independent', async () => {
  const p = new MemoryPresenceManager();
  await p.addPresence('ch', 'c1', { user: 'u1', client: 'c1' });
  await p.addPresence('ch', 'c1', { user: 'u1', client: 'c1', chanInfo: '"x"' });
  await p.addPresence('other', 'c9', { user: 'u9', client: 'c9' });
  assert.deepEqual(await p.presenceStats('ch'), { numClients: 1, numUsers: 1 });
  assert.equal((await p.presence('ch')).get('c1')?.chanInfo, '"x"');
  await p.removePresence('ch', 'c1', 'u1');
  await p.removePresence('ch', 'missing', 'u1');
  await p.removePresence('nowhere', 'c1', 'u1');
  assert.deepEqual(await p.presenceStats('ch'), { numClients: 0, numUsers: 0 });
  assert.equal((await p.presence('ch')).size, 0);
  assert.deepEqual(await p.presenceStats('other'), { numClients: 1, numUsers: 1 });
  await p.close();
});

test('presence: the returned map is a copy', async () => {
  const p = new MemoryPresenceManager();
  await p.addPresence('ch', 'c1', { user: 'u1', client: 'c1' });
  (await p.presence('ch')).clear();
  assert.equal((await p.presence('ch')).size, 1);
  await p.close();
});
