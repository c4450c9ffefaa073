/**
 * The client transports of a node, built from the config: which endpoint serves a request or an
 * upgrade at a path, the gRPC one on its own port, and closing them all. The server routes through
 * this one table, so adding a transport touches transport/ and config only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { GyreConfig } from '../config/types.js';
import { sendJson, refuse } from '../http/respond.js';
import type { GyreNode } from '../node/node.js';
import { EmulationAcceptor } from './emulation.js';
import { HttpStreamAcceptor } from './http-stream.js';
import { OriginCheck } from './origin.js';
import { ConnectionRateLimit } from './rate-limit.js';
import { SseAcceptor } from './sse.js';
import type { UniGrpcServer } from './uni-grpc.js';
import { UniHttpStreamAcceptor } from './uni-http-stream.js';
import { UniSseAcceptor } from './uni-sse.js';
import { UniWebSocketAcceptor } from './uni-websocket.js';
import { WebSocketAcceptor } from './websocket.js';

/** An endpoint served by plain HTTP requests (streams, the emulation endpoint). */
export interface RequestEndpoint {
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/** An endpoint served by WebSocket upgrades. */
export interface UpgradeEndpoint {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export class ClientTransports {
  private readonly requests = new Map<string, RequestEndpoint>();
  private readonly upgrades = new Map<string, UpgradeEndpoint & { close(): void }>();
  private readonly websocket: WebSocketAcceptor;
  /** One connection rate limit for every transport of the node. */
  private readonly rate: ConnectionRateLimit;
  private uniGrpc: UniGrpcServer | undefined;
  private closed = false;

  constructor(
    private readonly node: GyreNode,
    private readonly config: GyreConfig,
  ) {
    const rate = (this.rate = new ConnectionRateLimit(config.client.connection_rate_limit));
    const origins = new OriginCheck(config.client.allowed_origins, config.client.insecure);
    this.websocket = new WebSocketAcceptor(node, config.websocket, rate);
    if (!config.websocket.disabled) this.upgrades.set(config.websocket.handler_prefix, this.websocket);
    if (config.uni_websocket.enabled) {
      this.upgrades.set(config.uni_websocket.handler_prefix, new UniWebSocketAcceptor(node, config.uni_websocket, origins, rate));
    }
    const request = (on: boolean, path: string, make: () => RequestEndpoint): void => {
      if (on) this.requests.set(path, make());
    };
    request(config.uni_http_stream.enabled, config.uni_http_stream.handler_prefix, () => new UniHttpStreamAcceptor(node, config.uni_http_stream, origins, rate));
    request(config.uni_sse.enabled, config.uni_sse.handler_prefix, () => new UniSseAcceptor(node, config.uni_sse, origins, rate));
    request(config.http_stream.enabled, config.http_stream.handler_prefix, () => new HttpStreamAcceptor(node, config.http_stream, origins, rate));
    request(config.sse.enabled, config.sse.handler_prefix, () => new SseAcceptor(node, config.sse, origins, rate));
    // Emulated connections send their commands here (served while either emulation transport is on).
    request(config.http_stream.enabled || config.sse.enabled, config.emulation.handler_prefix, () => new EmulationAcceptor(node, config.emulation, origins));
  }

  /** The endpoint serving plain requests at `path`, if an enabled transport has it. */
  requestEndpoint(path: string): RequestEndpoint | undefined {
    return this.requests.get(path);
  }

  /**
   * The endpoint serving upgrades at `path`; `websocketPath` moves the bidirectional WebSocket
   * endpoint (an attached server's own choice of path).
   */
  upgradeEndpoint(path: string, websocketPath = this.config.websocket.handler_prefix): UpgradeEndpoint | undefined {
    if (path === websocketPath) return this.config.websocket.disabled ? undefined : this.websocket;
    const endpoint = this.upgrades.get(path);
    return endpoint === this.websocket ? undefined : endpoint;
  }

  /**
   * Answers a plain request at a path that takes only upgrades (400: expected a WebSocket upgrade;
   * another method than GET on uni_websocket: 405); false when the path is not one.
   */
  answerNonUpgrade(path: string, req: IncomingMessage, res: ServerResponse): boolean {
    if (path === this.config.websocket.handler_prefix) {
      sendJson(res, 400, { error: 'expected a WebSocket upgrade' });
      return true;
    }
    if (this.config.uni_websocket.enabled && path === this.config.uni_websocket.handler_prefix) {
      if (req.method === 'GET') sendJson(res, 400, { error: 'expected a WebSocket upgrade' });
      else refuse(res, 405, 'method not allowed');
      return true;
    }
    return false;
  }

  /** Starts the transports with listeners of their own (`uni_grpc`; gRPC loads only then). */
  async start(): Promise<void> {
    if (!this.config.uni_grpc.enabled || this.uniGrpc !== undefined || this.closed) return;
    const { UniGrpcServer: Uni } = await import('./uni-grpc.js');
    this.uniGrpc = await Uni.start(this.node, this.config.uni_grpc, this.rate);
  }

  /** The port of the unidirectional gRPC server, once listening; undefined when disabled. */
  get uniGrpcPort(): number | undefined {
    return this.uniGrpc?.port;
  }

  /**
   * Stops accepting: the gRPC server refuses new calls (those open end with the node's shutdown,
   * within `graceMs`); returns when it has stopped. Call {@link closeUpgrades} after the clients
   * have been closed.
   */
  close(graceMs: number): Promise<void> {
    this.closed = true;
    return this.uniGrpc?.close(graceMs) ?? Promise.resolve();
  }

  /** Releases the WebSocket servers (after the clients have been closed). */
  closeUpgrades(): void {
    this.websocket.close();
    for (const endpoint of this.upgrades.values()) if (endpoint !== this.websocket) endpoint.close();
  }
}
