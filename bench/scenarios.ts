/**
 * The scenarios: S1 fan-out, S2 many channels, S3 idle memory, S4 connect rate. Each runs every
 * server with the same load generator, one after another. S5 is Gyre alone: fan-out on one node
 * (memory engine, Redis engine) against two nodes over Redis.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  expectedDeliveries,
  type ClientProtocol,
  type ClientTransport,
  nowUs,
  SERVER_LABEL,
  type PublishRequest,
  type PublishResponse,
  type PublishTarget,
  type ServerKind,
  type ServerStats,
  type Subscriptions,
} from './common.js';
import { LoadGen, publishViaHttpApi, ServerProcess, sleep, type Log, type MergedReport, type ServerStart } from './harness.js';
import { BenchRedis, benchPrefix } from './redis.js';

export type ScenarioName = 'S1' | 'S2' | 'S3' | 'S4' | 'S5' | 'S6';

/**
 * A server as a row of the results: Gyre publishing in-process or via its HTTP API (JSON WebSocket
 * clients), Gyre publishing in-process to protobuf WebSocket clients, to HTTP-streaming clients, to
 * SSE clients, or to a mix of all four kinds, or a peer. `gyre-http-wd`: Gyre with
 * `client.write_delay`, publishing through its HTTP API one request per publication;
 * `gyre-http-batch`: the same server, the publications of each few milliseconds in one
 * `POST /api/batch`. `gyre-wN`: `gyre serve --workers N` (the primary and N worker processes),
 * publishing in-process in the primary.
 */
export type Variant =
  | 'gyre'
  | 'gyre-http'
  | 'gyre-http-wd'
  | 'gyre-http-batch'
  | 'gyre-pb'
  | 'gyre-http-stream'
  | 'gyre-sse'
  | 'gyre-mixed'
  | 'gyre-w1'
  | 'gyre-w2'
  | 'gyre-w2-none'
  | 'gyre-w3'
  | 'raw'
  | 'sio'
  | 'sio-jwt';

/** The `gyre serve --workers N` variant of N workers (0: the single-process `gyre`). */
export function workersVariant(n: number): Variant {
  if (n === 0) return 'gyre';
  if (n === 1 || n === 2 || n === 3) return `gyre-w${n}`;
  throw new Error(`no bench variant for ${n} workers (1 to 3)`);
}

/** Worker processes of a variant (0: one process). */
export function workersOf(v: Variant): number {
  return v === 'gyre-w1' ? 1 : v === 'gyre-w2' || v === 'gyre-w2-none' ? 2 : v === 'gyre-w3' ? 3 : 0;
}

/**
 * How to start the server of a variant with workers: `--workers N`, and for `gyre-w2-none`
 * node:cluster's other scheduling policy (NODE_CLUSTER_SCHED_POLICY=none: the workers accept
 * connections from the shared socket themselves, instead of the primary accepting each one and
 * handing it to a worker in turn).
 */
export function workersStart(v: Variant): ServerStart {
  const w = workersOf(v);
  if (w === 0) return {};
  const none = v === 'gyre-w2-none';
  return {
    args: ['--workers', String(w)],
    ...(none && { env: { NODE_CLUSTER_SCHED_POLICY: 'none' } }),
    label: `gyre server (${w} workers${none ? ', sched none' : ''})`,
  };
}

/**
 * How to start the server of a variant: {@link workersStart}, and for `sio-jwt` a Socket.IO server
 * that refuses clients without a valid token (so that each measured client was verified).
 */
export function variantStart(v: Variant): ServerStart {
  if (v === 'sio-jwt') return { args: ['--require-token'], label: 'sio server (token required)' };
  return workersStart(v);
}

export const VARIANT_LABEL: Readonly<Record<Variant, string>> = {
  gyre: 'Gyre',
  'gyre-http': 'Gyre (HTTP API)',
  'gyre-http-wd': 'Gyre (HTTP API, write_delay)',
  'gyre-http-batch': 'Gyre (HTTP API batches, write_delay)',
  'gyre-w1': 'Gyre (1 worker)',
  'gyre-w2': 'Gyre (2 workers)',
  'gyre-w2-none': 'Gyre (2 workers, NODE_CLUSTER_SCHED_POLICY=none)',
  'gyre-w3': 'Gyre (3 workers)',
  'gyre-pb': 'Gyre (protobuf)',
  'gyre-http-stream': 'Gyre (HTTP-streaming)',
  'gyre-sse': 'Gyre (SSE)',
  'gyre-mixed': 'Gyre (mixed transports)',
  raw: SERVER_LABEL.raw,
  sio: SERVER_LABEL.sio,
  'sio-jwt': `${SERVER_LABEL.sio} (JWT)`,
};

/**
 * The S1 Gyre variants measured after the JSON WebSocket ones, each with the same N subscribers
 * reconnected this way, publishing in-process.
 */
const S1_RECONNECTED: ReadonlyArray<{ v: Variant; protocol: ClientProtocol; transport: ClientTransport; option: 'protobuf' | 'streams' }> = [
  { v: 'gyre-pb', protocol: 'protobuf', transport: 'websocket', option: 'protobuf' },
  { v: 'gyre-http-stream', protocol: 'json', transport: 'http_stream', option: 'streams' },
  { v: 'gyre-sse', protocol: 'json', transport: 'sse', option: 'streams' },
  { v: 'gyre-mixed', protocol: 'json', transport: 'mixed', option: 'streams' },
];

export interface BenchOptions {
  scenarios: ScenarioName[];
  servers: ServerKind[];
  quick: boolean;
  /** Bytes of JSON per publication. */
  payloadSize: number;
  s1: {
    subscribers: number[];
    stepSeconds: number;
    maxSteps: number;
    /** Stop refining when the failing rate is within this factor of the sustained one. */
    resolution: number;
    /** Also sweep Gyre publishing through its HTTP API. */
    http: boolean;
    /**
     * Also sweep Gyre (in-process publishing) with the same subscribers reconnected speaking the
     * protobuf protocol, after the JSON sweeps (default true).
     */
    protobuf?: boolean;
    /**
     * Also sweep Gyre (in-process publishing) with the same subscribers reconnected on HTTP-streaming,
     * then on SSE, then split evenly over WebSocket JSON, WebSocket protobuf, HTTP-streaming and SSE,
     * after the protobuf sweep (default true).
     */
    streams?: boolean;
    /**
     * With `http`: also sweep a second Gyre server with `client.write_delay` set to this (e.g.
     * "20ms"), publishing through its HTTP API one request per publication (`gyre-http-wd`) and,
     * with `httpBatchMs`, in one `POST /api/batch` per that many ms (`gyre-http-batch`).
     */
    writeDelay?: string;
    httpBatchMs?: number;
    /** Run exactly these rates (no search): for the smoke test. */
    fixedRates?: number[];
  };
  s2: { clients: number; stepSeconds: number; maxSteps: number; resolution: number; startRate: number };
  /**
   * `workers`: also measure Gyre as `gyre serve --workers N` (its connections spread over N
   * processes, each with its own open-file limit: the way to 50k here), RSS summed over all of them.
   */
  s3: { counts: number[]; workers?: number };
  /**
   * `workers`: also measure Gyre as `gyre serve --workers N` for each N; `schedNone`: and with 2
   * workers under NODE_CLUSTER_SCHED_POLICY=none (`gyre-w2-none`).
   */
  /** S4; `rounds`: each setup measured this many times, rounds interleaved, the median reported (default 1). */
  s4: { clients: number; concurrencyPerWorker: number; workers?: number[]; schedNone?: boolean; rounds?: number };
  /**
   * S6: S1's fan-out (one channel, in-process publishing, JSON WebSocket subscribers) on Gyre as
   * one process (0) and as `gyre serve --workers N`, for each subscriber count. A count above what
   * one process may hold is measured at that cap for every setup (the same N for all).
   */
  s6: {
    subscribers: number[];
    workers: number[];
    stepSeconds: number;
    maxSteps: number;
    resolution: number;
    fixedRates?: number[];
    /**
     * The primary's relay cost: for each worker count of `relay.workers` (default: those of
     * `workers` above 0), this few subscribers (the workers' fan-out small) and these publication
     * rates; the primary's CPU per publication. Several counts let the report tell the cost per
     * publication from the cost per publication per worker.
     */
    relay?: { subscribers: number; rates: number[]; workers?: number[] };
  };
  s5: {
    /** Subscribers of the one channel in total (split evenly over the nodes). */
    subscribers: number;
    stepSeconds: number;
    maxSteps: number;
    resolution: number;
    /** Also sweep the two-node setup publishing through node B's HTTP API. */
    http: boolean;
    /** Redis the nodes share. */
    redisUrl: string;
    /** Run exactly these rates (no search): for the smoke test. */
    fixedRates?: number[];
  };
  /**
   * A step whose p99 latency exceeds max(maxP99Ms, subscribers of a channel × maxP99UsPerSubscriber)
   * does not count as sustained (one fan-out costs a write(2) per subscriber, ~10 µs each here).
   */
  maxP99Ms: number;
  maxP99UsPerSubscriber: number;
  /**
   * Steps that fail while other processes use > 30% of a core are repeated (after waiting up to 5 s
   * for a quieter machine) until this much time has been spent on such repeats in the run.
   */
  noiseBudgetSeconds: number;
  /** Handshakes in flight per worker while setting up S1–S3. */
  setupConcurrency: number;
  /** Largest connection count one process may hold (open-file limit minus a margin). */
  maxConnectionsPerProcess: number;
  /** Write CPU profiles of the Gyre server (S1, S2 sweeps, S4 connects) into this directory. */
  profileDir?: string;
  log: Log;
}

// ---------------------------------------------------------------------------------------------------
// Results.

/**
 * How a step's publications enter the server: in-process (control API), through the HTTP API one
 * `POST /api/publish` per publication, or in `POST /api/batch` requests of those due within
 * `s1.httpBatchMs`.
 */
export type Via = 'inproc' | 'http' | 'http-batch';

export interface StepResult {
  via: Via;
  /** Publications per second asked for. */
  rate: number;
  published: number;
  expected: number;
  delivered: number;
  deliveredPerSec: number;
  /** Latency percentiles over the step (ms). */
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Median latency of the second and the last quarter of the publications (ms): growth = backlog. */
  earlyP50: number;
  lateP50: number;
  /** Server process CPU over the step, % of one core (S5: summed over the nodes). */
  serverCpu: number;
  /** S5: CPU of each node (A, B), % of one core. */
  nodeCpu?: number[];
  /** A server with worker processes: the CPU of each process (the primary first), % of one core. */
  processCpu?: number[];
  /** S5: CPU of the Redis server (INFO cpu), % of one core, when the nodes use Redis. */
  redisCpu?: number;
  /** All load-generator workers' CPU over the step, % of one core. */
  loadgenCpu: number;
  /** CPU used on the machine by everything else (other users' processes), % of one core. */
  otherCpu: number;
  /** Interrupt + softirq CPU on the machine (mostly loopback TCP of the benchmark), % of one core. */
  irqCpu: number;
  disconnects: number;
  publishErrors: number;
  sustained: boolean;
  /** Why the step did not count as sustained. */
  reason?: string;
  drainMs: number;
}

export interface SweepResult {
  variant: Variant;
  /** S6: subscribers asked for, when more than were measured (one process's open-file limit). */
  asked?: number;
  /** S6: a relay-cost row (few subscribers, fixed high rates: the primary's CPU per publication). */
  relay?: boolean;
  /**
   * A step at a rate shared with another row, so that the CPU per message compares at equal load.
   * S6: the rate shared by every setup of this subscriber count (half of the 1-worker setup's best
   * when measured, else of the first setup's). S1 write-delay rows: the in-process row's best rate.
   */
  ref?: StepResult | null;
  /** The server's `client.write_delay` (`gyre-http-wd`, `gyre-http-batch`). */
  writeDelay?: string;
  /** `gyre-http-batch`: the publisher's batch window (ms). */
  batchMs?: number;
  /** Subscribers (S1) or clients (S2). */
  clients: number;
  connected: number;
  best: StepResult | null;
  /** A step at half of the best sustained rate (latency under moderate load). */
  half: StepResult | null;
  steps: StepResult[];
}

export interface MemoryRow {
  variant: Variant;
  /** Connections asked for and actually open. */
  target: number;
  connections: number;
  rssBytes: number;
  heapBytes: number;
  rssPerConn: number;
  heapPerConn: number;
  baselineRss: number;
  baselineHeap: number;
  /** Server processes the memory is summed over (a server with workers: the primary and each worker). */
  processes?: number;
}

export interface ConnectRow {
  variant: Variant;
  clients: number;
  connected: number;
  failed: number;
  seconds: number;
  perSec: number;
  setupP50: number;
  setupP99: number;
  /** Server CPU over the run, % of one core, and per connection (µs). */
  serverCpu: number;
  serverCpuPerConnUs: number;
  /** A server with worker processes: CPU per connection (µs) of each process, the primary first. */
  processCpuPerConnUs?: number[];
  /** Load generators' CPU, % of one core. */
  loadgenCpu: number;
  /** Other processes on the machine, % of one core. */
  otherCpu: number;
  firstError?: string;
  /** Measured in several rounds: this row is the round of median rate; every round's figures, in order. */
  rounds?: { perSec: number[]; serverCpuPerConnUs: number[] };
}

/** The round of median rate (the lower middle one of an even count), with every round's figures. */
export function medianRound(rows: readonly ConnectRow[]): ConnectRow {
  const byRate = [...rows].sort((a, b) => a.perSec - b.perSec);
  const median = byRate[Math.floor((byRate.length - 1) / 2)]!;
  return { ...median, rounds: { perSec: rows.map((r) => r.perSec), serverCpuPerConnUs: rows.map((r) => r.serverCpuPerConnUs) } };
}

/** S5 setups: one node with either engine, two nodes over Redis (publishing on A, or via B's HTTP API). */
export type S5Setup = 'memory-1' | 'redis-1' | 'redis-2' | 'redis-2-http';

export const S5_LABEL: Readonly<Record<S5Setup, string>> = {
  'memory-1': '1 node, memory engine',
  'redis-1': '1 node, Redis engine',
  'redis-2': '2 nodes over Redis',
  'redis-2-http': "2 nodes over Redis, via B's HTTP API",
};

export interface S5Row {
  setup: S5Setup;
  nodes: number;
  engine: 'memory' | 'redis';
  /** Publications enter node A in-process, or through node B's HTTP API. */
  via: 'inproc' | 'http';
  subscribers: number;
  /** Subscribers connected to each node. */
  connected: number[];
  sweep: SweepResult;
}

export interface S5Result {
  subscribers: number;
  redisUrl: string;
  /** The run's key prefix, and how many keys under it were deleted at the end. */
  prefix: string;
  keysDeleted: number;
  rows: S5Row[];
}

/** When and how a scenario's results were measured (a merged latest.json mixes runs). */
export interface ScenarioRun {
  date: string;
  command: string;
  seconds: number;
  quick: boolean;
}

export interface ScenarioResults {
  s1?: SweepResult[];
  s2?: SweepResult[];
  s3?: MemoryRow[];
  s4?: ConnectRow[];
  s5?: S5Result;
  /** S6: Gyre as one process and with worker processes, S1's fan-out. */
  s6?: SweepResult[];
  /** Per scenario: the run it comes from. */
  runs?: Partial<Record<ScenarioName, ScenarioRun>>;
  /** Things the reader must know (limits hit, failures). */
  notes: string[];
}

// ---------------------------------------------------------------------------------------------------

/** Busy and total CPU time of the whole machine (all cores), in clock ticks, from /proc/stat. */
function machineCpu(): { busy: number; irq: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, irq: irq + softirq, total: busy + idle + iowait };
  } catch {
    return { busy: Number.NaN, irq: Number.NaN, total: Number.NaN };
  }
}

const CORES = Math.max(1, availableParallelism());
/** Latency growth within a step (last vs first quarter, median) allowed besides doubling. */
const GROWTH_SLACK_MS = 20;
/** A publisher this far behind its schedule stops: the step has failed. */
const MAX_LAG_MS = 500;
/** A failed step is repeated once when other processes used more than this (% of one core). */
const NOISY_CPU = 30;

/** Waits (at most `maxMs`) until the rest of the machine uses less than NOISY_CPU / 2 over 1 s. */
async function waitQuiet(maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    const a = machineCpu();
    await sleep(1000);
    const b = machineCpu();
    const busy = ((b.busy - b.irq - (a.busy - a.irq)) / Math.max(1, b.total - a.total)) * CORES * 100;
    if (busy < NOISY_CPU / 2) return;
  }
}

/** S4: connections made and closed before the clock starts (their own source addresses), for N timed. */
const s4WarmUp = (n: number) => Math.min(2000, Math.ceil(n / 5));

/** Waits until the server holds `count` connections (its clients' closes processed); 15 s at most. */
async function waitForConnections(server: ServerProcess, count: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { connections } = await server.stats();
    if (connections === count) return;
    if (Date.now() > deadline) throw new Error(`the server still holds ${connections} connections, expected ${count}, after 15 s`);
    await sleep(50);
  }
}

const ms = (us: number) => (Number.isFinite(us) ? us / 1000 : Number.NaN);

function cpuPercent(a: ServerStats, b: ServerStats): number {
  const wall = b.wallUs - a.wallUs;
  if (wall <= 0) return Number.NaN;
  return ((b.cpuUserUs - a.cpuUserUs + (b.cpuSystemUs - a.cpuSystemUs)) / wall) * 100;
}

function roundRate(r: number): number {
  if (r >= 100) return Math.round(r);
  if (r >= 10) return Math.round(r * 10) / 10;
  return Math.round(r * 100) / 100;
}

/**
 * What a step measures: the server process that publishes (in-process through its control API, or
 * through its HTTP API), every server process whose CPU counts (S5: both nodes), and the Redis
 * server they use, if any.
 */
export interface System {
  publisher: ServerProcess;
  nodes: ServerProcess[];
  redis?: BenchRedis;
}

const single = (server: ServerProcess): System => ({ publisher: server, nodes: [server] });

/** Per-run state shared by the scenarios. */
export class Bench {
  private seq = 1;
  /** Time spent repeating steps that other processes disturbed. */
  noiseSpentMs = 0;
  /** Last sustained deliveries/s seen, to start the next sweep near it. */
  private hint = new Map<string, number>();

  constructor(
    readonly opts: BenchOptions,
    readonly lg: LoadGen,
  ) {}

  private log(line: string): void {
    this.opts.log(line);
  }

  // -------------------------------------------------------------------------------------------------
  // One publishing step.

  private async waitDelivered(expected: number, maxWaitMs: number): Promise<MergedReport> {
    const deadline = nowUs() + maxWaitMs * 1000;
    let last = -1;
    let lastChange = nowUs();
    for (;;) {
      const r = await this.lg.report(false);
      const now = nowUs();
      if (r.delivered >= expected) return r;
      if (r.delivered + r.stale !== last) {
        last = r.delivered + r.stale;
        lastChange = now;
      } else if (now - lastChange > 1_000_000) {
        return r;
      }
      if (now > deadline) return r;
      await sleep(50);
    }
  }

  /** Waits until no publication arrives any more (after an overloaded step). */
  private async quiesce(maxMs = 30_000): Promise<void> {
    const deadline = nowUs() + maxMs * 1000;
    let last = -1;
    let stableSince = nowUs();
    for (;;) {
      const r = await this.lg.report(false);
      const seen = r.delivered + r.stale;
      const now = nowUs();
      if (seen !== last) {
        last = seen;
        stableSince = now;
      } else if (now - stableSince > 500_000) {
        return;
      }
      if (now > deadline) return;
      await sleep(100);
    }
  }

  async step(
    sys: System,
    via: Via,
    rate: number,
    seconds: number,
    target: PublishTarget,
    subscribers: number,
  ): Promise<StepResult> {
    const count = Math.max(4, Math.round(rate * seconds));
    const seqStart = this.seq;
    this.seq += count + 1;
    const req: PublishRequest = { rate, count, seqStart, size: this.opts.payloadSize, target, maxLagUs: MAX_LAG_MS * 1000 };
    let expected = expectedDeliveries(target, count, subscribers);
    await this.lg.begin(seqStart, count, target.kind === 'spread' ? target.sharedEvery : 0);
    const redis = sys.redis;
    const [s0, r0] = await Promise.all([Promise.all(sys.nodes.map((n) => n.stats())), redis?.cpuUs()]);
    const rw0 = nowUs();
    const m0 = machineCpu();
    const self0 = process.cpuUsage();
    const server = sys.publisher;
    const pub: PublishResponse =
      via === 'inproc'
        ? await server.publish(req)
        : await publishViaHttpApi(server.port, req, via === 'http-batch' ? (this.opts.s1.httpBatchMs ?? 10) : 0);
    const pubEnd = nowUs();
    if (pub.aborted) expected = expectedDeliveries(target, pub.sent, subscribers);
    if (process.env['BENCH_DEBUG'] === '1') {
      this.log(`      publish calls: ${(pub.callUs / 1000).toFixed(1)} ms total, max ${(pub.maxCallUs / 1000).toFixed(1)} ms, window ${((pub.lastUs - pub.firstUs) / 1000).toFixed(0)} ms`);
    }
    await this.waitDelivered(expected, Math.max(3000, seconds * 1500));
    const drainMs = (nowUs() - pubEnd) / 1000;
    const [s1, r1] = await Promise.all([Promise.all(sys.nodes.map((n) => n.stats())), redis?.cpuUs()]);
    const rw1 = nowUs();
    const m1 = machineCpu();
    const self = process.cpuUsage(self0);
    const r = await this.lg.report(true);
    const wallUs = s1[0]!.wallUs - s0[0]!.wallUs;
    const ticks = Math.max(1, m1.total - m0.total);
    const machineBusy = ((m1.busy - m0.busy) / ticks) * CORES * 100;
    // Interrupt and softirq time is mostly the loopback network work of our own traffic.
    const irqCpu = ((m1.irq - m0.irq) / ticks) * CORES * 100;
    const nodeCpu = sys.nodes.map((_n, i) => cpuPercent(s0[i]!, s1[i]!));
    const pa = s0[0]!.perProcessUs;
    const pb = s1[0]!.perProcessUs;
    const processCpu =
      sys.nodes.length === 1 && pa !== undefined && pb !== undefined && pa.length === pb.length
        ? pa.map((a, i) => ((pb[i]! - a) / Math.max(1, wallUs)) * 100)
        : undefined;
    const serverCpu = nodeCpu.reduce((a, b) => a + b, 0);
    const redisCpu = r0 !== undefined && r1 !== undefined ? ((r1 - r0) / Math.max(1, rw1 - rw0)) * 100 : undefined;
    // A Redis server on this machine is part of the system under test, not "other processes".
    const redisLocal = redis?.local === true && redisCpu !== undefined && Number.isFinite(redisCpu) ? redisCpu : 0;
    const loadgenCpu = (r.cpuUs / wallUs) * 100;
    const otherCpu = Math.max(0, machineBusy - irqCpu - serverCpu - redisLocal - loadgenCpu - ((self.user + self.system) / wallUs) * 100);
    const windowS = Math.max(count / rate, (r.lastRecvUs - pub.firstUs) / 1e6);
    const res: StepResult = {
      via,
      rate,
      published: pub.sent,
      expected,
      delivered: r.delivered,
      deliveredPerSec: r.delivered / windowS,
      p50: ms(r.all.percentile(50)),
      p95: ms(r.all.percentile(95)),
      p99: ms(r.all.percentile(99)),
      max: ms(r.all.max),
      earlyP50: ms(r.early.percentile(50)),
      lateP50: ms(r.late.percentile(50)),
      serverCpu,
      ...(sys.nodes.length > 1 && { nodeCpu }),
      ...(processCpu !== undefined && { processCpu }),
      ...(redisCpu !== undefined && { redisCpu }),
      loadgenCpu,
      otherCpu,
      irqCpu,
      disconnects: r.disconnects,
      publishErrors: pub.errors,
      sustained: true,
      drainMs,
    };
    const reasons: string[] = [];
    if (pub.aborted) reasons.push(`publisher fell ${MAX_LAG_MS} ms behind, stopped after ${pub.sent} of ${count}`);
    // `subscribers` is also the widest fan-out of one publication (S2's shared channel).
    const maxP99 = Math.max(this.opts.maxP99Ms, (subscribers * this.opts.maxP99UsPerSubscriber) / 1000);
    if (res.p99 > maxP99) reasons.push(`p99 over ${Math.round(maxP99)} ms`);
    const achieved = pub.sent / ((pub.lastUs - pub.firstUs) / 1e6 + 1 / rate);
    if (!pub.aborted && achieved < rate * 0.95) reasons.push(`publisher reached only ${roundRate(achieved)}/s`);
    if (r.delivered < expected * 0.995) reasons.push(`delivered ${((r.delivered / expected) * 100).toFixed(1)}%`);
    if (r.disconnects > 0) reasons.push(`${r.disconnects} disconnects`);
    if (pub.errors > 0) reasons.push(`${pub.errors} publish errors`);
    if (Number.isFinite(res.lateP50) && Number.isFinite(res.earlyP50)) {
      if (res.lateP50 > Math.max(2 * res.earlyP50, res.earlyP50 + GROWTH_SLACK_MS)) {
        reasons.push(`latency grew ${res.earlyP50.toFixed(1)} → ${res.lateP50.toFixed(1)} ms`);
      }
    }
    if (reasons.length > 0) {
      res.sustained = false;
      res.reason = reasons.join(', ');
    }
    return res;
  }

  private describe(s: StepResult): string {
    const f = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
    return (
      `rate ${roundRate(s.rate)}/s → ${Math.round(s.deliveredPerSec)} msg/s, ` +
      `p50/p95/p99 ${f(s.p50)}/${f(s.p95)}/${f(s.p99)} ms, server CPU ${f(s.serverCpu)}%` +
      (s.nodeCpu !== undefined ? ` (${s.nodeCpu.map((c) => `${f(c)}%`).join(' + ')})` : '') +
      (s.processCpu !== undefined ? ` (primary ${s.processCpu.map((c) => `${f(c)}%`).join(' + ')})` : '') +
      (s.redisCpu !== undefined ? `, Redis CPU ${f(s.redisCpu)}%` : '') +
      ', ' +
      `loadgen CPU ${f(s.loadgenCpu)}%, softirq ${f(s.irqCpu)}%, others ${f(s.otherCpu)}%` +
      (s.sustained ? ' ✓' : ` ✗ (${s.reason ?? ''})`)
    );
  }

  /**
   * Finds the highest publication rate sustained without backlog growth. Climbs by doubling from the
   * start rate (halving first if that fails) until two steps in a row fail — servers that coalesce
   * writes can fail a rate and pass twice that, as batches grow — then bisects (geometrically)
   * between the best sustained rate and the lowest failed rate above it, to within `resolution`.
   * Finally one step at half of the best rate, for latency under moderate load.
   */
  async sweep(
    sys: System,
    variant: Variant,
    via: Via,
    target: PublishTarget,
    subscribers: number,
    clients: number,
    cfg: { stepSeconds: number; maxSteps: number; resolution: number; fixedRates?: number[] | undefined },
    startRate: number,
    reconnect: () => Promise<void>,
    label: string = VARIANT_LABEL[variant],
  ): Promise<SweepResult> {
    const steps: StepResult[] = [];
    const attempt = async (rate: number, label: string): Promise<StepResult> => {
      for (;;) {
        const t0 = Date.now();
        const s = await this.step(sys, via, roundRate(rate), cfg.stepSeconds, target, subscribers);
        this.log(`    ${label}: ${this.describe(s)}`);
        if (s.sustained) return s;
        await this.quiesce();
        await reconnect();
        // Other processes took a large share of the machine: not the server's fault, so try again
        // once they are quieter (within the run's budget for such repeats).
        if (s.otherCpu > NOISY_CPU && this.noiseSpentMs < this.opts.noiseBudgetSeconds * 1000) {
          this.log(`      (other processes used ${s.otherCpu.toFixed(0)}% CPU during the step: repeating it)`);
          await waitQuiet(5_000);
          this.noiseSpentMs += Date.now() - t0;
          continue;
        }
        return s;
      }
    };
    const run = async (rate: number): Promise<StepResult> => {
      const s = await attempt(rate, label);
      steps.push(s);
      return s;
    };
    let best: StepResult | null = null;
    if (cfg.fixedRates !== undefined) {
      for (const rate of cfg.fixedRates) {
        const s = await run(rate);
        if (s.sustained && (best === null || s.rate > best.rate)) best = s;
      }
      return { variant, clients, connected: clients, best, half: null, steps };
    }
    // Warm-up (JIT, buffers): not recorded.
    await this.step(sys, via, roundRate(startRate / 2), Math.min(1, cfg.stepSeconds), target, subscribers);
    await this.quiesce();
    let failed = Number.POSITIVE_INFINITY; // lowest failed rate above the best sustained one
    let fails = 0;
    let rate = roundRate(startRate);
    let n = 0;
    // Climb.
    while (n++ < cfg.maxSteps) {
      const s = await run(rate);
      if (s.sustained) {
        if (best === null || s.rate > best.rate) best = s;
        fails = 0;
        if (failed !== Number.POSITIVE_INFINITY && failed <= s.rate) failed = Number.POSITIVE_INFINITY;
        if (rate * 2 >= failed) break;
        rate = roundRate(rate * 2);
      } else {
        fails++;
        if (best === null || s.rate > best.rate) failed = Math.min(failed, s.rate);
        if (best === null) {
          rate = roundRate(rate / 2);
          if (rate < 0.05) break;
        } else if (fails >= 2) {
          break;
        } else {
          rate = roundRate(rate * 2);
        }
      }
    }
    // Refine.
    while (best !== null && n++ < cfg.maxSteps && failed / best.rate > cfg.resolution) {
      const mid = roundRate(Math.sqrt(best.rate * failed));
      if (mid <= best.rate || mid >= failed) break;
      const s = await run(mid);
      if (s.sustained) best = s;
      else failed = s.rate;
    }
    let half: StepResult | null = null;
    if (best !== null) {
      half = await attempt(best.rate / 2, `${label} at half rate`);
    }
    return { variant, clients, connected: clients, best, half, steps };
  }

  // -------------------------------------------------------------------------------------------------

  /**
   * Runs `fn` under a CPU profile of the server (any kind) when profiling is on; the
   * profile goes to <profileDir>/<name>.cpuprofile.
   */
  private async profiled<T>(server: ServerProcess, name: string, fn: () => Promise<T>): Promise<T> {
    if (this.opts.profileDir === undefined) return fn();
    mkdirSync(this.opts.profileDir, { recursive: true });
    await server.profileStart();
    try {
      return await fn();
    } finally {
      const file = join(this.opts.profileDir, `${name}.cpuprofile`);
      await server.profileStop(file);
      this.log(`      CPU profile: ${file}`);
    }
  }

  private async withServer<T>(
    kind: ServerKind,
    fn: (s: ServerProcess) => Promise<T>,
    start: ServerStart = {},
  ): Promise<T> {
    const server = await ServerProcess.start(kind, this.opts.log, start);
    try {
      return await fn(server);
    } finally {
      await this.lg.close().catch(() => undefined);
      await server.stop();
    }
  }

  private async connectAll(
    server: ServerProcess,
    from: number,
    to: number,
    subs: Subscriptions,
    concurrency = this.opts.setupConcurrency,
    protocol: ClientProtocol = 'json',
    transport: ClientTransport = 'websocket',
    joinedFrames = false,
  ) {
    const c = await this.lg.connect(server.kind, server.port, from, to, subs, concurrency, protocol, transport, joinedFrames);
    if (c.failed > 0) this.log(`    ${c.failed} clients failed to connect (${c.firstError ?? '?'})`);
    return c;
  }

  /** Waits (at most `maxMs`) until the server holds at most `target` connections. */
  private async waitConnections(server: ServerProcess, target: number, maxMs = 10_000): Promise<void> {
    const deadline = Date.now() + maxMs;
    for (;;) {
      const { connections } = await server.stats();
      if (connections <= target) return;
      if (Date.now() > deadline) {
        this.log(`    (the server still holds ${connections} connections after ${maxMs / 1000} s: going on)`);
        return;
      }
      await sleep(50);
    }
  }

  /**
   * S1: one channel, N subscribers, increasing publication rates. Gyre is swept with JSON clients
   * (publishing in-process, then through its HTTP API), then with the same N clients reconnected
   * speaking protobuf, then on HTTP-streaming, then on SSE, then split over the four (in-process).
   */
  async s1(): Promise<SweepResult[]> {
    const o = this.opts.s1;
    const out: SweepResult[] = [];
    const target: PublishTarget = { kind: 'single', channel: 'bench' };
    const subs: Subscriptions = { kind: 'single', channel: 'bench' };
    for (const n of o.subscribers) {
      this.log(`  S1 with ${n} subscribers`);
      for (const kind of this.opts.servers) {
        this.lg.newSession(n);
        const results = await this.withServer(
          kind,
          async (server) => {
            const c = await this.connectAll(server, 0, n, subs);
            this.log(`    ${SERVER_LABEL[kind]}: ${c.connected}/${n} subscribed in ${c.seconds.toFixed(1)} s`);
            const reconnect = async () => {
              await this.connectAll(server, 0, n, subs);
            };
            const variants: Array<{ v: Variant; via: Via }> =
              kind === 'gyre' && o.http ? [{ v: 'gyre', via: 'inproc' }, { v: 'gyre-http', via: 'http' }] : [{ v: kind, via: 'inproc' }];
            const res: SweepResult[] = [];
            const run = async (v: Variant, via: Via, again: () => Promise<void>, connected: number) => {
              // Start near what this server sustained with the previous subscriber count (the
              // reconnected variants: near what JSON just sustained, the first time).
              const reconnected = S1_RECONNECTED.some((r) => r.v === v);
              const hint = this.hint.get(`S1 ${v}`) ?? (reconnected ? this.hint.get('S1 gyre') : undefined) ?? 100_000;
              const sw = await this.profiled(server, `S1-${n}-${v}`, () =>
                this.sweep(single(server), v, via, target, n, n, o, Math.max(1, hint / n), again),
              );
              sw.connected = connected;
              if (sw.best !== null) {
                this.hint.set(`S1 ${v}`, sw.best.deliveredPerSec * 0.7);
                this.hint.set(`S1 ${v} ${n}`, sw.best.deliveredPerSec * 0.7);
              }
              res.push(sw);
            };
            for (const { v, via } of variants) await run(v, via, reconnect, c.connected);
            for (const { v, protocol, transport, option } of kind === 'gyre' ? S1_RECONNECTED : []) {
              if (o[option] === false) continue;
              // The same N subscribers, now speaking protobuf, on an emulation transport, or mixed:
              // the previous ones leave first (the server lets them go), the new ones come from
              // fresh source addresses.
              await this.lg.close();
              await this.waitConnections(server, 0);
              this.lg.newSession(n);
              const cp = await this.connectAll(server, 0, n, subs, this.opts.setupConcurrency, protocol, transport);
              this.log(`    ${VARIANT_LABEL[v]}: ${cp.connected}/${n} subscribed in ${cp.seconds.toFixed(1)} s`);
              const again = async () => {
                await this.connectAll(server, 0, n, subs, this.opts.setupConcurrency, protocol, transport);
              };
              await run(v, 'inproc', again, cp.connected);
            }
            return res;
          },
        );
        out.push(...results);
        if (kind === 'gyre' && o.http && o.writeDelay !== undefined && o.writeDelay !== '') {
          const inproc = results.find((r) => r.variant === 'gyre')?.best?.rate;
          out.push(...(await this.s1WriteDelay(n, inproc)));
        }
      }
    }
    return out;
  }

  /**
   * S1 on a Gyre server with `client.write_delay` (s1.writeDelay): publications through the HTTP
   * API, one request each (`gyre-http-wd`), then (with s1.httpBatchMs) in batches
   * (`gyre-http-batch`), to the same N JSON WebSocket subscribers. After each sweep, one step at
   * `inprocRate` (the in-process row's best rate) as `ref`: the CPU per message at equal load.
   */
  private async s1WriteDelay(n: number, inprocRate: number | undefined): Promise<SweepResult[]> {
    const o = this.opts.s1;
    const target: PublishTarget = { kind: 'single', channel: 'bench' };
    const subs: Subscriptions = { kind: 'single', channel: 'bench' };
    this.lg.newSession(n);
    return this.withServer(
      'gyre',
      async (server) => {
        // Messages are joined into frames: pings come among publications.
        const connect = () => this.connectAll(server, 0, n, subs, this.opts.setupConcurrency, 'json', 'websocket', true);
        const c = await connect();
        this.log(`    Gyre (write_delay ${o.writeDelay}): ${c.connected}/${n} subscribed in ${c.seconds.toFixed(1)} s`);
        const reconnect = async () => {
          await connect();
        };
        const res: SweepResult[] = [];
        const rows: Array<{ v: Variant; via: Via }> = [
          { v: 'gyre-http-wd', via: 'http' },
          ...(o.httpBatchMs !== undefined && o.httpBatchMs > 0 ? [{ v: 'gyre-http-batch' as const, via: 'http-batch' as const }] : []),
        ];
        for (const { v, via } of rows) {
          const hint = this.hint.get(`S1 ${v}`) ?? this.hint.get('S1 gyre-http') ?? 100_000;
          const sw = await this.profiled(server, `S1-${n}-${v}`, () =>
            this.sweep(single(server), v, via, target, n, n, o, Math.max(1, hint / n), reconnect, `${VARIANT_LABEL[v]} ${o.writeDelay}` + (via === 'http-batch' ? `, ${o.httpBatchMs ?? 10} ms batches` : '')),
          );
          sw.connected = c.connected;
          sw.writeDelay = o.writeDelay!;
          if (inprocRate !== undefined && o.fixedRates === undefined) {
            await this.quiesce();
            const s = await this.step(single(server), via, inprocRate, o.stepSeconds, target, n);
            this.log(`    ${VARIANT_LABEL[v]} at the in-process row's best rate: ${this.describe(s)}`);
            sw.ref = s;
          }
          if (via === 'http-batch') sw.batchMs = o.httpBatchMs ?? 10;
          if (sw.best !== null) this.hint.set(`S1 ${v}`, sw.best.deliveredPerSec * 0.7);
          res.push(sw);
        }
        return res;
      },
      { args: ['--write-delay', o.writeDelay!], label: `gyre server (write_delay ${o.writeDelay})` },
    );
  }

  /** S2: N clients, each on its own channel plus one shared channel; publications spread over them. */
  async s2(): Promise<SweepResult[]> {
    const o = this.opts.s2;
    const n = o.clients;
    const out: SweepResult[] = [];
    const target: PublishTarget = { kind: 'spread', prefix: 'u', personal: n, shared: 'all', sharedEvery: n };
    const subs: Subscriptions = { kind: 'spread', prefix: 'u', shared: 'all' };
    for (const kind of this.opts.servers) {
      this.lg.newSession(n);
      const res = await this.withServer(kind, async (server) => {
        const c = await this.connectAll(server, 0, n, subs);
        this.log(`  S2 ${SERVER_LABEL[kind]}: ${c.connected}/${n} clients subscribed to 2 channels in ${c.seconds.toFixed(1)} s`);
        const reconnect = async () => {
          await this.connectAll(server, 0, n, subs);
        };
        // At least one shared-channel publication per step (count ≥ n).
        const start = Math.max(o.startRate, n / o.stepSeconds);
        const sw = await this.profiled(server, `S2-${n}`, () => this.sweep(single(server), kind, 'inproc', target, n, n, o, start, reconnect));
        sw.connected = c.connected;
        return sw;
      });
      out.push(res);
    }
    return out;
  }

  /**
   * S3: idle connections (subscribed to one channel), memory after forced GC. With s3.workers,
   * Gyre is measured a second time as `gyre serve --workers N`: its connections spread over N
   * worker processes (one open-file limit each), RSS and heap summed over the primary and the workers.
   */
  async s3(): Promise<MemoryRow[]> {
    const out: MemoryRow[] = [];
    for (const kind of this.opts.servers) {
      out.push(...(await this.s3Server(kind, 0)));
      const w = this.opts.s3.workers ?? 0;
      if (kind === 'gyre' && w > 0) out.push(...(await this.s3Server(kind, w)));
    }
    return out;
  }

  private async s3Server(kind: ServerKind, workers: number): Promise<MemoryRow[]> {
    const counts = this.opts.s3.counts;
    const subs: Subscriptions = { kind: 'single', channel: 'idle' };
    const variant: Variant = workers > 0 ? workersVariant(workers) : kind;
    // node:cluster hands connections to the workers in turn: each holds about 1/N of them.
    const cap = this.opts.maxConnectionsPerProcess * Math.max(1, workers);
    this.lg.newSession(Math.max(...counts));
    return this.withServer(
      kind,
      async (server) => {
        const base = await server.gc();
        const res: MemoryRow[] = [];
        let have = 0;
        for (const target of counts) {
          const n = Math.min(target, cap);
          if (n > have) await this.connectAll(server, have, n, subs);
          have = n;
          await sleep(1000);
          const m = await server.gc();
          const row: MemoryRow = {
            variant,
            target,
            connections: m.connections,
            rssBytes: m.rss,
            heapBytes: m.heapUsed,
            rssPerConn: m.connections > 0 ? (m.rss - base.rss) / m.connections : Number.NaN,
            heapPerConn: m.connections > 0 ? (m.heapUsed - base.heapUsed) / m.connections : Number.NaN,
            baselineRss: base.rss,
            baselineHeap: base.heapUsed,
            ...(m.processes !== undefined && m.processes > 1 && { processes: m.processes }),
          };
          this.log(
            `  S3 ${VARIANT_LABEL[variant]}: ${m.connections} idle connections → RSS ${(row.rssPerConn / 1024).toFixed(2)} KB/conn, ` +
              `heap ${(row.heapPerConn / 1024).toFixed(2)} KB/conn` +
              (row.processes !== undefined ? ` (summed over ${row.processes} processes, RSS ${(m.rss / 2 ** 20).toFixed(0)} MB)` : ''),
          );
          res.push(row);
        }
        return res;
      },
      workersStart(variant),
    );
  }

  /** S4: connection rate from 0 to N clients to "subscribed". */
  async s4(): Promise<ConnectRow[]> {
    const o = this.opts.s4;
    const n = o.clients;
    const out: ConnectRow[] = [];
    const subs: Subscriptions = { kind: 'single', channel: 'bench' };
    const setups: Array<{ kind: ServerKind; variant: Variant }> = [];
    for (const kind of this.opts.servers) {
      setups.push({ kind, variant: kind });
      // Socket.IO twice: without authentication, and authenticating a JWT as Gyre does (the target's).
      if (kind === 'sio') setups.push({ kind, variant: 'sio-jwt' });
      if (kind !== 'gyre') continue;
      for (const w of o.workers ?? []) if (w > 0) setups.push({ kind, variant: workersVariant(w) });
      if (o.schedNone === true) setups.push({ kind, variant: 'gyre-w2-none' });
    }
    // Rounds interleave the setups (A, B, C, A, B, C, …) so that drift of the machine falls on all.
    const rounds = Math.max(1, o.rounds ?? 1);
    const measured = new Map<Variant, ConnectRow[]>();
    for (let round = 1; round <= rounds; round++) {
      if (rounds > 1) this.log(`  S4 round ${round} of ${rounds}:`);
      for (const { kind, variant } of setups) {
        for (let attempt = 1; ; attempt++) {
          this.lg.newSession(n + s4WarmUp(n));
          const token = kind === 'gyre' || variant === 'sio-jwt';
          const row = await this.withServer(kind, async (server) => {
            await this.lg.prepare(kind, 0, n + s4WarmUp(n), token); // tokens are signed before the clock starts
            // Warm-up: the server's connect path compiled by the JIT before the clock starts, as in a
            // server that has run a while (10,000 connects take 2 s here, the first ones interpreted).
            await this.lg.connect(kind, server.port, n, n + s4WarmUp(n), subs, o.concurrencyPerWorker, 'json', 'websocket', false, token);
            await this.lg.close();
            await waitForConnections(server, 0);
            const s0 = await server.stats();
            const m0 = machineCpu();
            const self0 = process.cpuUsage();
            const c = await this.profiled(server, `S4-${n}-${variant}-attempt${attempt}`, () =>
              this.lg.connect(kind, server.port, 0, n, subs, o.concurrencyPerWorker, 'json', 'websocket', false, token),
            );
            const s1 = await server.stats();
            const m1 = machineCpu();
            const self = process.cpuUsage(self0);
            const serverCpu = cpuPercent(s0, s1);
            const loadgenCpu = (c.cpuUs / (c.seconds * 1e6)) * 100;
            const ticks = Math.max(1, m1.total - m0.total);
            const wallUs = s1.wallUs - s0.wallUs;
            const otherCpu = Math.max(
              0,
              ((m1.busy - m1.irq - (m0.busy - m0.irq)) / ticks) * CORES * 100 -
                serverCpu -
                (c.cpuUs / wallUs) * 100 -
                ((self.user + self.system) / wallUs) * 100,
            );
            const r: ConnectRow = {
              variant,
              clients: n,
              connected: c.connected,
              failed: c.failed,
              seconds: c.seconds,
              perSec: c.connected / c.seconds,
              setupP50: ms(c.setup.percentile(50)),
              setupP99: ms(c.setup.percentile(99)),
              serverCpu,
              serverCpuPerConnUs: (s1.cpuUserUs - s0.cpuUserUs + s1.cpuSystemUs - s0.cpuSystemUs) / Math.max(1, c.connected),
              ...(s0.perProcessUs !== undefined &&
                s1.perProcessUs?.length === s0.perProcessUs.length && {
                  processCpuPerConnUs: s1.perProcessUs.map((u, i) => (u - s0.perProcessUs![i]!) / Math.max(1, c.connected)),
                }),
              loadgenCpu,
              otherCpu,
              ...(c.firstError !== undefined && { firstError: c.firstError }),
            };
            this.log(
              `  S4 ${VARIANT_LABEL[variant]}: ${c.connected}/${n} subscribed in ${c.seconds.toFixed(2)} s → ${Math.round(r.perSec)} conn/s ` +
                `(setup p50 ${r.setupP50.toFixed(1)} ms, p99 ${r.setupP99.toFixed(1)} ms, server CPU ${r.serverCpu.toFixed(0)}% = ` +
                `${r.serverCpuPerConnUs.toFixed(0)} µs/conn` +
                (r.processCpuPerConnUs !== undefined ? ` (primary ${r.processCpuPerConnUs.map((u) => u.toFixed(0)).join(' + ')})` : '') +
                `, loadgen CPU ${r.loadgenCpu.toFixed(0)}%, others ${otherCpu.toFixed(0)}%)` +
                (c.failed > 0 ? `, ${c.failed} failed: ${c.firstError ?? ''}` : ''),
            );
            return r;
          }, variantStart(variant));
          if (row.otherCpu > NOISY_CPU && attempt < 3 && this.noiseSpentMs < this.opts.noiseBudgetSeconds * 1000) {
            const t0 = Date.now();
            this.log(`    (other processes used ${row.otherCpu.toFixed(0)}% CPU meanwhile: repeating)`);
            await waitQuiet(5_000);
            this.noiseSpentMs += Date.now() - t0 + row.seconds * 1000;
            continue;
          }
          measured.set(variant, [...(measured.get(variant) ?? []), row]);
          break;
        }
      }
    }
    for (const { variant } of setups) {
      const rows = measured.get(variant) ?? [];
      if (rows.length === 0) continue;
      out.push(rows.length === 1 ? rows[0]! : medianRound(rows));
    }
    return out;
  }

  /**
   * S5: one channel, N subscribers, on (a) one node with the memory engine, (b) one node with the
   * Redis engine, (c) two nodes over Redis with the subscribers split evenly and publications
   * injected on node A in-process (and, with `http`, (d) through node B's HTTP API). Same rate search
   * and sustain rules as S1; each setup starts its search near what the previous one sustained.
   * Keys live under a prefix unique to the run and are deleted at the end.
   */
  async s5(): Promise<S5Result> {
    const o = this.opts.s5;
    const n = o.subscribers;
    const half = Math.floor(n / 2);
    const target: PublishTarget = { kind: 'single', channel: 'bench' };
    const subs: Subscriptions = { kind: 'single', channel: 'bench' };
    const redis = await BenchRedis.connect(o.redisUrl);
    const prefix = benchPrefix();
    const redisArgs = ['--engine', 'redis', '--redis-url', o.redisUrl, '--redis-prefix', prefix];
    const rows: S5Row[] = [];
    const result: S5Result = { subscribers: n, redisUrl: o.redisUrl, prefix, keysDeleted: 0, rows };
    this.log(`  S5 with ${n} subscribers; Redis ${o.redisUrl}, key prefix ${prefix}`);
    // Start near what the previous setup sustained (deliveries/s), else near S1's result.
    let hint = this.hint.get('S1 gyre') ?? 1_000_000;
    const startRate = (factor: number) => Math.max(1, (hint * factor) / n);
    try {
      // (a), (b): one node.
      for (const engine of ['memory', 'redis'] as const) {
        const setup: S5Setup = engine === 'memory' ? 'memory-1' : 'redis-1';
        this.lg.newSession(n);
        const row = await this.withServer(
          'gyre',
          async (a) => {
            const c = await this.connectAll(a, 0, n, subs);
            this.log(`    ${S5_LABEL[setup]}: ${c.connected}/${n} subscribed in ${c.seconds.toFixed(1)} s`);
            const sys: System = { publisher: a, nodes: [a], ...(engine === 'redis' && { redis }) };
            const sw = await this.profiled(a, `S5-${n}-${setup}`, () =>
              this.sweep(sys, 'gyre', 'inproc', target, n, n, o, startRate(engine === 'memory' ? 1 : 0.8), async () => {
                await this.connectAll(a, 0, n, subs);
              }, S5_LABEL[setup]),
            );
            sw.connected = c.connected;
            return { setup, nodes: 1, engine, via: 'inproc' as const, subscribers: n, connected: [c.connected], sweep: sw };
          },
          engine === 'redis' ? { args: redisArgs, label: 'gyre node A' } : { label: 'gyre node A' },
        );
        rows.push(row);
        if (row.sweep.best !== null) hint = row.sweep.best.deliveredPerSec;
      }
      // (c), (d): two nodes over Redis, half of the subscribers on each.
      this.lg.newSession(n);
      const started = await Promise.allSettled([
        ServerProcess.start('gyre', this.opts.log, { args: redisArgs, label: 'gyre node A' }),
        ServerProcess.start('gyre', this.opts.log, { args: redisArgs, label: 'gyre node B' }),
      ]);
      const up = started.flatMap((p) => (p.status === 'fulfilled' ? [p.value] : []));
      const failed = started.find((p): p is PromiseRejectedResult => p.status === 'rejected');
      if (failed !== undefined) {
        await Promise.all(up.map((p) => p.stop()));
        throw failed.reason;
      }
      const [a, b] = up as [ServerProcess, ServerProcess];
      try {
        const connect = async () => {
          const ca = await this.connectAll(a, 0, half, subs);
          const cb = await this.connectAll(b, half, n, subs);
          return [ca, cb] as const;
        };
        const [ca, cb] = await connect();
        this.log(
          `    ${S5_LABEL['redis-2']}: ${ca.connected}/${half} subscribed on A, ${cb.connected}/${n - half} on B ` +
            `in ${(ca.seconds + cb.seconds).toFixed(1)} s`,
        );
        const reconnect = async () => {
          await connect();
        };
        const setups: Array<{ setup: S5Setup; via: 'inproc' | 'http'; publisher: ServerProcess; factor: number }> = [
          { setup: 'redis-2', via: 'inproc', publisher: a, factor: 0.8 },
          ...(o.http ? [{ setup: 'redis-2-http' as const, via: 'http' as const, publisher: b, factor: 0.4 }] : []),
        ];
        for (const { setup, via, publisher, factor } of setups) {
          const sys: System = { publisher, nodes: [a, b], redis };
          const sw = await this.profiled(a, `S5-${n}-${setup}`, () =>
            this.sweep(sys, via === 'inproc' ? 'gyre' : 'gyre-http', via, target, n, n, o, startRate(factor), reconnect, S5_LABEL[setup]),
          );
          sw.connected = ca.connected + cb.connected;
          rows.push({ setup, nodes: 2, engine: 'redis', via, subscribers: n, connected: [ca.connected, cb.connected], sweep: sw });
          if (setup === 'redis-2' && sw.best !== null) hint = sw.best.deliveredPerSec;
        }
      } finally {
        await this.lg.close().catch(() => undefined);
        await Promise.all([a.stop(), b.stop()]);
      }
    } finally {
      try {
        result.keysDeleted = await redis.deleteKeys(prefix);
        this.log(`    removed ${result.keysDeleted} Redis keys under ${prefix}.*`);
      } finally {
        redis.close();
      }
    }
    return result;
  }
  /**
   * S6: S1's fan-out (one channel, N JSON WebSocket subscribers, the same rate search and sustain
   * rules) on Gyre as one process and as `gyre serve --workers N` for each N of s6.workers: the
   * primary publishes into the engine it hosts (`primary.engineHost.publish`), which sends each
   * publication to every worker with subscribers over IPC; the CPU counted is the sum over the
   * primary and the workers. A subscriber count above what the setups' smallest process count may
   * hold (one open-file limit each) is measured at that cap, the same for every setup.
   */
  async s6(): Promise<SweepResult[]> {
    const o = this.opts.s6;
    const out: SweepResult[] = [];
    const target: PublishTarget = { kind: 'single', channel: 'bench' };
    const subs: Subscriptions = { kind: 'single', channel: 'bench' };
    const fewest = Math.min(...o.workers.map((w) => Math.max(1, w)));
    for (const asked of o.subscribers) {
      const n = Math.min(asked, this.opts.maxConnectionsPerProcess * fewest);
      this.log(`  S6 with ${n} subscribers` + (n < asked ? ` (of ${asked}: the open-file limit of one process)` : ''));
      let refRate: number | undefined;
      // The setup whose best rate sets the shared one (half of it) runs first: 1 worker when
      // measured (the 2-worker target compares with it), else the first.
      const ref = o.workers.includes(1) ? 1 : o.workers[0];
      for (const w of [...o.workers].sort((a, b) => (a === ref ? -1 : b === ref ? 1 : 0))) {
        const v = workersVariant(w);
        this.lg.newSession(n);
        const sw = await this.withServer(
          'gyre',
          async (server) => {
            const c = await this.connectAll(server, 0, n, subs);
            this.log(`    ${VARIANT_LABEL[v]}: ${c.connected}/${n} subscribed in ${c.seconds.toFixed(1)} s`);
            const reconnect = async () => {
              await this.connectAll(server, 0, n, subs);
            };
            const hint = this.hint.get(`S6 ${n}`) ?? this.hint.get(`S1 gyre ${n}`) ?? this.hint.get('S1 gyre') ?? 100_000;
            const r = await this.profiled(server, `S6-${n}-${v}`, () =>
              this.sweep(single(server), v, 'inproc', target, n, n, o, Math.max(1, hint / n), reconnect),
            );
            r.connected = c.connected;
            if (n < asked) r.asked = asked;
            // The same load for every setup: half of the reference setup's best rate.
            if (refRate === undefined && r.best !== null) {
              refRate = roundRate(r.best.rate / 2);
              r.ref = r.half;
            } else if (refRate !== undefined && o.fixedRates === undefined) {
              await this.quiesce();
              const s = await this.step(single(server), 'inproc', refRate, o.stepSeconds, target, n);
              this.log(`    ${VARIANT_LABEL[v]} at the shared rate: ${this.describe(s)}`);
              r.ref = s;
            }
            return r;
          },
          workersStart(v),
        );
        if (sw.best !== null) this.hint.set(`S6 ${n}`, sw.best.deliveredPerSec * 0.7);
        out.push(sw);
      }
    }
    // The primary's relay cost: few subscribers, fixed rates.
    const relay = o.relay;
    if (relay !== undefined && relay.rates.length > 0) {
      this.log(`  S6 relay cost: ${relay.subscribers} subscribers, ${relay.rates.join(', ')} publications/s`);
      for (const w of (relay.workers ?? o.workers).filter((x) => x > 0)) {
        const v = workersVariant(w);
        const n = relay.subscribers;
        this.lg.newSession(n);
        const sw = await this.withServer(
          'gyre',
          async (server) => {
            const c = await this.connectAll(server, 0, n, subs);
            const reconnect = async () => {
              await this.connectAll(server, 0, n, subs);
            };
            const r = await this.sweep(single(server), v, 'inproc', target, n, n, { ...o, fixedRates: relay.rates }, 1, reconnect, `${VARIANT_LABEL[v]} relay`);
            r.connected = c.connected;
            r.relay = true;
            return r;
          },
          workersStart(v),
        );
        out.push(sw);
      }
    }
    // Reported by subscriber count, then by worker count.
    return out.sort((a, b) => Number(a.relay === true) - Number(b.relay === true) || a.clients - b.clients || workersOf(a.variant) - workersOf(b.variant));
  }
}
