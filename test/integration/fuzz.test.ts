/**
 * Garbage in, server still up: many malformed, mutated and oversized frames from several sockets
 * (seeded, so a failure replays), then a fresh client still connects, subscribes and receives.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGyre, until, type TestGyre } from '../helpers/gyre.js';

let gyre: TestGyre;
const ROUNDS = Number(process.env['GYRE_FUZZ_ROUNDS'] ?? 40);
before(async () => {
  gyre = await startGyre({ websocket: { message_size_limit: 4096 } });
});
after(() => gyre.close());

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID = [
  { id: 1, connect: {} },
  { id: 2, subscribe: { channel: 'news', recover: true, epoch: 'x', offset: 3 } },
  { id: 3, publish: { channel: 'news', data: { a: 1 } } },
  { id: 4, history: { channel: 'news', limit: 10, since: { offset: 1, epoch: 'e' }, reverse: true } },
  { id: 5, presence: { channel: 'news' } },
  { id: 6, rpc: { method: 'm', data: [1, 2] } },
  { id: 7, refresh: { token: 'abc' } },
  { id: 8, sub_refresh: { channel: 'news', token: 'abc' } },
  { id: 9, unsubscribe: { channel: 'news' } },
  { send: { data: 'x' } },
];
const WEIRD: unknown[] = [null, true, -1, 1.5, 2 ** 40, '', 'x'.repeat(300), [], {}, { $: 1 }, '\u0000', '\ud800'];

function mutate(value: unknown, r: () => number, depth = 0): unknown {
  if (depth > 3 || r() < 0.25) return WEIRD[Math.floor(r() * WEIRD.length)];
  if (Array.isArray(value)) return value.map((v) => mutate(v, r, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[r() < 0.1 ? `${k}_` : k] = r() < 0.5 ? mutate(v, r, depth + 1) : v;
    return out;
  }
  return value;
}

function frame(r: () => number): string | Buffer {
  const kind = r();
  const cmd = VALID[Math.floor(r() * VALID.length)]!;
  if (kind < 0.4) return JSON.stringify(mutate(cmd, r));
  if (kind < 0.55) return JSON.stringify(cmd).slice(0, Math.floor(r() * 30));
  if (kind < 0.65) return Buffer.from(Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 256)));
  if (kind < 0.75) return [JSON.stringify(cmd), JSON.stringify(mutate(cmd, r)), '{'].join('\n');
  if (kind < 0.8) return 'x'.repeat(5000);
  return JSON.stringify(cmd);
}

test('hundreds of garbage frames from many sockets do not stop the server', async () => {
  const r = rng(20261123);
  const token = await gyre.token('fuzzer');
  let closes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const s = await gyre.raw();
    s.ws.on('error', () => {});
    if (r() < 0.5) await s.connect(token).catch(() => undefined);
    for (let i = 0; i < 10 && s.ws.readyState === s.ws.OPEN; i++) {
      const f = frame(r);
      s.ws.send(f, { binary: Buffer.isBuffer(f) && r() < 0.5 });
    }
    s.ws.close();
    await s.closed;
    closes++;
  }
  assert.equal(closes, ROUNDS);
  assert.equal((await fetch(`${gyre.baseUrl}/health`)).status, 200);
  const client = gyre.client({ token: await gyre.token('after') });
  const sub = client.newSubscription('news');
  const got: unknown[] = [];
  sub.on('publication', (ctx) => got.push(ctx.data));
  const subscribed = new Promise((resolve) => sub.once('subscribed', resolve));
  sub.subscribe();
  client.connect();
  await subscribed;
  await gyre.api('publish', { channel: 'news', data: { still: 'alive' } });
  await until(() => got.length > 0);
  assert.deepEqual(got.at(-1), { still: 'alive' });
  await until(() => gyre.server.node.clientCount === 1);
  const errors = gyre.logs.filter((l) => l.level >= 50);
  assert.deepEqual(errors, [], 'no error-level log line: every bad input was an expected, handled case');
});
