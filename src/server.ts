/**
 * A Gyre server: one HTTP server carrying the WebSocket transport, the server API and the health
 * endpoint, around a {@link GyreNode}. Starts listening on `http_server.port` and shuts down
 * gracefully.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { CommandExecutor } from './api/executor.js';
import { HttpApi, send } from './api/http.js';
import type { GyreConfig } from './config/types.js';
import type { Broker, PresenceManager } from './engine/types.js';
import { createLogger, type Logger } from './log.js';
import type { Handlers } from './handlers/pipeline.js';
import { GyreNode } from './node/node.js';
import { Disconnects } from './protocol/codes.js';
import { WebSocketAcceptor } from './transport/websocket.js';

export interface GyreServerOptions {
  config: GyreConfig;
  log?: Logger;
  broker?: Broker;
  presence?: PresenceManager;
  /** Application handlers: services and interceptors for client requests. */
  handlers?: Handlers;
}

/** Where an attached Gyre serves its WebSocket endpoint. */
export interface AttachOptions {
  /** WebSocket path; default `websocket.handler_prefix`. */
  path?: string;
}

export class GyreServer {
  readonly node: GyreNode;
  readonly api: CommandExecutor;
  readonly http: Server;
  private readonly httpApi: HttpApi;
  private readonly websocket: WebSocketAcceptor;
  private stopping: Promise<void> | undefined;

  constructor(private readonly opts: GyreServerOptions) {
    const { config } = opts;
    if (config.engine.type !== 'memory' && opts.broker === undefined) {
      throw new Error(`engine.type "${config.engine.type}" is not supported by this Gyre version yet (use "memory")`);
    }
    const log = opts.log ?? createLogger(config.log);
    this.node = new GyreNode({
      config,
      log,
      ...(opts.broker !== undefined && { broker: opts.broker }),
      ...(opts.presence !== undefined && { presence: opts.presence }),
      ...(opts.handlers !== undefined && { handlers: opts.handlers }),
    });
    this.api = new CommandExecutor(this.node);
    this.httpApi = new HttpApi(this.node, this.api, config.http_api);
    this.websocket = new WebSocketAcceptor(this.node, config.websocket);
    this.http = listenerServer(config, (req, res) => this.onRequest(req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.http.on('clientError', (err, socket) => {
      log.debug({ err: err.message }, 'bad HTTP request');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
  }

  get config(): GyreConfig {
    return this.opts.config;
  }

  /** Starts the node and listens; resolves with the bound port. */
  async listen(port = this.config.http_server.port, host = this.config.http_server.address || undefined): Promise<number> {
    await this.node.start();
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    return (this.http.address() as AddressInfo).port;
  }

  /**
   * Serves the WebSocket endpoint on an existing HTTP server (Express, Fastify, Hono's node server)
   * instead of listening on its own port. Other upgrade paths are left to the server's other
   * listeners; use {@link handleRequest} to serve the server API and health endpoint there too.
   */
  async attach(server: Server, options: AttachOptions = {}): Promise<void> {
    const path = options.path ?? this.config.websocket.handler_prefix;
    await this.node.start();
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (pathOf(req) !== path) return;
      socket.on('error', () => socket.destroy());
      if (this.stopping !== undefined) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      this.websocket.handleUpgrade(req, socket, head);
    });
  }

  /**
   * Serves the server API and the health endpoint for a request of a host server; returns false
   * (touching nothing) when the path is not Gyre's.
   */
  handleRequest(req: IncomingMessage, res: ServerResponse): boolean {
    const path = pathOf(req);
    const ours =
      (this.config.health.enabled && path === this.config.health.handler_prefix) ||
      (!this.config.http_api.disabled && this.httpApi.matches(path));
    if (ours) this.onRequest(req, res);
    return ours;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = pathOf(req);
    if (this.stopping !== undefined || this.config.websocket.disabled || path !== this.config.websocket.handler_prefix) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.websocket.handleUpgrade(req, socket, head);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (this.config.health.enabled && path === this.config.health.handler_prefix) return send(res, 200, {});
    if (!this.config.http_api.disabled && this.httpApi.matches(path)) {
      this.httpApi.handle(req, res, url).catch((e: unknown) => {
        this.node.log.error({ err: e }, 'server API request failed');
        send(res, 500, { error: 'internal server error' });
      });
      return;
    }
    if (path === this.config.websocket.handler_prefix) return send(res, 400, { error: 'expected a WebSocket upgrade' });
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
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeIdleConnections();
    await this.node.shutdown(Disconnects.shutdown);
    this.websocket.close();
    const timeout = this.config.shutdown.timeout;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeout > 0 ? timeout : 1);
      timer.unref();
    });
    await Promise.race([closed, expired]);
    if (timer) clearTimeout(timer);
    this.http.closeAllConnections();
  }
}

/** An HTTP server, or an HTTPS one when `http_server.tls.enabled`. */
function listenerServer(config: GyreConfig, listener: RequestListener): Server {
  const tls = config.http_server.tls;
  if (!tls.enabled) return createServer(listener);
  return createTlsServer({ cert: readFileSync(tls.cert_pem_file), key: readFileSync(tls.key_pem_file) }, listener);
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
