/**
 * The load generator's stream scanning (bench/stream-scan.ts): publications and pings of an
 * HTTP-streaming or SSE body counted once each however the body is cut into chunks (a publication,
 * a mark or a ping split over two chunks, many in one chunk, a chunk without a newline); and the
 * mixed run's split of the subscribers over the transports (bench/common.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientModeOf, MIXED_MODES, type ClientMode } from '../../bench/common.js';
import { countPings, LineCarry, scanPublications, streamMessages } from '../../bench/stream-scan.js';

/** A publication reply as Gyre writes it (JSON), with the bench payload. */
function publication(seq: number, ts = 1_000_000 + seq): string {
  return JSON.stringify({ push: { channel: 'bench', pub: { data: { ts, seq, p: 'x'.repeat(40) }, offset: seq } } });
}

/** An HTTP-streaming body: a line per reply; SSE: `\r\n`, then a `data:` event per reply. */
function body(kind: 'http_stream' | 'sse', replies: string[]): Buffer {
  if (kind === 'http_stream') return Buffer.from(replies.map((r) => `${r}\n`).join(''));
  return Buffer.from('\r\n' + replies.map((r) => `data: ${r}\n\n`).join(''));
}

/** Feeds `chunks` through a LineCarry; what the load generator sees: publications (seq list) and pings. */
function feed(chunks: Buffer[]): { seqs: number[]; ts: number[]; pings: number; pending: number } {
  const carry = new LineCarry();
  const seqs: number[] = [];
  const ts: number[] = [];
  let pings = 0;
  for (const chunk of chunks) {
    const end = carry.push(chunk);
    if (end === 0) continue;
    pings += countPings(carry.buf, 0, end);
    scanPublications(carry.buf, 0, end, (t, s) => {
      ts.push(t);
      seqs.push(s);
    });
  }
  return { seqs, ts, pings, pending: carry.pending };
}

const REPLIES = [
  '{"id":2,"subscribe":{}}',
  publication(1),
  publication(2),
  '{}',
  publication(3),
  publication(10_000),
  '{}',
  publication(12_345_678),
];
const SEQS = [1, 2, 3, 10_000, 12_345_678];

for (const kind of ['http_stream', 'sse'] as const) {
  test(`${kind}: every cut into two chunks counts each publication and ping once`, () => {
    const b = body(kind, REPLIES);
    for (let cut = 0; cut <= b.length; cut++) {
      const r = feed([b.subarray(0, cut), b.subarray(cut)]);
      assert.deepEqual(r.seqs, SEQS, `cut at ${cut}`);
      assert.deepEqual(r.ts, SEQS.map((s) => 1_000_000 + s), `cut at ${cut}: timestamps whole`);
      assert.equal(r.pings, 2, `cut at ${cut}: pings`);
      assert.equal(r.pending, 0, `cut at ${cut}: nothing left over`);
    }
  });

  test(`${kind}: one byte at a time, and random cuts`, () => {
    const b = body(kind, REPLIES);
    const bytes = Array.from({ length: b.length }, (_, i) => b.subarray(i, i + 1));
    assert.deepEqual(feed(bytes).seqs, SEQS);
    assert.equal(feed(bytes).pings, 2);
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 200; round++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < b.length; ) {
        const n = 1 + Math.floor(rnd() * 60);
        chunks.push(b.subarray(at, at + n));
        at += n;
      }
      const r = feed(chunks);
      assert.deepEqual(r.seqs, SEQS, `round ${round}`);
      assert.equal(r.pings, 2, `round ${round}`);
    }
  });
}

test('LineCarry: the tail waits for its newline; a chunk reused by its producer does not change it', () => {
  const carry = new LineCarry();
  const scratch = Buffer.from('{"push":{"pub":{"data":{"ts":');
  assert.equal(carry.push(scratch), 0);
  assert.equal(carry.pending, scratch.length);
  scratch.fill(0x20); // the producer reuses its buffer
  const end = carry.push(Buffer.from('5,"seq":6,"p":""}}}}\n{"id"'));
  const line = carry.buf.toString('utf8', 0, end);
  assert.equal(line, '{"push":{"pub":{"data":{"ts":5,"seq":6,"p":""}}}}\n');
  assert.equal(carry.pending, 5);
  const seen: Array<[number, number]> = [];
  assert.equal(scanPublications(carry.buf, 0, end, (t, s) => seen.push([t, s])), 1);
  assert.deepEqual(seen, [[5, 6]]);
});

test('scanPublications: only marks starting before the end of the span', () => {
  const b = Buffer.from(`${publication(1)}\n${publication(2)}\n`);
  const firstEnd = b.indexOf('\n') + 1;
  const seqs: number[] = [];
  scanPublications(b, 0, firstEnd, (_t, s) => seqs.push(s));
  assert.deepEqual(seqs, [1]);
  scanPublications(b, firstEnd, b.length, (_t, s) => seqs.push(s));
  assert.deepEqual(seqs, [1, 2]);
});

test('countPings: `{}` lines and `data: {}` events only, not objects ending in `{}}`', () => {
  const b = Buffer.from('{"id":2,"subscribe":{}}\n{}\n{"push":{"pub":{"data":{}}}}\n');
  assert.equal(countPings(b, 0, b.length), 1);
  const sse = Buffer.from('\r\ndata: {"id":2,"subscribe":{}}\n\ndata: {}\n\ndata: {}\n\n');
  assert.equal(countPings(sse, 0, sse.length), 2);
  // A ping after the span's end is not counted.
  const cut = sse.indexOf('data: {}');
  assert.equal(countPings(sse, 0, cut), 0);
});

test('streamMessages: the JSON texts of lines and SSE events', () => {
  const b = Buffer.from('\r\ndata: {"id":1,"connect":{"session":"s","node":"n"}}\n\ndata: {}\n\n');
  const m = streamMessages(b, 0, b.length);
  assert.deepEqual(
    m.map((x) => x.text),
    ['{"id":1,"connect":{"session":"s","node":"n"}}', '{}'],
  );
  // Each message's end is just after its line.
  assert.equal(b.toString('utf8', m[0]!.end, m[0]!.end + 1), '\n');
  const h = Buffer.from('{"id":1}\n{"id":2,"subscribe":{}}\n');
  const hm = streamMessages(h, 0, h.length);
  assert.deepEqual(hm.map((x) => x.text), ['{"id":1}', '{"id":2,"subscribe":{}}']);
  assert.equal(hm[1]!.end, h.length);
});

test('clientModeOf: the mixed run splits the subscribers evenly over the four kinds', () => {
  const count = new Map<string, number>();
  const key = (m: ClientMode) => `${m.transport}/${m.protocol}`;
  for (let i = 0; i < 1000; i++) {
    const k = key(clientModeOf('mixed', 'json', i));
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  assert.deepEqual(
    [...count.entries()].sort(),
    MIXED_MODES.map((m) => [key(m), 250] as [string, number]).sort(),
  );
  assert.deepEqual(clientModeOf('websocket', 'protobuf', 3), { transport: 'websocket', protocol: 'protobuf' });
  assert.deepEqual(clientModeOf('sse', 'protobuf', 3), { transport: 'sse', protocol: 'json' });
  assert.deepEqual(clientModeOf('http_stream', 'json', 0), { transport: 'http_stream', protocol: 'json' });
});
