/**
 * Garbage in, server still up: many malformed, mutated and oversized frames from several sockets
 * (seeded, so a failure replays; GYRE_FUZZ_ROUNDS sets how many), each connection ending with a
 * documented close code, while another client is served throughout.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import WebSocket from 'ws';
import { Disconnects } from '../../src/protocol/codes.js';
import { PROTOBUF_SUBPROTOCOL } from '../../src/transport/websocket.js';
import { once, startGyre, until, type TestGyre } from '../helpers/gyre.js';
import { waitFor } from '../helpers/wait.js';

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

/**
 * Codes a server-closed connection may end with: the protocol's disconnect codes, and the two the
 * WebSocket layer uses for bad frames (1007: text that is not UTF-8, 1009: over message_size_limit).
 */
const DOCUMENTED = new Set([...Object.values(Disconnects).map((d) => d.code), 1007, 1009]);

test('hundreds of garbage frames from many sockets: each ends with a documented code, the server keeps serving', async () => {
  const r = rng(20261123);
  const token = await gyre.token('fuzzer');
  // A client connected all along, served before, during and after the garbage.
  const bystander = gyre.client({ token: await gyre.token('bystander') });
  const watched = bystander.newSubscription('news');
  const got: unknown[] = [];
  watched.on('publication', (ctx) => got.push(ctx.data));
  const subscribed = once(watched, 'subscribed');
  watched.subscribe();
  bystander.connect();
  await subscribed;

  const byServer = new Map<number, number>();
  for (let round = 0; round < ROUNDS; round++) {
    const s = await gyre.raw();
    s.ws.on('error', () => {});
    const connected = r() < 0.5 && (await s.connect(token).catch(() => undefined)) !== undefined;
    for (let i = 0; i < 10 && s.ws.readyState === s.ws.OPEN; i++) {
      const f = frame(r);
      s.ws.send(f, { binary: Buffer.isBuffer(f) && r() < 0.5 });
    }
    // A last command, answered or refused with a close: the server has judged every frame by then.
    if (s.ws.readyState === s.ws.OPEN) {
      s.sendJson(connected ? { id: 777, ping: {} } : { id: 777, connect: { token } });
      await s.reply(777).catch(() => undefined);
    }
    // A connection the garbage has not ended is closed here; either way it must end.
    const closedByUs = s.ws.readyState === s.ws.OPEN;
    if (closedByUs) s.ws.close(1000);
    const { code } = await s.waitClosed(`round ${round}: the connection to end`);
    if (!closedByUs) {
      assert.ok(DOCUMENTED.has(code), `round ${round}: the server closed with ${code}, not a documented code`);
      byServer.set(code, (byServer.get(code) ?? 0) + 1);
    }
    if (round % 10 === 9) {
      await gyre.api('publish', { channel: 'news', data: { round } });
      await until(() => got.some((d) => (d as { round?: number }).round === round), `the bystander to receive round ${round}`);
    }
  }
  assert.ok([...byServer.values()].reduce((a, b) => a + b, 0) >= ROUNDS / 4, `the server closed few connections: ${JSON.stringify([...byServer])}`);
  assert.equal((await fetch(`${gyre.baseUrl}/health`)).status, 200);
  await gyre.api('publish', { channel: 'news', data: { still: 'alive' } });
  await until(() => (got.at(-1) as { still?: string } | undefined)?.still === 'alive', 'the last publication');
  await until(() => gyre.server.node.clientCount === 1, 'only the bystander to stay connected');
  const errors = gyre.logs.filter((l) => l.level >= 50);
  assert.deepEqual(errors, [], 'no error-level log line: every bad input was an expected, handled case');
});

test('protobuf: hundreds of mutated, truncated and random binary frames end with documented codes, the server keeps serving', async () => {
  const root = protobuf.loadSync(fileURLToPath(new URL('../../proto/client.proto', import.meta.url)));
  const Command = root.lookupType('centrifugal.centrifuge.protocol.Command');
  const delimited = (cmd: object): Buffer => Buffer.from(Command.encodeDelimited(Command.fromObject(cmd)).finish());
  const json = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');
  const valid = [
    { id: 2, subscribe: { channel: 'news', recover: true, epoch: 'x', offset: 3, delta: 'fossil' } },
    { id: 3, publish: { channel: 'news', data: json({ a: 1 }) } },
    { id: 4, history: { channel: 'news', limit: 10, since: { offset: 1, epoch: 'e' }, reverse: true } },
    { id: 5, presence: { channel: 'news' } },
    { id: 6, rpc: { method: 'm', data: json([1, 2]) } },
    { id: 7, refresh: { token: 'abc' } },
    { id: 8, sub_refresh: { channel: 'news', token: 'abc' } },
    { id: 9, unsubscribe: { channel: 'news' } },
    { send: { data: json('x') } },
  ].map(delimited);
  const r = rng(20261206);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const garbage = (): Buffer => {
    const base = pick(valid);
    const kind = r();
    if (kind < 0.35) {
      const b = Buffer.from(base);
      for (let i = 0, n = 1 + Math.floor(r() * 4); i < n; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      return b;
    }
    if (kind < 0.55) return base.subarray(0, Math.floor(r() * base.length));
    if (kind < 0.7) return Buffer.from(Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 256)));
    if (kind < 0.8) return Buffer.concat([base, pick(valid), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])]);
    if (kind < 0.85) return Buffer.alloc(5000, 0x7f);
    return base;
  };
  const token = await gyre.token('pb-fuzzer');
  const bystander = gyre.client({ token: await gyre.token('pb-bystander') });
  const watched = bystander.newSubscription('pb-news');
  const got: unknown[] = [];
  watched.on('publication', (ctx) => got.push(ctx.data));
  const subscribed = once(watched, 'subscribed');
  watched.subscribe();
  bystander.connect();
  await subscribed;
  const before = gyre.server.node.clientCount;

  let closedByServer = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const ws = new WebSocket(gyre.wsUrl, PROTOBUF_SUBPROTOCOL);
    ws.on('error', () => {});
    const closed = waitFor<number>(`round ${round}: the protobuf connection to end`, (resolve) => {
      ws.on('close', (code: number) => resolve(code));
    });
    await once(ws, 'open', `round ${round}: protobuf socket open`);
    if (r() < 0.5) ws.send(delimited({ id: 1, connect: { token } }));
    for (let i = 0; i < 10 && ws.readyState === ws.OPEN; i++) ws.send(garbage());
    const closedByUs = ws.readyState === ws.OPEN;
    if (closedByUs) ws.close(1000);
    const code = await closed;
    if (code !== 1000 && code !== 1005) {
      assert.ok(DOCUMENTED.has(code), `round ${round}: the server closed with ${code}, not a documented code`);
      closedByServer++;
    }
    if (round % 10 === 9) {
      await gyre.api('publish', { channel: 'pb-news', data: { round } });
      await until(() => got.some((d) => (d as { round?: number }).round === round), `the bystander to receive round ${round}`);
    }
  }
  assert.ok(closedByServer >= ROUNDS / 4, `the server closed only ${closedByServer} of ${ROUNDS} protobuf connections`);
  await until(() => gyre.server.node.clientCount === before, 'only the bystanders to stay connected');
  const errors = gyre.logs.filter((l) => l.level >= 50);
  assert.deepEqual(errors, [], 'no error-level log line: every bad protobuf input was an expected, handled case');
});
