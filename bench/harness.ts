/**
 * Process plumbing of the harness: the server under test (a child process with a control API), the
 * pool of load-generator workers (forked, IPC), and the HTTP API publisher used for Gyre.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  BENCH_API_KEY,
  channelFor,
  type ClientProtocol,
  type ClientTransport,
  ADDRESS_COUNT,
  addressNumber,
  CLIENTS_PER_ADDRESS,
  makePayload,
  nowUs,
  READY_PREFIX,
  type ConnectReport,
  type MemoryStats,
  type PublishRequest,
  type PublishResponse,
  type ReadyLine,
  type ServerKind,
  type ServerStats,
  type StepReport,
  type Subscriptions,
  type WorkerCommand,
  type WorkerReply,
} from './common.js';
import { pin } from './cpu-pinning.js';
import { ensureGyreBuild } from './gyre-build.js';
import { Histogram } from './histogram.js';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = dirname(BENCH_DIR);

const SERVER_SCRIPT: Readonly<Record<ServerKind, string>> = {
  gyre: 'servers/gyre.ts',
  raw: 'servers/raw-ws.ts',
  sio: 'servers/socketio.ts',
};

export type Log = (line: string) => void;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------

/** How to start a server under test: script arguments, extra environment, a label for its output. */
export interface ServerStart {
  args?: readonly string[];
  env?: Readonly<Record<string, string>>;
  label?: string;
}

/** A server under test, running in its own process. */
export class ServerProcess {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  private exited = false;
  private readonly exitPromise: Promise<void>;

  private constructor(
    readonly kind: ServerKind,
    private readonly child: ChildProcess,
    readonly port: number,
    readonly controlPort: number,
  ) {
    this.exitPromise = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        this.exited = true;
        resolve();
      }
      child.once('exit', () => {
        this.exited = true;
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /**
   * Starts `bench/servers/<kind>.ts` with `--expose-gc`; `opts.args` go to the script (Gyre:
   * `--engine redis --redis-url URL --redis-prefix P`, `--workers N`), `opts.env` adds to its
   * environment, `opts.label` names it in forwarded output.
   */
  static async start(kind: ServerKind, log: Log, opts: ServerStart = {}): Promise<ServerProcess> {
    if (kind !== 'raw') ensureGyreBuild(log); // the Socket.IO server verifies tokens with Gyre's verifier
    const args = ['--expose-gc', '--import', 'tsx', join(BENCH_DIR, SERVER_SCRIPT[kind]), ...(opts.args ?? [])];
    const child = spawn(process.execPath, args, {
      cwd: REPO_DIR,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.env !== undefined && { env: { ...process.env, ...opts.env } }),
    });
    pin(child.pid, 'server');
    const label = opts.label ?? `${kind} server`;
    let forwarded = 0;
    const forward = (line: string) => {
      if (forwarded++ < 40) log(`  [${label}] ${line}`);
    };
    createInterface({ input: child.stderr! }).on('line', forward);
    const lines = createInterface({ input: child.stdout! });
    const ready = await new Promise<ReadyLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label} did not start within 30 s`)), 30_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${label} exited during start (code ${code})`));
      });
      lines.on('line', (line) => {
        if (line.startsWith(READY_PREFIX)) {
          clearTimeout(timer);
          resolve(JSON.parse(line.slice(READY_PREFIX.length)) as ReadyLine);
        } else {
          forward(line);
        }
      });
    }).catch((e: unknown) => {
      child.kill('SIGKILL');
      throw e;
    });
    child.removeAllListeners('exit');
    return new ServerProcess(kind, child, ready.port, ready.control);
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return request<T>({ port: this.controlPort, method, path, agent: this.agent }, body);
  }

  stats(): Promise<ServerStats> {
    return this.call('GET', '/stats');
  }

  gc(): Promise<MemoryStats> {
    return this.call('POST', '/gc');
  }

  publish(req: PublishRequest): Promise<PublishResponse> {
    return this.call('POST', '/publish', req);
  }

  /** Starts a CPU profile of the server process (V8 sampling profiler through the inspector). */
  async profileStart(): Promise<void> {
    await this.call('POST', '/profile/start');
  }

  /** Writes a heap snapshot of the server (after GC) to `file`. */
  async heapSnapshot(file: string): Promise<void> {
    await this.call('POST', '/heap', { file });
  }

  /** Stops the CPU profile and writes it to `file`. */
  async profileStop(file: string): Promise<void> {
    await this.call('POST', '/profile/stop', { file });
  }

  /** Asks the server to exit (a CPU profile, if any, is written then); kills it if it does not. */
  async stop(): Promise<void> {
    if (!this.exited) {
      await this.call('POST', '/quit').catch(() => undefined);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exitPromise;
      clearTimeout(timer);
    }
    this.agent.destroy();
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
    this.agent.destroy();
  }
}

function request<T>(opts: http.RequestOptions, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        ...opts,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const s = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) >= 300) return reject(new Error(`HTTP ${res.statusCode} ${opts.path}: ${s}`));
          try {
            resolve(JSON.parse(s) as T);
          } catch (e) {
            reject(e as Error);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

// ---------------------------------------------------------------------------------------------------

/**
 * Publishes through Gyre's HTTP API at a rate, from this process: one `POST /api/publish` per
 * publication or, with `batchMs` > 0, the publications due within each `batchMs` in one
 * `POST /api/batch` (`{"commands": [{"publish": …}, …]}`, run in order). Each payload is stamped
 * with the time it was due, so waiting for its batch shows as latency.
 */
export async function publishViaHttpApi(port: number, r: PublishRequest, batchMs = 0): Promise<PublishResponse> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const out: PublishResponse = { sent: 0, errors: 0, firstUs: 0, lastUs: 0, callUs: 0, maxCallUs: 0, aborted: false };
  const inflight = new Set<Promise<void>>();
  const start = nowUs();
  const track = (p: Promise<void>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };
  const command = (k: number) => ({ channel: channelFor(r.target, k), data: makePayload(r.seqStart + k, r.size, start + (k * 1e6) / r.rate) });
  const one = (k: number, now: number) => {
    if (k === 0) out.firstUs = now;
    out.lastUs = now;
    track(
      request<{ error?: unknown }>({ port, method: 'POST', path: '/api/publish', agent, headers: { 'x-api-key': BENCH_API_KEY } }, command(k)).then(
        (res) => {
          if (res.error !== undefined) out.errors++;
        },
        () => {
          out.errors++;
        },
      ),
    );
  };
  /** Publications [from, to) in one batch request. */
  const batch = (from: number, to: number, now: number) => {
    if (from === 0) out.firstUs = now;
    out.lastUs = now;
    const commands: Array<{ publish: ReturnType<typeof command> }> = [];
    for (let k = from; k < to; k++) commands.push({ publish: command(k) });
    track(
      request<{ result?: { replies?: Array<{ error?: unknown }> }; error?: unknown }>(
        { port, method: 'POST', path: '/api/batch', agent, headers: { 'x-api-key': BENCH_API_KEY } },
        { commands },
      ).then(
        (res) => {
          const replies = res.result?.replies ?? [];
          out.errors += to - from - replies.length;
          for (const rep of replies) if (rep.error !== undefined) out.errors++;
        },
        () => {
          out.errors += to - from;
        },
      ),
    );
  };
  const batchUs = batchMs * 1000;
  let lastBatch = start - batchUs;
  while (out.sent < r.count) {
    const now = nowUs();
    // Requests not answered within the allowed lag: the server is not keeping up.
    if (out.sent > 0 && (now - (start + (out.sent * 1e6) / r.rate) > r.maxLagUs || inflight.size > (r.rate * r.maxLagUs) / 1e6)) {
      out.aborted = true;
      break;
    }
    const due = Math.min(r.count, Math.floor(((now - start) * r.rate) / 1e6) + 1);
    if (batchUs <= 0) {
      while (out.sent < due) one(out.sent++, now);
    } else if (due > out.sent && (now - lastBatch >= batchUs || due === r.count)) {
      batch(out.sent, due, now);
      out.sent = due;
      lastBatch = now;
    }
    if (out.sent < r.count) await sleep(1);
  }
  await Promise.all([...inflight]);
  agent.destroy();
  return out;
}

// ---------------------------------------------------------------------------------------------------

class Worker {
  private readonly child: ChildProcess;
  private readonly pending: Array<{ resolve: (r: WorkerReply) => void; reject: (e: Error) => void }> = [];
  private dead = false;

  constructor(readonly id: number) {
    this.child = fork(join(BENCH_DIR, 'loadgen.ts'), [], {
      cwd: REPO_DIR,
      // GYRE_BENCH_LOADGEN_PROFILE=DIR: a V8 CPU profile of each load generator, written when it exits.
      execArgv: ['--import', 'tsx', ...loadgenProfileArgs()],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    pin(this.child.pid, 'client');
    this.child.on('message', (reply: WorkerReply) => {
      const p = this.pending.shift();
      if (p === undefined) return;
      if (reply.type === 'error') p.reject(new Error(`load generator ${id}: ${reply.message}`));
      else p.resolve(reply);
    });
    this.child.on('exit', (code) => {
      this.dead = true;
      for (const p of this.pending.splice(0)) p.reject(new Error(`load generator ${id} exited (${code})`));
    });
  }

  call<T extends WorkerReply>(cmd: WorkerCommand): Promise<T> {
    if (this.dead) return Promise.reject(new Error(`load generator ${this.id} is gone`));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ resolve: resolve as (r: WorkerReply) => void, reject });
      this.child.send(cmd);
    });
  }

  async exit(): Promise<void> {
    if (this.dead) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'exit' } satisfies WorkerCommand);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
}

/** Aggregated counters of a step from all workers. */
export interface MergedReport {
  delivered: number;
  stale: number;
  lastRecvUs: number;
  open: number;
  disconnects: number;
  all: Histogram;
  early: Histogram;
  late: Histogram;
  cpuUs: number;
}

export interface ConnectResult {
  connected: number;
  failed: number;
  seconds: number;
  /** CPU of all workers while connecting, µs. */
  cpuUs: number;
  setup: Histogram;
  firstError?: string;
}

/**
 * The first source-address number (see `sourceAddress`) after the highest one that has a TCP socket
 * in any state (/proc/net/tcp); 0 when that is near the end of the range or /proc is not there.
 */
export function firstUnusedAddress(): number {
  let text: string;
  try {
    text = readFileSync('/proc/net/tcp', 'latin1');
  } catch {
    return 0;
  }
  let highest = -1;
  // "  12: 0200007F:9C40 0100007F:1F40 06 ...": local address, little-endian hex.
  for (const m of text.matchAll(/^\s*\d+: ([0-9A-F]{2})([0-9A-F]{2})007F:/gm)) {
    const last = parseInt(m[1]!, 16);
    const third = parseInt(m[2]!, 16);
    if (last < 2 || last >= 252) continue;
    highest = Math.max(highest, addressNumber(third, last));
  }
  const next = highest + 1;
  return next > ADDRESS_COUNT - 2000 ? 0 : next;
}

function loadgenProfileArgs(): string[] {
  const dir = process.env['GYRE_BENCH_LOADGEN_PROFILE'];
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/** The load-generator workers. Clients are numbered globally; a range is split evenly over workers. */
export class LoadGen {
  private readonly workers: Worker[];
  /**
   * Source-address numbers handed out so far (each server run gets fresh addresses). The first is past
   * every source address that still has a socket, so that a run started within a minute of another
   * does not bind among the other's TIME_WAIT sockets (there, each bind searched thousands of taken
   * ports, and the load generator's CPU per connection rose eightfold).
   */
  private addressNext = firstUnusedAddress();
  private addressBase = 0;

  constructor(
    count: number,
    /** Most clients one worker may hold (its open-file limit). */
    readonly perWorkerCap: number,
  ) {
    this.workers = Array.from({ length: count }, (_, i) => new Worker(i));
  }

  get size(): number {
    return this.workers.length;
  }

  /** Starts a new server run: its clients use source addresses not used before in this run. */
  newSession(maxClients: number): void {
    this.addressBase = this.addressNext;
    this.addressNext += Math.ceil(maxClients / CLIENTS_PER_ADDRESS) + 1;
  }

  private split(from: number, to: number): Array<{ w: Worker; from: number; to: number }> {
    const n = to - from;
    const k = Math.min(this.workers.length, Math.max(2, Math.ceil(n / this.perWorkerCap)));
    const out: Array<{ w: Worker; from: number; to: number }> = [];
    for (let i = 0; i < k; i++) {
      const a = from + Math.floor((n * i) / k);
      const b = from + Math.floor((n * (i + 1)) / k);
      if (b > a) out.push({ w: this.workers[i]!, from: a, to: b });
    }
    return out;
  }

  /**
   * Signs what clients [from, to) need before connecting (their tokens: Gyre's always, Socket.IO's
   * with `token`), outside any timing.
   */
  async prepare(server: ServerKind, from: number, to: number, token = server === 'gyre'): Promise<void> {
    if (!token) return;
    await Promise.all(this.split(from, to).map((p) => p.w.call({ type: 'prepare', from: p.from, to: p.to })));
  }

  /**
   * Connects clients [from, to) (those already open are kept, whatever protocol they speak) and waits
   * until all are subscribed. `protocol`: Gyre's client protocol (default json); `transport`: Gyre's
   * client transport (default websocket; `mixed`: client i as MIXED_MODES[i % 4]); `token`: Socket.IO
   * clients send a JWT in their CONNECT packet (Gyre's always connect with one).
   */
  async connect(
    server: ServerKind,
    port: number,
    from: number,
    to: number,
    subs: Subscriptions,
    concurrencyPerWorker: number,
    protocol: ClientProtocol = 'json',
    transport: ClientTransport = 'websocket',
    joinedFrames = false,
    token = server === 'gyre',
  ): Promise<ConnectResult> {
    await this.prepare(server, from, to, token);
    const reports = await Promise.all(
      this.split(from, to).map((p) =>
        p.w.call<ConnectReport>({
          type: 'connect',
          server,
          port,
          from: p.from,
          to: p.to,
          subs,
          addressBase: this.addressBase,
          concurrency: concurrencyPerWorker,
          protocol,
          transport,
          ...(joinedFrames && { joinedFrames }),
          ...(token && server === 'sio' && { sioToken: true }),
        }),
      ),
    );
    const start = Math.min(...reports.map((r) => r.startUs));
    const end = Math.max(...reports.map((r) => r.endUs));
    const firstError = reports.find((r) => r.firstError !== undefined)?.firstError;
    return {
      connected: reports.reduce((s, r) => s + r.connected, 0),
      failed: reports.reduce((s, r) => s + r.failed, 0),
      seconds: (end - start) / 1e6,
      cpuUs: reports.reduce((s, r) => s + r.cpuUs, 0),
      setup: Histogram.fromSparse(...reports.map((r) => r.setup)),
      ...(firstError !== undefined && { firstError }),
    };
  }

  async begin(seqStart: number, count: number, skipEvery: number): Promise<void> {
    await Promise.all(this.workers.map((w) => w.call({ type: 'begin', seqStart, count, skipEvery })));
  }

  async report(full: boolean): Promise<MergedReport> {
    const reports = await Promise.all(this.workers.map((w) => w.call<StepReport>({ type: 'report', full })));
    return {
      delivered: reports.reduce((s, r) => s + r.delivered, 0),
      stale: reports.reduce((s, r) => s + r.stale, 0),
      lastRecvUs: Math.max(...reports.map((r) => r.lastRecvUs)),
      open: reports.reduce((s, r) => s + r.open, 0),
      disconnects: reports.reduce((s, r) => s + r.disconnects, 0),
      all: Histogram.fromSparse(...reports.map((r) => r.all)),
      early: Histogram.fromSparse(...reports.map((r) => r.early)),
      late: Histogram.fromSparse(...reports.map((r) => r.late)),
      cpuUs: reports.reduce((s, r) => s + r.cpuUs, 0),
    };
  }

  /** Closes every client of every worker. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.call({ type: 'close' })));
  }

  async exit(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.exit()));
  }
}
