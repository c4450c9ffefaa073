/**
 * Gyre's own cost of a connect + subscribe, without sockets: a GyreNode (the S4 server's
 * configuration, HS256 tokens) takes the frame a centrifuge-js client sends when its socket opens
 * (connect with a JWT and one subscribe, one frame) on an in-memory transport, and answers both; the
 * connections stay open, as in S4 (with --close each round's are closed after it, outside the timing:
 * their cleanup then falls into the next round). CPU per connection over rounds of N connects after a warm-up, so
 * that a change to the connect path can be compared (run it on both versions, alternating) without
 * the loopback and load-generator noise of S4.
 *   node --import tsx bench/connect-overhead.ts [--connections 5000] [--rounds 5] [--close] [--profile FILE.cpuprofile]
 * GYRE_BENCH_FROM=src measures the sources through tsx (default: the dist/ build, rebuilt when stale);
 * GYRE_BENCH_DIST=DIR another build. The rounds of one process agree within a few per cent (the first,
 * still compiling, and the last, with the most connections held, are the slowest), but separate
 * processes have given medians from 23 to 39 µs on the 2-core virtual machine of BENCHMARKS.md: to
 * compare two versions, alternate many processes of each.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { BENCH_SECRET } from './common.js';
import { ensureGyreBuild, gyreModule } from './gyre-build.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '5' },
    close: { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
});
const perRound = Number(values.connections);
const rounds = Number(values.rounds);
if (!Number.isInteger(perRound) || perRound < 1 || !Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write('usage: node --import tsx bench/connect-overhead.ts [--connections N] [--rounds R]\n');
  process.exit(2);
}

ensureGyreBuild((line) => process.stderr.write(line + '\n'));
const { validateConfig } = await gyreModule<typeof import('../src/config/validate.js')>('config/validate.js');
const { GyreServer } = await gyreModule<typeof import('../src/server.js')>('server.js');
const { Client } = await gyreModule<typeof import('../src/node/client.js')>('node/client.js');
const { signToken } = await gyreModule<typeof import('../src/auth/sign.js')>('auth/sign.js');
const { Disconnects } = await gyreModule<typeof import('../src/protocol/codes.js')>('protocol/codes.js');
type OutFrame = import('../src/protocol/frame.js').OutFrame;
type Transport = import('../src/node/transport.js').Transport;

const { config } = validateConfig({
  log: { level: 'error' },
  client: { token: { hmac_secret_key: BENCH_SECRET }, allowed_origins: ['*'] },
  channel: { without_namespace: { allow_subscribe_for_client: true } },
});
const server = new GyreServer({ config });
const node = server.node;
await node.start();

/** An open connection that keeps nothing but a count of the replies it was sent. */
class CountingTransport implements Transport {
  readonly name = 'websocket';
  readonly protocol = 'json' as const;
  readonly unidirectional = false;
  readonly emulation = false;
  readonly pongs = true;
  readonly headers = {};
  replies = 0;
  constructor(private readonly done: () => void) {}
  send(frame: OutFrame): boolean {
    if (frame.reply && ++this.replies === 2) this.done();
    return true;
  }
  close(): void {}
}

type GyreClient = InstanceType<typeof Client>;
const frames: Buffer[] = [];
let open: GyreClient[] = [];
async function prepare(from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    const token = await signToken({ sub: `u${i}` }, { hmacSecret: BENCH_SECRET });
    frames[i] = Buffer.from(`${JSON.stringify({ id: 1, connect: { token } })}\n${JSON.stringify({ id: 2, subscribe: { channel: 'bench' } })}`);
  }
}

/** Connects clients [from, to), 128 at a time (as S4's load generator keeps handshakes in flight). */
async function connect(from: number, to: number): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: 128 }, async () => {
      while (next < to) {
        const i = next++;
        await new Promise<void>((resolve) => {
          const client = new Client(node, new CountingTransport(resolve));
          open.push(client);
          node.accept(client);
          client.handleFrame(frames[i]!);
        });
      }
    }),
  );
}

/** With --close: closes the round's clients (else they stay open, as in S4). */
async function settle(): Promise<void> {
  if (!values.close) return;
  for (const c of open) c.close(Disconnects.shutdown);
  open = [];
  await new Promise((r) => setImmediate(r));
}

const warm = Math.min(2000, perRound);
await prepare(0, warm + perRound * rounds);
await connect(0, warm);
await settle();
// --profile: a V8 CPU profile of the timed rounds only (not of signing the tokens or the warm-up).
const profiler = values.profile === undefined ? undefined : new Session();
if (profiler !== undefined) {
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}
const results: number[] = [];
for (let r = 0; r < rounds; r++) {
  const from = warm + r * perRound;
  const t0 = process.cpuUsage();
  await connect(from, from + perRound);
  const c = process.cpuUsage(t0);
  results.push((c.user + c.system) / perRound);
  await settle();
}
if (profiler !== undefined) {
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(values.profile!, JSON.stringify(profile));
}
const sorted = [...results].sort((a, b) => a - b);
console.log(
  `connect + subscribe, Gyre's own code: median ${sorted[Math.floor((sorted.length - 1) / 2)]!.toFixed(1)} µs per connection ` +
    `(rounds of ${perRound}: ${results.map((x) => x.toFixed(1)).join(', ')})`,
);
process.exit(0);
