/**
 * The WebSocket transport (`ws`): accepts upgrades on the configured path, checks the origin, and
 * wires each socket to a {@link Client} through a {@link WebSocketTransport}.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import type { WebsocketConfig } from '../config/types.js';
import { rawToBuffer } from '../http/request.js';
import { refuseUpgrade } from '../http/upgrade.js';
import { closeReason, Disconnects, isCloseCode, type Disconnect } from '../protocol/codes.js';
import { Client } from '../node/client.js';
import type { GyreNode } from '../node/node.js';
import type { ProtocolName } from '../protocol/codec.js';
import type { OutFrame } from '../protocol/frame.js';
import { checkOrigin, OriginCheck } from './origin.js';
import type { ConnectionRateLimit } from './rate-limit.js';
import type { SocketWriterOwner, SocketWriterSettings } from './queued-writer.js';
import { SocketWriter } from './socket-writer.js';
import type { Transport } from '../node/transport.js';

/** How long a peer that has received our close frame may take to answer it before the socket is destroyed. */
const CLOSE_HANDSHAKE_MS = 2000;

/** Limits of one connection's outgoing side. */
export interface WebSocketLimits {
  /** `client.queue_max_size`: bytes queued for the peer before it is closed with 3008. */
  maxQueued: number;
  /** `websocket.write_timeout` (ms): how long a backed-up socket may go without draining (3009); 0 = no limit. */
  writeTimeout: number;
  /** `client.write_delay` (ms): how long queued messages may wait to be written together; 0 (default) = to the end of the turn. */
  writeDelay?: number;
  /**
   * `client.max_messages_in_frame`: with a write delay, most messages joined into one WebSocket
   * frame (-1 = no limit). Without one, each message has its own frame, as before.
   */
  maxMessagesInFrame?: number;
  /** `client.reply_without_queue`: with a write delay, replies do not wait for it. */
  replyWithoutQueue?: boolean;
}

/** What every WebSocket connection of one server shares, made once by {@link webSocketSettings}. */
export interface WebSocketSettings {
  readonly writer: SocketWriterSettings;
  /** `websocket.write_timeout` (ms), also the wait for a close frame to leave; 0 = no limit. */
  readonly writeTimeout: number;
}

/** The shared settings of a server's WebSocket connections. */
export function webSocketSettings(limits: WebSocketLimits): WebSocketSettings {
  const writeDelay = limits.writeDelay ?? 0;
  return Object.freeze({
    writer: Object.freeze({
      maxQueued: limits.maxQueued,
      writeTimeout: limits.writeTimeout,
      writeDelay,
      joinMessages: writeDelay > 0 ? joinLimit(limits.maxMessagesInFrame ?? DEFAULT_MAX_MESSAGES_IN_FRAME) : 0,
      replyWithoutQueue: limits.replyWithoutQueue === true,
    }),
    writeTimeout: limits.writeTimeout,
  });
}

/** One WebSocket connection as a {@link Transport}. */
export class WebSocketTransport implements Transport, SocketWriterOwner {
  readonly name = 'websocket';
  readonly unidirectional = false;
  readonly emulation = false;
  readonly pongs = true;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  private readonly writer: SocketWriter;
  private closing = false;
  /**
   * Called when the peer cannot keep up: 3008 when its queue overflowed, 3009 when a backed-up
   * socket did not drain within the write timeout; the owner closes the connection. Unset: the
   * transport closes itself with that code.
   */
  onWriteFailure: ((disconnect: Disconnect) => void) | undefined;

  constructor(
    private readonly ws: WebSocket,
    req: IncomingMessage,
    private readonly settings: WebSocketSettings,
    /** `centrifuge-protobuf` subprotocol (or `?cf_protocol=protobuf`): protobuf; else JSON. */
    readonly protocol: ProtocolName = 'json',
  ) {
    this.headers = req.headers;
    this.writer = new SocketWriter(ws, settings.writer, this);
    ws.once('close', () => this.writer.stop());
  }

  /** @internal The writer's queue overflowed. */
  writerOverflowed(): void {
    this.writeFailed(Disconnects.slow);
  }

  /** @internal The writer's socket did not drain within the write timeout. */
  writerStalled(): void {
    this.writeFailed(Disconnects.writeError);
  }

  private writeFailed(d: Disconnect): void {
    if (this.onWriteFailure !== undefined) this.onWriteFailure(d);
    else this.close(d);
  }

  send(frame: OutFrame): boolean {
    return this.writer.enqueue(frame);
  }

  /**
   * The one way a WebSocket connection is closed: cannot throw. What is queued leaves first (not
   * after 3008 / 3009: a peer that cannot keep up gets only the close frame), then the close frame
   * with the reason cut to 123 bytes. A peer that has not taken the close frame within the write
   * timeout, or has not answered it within a short grace after, has its socket destroyed.
   */
  close(d: Disconnect): void {
    if (this.closing) return;
    this.closing = true;
    const ws = this.ws;
    if (d.code === Disconnects.slow.code || d.code === Disconnects.writeError.code) this.writer.stop();
    else this.writer.flushAll();
    if (ws.readyState !== WebSocket.OPEN) {
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      return;
    }
    try {
      ws.close(isCloseCode(d.code) ? d.code : Disconnects.internal.code, closeReason(d.reason));
    } catch {
      ws.terminate();
      return;
    }
    const socket = (ws as unknown as { _socket: Socket | null })._socket;
    const terminate = (): void => ws.terminate();
    let timer = setTimeout(() => {
      // The close frame still waits behind bytes the peer does not read: give up on it now.
      if (socket === null || socket.writableLength > 0) return terminate();
      timer = setTimeout(terminate, CLOSE_HANDSHAKE_MS);
      timer.unref();
    }, this.settings.writeTimeout > 0 ? this.settings.writeTimeout : CLOSE_HANDSHAKE_MS);
    timer.unref();
    ws.once('close', () => clearTimeout(timer));
  }
}

/** Accepts WebSocket connections for a node. */
export class WebSocketAcceptor {
  private readonly wss: WebSocketServer;
  private readonly origins: OriginCheck;
  private readonly settings: WebSocketSettings;

  constructor(
    private readonly node: GyreNode,
    config: WebsocketConfig,
    private readonly rate: ConnectionRateLimit,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: config.message_size_limit > 0 ? config.message_size_limit : 64 * 1024 * 1024,
      perMessageDeflate: config.compression,
      clientTracking: false,
      // The protobuf protocol is asked for with its subprotocol; JSON needs none.
      handleProtocols: (offered) => (offered.has(PROTOBUF_SUBPROTOCOL) ? PROTOBUF_SUBPROTOCOL : false),
    });
    this.origins = new OriginCheck(node.config.client.allowed_origins, node.config.client.insecure);
    this.settings = webSocketSettings({
      maxQueued: node.config.client.queue_max_size,
      writeTimeout: config.write_timeout,
      writeDelay: node.config.client.write_delay,
      maxMessagesInFrame: node.config.client.max_messages_in_frame,
      replyWithoutQueue: node.config.client.reply_without_queue,
    });
  }

  /** Handles an HTTP upgrade request already routed to this transport's path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!this.rate.take()) {
      this.node.log.info('connection rate limit reached: upgrade refused');
      refuseUpgrade(socket, 503);
      return;
    }
    if (!checkOrigin(this.origins, req, this.node.log, 'websocket')) {
      refuseUpgrade(socket, 403);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const protocol = ws.protocol === PROTOBUF_SUBPROTOCOL || queryProtocol(req) === 'protobuf' ? 'protobuf' : 'json';
    const transport = new WebSocketTransport(ws, req, this.settings, protocol);
    const client = new Client(this.node, transport);
    transport.onWriteFailure = (d) => {
      const why = d.code === Disconnects.slow.code ? 'outgoing queue full' : 'socket did not drain within websocket.write_timeout';
      this.node.log.warn({ client: client.id, code: d.code }, `client too slow: ${why}, closing`);
      client.close(d);
    };
    this.node.accept(client);
    const binary = protocol === 'protobuf';
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (isBinary !== binary) return client.handleWrongFrameKind();
      client.handleFrame(rawToBuffer(data));
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

/** Centrifugo's default of `client.max_messages_in_frame` (also what 0 means there). */
const DEFAULT_MAX_MESSAGES_IN_FRAME = 16;

/** `client.max_messages_in_frame` as the writer's join limit: -1 = no limit, 0 = the default. */
function joinLimit(maxMessagesInFrame: number): number {
  if (maxMessagesInFrame < 0) return Number.POSITIVE_INFINITY;
  return maxMessagesInFrame === 0 ? DEFAULT_MAX_MESSAGES_IN_FRAME : maxMessagesInFrame;
}

/** The WebSocket subprotocol of Centrifugo's protobuf client protocol. */
export const PROTOBUF_SUBPROTOCOL = 'centrifuge-protobuf';

/** `cf_protocol` of the upgrade URL (SDKs that cannot set a subprotocol use it). */
function queryProtocol(req: IncomingMessage): string | null {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q < 0 ? null : new URLSearchParams(url.slice(q + 1)).get('cf_protocol');
}
