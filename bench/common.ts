/**
 * Shared pieces of the benchmark harness: the host clock, the payload, the channel schedule and the
 * messages exchanged between the orchestrator, the load-generator workers and the servers under test.
 */
import { performance } from 'node:perf_hooks';

/** The servers under test. */
export type ServerKind = 'gyre' | 'raw' | 'sio';

/** Gyre clients speak Centrifugo's JSON protocol or its protobuf form (`centrifuge-protobuf`). */
export type ClientProtocol = 'json' | 'protobuf';

/**
 * How Gyre clients connect: WebSocket (JSON or protobuf), the SDK's HTTP-streaming or SSE fallbacks
 * (JSON; commands through `POST /emulation`), or `mixed`: client i as {@link MIXED_MODES}[i % 4].
 */
export type ClientTransport = 'websocket' | 'http_stream' | 'sse' | 'mixed';

/** One client's transport and protocol. */
export interface ClientMode {
  transport: 'websocket' | 'http_stream' | 'sse';
  protocol: ClientProtocol;
}

/** The mixed run: the subscribers split evenly over these, client i speaking the (i % 4)th. */
export const MIXED_MODES: readonly ClientMode[] = [
  { transport: 'websocket', protocol: 'json' },
  { transport: 'websocket', protocol: 'protobuf' },
  { transport: 'http_stream', protocol: 'json' },
  { transport: 'sse', protocol: 'json' },
];

/** How client `index` connects, given the transport and protocol of its connect command. */
export function clientModeOf(transport: ClientTransport, protocol: ClientProtocol, index: number): ClientMode {
  if (transport === 'mixed') return MIXED_MODES[index % MIXED_MODES.length]!;
  // The emulation streams are measured with JSON (SSE speaks nothing else).
  return transport === 'websocket' ? { transport, protocol } : { transport, protocol: 'json' };
}

export const SERVER_LABEL: Readonly<Record<ServerKind, string>> = {
  gyre: 'Gyre',
  raw: 'raw ws',
  sio: 'Socket.IO',
};

/** HMAC secret and API key of the Gyre server under test. */
export const BENCH_SECRET = 'gyre-bench-secret';
export const BENCH_API_KEY = 'gyre-bench-api-key';

// ---------------------------------------------------------------------------------------------------
// Clock: CLOCK_MONOTONIC in microseconds. `process.hrtime` reads the same clock in every process on
// the host, so a timestamp taken in the server and one taken in a worker can be subtracted.
// `performance.now()` is cheaper (no allocation) and is anchored to that clock once per process.

function calibrate(): number {
  let best = Number.POSITIVE_INFINITY;
  let offset = 0;
  for (let i = 0; i < 50; i++) {
    const a = performance.now();
    const h = process.hrtime.bigint();
    const b = performance.now();
    if (b - a < best) {
      best = b - a;
      offset = Number(h / 1000n) - ((a + b) / 2) * 1000;
    }
  }
  return offset;
}

const CLOCK_OFFSET_US = calibrate();

/** Microseconds on the host's monotonic clock (comparable across processes). */
export function nowUs(): number {
  return CLOCK_OFFSET_US + performance.now() * 1000;
}

// ---------------------------------------------------------------------------------------------------
// Payload: a JSON object of exactly `size` bytes: {"ts":<µs>,"seq":<n>,"p":"xxxx…"}.

const PAD = 'x'.repeat(4096);

export interface BenchPayload {
  ts: number;
  seq: number;
  p: string;
}

/**
 * The payload object for publication `seq`, stamped with `tsUs` (default now); JSON.stringify of it
 * is `size` bytes. Publishers stamp the time a publication was *due* by the schedule, not when it
 * actually went out, so a publisher falling behind shows as latency (no coordinated omission).
 */
export function makePayload(seq: number, size: number, tsUs = nowUs()): BenchPayload {
  const ts = Math.round(tsUs);
  // {"ts":T,"seq":S,"p":""} is 20 bytes plus the digits.
  const fixed = 20 + String(ts).length + String(seq).length;
  const pad = Math.max(0, size - fixed);
  return { ts, seq, p: PAD.slice(0, pad) };
}

// ---------------------------------------------------------------------------------------------------
// Channel schedule.

/** Where the publications of a step go. */
export type PublishTarget =
  | { kind: 'single'; channel: string }
  /**
   * Publication k goes to the shared channel when `k % sharedEvery === sharedEvery - 1`, else to the
   * personal channel `${prefix}${k % personal}`.
   */
  | { kind: 'spread'; prefix: string; personal: number; shared: string; sharedEvery: number };

export function channelFor(target: PublishTarget, k: number): string {
  if (target.kind === 'single') return target.channel;
  if (k % target.sharedEvery === target.sharedEvery - 1) return target.shared;
  return target.prefix + String(k % target.personal);
}

/** How many deliveries `count` publications (numbered from 0) produce. */
export function expectedDeliveries(target: PublishTarget, count: number, subscribers: number): number {
  if (target.kind === 'single') return count * subscribers;
  const shared = Math.floor(count / target.sharedEvery);
  return shared * subscribers + (count - shared);
}

/** The channels client `index` subscribes to. */
export type Subscriptions = { kind: 'single'; channel: string } | { kind: 'spread'; prefix: string; shared: string };

export function channelsOf(subs: Subscriptions, index: number): string[] {
  return subs.kind === 'single' ? [subs.channel] : [subs.prefix + String(index), subs.shared];
}

// ---------------------------------------------------------------------------------------------------
// Source addresses: 127.0.0.2, 127.0.0.3, ... so that each address keeps its own ephemeral port range.

/** Clients per source address (well below the ~28k ephemeral ports of one address). */
export const CLIENTS_PER_ADDRESS = 5000;

/** How many source addresses there are: 127.0.0.2 … 127.0.247.251. */
export const ADDRESS_COUNT = 62_000;

export function sourceAddress(n: number): string {
  const m = n % ADDRESS_COUNT;
  return `127.0.${Math.floor(m / 250)}.${2 + (m % 250)}`;
}

/** The number of source address 127.0.`third`.`last` (the inverse of `sourceAddress`). */
export function addressNumber(third: number, last: number): number {
  return third * 250 + (last - 2);
}

// ---------------------------------------------------------------------------------------------------
// Server control API (HTTP, on its own port in each server process).

/** POST /publish: publish `count` messages at `rate` per second, seq numbers from `seqStart`. */
export interface PublishRequest {
  rate: number;
  count: number;
  seqStart: number;
  size: number;
  target: PublishTarget;
  /** Stop early when the publisher is this far behind its schedule (µs): the step has failed anyway. */
  maxLagUs: number;
}

export interface PublishResponse {
  sent: number;
  errors: number;
  /** When the first and the last publication actually went out. */
  firstUs: number;
  lastUs: number;
  /** Time spent inside the server's publish calls (in-process publishing only). */
  callUs: number;
  maxCallUs: number;
  /** Stopped early (fell more than maxLagUs behind). */
  aborted: boolean;
}

/** GET /stats. */
export interface ServerStats {
  cpuUserUs: number;
  cpuSystemUs: number;
  wallUs: number;
  rss: number;
  heapUsed: number;
  connections: number;
  /** Processes summed in cpu*Us and rss (a server with worker processes: the primary and its workers). */
  processes?: number;
  /** With other processes: the CPU time (user + system, µs) of each, this process first. */
  perProcessUs?: number[];
}

/** POST /gc: memory after forced garbage collection. */
export interface MemoryStats {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  connections: number;
  gc: boolean;
  /** Processes summed (a server with worker processes: the primary and its workers). */
  processes?: number;
}

/** The line a server script prints on stdout once it listens. */
export const READY_PREFIX = 'BENCH-READY ';

export interface ReadyLine {
  /** Port of the WebSocket (and, for Gyre, HTTP API) server. */
  port: number;
  /** Port of the control API. */
  control: number;
  pid: number;
}

// ---------------------------------------------------------------------------------------------------
// Orchestrator <-> load-generator worker messages (child_process IPC).

export interface ConnectCommand {
  type: 'connect';
  server: ServerKind;
  port: number;
  /** Global client indexes [from, to) handled by this worker. */
  from: number;
  to: number;
  subs: Subscriptions;
  /** First source-address number; client i uses sourceAddress(addressBase + floor(i / CLIENTS_PER_ADDRESS)). */
  addressBase: number;
  /** Handshakes in flight at once. */
  concurrency: number;
  /** Gyre only: the client protocol (default json). */
  protocol?: ClientProtocol;
  /** Gyre only: the client transport (default websocket); see {@link clientModeOf}. */
  transport?: ClientTransport;
  /** The server joins messages into one frame (`client.write_delay`): look for pings among them. */
  joinedFrames?: boolean;
  /** Socket.IO only: send the client's JWT in the CONNECT packet (`auth: { token }`). */
  sioToken?: boolean;
}

export type WorkerCommand =
  | { type: 'prepare'; from: number; to: number }
  | ConnectCommand
  /**
   * Starts a step: publications seqStart.. seqStart+count-1. Those with
   * `(seq - seqStart) % skipEvery === skipEvery - 1` (the shared channel's in S2) stay out of the
   * second/last-quarter latency histograms, which compare like with like.
   */
  | { type: 'begin'; seqStart: number; count: number; skipEvery: number }
  /** full: include the latency histograms (else only the counters). */
  | { type: 'report'; full: boolean }
  | { type: 'close' }
  | { type: 'exit' };

export interface ConnectReport {
  type: 'connected';
  connected: number;
  failed: number;
  startUs: number;
  endUs: number;
  /** Histogram of per-connection time to "subscribed" (µs), sparse. */
  setup: Array<[number, number]>;
  /** CPU time this worker used while connecting (µs). */
  cpuUs: number;
  firstError?: string;
}

export interface StepReport {
  type: 'report';
  delivered: number;
  stale: number;
  lastRecvUs: number;
  open: number;
  disconnects: number;
  all: Array<[number, number]>;
  early: Array<[number, number]>;
  late: Array<[number, number]>;
  cpuUs: number;
}

export type WorkerReply =
  | { type: 'prepared' }
  | ConnectReport
  | { type: 'begun' }
  | StepReport
  | { type: 'closed'; closed: number }
  | { type: 'error'; message: string };
