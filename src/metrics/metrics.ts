/**
 * The metrics recorder: what Gyre counts for Prometheus (`prometheus.enabled`), as plain numbers.
 * The node, the clients, the proxies and the server API record into it; the exporter
 * (prometheus.ts) reads it when `/metrics` is scraped and hands the numbers to prom-client then,
 * never on the way of a message.
 *
 * On the fan-out path (a publication delivered to N subscribers) the only cost is two increments
 * of a typed array per delivered message: the connection's {@link TransportCounters}, indexed by
 * the frame's type (protocol/frame-types.ts). Counters that carry free labels (error codes, proxy
 * names, API methods) are map entries touched only where those rare events happen. Durations are
 * buffered as numbers and observed by prom-client's summaries and histograms at scrape time (or
 * when a buffer fills up), and only while metrics are enabled: a disabled recorder neither times
 * nor buffers anything, and no prom-client is loaded.
 */
import { FRAME_TYPE_COUNT, FRAME_TYPE_NAMES } from '../protocol/frame-types.js';

/** What a node's broker and control bus carry (`centrifugo_node_messages_*_count{type}`). */
export const MESSAGE_TYPE_NAMES = ['publication', 'join', 'leave', 'control'] as const;

/** The index of a message type in {@link Metrics.messagesSent} / {@link Metrics.messagesReceived}. */
export const MessageType = { publication: 0, join: 1, leave: 2, control: 3 } as const;

/** The transports Centrifugo reports a connect count for even before the first connection. */
const KNOWN_TRANSPORTS = ['websocket', 'http_stream', 'sse'];

/** A duration buffer holds at most this many observations before it is handed over. */
const MAX_BUFFERED = 4096;

/** The messages of the connections of one transport, by frame type (frame-types.ts), and their bytes. */
export class TransportCounters {
  readonly sent = new Float64Array(FRAME_TYPE_COUNT);
  readonly sentBytes = new Float64Array(FRAME_TYPE_COUNT);
  readonly received = new Float64Array(FRAME_TYPE_COUNT);
  readonly receivedBytes = new Float64Array(FRAME_TYPE_COUNT);
  /** Connections accepted on this transport. */
  connects = 0;

  constructor(readonly transport: string) {}
}

/** The node's gauges, read at scrape time. */
export interface NodeStats {
  clients: number;
  users: number;
  channels: number;
  subscriptions: number;
  /** Nodes of the cluster, this one included. */
  nodes: number;
}

/** The duration metrics: client commands, proxy calls, server API commands, surveys of the other nodes. */
export type DurationKind = 'command' | 'proxy' | 'api' | 'survey';

/**
 * Observations (seconds) of one duration series waiting for the exporter. `sink` is the exporter's
 * (set once it is ready): it takes the buffered values at each scrape and whenever the buffer is
 * full; without one, a full buffer keeps its newer half.
 */
export class Durations {
  private values: number[] = [];
  sink: ((values: readonly number[]) => void) | undefined;

  constructor(
    private readonly enabled: boolean,
    /** Which metric the series belongs to. */
    readonly kind: DurationKind,
    /** The series' label values, in the order of its metric's label names. */
    readonly labels: readonly string[],
  ) {}

  add(seconds: number): void {
    if (!this.enabled) return;
    if (this.values.push(seconds) < MAX_BUFFERED) return;
    if (this.sink !== undefined) this.flush();
    else this.values.splice(0, MAX_BUFFERED / 2);
  }

  /** Hands the buffered observations to the sink. */
  flush(): void {
    if (this.sink === undefined || this.values.length === 0) return;
    const values = this.values;
    this.values = [];
    this.sink(values);
  }
}

/** Calls of one proxy (`centrifugo_proxy_*{protocol, type, name}`). */
export class ProxySeries {
  inflight = 0;
  errors = 0;
  readonly durations: Durations;

  constructor(
    enabled: boolean,
    readonly protocol: string,
    readonly type: string,
    readonly name: string,
  ) {
    this.durations = new Durations(enabled, 'proxy', [protocol, type, name]);
  }
}

/** Commands of one server API method over one protocol (`centrifugo_api_command_*{protocol, method}`). */
export class ApiSeries {
  /** Failed commands by error code. */
  readonly errors = new Map<number, number>();
  readonly durations: Durations;

  constructor(
    enabled: boolean,
    readonly protocol: string,
    readonly method: string,
  ) {
    this.durations = new Durations(enabled, 'api', [protocol, method]);
  }
}

/** Error replies to clients of one command method with one code. */
export interface ReplyErrors {
  /** Frame type of the command. */
  readonly method: number;
  readonly code: number;
  count: number;
}

export interface MetricsOptions {
  /** `prometheus.enabled`: durations are timed and kept only then. */
  enabled?: boolean;
}

/** One node's metrics (see the module comment). */
export class Metrics {
  readonly enabled: boolean;
  /** Messages this node sent to its broker / control bus, by {@link MessageType}. */
  readonly messagesSent = new Float64Array(MESSAGE_TYPE_NAMES.length);
  /** Messages this node received from its broker / control bus, by {@link MessageType}. */
  readonly messagesReceived = new Float64Array(MESSAGE_TYPE_NAMES.length);
  /** Error replies to clients, by `${method}:${code}`. */
  readonly replyErrors = new Map<string, ReplyErrors>();
  /** Connections the server closed, by disconnect code (3000 "connection closed" left out). */
  readonly serverDisconnects = new Map<number, number>();
  /** Subscriptions the server ended, by unsubscribe code. */
  readonly serverUnsubscribes = new Map<number, number>();
  /** Subscriptions that asked to recover: recovered, and not. */
  readonly recovers = { yes: 0, no: 0 };
  /** Durations of client commands, by frame type. */
  readonly commandDurations: readonly Durations[];
  private readonly transportCounters = new Map<string, TransportCounters>();
  private readonly proxySeries = new Map<string, ProxySeries>();
  private readonly apiSeries = new Map<string, ApiSeries>();
  private readonly surveySeries = new Map<string, Durations>();
  private stats: (() => NodeStats) | undefined;
  private binder: ((d: Durations) => void) | undefined;

  constructor(options: MetricsOptions = {}) {
    this.enabled = options.enabled === true;
    this.commandDurations = FRAME_TYPE_NAMES.map((name) => new Durations(this.enabled, 'command', [name]));
    for (const t of KNOWN_TRANSPORTS) this.transport(t);
  }

  /** The counters of a transport's connections (a connection takes them once, when accepted). */
  transport(name: string): TransportCounters {
    let c = this.transportCounters.get(name);
    if (c === undefined) {
      c = new TransportCounters(name);
      this.transportCounters.set(name, c);
    }
    return c;
  }

  /** Every transport's counters. */
  transports(): IterableIterator<TransportCounters> {
    return this.transportCounters.values();
  }

  /** Counts an error reply to a client command (`method`: the command's frame type). */
  replyError(method: number, code: number): void {
    const key = `${method}:${code}`;
    const e = this.replyErrors.get(key);
    if (e !== undefined) e.count++;
    else this.replyErrors.set(key, { method, code, count: 1 });
  }

  /** Counts a connection closed by the server with `code` (3000, "connection closed", is not counted). */
  serverDisconnect(code: number): void {
    if (code === 3000) return;
    this.serverDisconnects.set(code, (this.serverDisconnects.get(code) ?? 0) + 1);
  }

  /** Counts a subscription ended by the server with `code`. */
  serverUnsubscribe(code: number): void {
    this.serverUnsubscribes.set(code, (this.serverUnsubscribes.get(code) ?? 0) + 1);
  }

  /** Counts a subscription that asked to recover. */
  recover(recovered: boolean): void {
    if (recovered) this.recovers.yes++;
    else this.recovers.no++;
  }

  /** Records how long a client command took (`method`: its frame type). */
  commandDuration(method: number, seconds: number): void {
    this.commandDurations[method]!.add(seconds);
  }

  /** The series of one proxy's calls. */
  proxy(protocol: string, type: string, name: string): ProxySeries {
    const key = `${protocol}\u0000${type}\u0000${name}`;
    let s = this.proxySeries.get(key);
    if (s === undefined) {
      s = new ProxySeries(this.enabled, protocol, type, name);
      this.bind(s.durations);
      this.proxySeries.set(key, s);
    }
    return s;
  }

  proxies(): IterableIterator<ProxySeries> {
    return this.proxySeries.values();
  }

  /** The series of one server API method over one protocol (`http`, `grpc`). */
  api(protocol: string, method: string): ApiSeries {
    const key = `${protocol}\u0000${method}`;
    let s = this.apiSeries.get(key);
    if (s === undefined) {
      s = new ApiSeries(this.enabled, protocol, method);
      this.bind(s.durations);
      this.apiSeries.set(key, s);
    }
    return s;
  }

  apis(): IterableIterator<ApiSeries> {
    return this.apiSeries.values();
  }

  /** Records how long a survey of the other nodes took. */
  surveyDuration(op: string, seconds: number): void {
    if (!this.enabled) return;
    let d = this.surveySeries.get(op);
    if (d === undefined) {
      d = new Durations(true, 'survey', [op]);
      this.bind(d);
      this.surveySeries.set(op, d);
    }
    d.add(seconds);
  }

  surveys(): IterableIterator<Durations> {
    return this.surveySeries.values();
  }

  /** Sets where the node's gauges come from. */
  setNodeStats(stats: () => NodeStats): void {
    this.stats = stats;
  }

  /** The node's gauges now (zeros before a node set them). */
  nodeStats(): NodeStats {
    return this.stats?.() ?? { clients: 0, users: 0, channels: 0, subscriptions: 0, nodes: 0 };
  }

  /**
   * Called by the exporter once: `binder` gives every duration series, present and future, its
   * sink (see {@link Durations}).
   */
  bindDurations(binder: (d: Durations) => void): void {
    this.binder = binder;
    for (const d of this.allDurations()) binder(d);
  }

  /** Hands every buffered duration to the exporter (at scrape time). */
  flushDurations(): void {
    for (const d of this.allDurations()) d.flush();
  }

  private bind(d: Durations): void {
    this.binder?.(d);
  }

  private *allDurations(): IterableIterator<Durations> {
    yield* this.commandDurations;
    for (const s of this.proxySeries.values()) yield s.durations;
    for (const s of this.apiSeries.values()) yield s.durations;
    yield* this.surveySeries.values();
  }
}
