/**
 * A Gyre server: one HTTP server carrying the WebSocket transport, the SDK's emulation fallbacks
 * (`http_stream`, `sse` and their emulation endpoint) and the unidirectional transports
 * (`uni_websocket`, `uni_http_stream`, `uni_sse`), when enabled, the server API, the health
 * endpoint and the Prometheus metrics (`prometheus.enabled`), around a {@link GyreNode}; the gRPC
 * server API and `uni_grpc` listen on ports of their own. Starts listening on `http_server.port`
 * and shuts down gracefully.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { AdminEndpoints } from './admin/endpoints.js';
import { ServerApi } from './api/server-api.js';
import type { GrpcApiServer } from './api/grpc/server.js';
import { HttpApi } from './api/http.js';
import { pathOf } from './http/request.js';
import { answerClientError, refuse, sendJson as send } from './http/respond.js';
import { refuseUpgrade } from './http/upgrade.js';
import type { GyreConfig } from './config/types.js';
import type { ClusterOptions } from './node/cluster.js';
import { createEngine, type EmbeddedEngine } from './engine/factory.js';
import type { Broker, ControlBus, PresenceManager } from './engine/types.js';
import { EventsServer } from './events/server.js';
import { createLogger, type Logger } from './log.js';
import { HandlerCalls } from './handlers/calls.js';
import { Metrics } from './metrics/metrics.js';
import type { MetricsJson, PrometheusExporter } from './metrics/prometheus.js';
import { DeciderChain } from './handlers/event-calls.js';
import type { Handlers } from './handlers/pipeline.js';
import { ProxyCalls } from './proxy/calls.js';
import { GyreNode } from './node/node.js';
import { Disconnects } from './protocol/codes.js';
import { ClientTransports } from './transport/endpoints.js';

export interface GyreServerOptions {
  config: GyreConfig;
  log?: Logger;
  /** A broker / presence manager / control bus of your own instead of the configured engine's. */
  broker?: Broker;
  presence?: PresenceManager;
  control?: ControlBus;
  /** Node registry timings (announce interval, node timeout, survey timeout). */
  cluster?: ClusterOptions;
  /** Application handlers: services and interceptors for client requests. */
  handlers?: Handlers;
  /** Where the embedded (memory) engine lives: this process (default), or a primary's over IPC. */
  embeddedEngine?: EmbeddedEngine;
  /** Whether this node runs the `start_server` hooks (default true; false in a worker of `gyre serve --workers`). */
  startServerHooks?: boolean;
  /**
   * What `/metrics` answers instead of this node's own metrics (a worker of `gyre serve --workers`:
   * every worker's, combined by the primary).
   */
  clusterMetrics?: () => Promise<string>;
}

/** Where an attached Gyre serves its WebSocket endpoint. */
export interface AttachOptions {
  /** WebSocket path; default `websocket.handler_prefix`. */
  path?: string;
}

export class GyreServer {
  readonly node: GyreNode;
  /** The server API executor (the HTTP and gRPC APIs and `gyre.api` are adapters over it). */
  readonly api: ServerApi;
  /** The engine in use, for logs: "memory", "redis", "broker nats, presence redis", "custom". */
  readonly engine: string;
  readonly http: Server;
  /** Open TCP connections of the listener, to drop those that never sent a byte at shutdown. */
  private readonly sockets = new Set<Socket>();
  private readonly httpApi: HttpApi;
  /** The client transports (WebSocket, emulation, unidirectional) and their endpoints. */
  private readonly transports: ClientTransports;
  private readonly eventsServer: EventsServer | undefined;
  private stopping: Promise<void> | undefined;
  /** The internal endpoints' own server, when `http_server.internal_port` is set. */
  private readonly internal: Server | undefined;
  /** The gRPC server API, once started (`grpc_api.enabled`). */
  private grpcApi: GrpcApiServer | undefined;
  /** The Prometheus registry over the node's metrics (`prometheus.enabled`; prom-client loads only then). */
  private readonly exporter: Promise<PrometheusExporter> | undefined;
  /** The admin web UI and its endpoints (`admin.enabled`). */
  private readonly admin: AdminEndpoints | undefined;

  constructor(private readonly opts: GyreServerOptions) {
    const { config } = opts;
    const log = opts.log ?? createLogger(config.log);
    // The configured engine, unless the caller brings its own broker.
    const engine = opts.broker === undefined ? createEngine(config, log, opts.embeddedEngine) : undefined;
    this.engine = engine?.description ?? 'custom';
    const presence = opts.presence ?? engine?.presence;
    const control = opts.control ?? engine?.control;
    const metrics = new Metrics({ enabled: config.prometheus.enabled });
    // Who decides client events: the in-process handlers first (they win), then the proxies.
    let node: GyreNode | undefined;
    const deciders = new DeciderChain(
      opts.handlers !== undefined ? new HandlerCalls(opts.handlers, log) : undefined,
      ProxyCalls.create(config, log, (channel) => node!.rules.resolve(channel).options, metrics),
    );
    this.node = node = new GyreNode({
      config,
      log,
      broker: opts.broker ?? engine!.broker,
      ...(presence !== undefined && { presence }),
      ...(control !== undefined && { control }),
      ...(opts.cluster !== undefined && { cluster: opts.cluster }),
      ...(!deciders.empty && { deciders }),
      metrics,
    });
    if (config.prometheus.enabled) {
      this.exporter = import('./metrics/prometheus.js').then(({ PrometheusExporter: Exporter }) => new Exporter(metrics, this.node.version));
      // A failure to load shows at the first scrape.
      this.exporter.catch(() => {});
    }
    this.api = new ServerApi(this.node);
    this.httpApi = new HttpApi(this.node, this.api, config.http_api);
    this.transports = new ClientTransports(this.node, config);
    if (config.admin.enabled) this.admin = new AdminEndpoints(this.node, this.api, config);
    if (config.events.enabled) {
      this.eventsServer = new EventsServer({
        node: this.node,
        createListener: (handler) => listenerServer(config, handler),
        ...(opts.startServerHooks !== undefined && { startServerHooks: opts.startServerHooks }),
      });
    }
    this.http = listenerServer(config, (req, res) => this.onRequest(req, res));
    if (config.http_server.internal_port > 0) {
      // Internal endpoints (server API, health) on their own port, off the public one.
      this.internal = createServer(httpTimeouts(config), (req, res) => {
        if (!this.serveInternal(req, res)) send(res, 404, { error: 'not found' });
      });
    }
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.http.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.http.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
      log.debug({ err: err.message, code: err.code }, 'bad or timed-out HTTP request');
      answerClientError(err, socket);
    });
  }

  get config(): GyreConfig {
    return this.opts.config;
  }

  /**
   * The simple event protocol endpoint (`events.*` config): register listeners and hooks, send to
   * connections, users and everyone. Throws when `events.enabled` is false.
   */
  get events(): EventsServer {
    if (this.eventsServer === undefined) throw new Error('the event endpoint is disabled: set events.enabled to true');
    return this.eventsServer;
  }

  /** Starts the node and listens; resolves with the bound port. */
  async listen(port = this.config.http_server.port, host = this.config.http_server.address || undefined): Promise<number> {
    await this.node.start();
    await this.eventsServer?.start();
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const bound = (this.http.address() as AddressInfo).port;
    if (this.internal !== undefined) await listenOn(this.internal, this.config.http_server.internal_port, host);
    await this.eventsServer?.listening(host ?? '', bound);
    await this.startGrpcApi();
    await this.transports.start();
    return bound;
  }

  /** The port of the gRPC server API (`grpc_api`), once listening; undefined when disabled. */
  get grpcApiPort(): number | undefined {
    return this.grpcApi?.port;
  }

  /** Starts the gRPC server API when `grpc_api.enabled` (on its own port; gRPC loads only then). */
  private async startGrpcApi(): Promise<void> {
    if (!this.config.grpc_api.enabled || this.grpcApi !== undefined) return;
    const { GrpcApiServer: Api } = await import('./api/grpc/server.js');
    this.grpcApi = await Api.start(this.api, this.config.grpc_api, this.node.log);
  }

  /** The port of the unidirectional gRPC server (`uni_grpc`), once listening; undefined when disabled. */
  get uniGrpcPort(): number | undefined {
    return this.transports.uniGrpcPort;
  }


  /**
   * Serves the WebSocket endpoint on an existing HTTP server (Express, Fastify, Hono's node server)
   * instead of listening on its own port. Other upgrade paths are left to the server's other
   * listeners; use {@link handleRequest} to serve the server API and health endpoint there too.
   * With `events.enabled` (and no `events.port`), the event endpoint is served there as well.
   */
  async attach(server: Server, options: AttachOptions = {}): Promise<void> {
    const path = options.path ?? this.config.websocket.handler_prefix;
    await this.node.start();
    await this.eventsServer?.start();
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const reqPath = pathOf(req);
      const events = this.eventsServer?.servesPath(reqPath) === true && reqPath !== path;
      const endpoint = events ? undefined : this.transports.upgradeEndpoint(reqPath, path);
      if (!events && endpoint === undefined) return;
      socket.on('error', () => socket.destroy());
      if (this.stopping !== undefined) {
        refuseUpgrade(socket, 503);
        return;
      }
      if (endpoint !== undefined) endpoint.handleUpgrade(req, socket, head);
      else this.eventsServer!.handleUpgrade(req, socket, head);
    });
    const address = server.address();
    const bound = typeof address === 'object' && address !== null ? address : undefined;
    await this.eventsServer?.listening(bound?.address ?? '', bound?.port ?? 0);
    await this.startGrpcApi();
    await this.transports.start();
  }

  /**
   * Serves the server API, the health endpoint and the HTTP streams (`http_stream`, `sse` with the
   * emulation endpoint, `uni_http_stream`, `uni_sse`, when enabled) for a request of a host
   * server; returns false (touching nothing) when the path is not Gyre's.
   */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const path = pathOf(req);
    const ours =
      (this.config.health.enabled && (path === this.config.health.handler_prefix || path === `${this.config.health.handler_prefix}/ready`)) ||
      (this.config.prometheus.enabled && path === this.config.prometheus.handler_prefix) ||
      (!this.config.http_api.disabled && this.httpApi.matches(path)) ||
      this.admin?.matches(path) === true ||
      this.transports.requestEndpoint(path) !== undefined;
    if (ours) this.onRequest(req, res);
    return ours;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = pathOf(req);
    if (this.stopping === undefined && this.eventsServer?.servesPath(path) === true) {
      this.eventsServer.handleUpgrade(req, socket, head);
      return;
    }
    const endpoint = this.transports.upgradeEndpoint(path);
    if (endpoint === undefined) return refuseUpgrade(socket, 404);
    if (this.stopping !== undefined) return refuseUpgrade(socket, 503);
    endpoint.handleUpgrade(req, socket, head);
  }

  /** The port of the internal endpoints (`http_server.internal_port`), once listening. */
  get internalPort(): number | undefined {
    const a = this.internal?.address();
    return a !== null && typeof a === 'object' ? a.port : undefined;
  }

  /** Serves the internal endpoints (health, metrics, server API, admin unless external); false when the path is not one of them. */
  private serveInternal(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (this.config.health.enabled && path === this.config.health.handler_prefix) {
      // Liveness: the process answers (also while it shuts down: restarting it would not help).
      send(res, 200, {});
      return true;
    }
    if (this.config.health.enabled && path === `${this.config.health.handler_prefix}/ready`) {
      // Readiness: 503 while the engine is unreachable or the server shuts down (load balancers move on).
      const reason = this.stopping !== undefined ? 'shutting down' : this.node.unavailable();
      send(res, reason === undefined ? 200 : 503, reason === undefined ? { status: 'ready' } : { status: 'unavailable', reason });
      return true;
    }
    if (this.config.prometheus.enabled && path === this.config.prometheus.handler_prefix) {
      this.serveMetrics(res);
      return true;
    }
    if (!this.config.http_api.disabled && this.httpApi.matches(path)) {
      this.httpApi.handle(req, res, url).catch((e: unknown) => {
        this.node.log.error({ err: e }, 'server API request failed');
        send(res, 500, { error: 'internal server error' });
      });
      return true;
    }
    if (this.admin !== undefined && !this.config.admin.external && this.admin.matches(path)) {
      this.admin.handle(req, res, url);
      return true;
    }
    return false;
  }

  /**
   * This node's metrics in prom-client's JSON form (a worker of `gyre serve --workers` hands them
   * to the primary); rejects when `prometheus.enabled` is false.
   */
  async metricsJson(): Promise<MetricsJson> {
    if (this.exporter === undefined) throw new Error('metrics are disabled: set prometheus.enabled to true');
    return (await this.exporter).json();
  }

  /** Answers a scrape: this node's metrics, or the cluster's (`clusterMetrics`); 503 when they cannot be had. */
  private serveMetrics(res: ServerResponse): void {
    const exporter = this.exporter!;
    const answer = async (): Promise<{ text: string; type: string }> => {
      const e = await exporter;
      return { text: this.opts.clusterMetrics !== undefined ? await this.opts.clusterMetrics() : await e.text(), type: e.contentType };
    };
    answer().then(
      ({ text, type }) => {
        if (res.headersSent) return;
        res.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      },
      (e: unknown) => {
        this.node.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'metrics could not be gathered');
        send(res, 503, { error: 'metrics unavailable' });
      },
    );
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.internal === undefined && this.serveInternal(req, res)) return;
    const path = pathOf(req);
    const endpoint = this.transports.requestEndpoint(path);
    if (endpoint !== undefined) {
      if (this.stopping !== undefined) return refuse(res, 503, 'shutting down');
      return endpoint.handle(req, res);
    }
    if (this.transports.answerNonUpgrade(path, req, res)) return;
    if (this.admin !== undefined && this.config.admin.external && this.admin.matches(path)) {
      return this.admin.handle(req, res, new URL(req.url ?? '/', 'http://localhost'));
    }
    if (this.eventsServer?.servesPath(path) === true) return send(res, 400, { error: 'expected a WebSocket upgrade' });
    send(res, 404, { error: 'not found' });
  }

  /**
   * Graceful shutdown: stop accepting, close every client with 3001 "shutdown" (they reconnect
   * elsewhere), wait for sockets to close within `shutdown.timeout`, then stop the engine.
   */
  shutdown(): Promise<void> {
    this.stopping ??= this.doShutdown();
    return this.stopping;
  }

  private async doShutdown(): Promise<void> {
    const grpcApi = this.grpcApi?.close();
    // New calls are refused now; those open end with the node's shutdown below (3001 pushes).
    const transports = this.transports.close(Math.max(this.config.shutdown.timeout, 1));
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeIdleConnections();
    this.internal?.close();
    this.internal?.closeAllConnections();
    await this.eventsServer?.shutdown();
    this.admin?.close();
    await this.node.shutdown(Disconnects.shutdown);
    this.transports.closeUpgrades();
    // Streams that ended leave idle keep-alive connections; connections opened but never used (HTTP
    // clients keep spares) are neither idle nor busy to Node: neither may hold the shutdown.
    this.http.closeIdleConnections();
    for (const socket of this.sockets) if (socket.bytesRead === 0) socket.destroy();
    const timeout = this.config.shutdown.timeout;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeout > 0 ? timeout : 1);
      timer.unref();
    });
    await Promise.race([closed, expired]);
    if (timer) clearTimeout(timer);
    this.http.closeAllConnections();
    await grpcApi;
    await transports;
  }
}

/** An HTTP server, or an HTTPS one when `http_server.tls.enabled`, with the configured timeouts. */
function listenerServer(config: GyreConfig, listener: RequestListener): Server {
  const tls = config.http_server.tls;
  if (!tls.enabled) return createServer(httpTimeouts(config), listener);
  return createTlsServer({ ...httpTimeouts(config), cert: readFileSync(tls.cert_pem_file), key: readFileSync(tls.key_pem_file) }, listener);
}

/**
 * `http_server.read_header_timeout`, `read_timeout` and `idle_timeout` as Node's server options:
 * sockets that trickle their headers (slowloris) or bodies, or sit idle between requests, are
 * dropped. Node checks the first two every `connectionsCheckingInterval`.
 */
function httpTimeouts(config: GyreConfig): ServerOptions {
  const { read_header_timeout: headers, read_timeout: request, idle_timeout: idle } = config.http_server;
  const shortest = Math.min(...[headers, request].filter((t) => t > 0), 10_000);
  return {
    headersTimeout: headers,
    requestTimeout: request,
    keepAliveTimeout: idle,
    connectionsCheckingInterval: Math.max(100, Math.min(5_000, Math.floor(shortest / 2))),
  };
}

function listenOn(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
