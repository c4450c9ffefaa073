/**
 * The WebSocket transport (`ws`): accepts upgrades on the configured path, checks the origin, and
 * wires each socket to a {@link Client} through a {@link WebSocketTransport}.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import type { WebsocketConfig } from '../config/types.js';
import { Disconnects, type Disconnect } from '../protocol/codes.js';
import { Client } from '../node/client.js';
import type { GyreNode } from '../node/node.js';
import type { OutFrame } from './frame.js';
import { OriginCheck } from './origin.js';
import { SocketWriter } from './socket-writer.js';
import type { Transport } from './types.js';

/** How long a closing socket may take to say goodbye before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

/** One WebSocket connection as a {@link Transport}. */
export class WebSocketTransport implements Transport {
  readonly name = 'websocket';
  readonly protocol = 'json' as const;
  readonly pongs = true;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  private readonly writer: SocketWriter;
  private closing = false;
  /** Called when the outgoing queue overflows. */
  onSlow: () => void = () => {};

  constructor(
    private readonly ws: WebSocket,
    req: IncomingMessage,
    maxQueued: number,
    compression: boolean,
  ) {
    this.headers = req.headers;
    this.writer = new SocketWriter(ws, maxQueued, !compression, () => this.onSlow());
  }

  send(frame: OutFrame): boolean {
    return this.writer.enqueue(frame);
  }

  close(d: Disconnect): void {
    if (this.closing) return;
    this.closing = true;
    this.writer.flush();
    this.writer.stop();
    const ws = this.ws;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
      ws.close(d.code, d.reason);
      const timer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
      timer.unref();
      ws.once('close', () => clearTimeout(timer));
    }
  }
}

/** Accepts WebSocket connections for a node. */
export class WebSocketAcceptor {
  private readonly wss: WebSocketServer;
  private readonly origins: OriginCheck;
  private readonly rate: RateLimit;

  constructor(
    private readonly node: GyreNode,
    private readonly config: WebsocketConfig,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: config.message_size_limit > 0 ? config.message_size_limit : 64 * 1024 * 1024,
      perMessageDeflate: config.compression,
      clientTracking: false,
    });
    this.origins = new OriginCheck(node.config.client.allowed_origins, node.config.client.insecure);
    this.rate = new RateLimit(node.config.client.connection_rate_limit);
  }

  /** Handles an HTTP upgrade request already routed to this transport's path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!this.rate.take()) {
      this.node.log.info('connection rate limit reached: upgrade refused');
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (!this.origins.allows(req)) {
      this.node.log.info({ origin: req.headers.origin }, 'websocket origin not allowed');
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const transport = new WebSocketTransport(ws, req, this.node.config.client.queue_max_size, this.config.compression);
    const client = new Client(this.node, transport);
    transport.onSlow = () => {
      this.node.log.warn({ client: client.id }, 'client too slow: outgoing queue full, closing');
      client.close(Disconnects.slow);
    };
    this.node.accept(client);
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (isBinary) return client.handleBinary();
      client.handleFrame(rawToString(data));
    });
    ws.on('error', (err: Error) => {
      this.node.log.info({ client: client.id, err: err.message }, 'websocket error');
    });
    ws.on('close', () => client.onTransportClosed());
  }

  close(): void {
    this.wss.close();
  }
}

/** `client.connection_rate_limit`: at most `perSecond` new connections in each second (0 = no limit). */
class RateLimit {
  private second = 0;
  private count = 0;

  constructor(private readonly perSecond: number) {}

  take(): boolean {
    if (this.perSecond <= 0) return true;
    const now = Math.floor(Date.now() / 1000);
    if (now !== this.second) {
      this.second = now;
      this.count = 0;
    }
    return ++this.count <= this.perSecond;
  }
}

function rawToString(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
