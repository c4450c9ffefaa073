/**
 * Unit tests of the Hub (src/node/hub.ts) with fake subscribers in place of client connections:
 * add / remove and their first / last return values, the channel and subscription counts, the
 * fan-out of a publication as ONE shared frame (per delta variant), fossil delta subscribers next to
 * plain ones, subscribers still being set up (pending), join / leave pushes, removal during a
 * fan-out, and unknown channels.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyDelta } from 'fossil-delta';
import { Hub, type HubSubscriber } from '../../src/node/hub.js';
import { INTERNAL_CHANNEL_PREFIX } from '../../src/node/channel-rules.js';
import type { OutFrame } from '../../src/protocol/frame.js';
import type { ProtocolCodec } from '../../src/protocol/codec.js';
import { jsonCodec, uniJsonCodec } from '../../src/protocol/json-codec.js';
import { protobufCodec } from '../../src/protocol/protobuf-codec.js';
import type { ClientInfo, Publication } from '../../src/protocol/types.js';

/** A subscriber recording the frames it was sent. */
class FakeSub implements HubSubscriber {
  readonly frames: OutFrame[] = [];
  deltaPrimed = false;
  pending: Publication[] | null = null;
  /** Runs inside send(), before the frame is recorded (e.g. to unsubscribe during the fan-out). */
  onSend: ((frame: OutFrame) => void) | undefined;
  /** What send() returns (false: the connection takes no more). */
  accept = true;

  constructor(
    readonly clientId: string,
    readonly opts: { delta?: boolean; pushJoinLeave?: boolean; codec?: ProtocolCodec } = {},
  ) {}

  get codec(): ProtocolCodec {
    return this.opts.codec ?? jsonCodec;
  }

  get delta(): boolean {
    return this.opts.delta === true;
  }

  get pushJoinLeave(): boolean {
    return this.opts.pushJoinLeave === true;
  }

  send(frame: OutFrame): boolean {
    this.onSend?.(frame);
    this.frames.push(frame);
    return this.accept;
  }

  /** Payloads of the frames received, as parsed JSON. */
  get messages(): unknown[] {
    return this.frames.map((f) => JSON.parse(f.payload.toString('utf8')) as unknown);
  }

  /** The last frame received (fails when none). */
  get last(): OutFrame {
    const f = this.frames.at(-1);
    assert.ok(f !== undefined, `${this.clientId} received no frame`);
    return f;
  }
}

/** A publication of `data` (serialized here). */
function pub(data: unknown, offset = 0, extra: Partial<Publication> = {}): Publication & { data: string } {
  return { offset, ...extra, data: JSON.stringify(data) };
}

function text(frame: OutFrame): string {
  return frame.payload.toString('utf8');
}

/** The fossil patch carried by a delta frame, applied to `prev` (raw JSON text). */
function applyPatchFrame(frame: OutFrame, prev: string): string {
  const msg = JSON.parse(text(frame)) as { push: { pub: { data: string; delta?: boolean } } };
  assert.equal(msg.push.pub.delta, true, `not a delta frame: ${text(frame)}`);
  const patch = Buffer.from(msg.push.pub.data, 'utf8');
  return Buffer.from(applyDelta(Buffer.from(prev, 'utf8'), patch)).toString('utf8');
}

/** A hub with `subs` added to `channel`. */
function hubWith(channel: string, ...subs: FakeSub[]): Hub {
  const hub = new Hub();
  for (const s of subs) hub.add(channel, s);
  return hub;
}

describe('add and remove', () => {
  test('add returns true for the first subscriber of a channel only', () => {
    const hub = new Hub();
    assert.equal(hub.add('news', new FakeSub('c1')), true);
    assert.equal(hub.add('news', new FakeSub('c2')), false);
    assert.equal(hub.add('news', new FakeSub('c3')), false);
    assert.equal(hub.add('sport', new FakeSub('c1')), true);
    assert.equal(hub.subscriberCount('news'), 3);
    assert.equal(hub.subscriberCount('sport'), 1);
    assert.equal(hub.subscriptions, 4);
    assert.equal(hub.channelCount, 2);
    assert.deepEqual([...hub.channelNames()].sort(), ['news', 'sport']);
  });

  test('remove returns true only when the last subscriber of the channel leaves', () => {
    const hub = hubWith('news', new FakeSub('c1'), new FakeSub('c2'));
    assert.equal(hub.remove('news', 'c1'), false);
    assert.equal(hub.subscriberCount('news'), 1);
    assert.equal(hub.subscriptions, 1);
    assert.equal(hub.channelCount, 1);
    assert.equal(hub.remove('news', 'c2'), true);
    assert.equal(hub.subscriberCount('news'), 0);
    assert.equal(hub.subscriptions, 0);
    assert.equal(hub.channelCount, 0);
    assert.deepEqual([...hub.channelNames()], []);
    // The channel is gone: the next subscriber is the first again.
    assert.equal(hub.add('news', new FakeSub('c3')), true);
  });

  test('removing from an unknown channel, or an unknown client, changes nothing and returns false', () => {
    const hub = hubWith('news', new FakeSub('c1'));
    assert.equal(hub.remove('nope', 'c1'), false);
    assert.equal(hub.remove('news', 'c9'), false);
    assert.equal(hub.remove('news', 'c1'), true);
    // A second remove of the same client: already gone.
    assert.equal(hub.remove('news', 'c1'), false);
    assert.equal(hub.subscriptions, 0);
    assert.equal(hub.subscriberCount('news'), 0);
  });

  test('adding the same client id twice to a channel replaces it and counts it once', () => {
    const hub = new Hub();
    const first = new FakeSub('c1');
    const second = new FakeSub('c1');
    assert.equal(hub.add('news', first), true);
    assert.equal(hub.add('news', second), false);
    assert.equal(hub.subscriberCount('news'), 1);
    assert.equal(hub.subscriptions, 1);
    hub.publish('news', pub({ n: 1 }), false);
    assert.equal(first.frames.length, 0);
    assert.equal(second.frames.length, 1);
    assert.equal(hub.remove('news', 'c1'), true);
    assert.equal(hub.subscriptions, 0);
  });

  test('counts on a fresh hub and for an unknown channel are zero', () => {
    const hub = new Hub();
    assert.equal(hub.subscriberCount('nope'), 0);
    assert.equal(hub.subscriptions, 0);
    assert.equal(hub.channelCount, 0);
    assert.deepEqual([...hub.channelNames()], []);
  });

  test('internal channels are left out of channelNames and channelCount, but have subscribers', () => {
    const internal = `${INTERNAL_CHANNEL_PREFIX}events`;
    const hub = new Hub();
    assert.equal(hub.add(internal, new FakeSub('c1')), true);
    hub.add('news', new FakeSub('c1'));
    assert.deepEqual([...hub.channelNames()], ['news']);
    assert.equal(hub.channelCount, 1);
    assert.equal(hub.subscriberCount(internal), 1);
    // Publications still reach its subscribers.
    const s = new FakeSub('c2');
    hub.add(internal, s);
    hub.publish(internal, pub({ e: 1 }), false);
    assert.equal(s.frames.length, 1);
  });
});

describe('publish', () => {
  test('fan-out to N subscribers shares one encoded frame object', () => {
    const subs = Array.from({ length: 5 }, (_, i) => new FakeSub(`c${i}`));
    const hub = hubWith('news', ...subs);
    hub.publish('news', pub({ text: 'hi' }, 7), false);
    for (const s of subs) assert.equal(s.frames.length, 1, `${s.clientId} frames`);
    const frame = subs[0]!.last;
    for (const s of subs) assert.strictEqual(s.last, frame, `${s.clientId} got another frame object`);
    assert.equal(text(frame), '{"push":{"channel":"news","pub":{"data":{"text":"hi"},"offset":7}}}');
    assert.equal(frame.size, Buffer.byteLength(text(frame)));
  });

  test('each publication is a new frame; a frame carries info and tags; offset 0 is left out', () => {
    const a = new FakeSub('a');
    const hub = hubWith('news', a);
    const info: ClientInfo = { user: 'u1', client: 'c1', connInfo: '{"n":1}', chanInfo: '{"r":"x"}' };
    hub.publish('news', pub({ n: 1 }, 0, { info, tags: { k: 'v' } }), false);
    hub.publish('news', pub({ n: 2 }), false);
    assert.equal(a.frames.length, 2);
    assert.notStrictEqual(a.frames[0], a.frames[1]);
    assert.deepEqual(a.messages, [
      {
        push: {
          channel: 'news',
          pub: { data: { n: 1 }, info: { user: 'u1', client: 'c1', conn_info: { n: 1 }, chan_info: { r: 'x' } }, tags: { k: 'v' } },
        },
      },
      { push: { channel: 'news', pub: { data: { n: 2 } } } },
    ]);
  });

  test('a publication reaches only the subscribers of its channel', () => {
    const hub = new Hub();
    const onNews = new FakeSub('c1');
    const onSport = new FakeSub('c2');
    hub.add('news', onNews);
    hub.add('sport', onSport);
    hub.publish('news', pub({ n: 1 }), false);
    assert.equal(onNews.frames.length, 1);
    assert.equal(onSport.frames.length, 0);
  });

  test('publishing to a channel without subscribers does nothing', () => {
    const hub = new Hub();
    const s = new FakeSub('c1');
    hub.add('news', s);
    hub.publish('nope', pub({ n: 1 }), true);
    hub.publish('nope', pub({ n: 2 }), false);
    assert.equal(s.frames.length, 0);
    assert.equal(hub.channelCount, 1);
    assert.equal(hub.subscriberCount('nope'), 0);
    // After the last subscriber left, too.
    hub.remove('news', 'c1');
    hub.publish('news', pub({ n: 3 }), false);
    assert.equal(s.frames.length, 0);
  });

  test('a subscriber being set up (pending) gets the publication held back, not sent; the others get it', () => {
    const live = new FakeSub('live');
    const settingUp = new FakeSub('setting-up');
    settingUp.pending = [];
    const hub = hubWith('news', live, settingUp);
    const p1 = pub({ n: 1 }, 1);
    const p2 = pub({ n: 2 }, 2);
    hub.publish('news', p1, false);
    hub.publish('news', p2, false);
    assert.equal(settingUp.frames.length, 0);
    assert.deepEqual(settingUp.pending, [p1, p2]);
    assert.strictEqual(settingUp.pending[0], p1);
    assert.equal(live.frames.length, 2);
  });

  test('a subscriber whose send() returns false does not stop the fan-out', () => {
    const subs = [new FakeSub('a'), new FakeSub('b'), new FakeSub('c')];
    subs[0]!.accept = false;
    const hub = hubWith('news', ...subs);
    hub.publish('news', pub({ n: 1 }), false);
    for (const s of subs) assert.equal(s.frames.length, 1, s.clientId);
    // The hub does not drop a refusing subscriber by itself.
    assert.equal(hub.subscriberCount('news'), 3);
  });
});

describe('removal during fan-out', () => {
  test('a subscriber removing itself while being sent to: the others still get the frame, once', () => {
    const subs = Array.from({ length: 5 }, (_, i) => new FakeSub(`c${i}`));
    const hub = hubWith('news', ...subs);
    subs[1]!.onSend = () => hub.remove('news', 'c1');
    hub.publish('news', pub({ n: 1 }), false);
    assert.deepEqual(
      subs.map((s) => s.frames.length),
      [1, 1, 1, 1, 1],
    );
    const frame = subs[0]!.last;
    for (const s of subs) assert.strictEqual(s.last, frame);
    assert.equal(hub.subscriberCount('news'), 4);
    assert.equal(hub.subscriptions, 4);
    hub.publish('news', pub({ n: 2 }), false);
    assert.deepEqual(
      subs.map((s) => s.frames.length),
      [2, 1, 2, 2, 2],
    );
  });

  test('a subscriber removed by another during the fan-out, before its turn, is not sent to', () => {
    const subs = Array.from({ length: 4 }, (_, i) => new FakeSub(`c${i}`));
    const hub = hubWith('news', ...subs);
    subs[0]!.onSend = () => hub.remove('news', 'c2');
    hub.publish('news', pub({ n: 1 }), false);
    assert.deepEqual(
      subs.map((s) => s.frames.length),
      [1, 1, 0, 1],
    );
    assert.equal(hub.subscriberCount('news'), 3);
  });

  test('every subscriber leaving during the fan-out removes the channel', () => {
    const subs = Array.from({ length: 3 }, (_, i) => new FakeSub(`c${i}`));
    const hub = hubWith('news', ...subs);
    const lastFlags: boolean[] = [];
    for (const s of subs) s.onSend = () => lastFlags.push(hub.remove('news', s.clientId));
    hub.publish('news', pub({ n: 1 }), false);
    assert.deepEqual(lastFlags, [false, false, true]);
    assert.equal(hub.subscriberCount('news'), 0);
    assert.equal(hub.channelCount, 0);
    assert.equal(hub.subscriptions, 0);
    assert.equal(hub.add('news', new FakeSub('c9')), true);
  });
});

describe('fossil delta', () => {
  const base = { text: 'a fairly long payload that stays the same', items: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], n: 1 };
  const next = { ...base, n: 2 };

  test('a delta subscriber gets the full payload as a JSON string first, plain subscribers the plain frame', () => {
    const plain1 = new FakeSub('p1');
    const plain2 = new FakeSub('p2');
    const delta1 = new FakeSub('d1', { delta: true });
    const delta2 = new FakeSub('d2', { delta: true });
    const hub = hubWith('ch', plain1, delta1, plain2, delta2);
    const p = pub(base, 1);
    hub.publish('ch', p, true);
    assert.strictEqual(plain1.last, plain2.last);
    assert.strictEqual(delta1.last, delta2.last);
    assert.notStrictEqual(plain1.last, delta1.last);
    assert.equal(text(plain1.last), `{"push":{"channel":"ch","pub":{"data":${p.data},"offset":1}}}`);
    assert.equal(text(delta1.last), `{"push":{"channel":"ch","pub":{"data":${JSON.stringify(p.data)},"offset":1}}}`);
    assert.equal(delta1.deltaPrimed, true);
    assert.equal(delta2.deltaPrimed, true);
    assert.equal(plain1.deltaPrimed, false);
  });

  test('primed delta subscribers then share one patch frame that turns the previous payload into the new one', () => {
    const plain = new FakeSub('p');
    const d1 = new FakeSub('d1', { delta: true });
    const d2 = new FakeSub('d2', { delta: true });
    const hub = hubWith('ch', plain, d1, d2);
    const p1 = pub(base, 1);
    const p2 = pub(next, 2);
    hub.publish('ch', p1, true);
    hub.publish('ch', p2, true);
    assert.equal(d1.frames.length, 2);
    assert.strictEqual(d1.last, d2.last, 'delta subscribers share the patch frame');
    const msg = JSON.parse(text(d1.last)) as { push: { channel: string; pub: { offset: number; delta: boolean; data: string } } };
    assert.equal(msg.push.channel, 'ch');
    assert.equal(msg.push.pub.offset, 2);
    assert.equal(msg.push.pub.delta, true);
    assert.ok(Buffer.byteLength(msg.push.pub.data) < Buffer.byteLength(p2.data), 'the patch is smaller than the payload');
    assert.equal(applyPatchFrame(d1.last, p1.data), p2.data);
    // The plain subscriber gets the plain publication.
    assert.equal(text(plain.last), `{"push":{"channel":"ch","pub":{"data":${p2.data},"offset":2}}}`);
  });

  test('patches chain: each one applies to the publication before it', () => {
    const d = new FakeSub('d', { delta: true });
    const hub = hubWith('ch', d);
    let prev = pub(base, 1);
    hub.publish('ch', prev, true);
    for (let n = 2; n <= 5; n++) {
      const p = pub({ ...base, n }, n);
      hub.publish('ch', p, true);
      assert.equal(applyPatchFrame(d.last, prev.data), p.data, `patch ${n}`);
      prev = p;
    }
    assert.equal(d.frames.length, 5);
  });

  test('with useDelta false, delta subscribers get the full payload (as a JSON string), no patch', () => {
    const d = new FakeSub('d', { delta: true });
    const hub = hubWith('ch', d);
    hub.publish('ch', pub(base, 1), true);
    const p2 = pub(next, 2);
    hub.publish('ch', p2, false);
    assert.equal(text(d.last), `{"push":{"channel":"ch","pub":{"data":${JSON.stringify(p2.data)},"offset":2}}}`);
  });

  test('a delta subscriber that is not primed gets the full payload while primed ones get the patch', () => {
    const primed = new FakeSub('primed', { delta: true });
    const hub = hubWith('ch', primed);
    hub.publish('ch', pub(base, 1), true);
    const late = new FakeSub('late', { delta: true });
    hub.add('ch', late);
    const p2 = pub(next, 2);
    hub.publish('ch', p2, true);
    assert.equal(applyPatchFrame(primed.last, pub(base).data), p2.data);
    assert.equal(text(late.last), `{"push":{"channel":"ch","pub":{"data":${JSON.stringify(p2.data)},"offset":2}}}`);
    assert.equal(late.deltaPrimed, true);
    // From now on both share the patch.
    hub.publish('ch', pub({ ...base, n: 3 }, 3), true);
    assert.strictEqual(primed.last, late.last);
  });

  test('the first publication of a channel goes in full even to a subscriber marked primed', () => {
    const d = new FakeSub('d', { delta: true });
    d.deltaPrimed = true;
    const hub = hubWith('ch', d);
    const p = pub(base, 1);
    hub.publish('ch', p, true);
    assert.equal(text(d.last), `{"push":{"channel":"ch","pub":{"data":${JSON.stringify(p.data)},"offset":1}}}`);
  });

  test('a patch no smaller than the payload is not sent: the full payload goes instead', () => {
    const d = new FakeSub('d', { delta: true });
    const hub = hubWith('ch', d);
    hub.publish('ch', pub({ a: 'xxxxxxxxxxxxxxxx' }, 1), true);
    const p2 = pub({ b: 7 }, 2);
    hub.publish('ch', p2, true);
    assert.equal(text(d.last), `{"push":{"channel":"ch","pub":{"data":${JSON.stringify(p2.data)},"offset":2}}}`);
  });

  test('a patch that is not valid UTF-8 is not sent: the full payload goes instead', () => {
    // é is C3 A9 and ü is C3 BC: the patch copies the shared C3 and inserts the lone byte BC.
    const d = new FakeSub('d', { delta: true });
    const hub = hubWith('ch', d);
    hub.publish('ch', pub({ text: 'é'.repeat(200) }, 1), true);
    const p2 = pub({ text: 'é'.repeat(100) + 'ü' + 'é'.repeat(99) }, 2);
    hub.publish('ch', p2, true);
    const msg = JSON.parse(text(d.last)) as { push: { pub: { data: string; delta?: boolean } } };
    assert.equal(msg.push.pub.delta, undefined);
    assert.equal(msg.push.pub.data, p2.data);
  });

  test('once the last delta subscriber leaves, the previous publication is forgotten', () => {
    // A plain subscriber keeps the channel alive; a delta subscriber added later, already marked
    // primed, must not get a patch against a publication from before it subscribed.
    const plain = new FakeSub('p');
    const d1 = new FakeSub('d1', { delta: true });
    const hub = hubWith('ch', plain, d1);
    hub.publish('ch', pub({ ...base, n: 1 }, 1), true);
    hub.remove('ch', 'd1');
    hub.publish('ch', pub({ ...base, n: 2 }, 2), true);
    const d2 = new FakeSub('d2', { delta: true });
    d2.deltaPrimed = true;
    hub.add('ch', d2);
    const p3 = pub({ ...base, n: 3 }, 3);
    hub.publish('ch', p3, true);
    assert.equal(text(d2.last), `{"push":{"channel":"ch","pub":{"data":${JSON.stringify(p3.data)},"offset":3}}}`);
  });

  test('a delta subscriber added again under its client id is counted once', () => {
    // Replaced in place (same client id): when it leaves, no delta subscriber is left, so the
    // previous publication is forgotten as above.
    const plain = new FakeSub('p');
    const d1 = new FakeSub('d1', { delta: true });
    const hub = hubWith('ch', plain, d1);
    hub.add('ch', new FakeSub('d1', { delta: true }));
    hub.publish('ch', pub({ ...base, n: 1 }, 1), true);
    hub.remove('ch', 'd1');
    hub.publish('ch', pub({ ...base, n: 2 }, 2), true);
    const d2 = new FakeSub('d2', { delta: true });
    d2.deltaPrimed = true;
    hub.add('ch', d2);
    const p3 = pub({ ...base, n: 3 }, 3);
    hub.publish('ch', p3, true);
    assert.equal(text(d2.last), `{"push":{"channel":"ch","pub":{"data":${JSON.stringify(p3.data)},"offset":3}}}`);
  });

  test('a pending delta subscriber is not primed by a publication it did not get', () => {
    const d = new FakeSub('d', { delta: true });
    d.pending = [];
    const hub = hubWith('ch', d);
    hub.publish('ch', pub(base, 1), true);
    assert.equal(d.deltaPrimed, false);
    assert.equal(d.pending.length, 1);
    d.pending = null;
    const p2 = pub(next, 2);
    hub.publish('ch', p2, true);
    assert.equal(text(d.last), `{"push":{"channel":"ch","pub":{"data":${JSON.stringify(p2.data)},"offset":2}}}`);
  });
});

describe('join and leave', () => {
  const info: ClientInfo = { user: 'alice', client: 'c-alice', connInfo: '{"name":"Alice"}' };

  test('join goes, as one shared frame, to the subscribers that want pushes', () => {
    const want1 = new FakeSub('w1', { pushJoinLeave: true });
    const want2 = new FakeSub('w2', { pushJoinLeave: true });
    const quiet = new FakeSub('q');
    const hub = hubWith('room', want1, quiet, want2);
    hub.joinLeave('room', 'join', info);
    assert.equal(quiet.frames.length, 0);
    assert.equal(want1.frames.length, 1);
    assert.strictEqual(want1.last, want2.last);
    assert.equal(text(want1.last), '{"push":{"channel":"room","join":{"info":{"user":"alice","client":"c-alice","conn_info":{"name":"Alice"}}}}}');
  });

  test('leave has the same shape with "leave"; chan_info is carried', () => {
    const want = new FakeSub('w', { pushJoinLeave: true });
    const hub = hubWith('room', want);
    hub.joinLeave('room', 'leave', { user: 'bob', client: 'c-bob', chanInfo: '[1]' });
    assert.deepEqual(want.messages, [{ push: { channel: 'room', leave: { info: { user: 'bob', client: 'c-bob', chan_info: [1] } } } }]);
  });

  test('subscribers still being set up get no join / leave (nor are they queued)', () => {
    const settingUp = new FakeSub('s', { pushJoinLeave: true });
    settingUp.pending = [];
    const live = new FakeSub('l', { pushJoinLeave: true });
    const hub = hubWith('room', settingUp, live);
    hub.joinLeave('room', 'join', info);
    assert.equal(settingUp.frames.length, 0);
    assert.deepEqual(settingUp.pending, []);
    assert.equal(live.frames.length, 1);
  });

  test('join / leave on an unknown channel, or with nobody wanting them, does nothing', () => {
    const quiet = new FakeSub('q');
    const hub = hubWith('room', quiet);
    hub.joinLeave('nope', 'join', info);
    hub.joinLeave('room', 'leave', info);
    assert.equal(quiet.frames.length, 0);
  });
});

describe('hub: one frame per codec', () => {
  test('subscribers of one codec share one frame; each codec gets its own, built once', () => {
    const hub = new Hub();
    // Three JSON subscribers (say WebSocket, HTTP-streaming and SSE connections), two protobuf, one unidirectional JSON.
    const json = [new FakeSub('j1'), new FakeSub('j2'), new FakeSub('j3')];
    const pb = [new FakeSub('p1', { codec: protobufCodec }), new FakeSub('p2', { codec: protobufCodec })];
    const uni = new FakeSub('u1', { codec: uniJsonCodec });
    for (const s of [json[0]!, pb[0]!, json[1]!, uni, pb[1]!, json[2]!]) hub.add('ch', s);
    hub.publish('ch', pub({ n: 1 }, 7), false);
    assert.strictEqual(json[0]!.last, json[1]!.last);
    assert.strictEqual(json[1]!.last, json[2]!.last);
    assert.strictEqual(pb[0]!.last, pb[1]!.last);
    assert.notStrictEqual(json[0]!.last, pb[0]!.last);
    assert.equal(text(json[0]!.last), '{"push":{"channel":"ch","pub":{"data":{"n":1},"offset":7}}}');
    assert.equal(text(uni.last), '{"channel":"ch","pub":{"data":{"n":1},"offset":7}}');
    assert.equal(pb[0]!.last.binary, true);
    assert.ok(pb[0]!.last.payload.includes(Buffer.from('{"n":1}')), 'the protobuf frame carries the JSON bytes');
  });

  test('join pushes are built once per codec too', () => {
    const hub = new Hub();
    const a = new FakeSub('a', { pushJoinLeave: true });
    const b = new FakeSub('b', { pushJoinLeave: true });
    const p = new FakeSub('p', { pushJoinLeave: true, codec: protobufCodec });
    const q = new FakeSub('q', { pushJoinLeave: true, codec: protobufCodec });
    for (const s of [a, p, b, q]) hub.add('ch', s);
    hub.joinLeave('ch', 'join', { user: 'u', client: 'c' });
    assert.strictEqual(a.last, b.last);
    assert.strictEqual(p.last, q.last);
    assert.notStrictEqual(a.last, p.last);
  });
});

