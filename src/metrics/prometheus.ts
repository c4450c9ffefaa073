/**
 * The Prometheus side of the metrics (loaded only with `prometheus.enabled`): a prom-client
 * registry whose metrics read the {@link Metrics} recorder when scraped, with Centrifugo v6's
 * names, types and labels (its Grafana dashboard reads them), plus Node's process and runtime
 * metrics (prom-client's default metrics, once per process).
 *
 * Counters and gauges are rebuilt from the recorder's totals at each scrape (`collect`); the
 * buffered durations are observed by the summaries and histograms then. Nothing here runs on the
 * way of a message.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, Summary, type Aggregator } from 'prom-client';
import { FRAME_TYPE_NAMES } from '../protocol/frame-types.js';
import { MESSAGE_TYPE_NAMES, type Durations, type Metrics } from './metrics.js';

/** What a worker hands the primary for one `/metrics` answer (prom-client's JSON form of a registry). */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Centrifugo's summaries: these quantiles over the last 10 minutes (Go's client defaults). */
const SUMMARY = { percentiles: [0.5, 0.99, 0.999], maxAgeSeconds: 600, ageBuckets: 5 };

/** Go's `prometheus.DefBuckets`, as Centrifugo's `*_histogram` metrics use. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

let processRegistry: Registry | undefined;

/** Node's process and runtime metrics (`process_*`, `nodejs_*`): one set per process. */
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

type Labels<L extends string> = Record<L, string>;
type Emit<L extends string> = (labels: Labels<L>, value: number) => void;

export class PrometheusExporter {
  private readonly registry = new Registry();

  constructor(m: Metrics, version: string) {
    const flush = (): void => m.flushDurations();

    // ---- node ----
    this.counter('centrifugo_node_messages_sent_count', 'Number of messages sent by node to broker.', ['type'], (emit) => {
      MESSAGE_TYPE_NAMES.forEach((type, i) => emit({ type }, m.messagesSent[i]!));
    });
    this.counter('centrifugo_node_messages_received_count', 'Number of messages received from broker.', ['type'], (emit) => {
      MESSAGE_TYPE_NAMES.forEach((type, i) => emit({ type }, m.messagesReceived[i]!));
    });
    this.gauge('centrifugo_node_num_clients', 'Number of clients connected.', 'sum', () => m.nodeStats().clients);
    this.gauge('centrifugo_node_num_users', 'Number of unique users connected.', 'sum', () => m.nodeStats().users);
    this.gauge('centrifugo_node_num_subscriptions', 'Number of subscriptions.', 'sum', () => m.nodeStats().subscriptions);
    this.gauge('centrifugo_node_num_channels', 'Number of channels with one or more subscribers.', 'sum', () => m.nodeStats().channels);
    // Every worker of `gyre serve --workers` sees the same cluster: the largest count, not the sum.
    this.gauge('centrifugo_node_num_nodes', 'Number of nodes in the cluster.', 'max', () => m.nodeStats().nodes);
    const build = new Gauge({ name: 'centrifugo_node_build', help: 'Node build info.', labelNames: ['version'], aggregator: 'max', registers: [this.registry] });
    build.set({ version }, 1);
    const survey = new Summary({
      name: 'centrifugo_node_survey_duration_seconds',
      help: 'Survey duration summary.',
      labelNames: ['op'],
      ...SUMMARY,
      registers: [this.registry],
      collect: flush,
    });

    // ---- client ----
    this.counter('centrifugo_client_num_reply_errors', 'Number of errors in replies sent to clients.', ['method', 'code'], (emit) => {
      for (const e of m.replyErrors.values()) emit({ method: FRAME_TYPE_NAMES[e.method]!, code: String(e.code) }, e.count);
    });
    this.counter('centrifugo_client_num_server_disconnects', 'Number of server initiated disconnects.', ['code'], (emit) => {
      for (const [code, n] of m.serverDisconnects) emit({ code: String(code) }, n);
    });
    this.counter('centrifugo_client_num_server_unsubscribes', 'Number of server initiated unsubscribes.', ['code'], (emit) => {
      for (const [code, n] of m.serverUnsubscribes) emit({ code: String(code) }, n);
    });
    this.counter('centrifugo_client_recover', 'Count of recover operations.', ['recovered'], (emit) => {
      if (m.recovers.yes > 0) emit({ recovered: 'yes' }, m.recovers.yes);
      if (m.recovers.no > 0) emit({ recovered: 'no' }, m.recovers.no);
    });
    const command = new Summary({
      name: 'centrifugo_client_command_duration_seconds',
      help: 'Client command duration summary.',
      labelNames: ['method'],
      ...SUMMARY,
      registers: [this.registry],
      collect: flush,
    });

    // ---- transport ----
    this.counter('centrifugo_transport_connect_count', 'Number of connect attempts to specific transport.', ['transport'], (emit) => {
      for (const t of m.transports()) emit({ transport: t.transport }, t.connects);
    });
    const perFrame = (pick: (t: ReturnType<Metrics['transport']>) => Float64Array) => (emit: Emit<'transport' | 'frame_type'>) => {
      for (const t of m.transports()) {
        const counts = pick(t);
        for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) emit({ transport: t.transport, frame_type: FRAME_TYPE_NAMES[i]! }, counts[i]!);
      }
    };
    const frameLabels = ['transport', 'frame_type'] as const;
    this.counter('centrifugo_transport_messages_sent', 'Number of messages sent to client connections over specific transport.', frameLabels, perFrame((t) => t.sent));
    this.counter(
      'centrifugo_transport_messages_sent_size',
      'Size in bytes of messages sent to client connections over specific transport (uncompressed and does not include framing overhead).',
      frameLabels,
      perFrame((t) => t.sentBytes),
    );
    this.counter(
      'centrifugo_transport_messages_received',
      'Number of messages received from client connections over specific transport.',
      frameLabels,
      perFrame((t) => t.received),
    );
    this.counter(
      'centrifugo_transport_messages_received_size',
      'Size in bytes of messages received from client connections over specific transport (uncompressed and does not include framing overhead).',
      frameLabels,
      perFrame((t) => t.receivedBytes),
    );

    // ---- proxy ----
    const proxyLabels = ['protocol', 'type', 'name'] as const;
    const proxySummary = new Summary({
      name: 'centrifugo_proxy_duration_seconds',
      help: 'Duration of proxy call.',
      labelNames: proxyLabels,
      ...SUMMARY,
      registers: [this.registry],
      collect: flush,
    });
    const proxyHistogram = new Histogram({
      name: 'centrifugo_proxy_duration_seconds_histogram',
      help: 'Histogram of duration of proxy call.',
      labelNames: proxyLabels,
      buckets: BUCKETS,
      registers: [this.registry],
      collect: flush,
    });
    this.counter('centrifugo_proxy_errors', 'Proxy call error count.', proxyLabels, (emit) => {
      for (const p of m.proxies()) emit({ protocol: p.protocol, type: p.type, name: p.name }, p.errors);
    });
    new Gauge({
      name: 'centrifugo_proxy_inflight_requests',
      help: 'Number of inflight proxy requests.',
      labelNames: proxyLabels,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of m.proxies()) this.set({ protocol: p.protocol, type: p.type, name: p.name }, p.inflight);
      },
    });

    // ---- server API ----
    const apiLabels = ['protocol', 'method'] as const;
    const apiSummary = new Summary({
      name: 'centrifugo_api_command_duration_seconds',
      help: 'Duration of API per command.',
      labelNames: apiLabels,
      ...SUMMARY,
      registers: [this.registry],
      collect: flush,
    });
    const apiHistogram = new Histogram({
      name: 'centrifugo_api_command_duration_seconds_histogram',
      help: 'Histogram of duration of API per command.',
      labelNames: apiLabels,
      buckets: BUCKETS,
      registers: [this.registry],
      collect: flush,
    });
    this.counter('centrifugo_api_command_errors_total', 'Total errors in API commands.', ['protocol', 'method', 'error'], (emit) => {
      for (const a of m.apis()) for (const [code, n] of a.errors) emit({ protocol: a.protocol, method: a.method, error: String(code) }, n);
    });

    // Each duration series gets its summary (and histogram) children once; its buffer is observed
    // into them at scrape time.
    m.bindDurations((d: Durations) => {
      const [a = '', b = '', c = ''] = d.labels;
      switch (d.kind) {
        case 'command':
          return sink(d, command.labels({ method: a }));
        case 'survey':
          return sink(d, survey.labels({ op: a }));
        case 'proxy':
          return sink(d, proxySummary.labels({ protocol: a, type: b, name: c }), proxyHistogram.labels({ protocol: a, type: b, name: c }));
        case 'api':
          return sink(d, apiSummary.labels({ protocol: a, method: b }), apiHistogram.labels({ protocol: a, method: b }));
      }
    });
  }

  /** The text format's content type. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** This node's metrics and the process's, in the text format. */
  text(): Promise<string> {
    return Registry.merge([this.registry, processMetrics()]).metrics();
  }

  /** The same as JSON, for the primary of `gyre serve --workers` to aggregate. */
  async json(): Promise<MetricsJson> {
    const [own, process] = await Promise.all([this.registry.getMetricsAsJSON(), processMetrics().getMetricsAsJSON()]);
    return [...own, ...process];
  }

  /** A counter whose values are the recorder's totals, read at each scrape. */
  private counter<L extends string>(name: string, help: string, labelNames: readonly L[], read: (emit: Emit<L>) => void): void {
    new Counter<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        read((labels, value) => this.inc(labels as Partial<Record<L, string>>, value));
      },
    });
  }

  /** A gauge without labels read at each scrape; `aggregator`: how workers' values combine. */
  private gauge(name: string, help: string, aggregator: Aggregator, read: () => number): void {
    new Gauge({
      name,
      help,
      aggregator,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }
}

/** Makes `observers` take the observations of `d`. */
function sink(d: Durations, ...observers: Array<{ observe(value: number): void }>): void {
  d.sink = (values) => {
    for (const o of observers) for (const v of values) o.observe(v);
  };
}
