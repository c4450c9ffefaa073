/**
 * Soak: one Gyre server (the CLI, in a child process) under a steady mix of good and bad clients for
 * a while, watching its memory and event loop. Not a test: it asserts nothing about close codes, it
 * reports them; it fails (exit 1) only when the server process dies.
 *
 *   npm run soak -- [--minutes 2 | --seconds 60] [--interval 5] [--dist] [--rate 200] [--size 1000]
 *                   [--channels 4] [--healthy 5] [--slow-rate 2] [--stall 30] [--flood-rate 1]
 *                   [--flood-max-age 15] [--churn-rate 20] [--queue-max-size BYTES] [--write-timeout 1s]
 *
 * At the same time, for the whole run:
 *   - publisher: `--rate` publications/s of ~`--size` bytes (random, barely compressible) through the
 *     HTTP API (`POST /api/publish`, X-API-Key), round-robin over `--channels` channels; `--healthy`
 *     subscribers read everything (and answer pings) and count what they get;
 *   - slow readers: `--slow-rate` new clients/s subscribe to every channel, then pause their socket;
 *     every other one negotiates permessage-deflate (`websocket.compression` is on). A paused client
 *     cannot see the server's close frame, which waits behind the backlog, so after `--stall` s it
 *     resumes reading to find out what happened: the close frame (3008 slow, 3009 write error, 3012
 *     no pong...), a bare socket close (1006), or nothing ("survived": the server never gave up on it;
 *     we close it ourselves);
 *   - error floods: `--flood-rate` new clients/s connect, then send garbage every 10 ms (variants in
 *     turn: unknown-method commands `{"id":N}`, those plus a malformed frame now and then, deeply
 *     nested publication data); one still open after `--flood-max-age` s is closed by us ("max-age");
 *   - churn: `--churn-rate` clients/s connect, subscribe, unsubscribe and close.
 * Every `--interval` s one line: elapsed time, server RSS (VmRSS of the child) and CPU, the server's
 * event-loop delay (see the probe below), open clients by kind, close codes so far by kind,
 * publications delivered. At the end a summary and a one-line result for BENCHMARKS.md. The server
 * runs src/cli/main.ts through tsx (so its RSS includes tsx's compiler), or dist/ with `--dist`.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { signToken } from '../src/auth/sign.js';
import { BENCH_API_KEY, BENCH_SECRET } from './common.js';
import { REPO_DIR, sleep } from './harness.js';
import { SOAK_RESULT_FILE } from './soak-result.js';
import { Histogram } from './histogram.js';

// ---------------------------------------------------------------------------------------------------
// Options.

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '2' },
    seconds: { type: 'string' },
    interval: { type: 'string', default: '5' },
    dist: { type: 'boolean', default: false },
    rate: { type: 'string', default: '200' },
    size: { type: 'string', default: '1000' },
    channels: { type: 'string', default: '4' },
    healthy: { type: 'string', default: '5' },
    'slow-rate': { type: 'string', default: '2' },
    stall: { type: 'string', default: '30' },
    'flood-rate': { type: 'string', default: '1' },
    'flood-max-age': { type: 'string', default: '15' },
    'churn-rate': { type: 'string', default: '20' },
    'queue-max-size': { type: 'string' },
    'write-timeout': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    'usage: npm run soak -- [--minutes 2 | --seconds 60] [--interval 5] [--dist] [--rate 200] [--size 1000]\n' +
      '         [--channels 4] [--healthy 5] [--slow-rate 2] [--stall 30] [--flood-rate 1] [--flood-max-age 15]\n' +
      '         [--churn-rate 20] [--queue-max-size BYTES] [--write-timeout DURATION]\n' +
      '  --dist: run the built CLI (dist/cli/main.js) instead of src/cli/main.ts through tsx\n',
  );
  process.exit(0);
}

function num(name: string, raw: string, min: number): number {
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min) {
    process.stderr.write(`invalid --${name} "${raw}" (a number >= ${min})\n`);
    process.exit(2);
  }
  return v;
}

const opts = {
  seconds: values.seconds !== undefined ? num('seconds', values.seconds, 1) : num('minutes', values.minutes, 0.05) * 60,
  interval: num('interval', values.interval, 0.5),
  rate: num('rate', values.rate, 0),
  size: num('size', values.size, 64),
  channels: Math.floor(num('channels', values.channels, 1)),
  healthy: Math.floor(num('healthy', values.healthy, 0)),
  slowRate: num('slow-rate', values['slow-rate'], 0),
  stall: num('stall', values.stall, 1),
  floodRate: num('flood-rate', values['flood-rate'], 0),
  floodMaxAge: num('flood-max-age', values['flood-max-age'], 1),
  churnRate: num('churn-rate', values['churn-rate'], 0),
  queueMaxSize: values['queue-max-size'] !== undefined ? Math.floor(num('queue-max-size', values['queue-max-size'], 1)) : undefined,
  writeTimeout: values['write-timeout'],
};

const CHANNELS = Array.from({ length: opts.channels }, (_, i) => `soak-${i}`);
/** Garbage sent by error floods every tick; replies to calls wait at most this long. */
const FLOOD_TICK_MS = 10;
const CALL_TIMEOUT_MS = 10_000;
/** After resuming, how long a slow reader waits for the server's close before calling it "survived". */
const RESUME_WAIT_MS = 5_000;
/** One publish command whose data nests this deep (~4 KB). */
const NESTED = '['.repeat(2000) + ']'.repeat(2000);

const log = (line: string) => process.stdout.write(line + '\n');

// ---------------------------------------------------------------------------------------------------
// State and counters.

type Kind = 'healthy' | 'slow' | 'slowz' | 'flood' | 'churn' | 'probe';
const KINDS: readonly Kind[] = ['healthy', 'slow', 'slowz', 'flood', 'churn', 'probe'];
type FloodVariant = 'unknown' | 'malformed' | 'nested';
const FLOOD_VARIANTS: readonly FloodVariant[] = ['unknown', 'malformed', 'nested'];

const openByKind = new Map<Kind, number>(KINDS.map((k) => [k, 0]));
/** Close codes seen by kind (or why we closed it ourselves: max-age, survived, timeout, no-open...). */
const closesByKind = new Map<Kind, Map<string, number>>(KINDS.map((k) => [k, new Map()]));
const closesByFlood = new Map<FloodVariant, Map<string, number>>(FLOOD_VARIANTS.map((v) => [v, new Map()]));
const firstErrors = new Map<Kind, string>();
const live = new Set<Conn>();
const counters = {
  delivered: 0,
  churnDone: 0,
  churnFailed: 0,
  slowPaused: 0,
  deflateAsked: 0,
  deflateGot: 0,
  /** What slow readers read after resuming (the backlog buffered for them, wire bytes). */
  backlogBytes: 0,
  backlogCount: 0,
  backlogMax: 0,
};

/** Interval timers of the load (cleared first on shutdown). */
const loadTimers: NodeJS.Timeout[] = [];
let stopping = false;
let port = 0;
const tokens = new Map<Kind, string>();

function bump<K>(map: Map<K, number>, key: K, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

// ---------------------------------------------------------------------------------------------------
// A client of the JSON protocol: commands out (one per line), replies matched by id, pings answered.

interface Reply {
  id?: number;
  error?: { code: number; message: string };
  push?: { channel?: string; pub?: unknown };
}

class Conn {
  readonly ws: WebSocket;
  /** Resolves on open, rejects if the socket closes first. */
  readonly opened: Promise<void>;
  isOpen = false;
  /** Set when we close it ourselves: recorded instead of the close code. */
  ownReason: string | undefined;
  onPush: ((push: NonNullable<Reply['push']>) => void) | undefined;
  onClose: ((key: string) => void) | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    readonly kind: Kind,
    deflate: boolean,
  ) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}/connection/websocket`, { perMessageDeflate: deflate });
    live.add(this);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => {
        this.isOpen = true;
        bump(openByKind, kind);
        resolve();
      });
      this.ws.once('close', () => reject(new Error('closed before open')));
    });
    this.opened.catch(() => undefined);
    this.ws.on('error', (e) => {
      if (!firstErrors.has(kind)) firstErrors.set(kind, e.message);
    });
    this.ws.on('message', (data, isBinary) => {
      if (!isBinary) this.onText(rawText(data));
    });
    this.ws.once('close', (code) => {
      live.delete(this);
      for (const t of this.timers) clearTimeout(t);
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`closed (${code})`));
      }
      this.pending.clear();
      if (this.isOpen) bump(openByKind, kind, -1);
      if (stopping) return;
      const key = this.ownReason ?? (this.isOpen ? String(code) : 'no-open');
      bump(closesByKind.get(kind)!, key);
      this.onClose?.(key);
    });
  }

  private onText(text: string): void {
    // Parse only when someone listens: flood clients get thousands of error replies per second.
    const parse = this.pending.size > 0 || this.onPush !== undefined;
    for (const line of text.split('\n')) {
      if (line === '{}') {
        this.send('{}'); // server ping
        continue;
      }
      if (!parse || line === '') continue;
      let r: Reply;
      try {
        r = JSON.parse(line) as Reply;
      } catch {
        if (!firstErrors.has(this.kind)) firstErrors.set(this.kind, `unparsable server message: ${line.slice(0, 100)}`);
        continue;
      }
      if (r.push !== undefined) {
        this.onPush?.(r.push);
      } else if (r.id !== undefined) {
        const p = this.pending.get(r.id);
        if (p === undefined) continue;
        this.pending.delete(r.id);
        clearTimeout(p.timer);
        if (r.error !== undefined) p.reject(new Error(`error ${r.error.code} ${r.error.message}`));
        else p.resolve(r);
      }
    }
  }

  send(text: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  /** Sends one command and waits for its reply (rejects on an error reply, close or timeout). */
  call(method: string, params: Record<string, unknown>): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no reply in ${CALL_TIMEOUT_MS} ms`));
      }, CALL_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.send(JSON.stringify({ id, [method]: params }));
    });
  }

  /** Opens, connects with the kind's token and subscribes to `channels`. */
  async setup(channels: readonly string[]): Promise<void> {
    await this.opened;
    await this.call('connect', { token: tokens.get(this.kind)! });
    await Promise.all(channels.map((channel) => this.call('subscribe', { channel })));
  }

  later(ms: number, fn: () => void): void {
    this.timers.push(setTimeout(fn, ms));
  }

  every(ms: number, fn: () => void): void {
    this.timers.push(setInterval(fn, ms));
  }

  /** Closes it abruptly, recording `reason` instead of a close code. */
  closeByUs(reason: string): void {
    this.ownReason ??= reason;
    this.ws.terminate();
  }

  /** Stops reading: nothing more is taken from the kernel's receive buffer. */
  pause(): void {
    rawSocket(this.ws)?.pause();
  }

  resume(): void {
    rawSocket(this.ws)?.resume();
  }
}

/** The TCP socket under a `ws` client (private in `ws`). */
function rawSocket(ws: WebSocket): net.Socket | null {
  return ((ws as any)._socket as net.Socket | null | undefined) ?? null;
}

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

// ---------------------------------------------------------------------------------------------------
// The client kinds.

/** A healthy subscriber of every channel; replaced if the server closes it. Resolves once subscribed. */
function healthy(): Promise<void> {
  const c = new Conn('healthy', false);
  c.onPush = (push) => {
    if (push.pub !== undefined) counters.delivered++;
  };
  c.onClose = () => {
    if (!stopping) setTimeout(() => void healthy(), 1000);
  };
  return c.setup(CHANNELS).catch(() => c.closeByUs('setup-failed'));
}

let slowCount = 0;
/** A slow reader: subscribes to everything, stops reading, resumes after the stall to see its fate. */
async function slowReader(): Promise<void> {
  const deflate = slowCount++ % 2 === 1;
  const c = new Conn(deflate ? 'slowz' : 'slow', deflate);
  try {
    await c.setup(CHANNELS);
  } catch {
    c.closeByUs('setup-failed');
    return;
  }
  if (deflate) {
    counters.deflateAsked++;
    if (c.ws.extensions.includes('permessage-deflate')) counters.deflateGot++;
  }
  counters.slowPaused++;
  let paused = true;
  c.pause();
  const socket = rawSocket(c.ws);
  let readBefore = 0;
  c.onClose = () => {
    if (paused || socket === null) return;
    const backlog = socket.bytesRead - readBefore;
    counters.backlogBytes += backlog;
    counters.backlogCount++;
    counters.backlogMax = Math.max(counters.backlogMax, backlog);
  };
  // `ws` resumes the socket by itself when its receiver drains after backpressure: pause again.
  c.every(500, () => {
    if (paused) c.pause();
  });
  c.later(opts.stall * 1000, () => {
    paused = false;
    readBefore = socket?.bytesRead ?? 0;
    c.resume();
    c.later(RESUME_WAIT_MS, () => c.closeByUs('survived'));
  });
}

let floodCount = 0;
/** An error flood: garbage every tick until the server (or max-age) closes it. */
async function flooder(): Promise<void> {
  const variant = FLOOD_VARIANTS[floodCount++ % FLOOD_VARIANTS.length]!;
  const c = new Conn('flood', false);
  c.onClose = (key) => bump(closesByFlood.get(variant)!, key);
  try {
    await c.setup([]);
  } catch {
    c.closeByUs('setup-failed');
    return;
  }
  let id = 1000;
  let tick = 0;
  const unknown = () => Array.from({ length: 20 }, () => `{"id":${id++}}`).join('\n');
  c.every(FLOOD_TICK_MS, () => {
    if (c.ws.readyState !== WebSocket.OPEN || c.ws.bufferedAmount > 256 * 1024) return;
    tick++;
    if (variant === 'unknown') c.send(unknown());
    else if (variant === 'malformed') c.send(tick % 10 === 0 ? `{"id":${id++},"subscribe":{"channel":` : unknown());
    else c.send(`{"id":${id++},"publish":{"channel":"soak-flood","data":${NESTED}}}`);
  });
  c.later(opts.floodMaxAge * 1000, () => c.closeByUs('max-age'));
}

let churnCount = 0;
/** Churn: connect, subscribe, unsubscribe, close. */
async function churn(): Promise<void> {
  const channel = CHANNELS[churnCount++ % CHANNELS.length]!;
  const c = new Conn('churn', false);
  try {
    await c.setup([channel]);
    await c.call('unsubscribe', { channel });
    c.ws.close(1000);
    counters.churnDone++;
  } catch {
    counters.churnFailed++;
    if (c.ws.readyState !== WebSocket.CLOSED) c.closeByUs('failed');
  }
}

// ---------------------------------------------------------------------------------------------------
// Event-loop delay of the server, measured from outside. A separate small process (this file again,
// forked with GYRE_SOAK_PROBE set, so that the load generated here does not delay it) keeps one
// connection, connected but subscribed to nothing so that nothing queues in front of its pongs, and
// times WebSocket ping frames on it: the server's `ws` answers a ping from its socket 'data' handler,
// without Gyre code, HTTP or JSON, so the round-trip is ~0.1 ms plus however long the server's event
// loop was busy before it got to the socket. (A POST /api/info round-trip, sent from here and so
// including this process's own delay, is printed once per line too.)

const PROBE_EVERY_MS = 100;
const PROBE_ENV = 'GYRE_SOAK_PROBE';

interface ProbeConfig {
  port: number;
  token: string;
}

/** Probe process -> soak: RTTs (µs) since the last report, or a close of the probe's connection. */
type ProbeMessage = { rtts: number[]; outstandingUs: number } | { closed: string };

/** The probe process: reconnects when closed, reports every 250 ms, exits with its parent. */
function runProbe(cfg: ProbeConfig): void {
  const rtts: number[] = [];
  let sentAt = 0;
  const report = (m: ProbeMessage) => process.send?.(m);
  const connect = () => {
    const ws = new WebSocket(`ws://127.0.0.1:${cfg.port}/connection/websocket`, { perMessageDeflate: false });
    const ping = () => {
      if (ws.readyState !== WebSocket.OPEN) return;
      sentAt = performance.now();
      ws.ping();
    };
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, connect: { token: cfg.token } })));
    ws.on('message', (data) => {
      for (const line of rawText(data).split('\n')) {
        if (line === '{}') ws.send('{}');
        else if (line.startsWith('{"id":1,')) ping(); // the connect reply
      }
    });
    ws.on('pong', () => {
      rtts.push((performance.now() - sentAt) * 1000);
      sentAt = 0;
      setTimeout(ping, PROBE_EVERY_MS);
    });
    ws.on('error', () => undefined);
    ws.on('close', (code) => {
      sentAt = 0;
      report({ closed: String(code) });
      setTimeout(connect, 1000);
    });
  };
  connect();
  setInterval(() => report({ rtts: rtts.splice(0), outstandingUs: sentAt === 0 ? 0 : (performance.now() - sentAt) * 1000 }), 250);
  process.on('disconnect', () => process.exit(0));
}

const lagTotal = new Histogram();
const lagInterval = new Histogram();
/** Age of the probe's unanswered ping, if any (µs): counts as at least that much delay. */
let probeOutstandingUs = 0;
let probeProc: ChildProcess | undefined;

function startProbe(): void {
  const cfg: ProbeConfig = { port, token: tokens.get('probe')! };
  probeProc = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, [PROBE_ENV]: JSON.stringify(cfg) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  probeProc.once('exit', (code, signal) => {
    if (!stopping) log(`  the probe process exited (code ${code}, signal ${signal}): no more loop-delay samples`);
  });
  probeProc.on('message', (m: ProbeMessage) => {
    if ('closed' in m) {
      if (!stopping) bump(closesByKind.get('probe')!, m.closed);
      return;
    }
    for (const us of m.rtts) {
      lagTotal.record(us);
      lagInterval.record(us);
    }
    probeOutstandingUs = m.outstandingUs;
  });
}

// ---------------------------------------------------------------------------------------------------
// HTTP API: the publisher and /api/info.

interface ApiReply {
  result?: { nodes?: Array<{ num_clients?: number }> };
  error?: { code: number; message: string };
}

const apiAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function api(method: string, params: Record<string, unknown>, timeoutMs = 10_000): Promise<ApiReply> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(params);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/api/${method}`,
        agent: apiAgent,
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-api-key': BENCH_API_KEY },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
          try {
            resolve(JSON.parse(text) as ApiReply);
          } catch (e) {
            reject(e as Error);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`/api/${method}: timeout`)));
    req.on('error', reject);
    req.end(body);
  });
}

const pub = { sent: 0, ok: 0, errors: 0, skipped: 0, inflight: 0, firstError: '' };
/** Bytes of random data that base64-encode to the payload size (minus the envelope). */
const RANDOM_BYTES = Math.max(1, Math.floor(((opts.size - 40) * 3) / 4));

function publishOne(): void {
  if (pub.inflight >= Math.max(10, opts.rate)) {
    pub.skipped++; // a second's worth unanswered: the server is not keeping up
    return;
  }
  const seq = pub.sent++;
  pub.inflight++;
  const data = { seq, ts: Date.now(), p: randomBytes(RANDOM_BYTES).toString('base64') };
  api('publish', { channel: CHANNELS[seq % CHANNELS.length]!, data })
    .then(
      (r) => {
        if (r.error === undefined) return void pub.ok++;
        pub.errors++;
        pub.firstError ||= `error ${r.error.code} ${r.error.message}`;
      },
      (e: unknown) => {
        pub.errors++;
        pub.firstError ||= String(e);
      },
    )
    .finally(() => pub.inflight--);
}

/** Calls `fn` `perSecond` times a second on average (fractional rates fine), from now on. */
function arrivals(perSecond: number, fn: () => void): void {
  if (perSecond <= 0) return;
  const start = performance.now();
  let n = 0;
  loadTimers.push(
    setInterval(() => {
      const due = Math.floor(((performance.now() - start) / 1000) * perSecond) + 1;
      // After a stall of this process, catch up by at most a second's worth.
      if (due - n > perSecond + 1) n = due - Math.ceil(perSecond);
      while (n < due) {
        n++;
        fn();
      }
    }, 5),
  );
}

// ---------------------------------------------------------------------------------------------------
// The server process.

interface ServerLog {
  byLevel: Map<number, number>;
  /** Messages of warn (40) and above, with counts. */
  messages: Map<string, number>;
  /** Recent non-JSON output lines (a crash's stack trace lands here). */
  tail: string[];
  printed: number;
}

const serverLog: ServerLog = { byLevel: new Map(), messages: new Map(), tail: [], printed: 0 };
/** Directory of the server's config file (created in startServer). */
let tmp = '';
let child: ChildProcess | undefined;
let childExited = false;
let crashed = false;
let serverArgs: string[] = [];

function onServerLine(line: string): void {
  try {
    const entry = JSON.parse(line) as { level?: number; msg?: string };
    if (typeof entry.level === 'number') {
      bump(serverLog.byLevel, entry.level);
      if (entry.level >= 40) bump(serverLog.messages, `${entry.level >= 50 ? 'ERROR' : 'warn'}: ${entry.msg ?? '?'}`);
      if (entry.level >= 50 && serverLog.printed++ < 20) log(`  [gyre] ${line.slice(0, 400)}`);
      return;
    }
  } catch {
    // not a log entry
  }
  serverLog.tail.push(line);
  if (serverLog.tail.length > 40) serverLog.tail.shift();
  if (serverLog.printed++ < 40) log(`  [gyre] ${line}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function startServer(): Promise<void> {
  port = await freePort();
  tmp = mkdtempSync(join(tmpdir(), 'gyre-soak-'));
  const config = {
    http_server: { address: '127.0.0.1', port },
    log: { level: 'warn' },
    client: {
      token: { hmac_secret_key: BENCH_SECRET },
      allowed_origins: ['*'],
      ...(opts.queueMaxSize !== undefined && { queue_max_size: opts.queueMaxSize }),
    },
    http_api: { key: BENCH_API_KEY },
    channel: { without_namespace: { allow_subscribe_for_client: true } },
    websocket: { compression: true, ...(opts.writeTimeout !== undefined && { write_timeout: opts.writeTimeout }) },
    shutdown: { timeout: '3s' },
  };
  const file = join(tmp, 'config.json');
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
  const cli = values.dist ? [join(REPO_DIR, 'dist/cli/main.js')] : ['--import', 'tsx', join(REPO_DIR, 'src/cli/main.ts')];
  serverArgs = [...cli, 'serve', '--config', file];
  // Own process group: a Ctrl-C in the terminal reaches us only, and we stop the server ourselves.
  const proc = spawn(process.execPath, serverArgs, { cwd: REPO_DIR, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child = proc;
  createInterface({ input: proc.stdout! }).on('line', onServerLine);
  createInterface({ input: proc.stderr! }).on('line', onServerLine);
  proc.once('exit', (code, signal) => {
    childExited = true;
    if (stopping) return;
    crashed = true;
    log(`\nSERVER EXITED during the soak (code ${code}, signal ${signal}); last output:`);
    for (const l of serverLog.tail.slice(-20)) log(`  | ${l}`);
    void shutdown(1);
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (childExited) throw new Error('the server exited during start');
    try {
      await api('info', {}, 1000);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`the server did not answer /api/info within 30 s: ${String(e)}`);
      await sleep(100);
    }
  }
}

/** Resident set size of the server process (bytes), from /proc; NaN where unavailable. */
function serverRss(): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child?.pid}/status`, 'utf8'));
    return m === null ? Number.NaN : Number(m[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}

/** CPU time the server process has used (s), from /proc (clock ticks of 1/100 s); NaN where unavailable. */
function serverCpuSeconds(): number {
  try {
    const stat = readFileSync(`/proc/${child?.pid}/stat`, 'utf8');
    // After "pid (comm) ": state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

async function stopServer(): Promise<void> {
  const proc = child;
  if (proc === undefined || childExited) return;
  const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 6000);
  await gone;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------------
// Reporting.

const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
const ms = (us: number) => (Number.isNaN(us) ? '-' : us >= 10_000 ? (us / 1000).toFixed(0) : (us / 1000).toFixed(1));
const pct = (share: number) => (Number.isNaN(share) ? '-' : `${(share * 100).toFixed(0)}%`);
const int = (n: number) => Math.round(n).toLocaleString('en-US');

function codes(map: Map<string, number> | undefined): string {
  if (map === undefined || map.size === 0) return '-';
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}:${v}`)
    .join(' ');
}

function merged(...maps: Array<Map<string, number>>): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of maps) for (const [k, v] of m) bump(out, k, v);
  return out;
}

const rssSamples: Array<{ t: number; rss: number }> = [];
const selfLag = monitorEventLoopDelay({ resolution: 10 });
let t0 = 0;
/** Seconds the load ran (set when it stops). */
let loadSeconds = 0;
let lastDelivered = 0;
let lastCpu = 0;
let cpuAtStart = 0;
const loadAtStart = loadavg();
let lastSent = 0;

const elapsed = () => (performance.now() - t0) / 1000;

async function reportLine(): Promise<void> {
  const rss = serverRss();
  const cpu = serverCpuSeconds();
  const cpuShare = (cpu - lastCpu) / opts.interval;
  lastCpu = cpu;
  const lagP99 = lagInterval.percentile(99);
  const lagMax = Math.max(lagInterval.max, probeOutstandingUs);
  lagInterval.reset();
  let info = '';
  const a = performance.now();
  try {
    const r = await api('info', {}, 5000);
    info = `info ${ms((performance.now() - a) * 1000)} ms, server clients ${r.result?.nodes?.[0]?.num_clients ?? '?'}`;
  } catch (e) {
    info = `info failed (${String(e)})`;
  }
  if (stopping) return;
  const o = (k: Kind) => openByKind.get(k) ?? 0;
  const c = (k: Kind) => codes(closesByKind.get(k));
  const dt = opts.interval;
  log(
    `${elapsed().toFixed(0).padStart(4)}s | RSS ${mb(rss)} MB, CPU ${pct(cpuShare)} | lag p99 ${ms(lagP99)} max ${ms(lagMax)} ms, ${info}` +
      ` | open healthy ${o('healthy')} slow ${o('slow')}+${o('slowz')}z flood ${o('flood')} churn ${o('churn')}` +
      ` | closed slow ${c('slow')}; slowz ${c('slowz')}; flood ${c('flood')}; churn ${c('churn')}` +
      (closesByKind.get('healthy')!.size > 0 ? `; HEALTHY ${c('healthy')}` : '') +
      ` | pub ${int((pub.sent - lastSent) / dt)}/s err ${pub.errors}${pub.skipped > 0 ? ` skipped ${pub.skipped}` : ''}` +
      ` | delivered ${int(counters.delivered)} (${int((counters.delivered - lastDelivered) / dt)}/s)`,
  );
  lastDelivered = counters.delivered;
  lastSent = pub.sent;
}

function summary(interrupted: boolean): void {
  const secs = loadSeconds;
  const rssValues = rssSamples.map((s) => s.rss).filter((v) => !Number.isNaN(v));
  const half = rssSamples.find((s) => s.t >= secs / 2)?.rss ?? Number.NaN;
  const rMin = rssValues.length > 0 ? Math.min(...rssValues) : Number.NaN;
  const rMax = rssValues.length > 0 ? Math.max(...rssValues) : Number.NaN;
  const rLast = rssValues.at(-1) ?? Number.NaN;
  const serverErrors = [...serverLog.byLevel].filter(([l]) => l >= 50).reduce((s, [, n]) => s + n, 0);
  const expected = pub.ok * opts.healthy;
  const slowCodes = merged(closesByKind.get('slow')!, closesByKind.get('slowz')!);

  log(`\n--- summary: ${secs.toFixed(0)} s${interrupted ? ' (interrupted)' : ''}${crashed ? ' — THE SERVER CRASHED' : ''} ---`);
  log(`server: node ${serverArgs.join(' ')}`);
  const la = (l: number[]) => l.map((v) => v.toFixed(2)).join(' / ');
  log(
    `server CPU: ${pct((serverCpuSeconds() - cpuAtStart) / Math.max(1, secs))} of one core on average; ` +
      `machine: ${cpus().length} cores, load average ${la(loadAtStart)} at start, ${la(loadavg())} at end`,
  );
  log(`server RSS: min ${mb(rMin)} MB, max ${mb(rMax)} MB, last ${mb(rLast)} MB (at half time ${mb(half)} MB)`);
  log(
    `server event-loop delay (WS ping RTT, ${int(lagTotal.total)} samples): p50 ${ms(lagTotal.percentile(50))} ms, ` +
      `p99 ${ms(lagTotal.percentile(99))} ms, max ${ms(lagTotal.max)} ms`,
  );
  log(
    `this process's own loop delay (it times /api/info; the probe is a process of its own): ` +
      `p99 ${ms(selfLag.percentile(99) / 1000)} ms, max ${ms(selfLag.max / 1000)} ms`,
  );
  log(
    `publisher: ${int(pub.sent)} sent, ${int(pub.ok)} ok, ${pub.errors} errors${pub.firstError !== '' ? ` (first: ${pub.firstError})` : ''}, ` +
      `${pub.skipped} skipped (server behind)`,
  );
  log(
    `healthy subscribers: ${int(counters.delivered)} delivered of ${int(expected)} expected` +
      (expected > 0 ? ` (${((100 * counters.delivered) / expected).toFixed(2)}%)` : '') +
      `, closes ${codes(closesByKind.get('healthy'))}`,
  );
  log(
    `slow readers: ${counters.slowPaused} paused; closes ${codes(closesByKind.get('slow'))}; with deflate ` +
      `(negotiated ${counters.deflateGot}/${counters.deflateAsked}) ${codes(closesByKind.get('slowz'))}` +
      (counters.backlogCount > 0
        ? `; read after resuming: mean ${mb(counters.backlogBytes / counters.backlogCount)} MB, max ${mb(counters.backlogMax)} MB`
        : ''),
  );
  log(`error floods: ${FLOOD_VARIANTS.map((v) => `${v} ${codes(closesByFlood.get(v))}`).join('; ')}`);
  log(`churn: ${int(counters.churnDone)} full cycles, ${counters.churnFailed} failed; closes ${codes(closesByKind.get('churn'))}`);
  log(`probe closes: ${codes(closesByKind.get('probe'))}`);
  if (firstErrors.size > 0) log(`first client errors: ${[...firstErrors].map(([k, e]) => `${k}: ${e}`).join('; ')}`);
  const levels = [...serverLog.byLevel].sort((x, y) => x[0] - y[0]).map(([l, n]) => `${l}:${n}`);
  log(`server log lines by level: ${levels.length > 0 ? levels.join(' ') : 'none'}`);
  for (const [m, n] of [...serverLog.messages].sort((x, y) => y[1] - x[1]).slice(0, 8)) log(`  ${n} × ${m}`);

  const duration = secs >= 60 && Math.abs(secs / 60 - Math.round(secs / 60)) < 0.05 ? `${Math.round(secs / 60)} min` : `${secs.toFixed(0)} s`;
  const result =
    `soak ${duration}: RSS ${mb(rMin)}-${mb(rMax)} MB, loop delay p99 ${ms(lagTotal.percentile(99))} ms, ` +
    `slow readers closed ${codes(slowCodes)}, error floods closed ${codes(closesByKind.get('flood'))}, ` +
    `churn ${int(counters.churnDone)} connects, ${crashed ? 'SERVER CRASHED' : `${serverErrors} server errors`}`;
  log(`\nresult: ${result}`);
  if (!interrupted && !crashed) {
    // The last complete run, for BENCHMARKS.md (bench/report.ts includes it).
    const how = `\`npm run soak -- ${process.argv.slice(2).join(' ')}\``.replace(' `', '`');
    const machine = `${cpus().length} cores, load average ${la(loadAtStart)} at start, ${la(loadavg())} at end`;
    writeFileSync(SOAK_RESULT_FILE, `${new Date().toISOString()} · ${how} · ${machine}\n${result}\n`);
    log(`(written to ${SOAK_RESULT_FILE})`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Run and shut down.

let shutdownStarted = false;

async function shutdown(exitCode: number, interrupted = false): Promise<void> {
  if (shutdownStarted) return;
  shutdownStarted = true;
  loadSeconds = t0 > 0 ? elapsed() : 0;
  for (const t of loadTimers) clearInterval(t);
  // Let the publisher's last requests and their deliveries land before counting.
  if (!crashed) {
    const until = Date.now() + 3000;
    while (pub.inflight > 0 && Date.now() < until) await sleep(20);
    await sleep(interrupted ? 0 : 1000);
  }
  stopping = true;
  if (t0 > 0) summary(interrupted);
  for (const c of [...live]) c.ws.terminate();
  apiAgent.destroy();
  selfLag.disable();
  probeProc?.kill();
  await stopServer();
  process.exit(exitCode); // the 'exit' handler removes the config directory

}

function installHandlers(): void {
  // Last resort, however we exit: never leave the server, the probe or the config behind.
  process.on('exit', () => {
    if (child !== undefined && !childExited) child.kill('SIGKILL');
    probeProc?.kill('SIGKILL');
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });
  process.on('SIGINT', () => {
    if (shutdownStarted) process.exit(130); // second Ctrl-C: the 'exit' handler still kills the server
    log('\ninterrupted: stopping');
    void shutdown(130, true);
  });
  process.on('SIGTERM', () => void shutdown(143, true));
  process.on('uncaughtException', (e) => {
    log(`soak: ${e.stack ?? String(e)}`);
    void shutdown(1);
  });
  process.on('unhandledRejection', (e) => {
    log(`soak: unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    void shutdown(1);
  });
}

async function main(): Promise<void> {
  installHandlers();
  const horizon = opts.seconds + opts.stall + 600; // tokens outlive every client
  for (const k of KINDS) tokens.set(k, await signToken({ sub: `soak-${k}` }, { hmacSecret: BENCH_SECRET, ttlSeconds: horizon }));
  await startServer();
  log(
    `Gyre soak for ${opts.seconds} s: server pid ${child?.pid} on port ${port} (${values.dist ? 'dist/cli/main.js' : 'src via tsx'}), ` +
      `RSS at start ${mb(serverRss())} MB`,
  );
  log(
    `  publisher ${opts.rate}/s × ~${opts.size} B over ${opts.channels} channels to ${opts.healthy} healthy subscribers; ` +
      `slow readers ${opts.slowRate}/s (half with deflate), stall ${opts.stall} s; error floods ${opts.floodRate}/s ` +
      `(${FLOOD_VARIANTS.join('/')}, max age ${opts.floodMaxAge} s); churn ${opts.churnRate}/s` +
      `${opts.queueMaxSize !== undefined ? `; queue_max_size ${opts.queueMaxSize}` : ''}` +
      `${opts.writeTimeout !== undefined ? `; write_timeout ${opts.writeTimeout}` : ''}`,
  );

  startProbe();
  await Promise.all(Array.from({ length: opts.healthy }, healthy));

  log('  (per line: "slow A+Bz" = open slow readers without + with deflate; closes are code:count, or why we closed it)');

  selfLag.enable();
  cpuAtStart = lastCpu = serverCpuSeconds();
  t0 = performance.now();
  arrivals(opts.rate, publishOne);
  arrivals(opts.slowRate, () => void slowReader());
  arrivals(opts.floodRate, () => void flooder());
  arrivals(opts.churnRate, () => void churn());
  loadTimers.push(setInterval(() => rssSamples.push({ t: elapsed(), rss: serverRss() }), 1000));
  loadTimers.push(setInterval(() => void reportLine(), opts.interval * 1000));
  loadTimers.push(setTimeout(() => void shutdown(crashed ? 1 : 0), opts.seconds * 1000));
}

const probeConfig = process.env[PROBE_ENV];
if (probeConfig !== undefined) {
  runProbe(JSON.parse(probeConfig) as ProbeConfig);
} else {
  main().catch((e: unknown) => {
    log(`soak: ${e instanceof Error ? e.message : String(e)}`);
    void shutdown(1);
  });
}
