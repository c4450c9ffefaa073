/**
 * The unidirectional WebSocket transport (`uni_websocket`): the client sends one connect request (a
 * bare ConnectRequest JSON object) in the `cf_connect` URL parameter or as its first message, then
 * only receives pushes as text frames (`{"connect":{...}}`, `{"channel":"news","pub":{...}}`, pings
 * `{}`). As Centrifugo: a malformed `cf_connect` is answered 400 before the upgrade, a malformed
 * first message closes with 3501, later messages are ignored; WebSocket pings go with the
 * protocol's pings (a peer that has not answered the previous one is closed with 3012); a close is
 * the `disconnect` push then a close frame with the same code and reason.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket, { WebSocketServer } from 'ws';
import type { UniWebsocketConfig } from '../config/types.js';
import { rawToBuffer } from '../http/request.js';
import { refuseUpgrade } from '../http/upgrade.js';
import { Client } from '../node/client.js';
import type { GyreNode } from '../node/node.js';
import type { Transport } from '../node/transport.js';
import { closeReason, Disconnects, isCloseCode, type Disconnect } from '../protocol/codes.js';
import { OutFrame } from '../protocol/frame.js';
import { uniJsonCodec } from '../protocol/json-codec.js';
import type { ConnectCommandParams } from '../protocol/types.js';
import { scheduleFlush, type Flushable } from './flush-scheduler.js';
import { checkOrigin, type OriginCheck } from './origin.js';
import type { ConnectionRateLimit } from './rate-limit.js';
import type { SocketWriterOwner } from './queued-writer.js';
import { SocketWriter } from './socket-writer.js';
import { cfConnectParam, DEFAULT_CONNECT_REQUEST_LIMIT } from './stream-http.js';
import { isSlowClose } from './stream-transport.js';
import { decodeConnectRequest } from './uni-stream.js';

/** How long a peer that has received our close frame may take to answer it before the socket is destroyed. */
const CLOSE_HANDSHAKE_MS = 2000;

/** How one uni WebSocket connection writes and closes. */
export interface UniWebSocketOptions {
  /** `client.queue_max_size`. */
  readonly maxQueued: number;
  /** `uni_websocket.write_timeout` (ms); 0 = no limit. */
  readonly writeTimeout: number;
  /** `client.write_delay` (ms): how long queued pushes may wait to be written together; 0 = to the end of the turn. */
  readonly writeDelay?: number;
  readonly joinPushMessages: boolean;
  readonly disableClosingHandshake: boolean;
  readonly disableDisconnectPush: boolean;
}

/** One unidirectional WebSocket connection as a {@link Transport}. */
export class UniWebSocketTransport implements Transport, Flushable, SocketWriterOwner {
  readonly name = 'uni_websocket';
  readonly protocol = 'json' as const;
  readonly unidirectional = true;
  readonly emulation = false;
  readonly pongs = false;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The connect request has arrived: a close from now on is told with a `disconnect` push. */
  connectStarted = false;
  private readonly writer: SocketWriter;
  private closing = false;
  /** A WebSocket ping left without its pong. */
  private awaitingPong = false;
  /** join_push_messages: the pushes of this turn, joined into one frame at its end. */
  private joined: OutFrame[] = [];
  private joinedBytes = 0;
  private joinScheduled = false;
  /** Called when the peer cannot keep up: 3008 (queue full) or 3009 (socket not draining). */
  onWriteFailure: (disconnect: Disconnect) => void = (d) => this.close(d);
  /** Called when the peer did not answer a WebSocket ping before the next one. */
  onNoPong: () => void = () => this.close(Disconnects.noPong);

  constructor(
    private readonly ws: WebSocket,
    req: IncomingMessage,
    private readonly options: UniWebSocketOptions,
  ) {
    this.headers = req.headers;
    this.writer = new SocketWriter(ws, options, this);
    ws.once('close', () => this.writer.stop());
    ws.on('pong', () => {
      this.awaitingPong = false;
    });
  }

  send(frame: OutFrame): boolean {
    if (this.closing) return false;
    if (frame === uniJsonCodec.ping) this.pingPeer();
    if (!this.options.joinPushMessages) return this.writer.enqueue(frame);
    this.joinedBytes += frame.size;
    if (this.joinedBytes > this.options.maxQueued) {
      this.dropJoined();
      this.writer.stop();
      this.failWrite(Disconnects.slow);
      return false;
    }
    this.joined.push(frame);
    if (!this.joinScheduled) {
      this.joinScheduled = true;
      scheduleFlush(this);
    }
    return true;
  }

  /** join_push_messages: the end of the turn; this turn's pushes go to the writer as one frame. */
  flush(): void {
    this.joinScheduled = false;
    this.moveJoined();
  }

  /**
   * Closes: what is queued, the `disconnect` push (not for 3000, not with disable_disconnect_push,
   * not before a connect request), then the close frame (with disable_closing_handshake: the TCP
   * connection ends instead). A peer that cannot keep up (3008 / 3009) gets the close frame only,
   * after what the socket already holds. Never throws; idempotent.
   */
  close(d: Disconnect): void {
    if (this.closing) return;
    this.closing = true;
    const ws = this.ws;
    if (isSlowClose(d)) {
      this.dropJoined();
      this.writer.stop();
    } else {
      this.moveJoined();
      if (this.connectStarted && d.code !== Disconnects.connectionClosed.code && !this.options.disableDisconnectPush) {
        this.writer.enqueue(uniJsonCodec.push({ kind: 'disconnect', reason: { code: d.code, reason: d.reason } }));
      }
      this.writer.flushAll();
    }
    if (ws.readyState !== WebSocket.OPEN) {
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      return;
    }
    const socket = (ws as unknown as { _socket: Socket | null })._socket;
    const terminate = (): void => ws.terminate();
    if (this.options.disableClosingHandshake) {
      // No close frame: the TCP connection ends once what is written has left.
      if (socket === null) return terminate();
      socket.end();
    } else {
      try {
        ws.close(isCloseCode(d.code) ? d.code : Disconnects.internal.code, closeReason(d.reason));
      } catch {
        return terminate();
      }
    }
    let timer = setTimeout(() => {
      // The close frame still waits behind bytes the peer does not read: give up on it now.
      if (socket === null || socket.writableLength > 0) return terminate();
      timer = setTimeout(terminate, CLOSE_HANDSHAKE_MS);
      timer.unref();
    }, this.options.writeTimeout > 0 ? this.options.writeTimeout : CLOSE_HANDSHAKE_MS);
    timer.unref();
    ws.once('close', () => clearTimeout(timer));
  }

  /** @internal The writer's queue overflowed. */
  writerOverflowed(): void {
    this.failWrite(Disconnects.slow);
  }

  /** @internal The writer's socket did not drain within the write timeout. */
  writerStalled(): void {
    this.failWrite(Disconnects.writeError);
  }

  private failWrite(d: Disconnect): void {
    if (!this.closing) this.onWriteFailure(d);
  }

  /** A WebSocket ping with each protocol ping; the previous one still unanswered: the peer is gone. */
  private pingPeer(): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (this.awaitingPong) {
      // Not from inside the client's tick that is sending this ping.
      setImmediate(() => {
        if (!this.closing) this.onNoPong();
      });
      return;
    }
    this.awaitingPong = true;
    try {
      this.ws.ping();
    } catch {
      // The socket is closing: its close event ends the connection.
    }
  }

  private moveJoined(): void {
    const joined = this.joined;
    if (joined.length === 0) return;
    this.dropJoined();
    this.writer.enqueue(joined.length === 1 ? joined[0]! : new OutFrame(joined.map((f) => f.payload.toString('utf8')).join('\n')));
  }

  private dropJoined(): void {
    this.joined = [];
    this.joinedBytes = 0;
  }
}

/** Accepts unidirectional WebSocket connections for a node. */
export class UniWebSocketAcceptor {
  private readonly wss: WebSocketServer;

  constructor(
    private readonly node: GyreNode,
    private readonly config: UniWebsocketConfig,
    private readonly origins: OriginCheck,
    private readonly rate: ConnectionRateLimit,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: config.message_size_limit > 0 ? config.message_size_limit : DEFAULT_CONNECT_REQUEST_LIMIT,
      perMessageDeflate: config.compression,
      clientTracking: false,
    });
  }

  /** Handles an HTTP upgrade request already routed to `uni_websocket.handler_prefix`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const log = this.node.log;
    if (!this.rate.take()) {
      log.info({ transport: 'uni_websocket' }, 'connection rate limit reached: upgrade refused');
      return refuseUpgrade(socket, 503);
    }
    if (!checkOrigin(this.origins, req, log, 'uni_websocket')) {
      return refuseUpgrade(socket, 403);
    }
    const text = cfConnectParam(req);
    let params: ConnectCommandParams | undefined;
    if (text !== undefined) {
      try {
        params = decodeConnectRequest(Buffer.from(text, 'utf8'));
      } catch (e) {
        log.info({ transport: 'uni_websocket', reason: e instanceof Error ? e.message : String(e) }, 'malformed cf_connect parameter: upgrade refused');
        return refuseUpgrade(socket, 400);
      }
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req, params));
  }

  private accept(ws: WebSocket, req: IncomingMessage, params: ConnectCommandParams | undefined): void {
    const config = this.config;
    const transport = new UniWebSocketTransport(ws, req, {
      maxQueued: this.node.config.client.queue_max_size,
      writeTimeout: config.write_timeout,
      writeDelay: this.node.config.client.write_delay,
      joinPushMessages: config.join_push_messages,
      disableClosingHandshake: config.disable_closing_handshake,
      disableDisconnectPush: config.disable_disconnect_push,
    });
    const client = new Client(this.node, transport);
    const log = this.node.log;
    transport.onWriteFailure = (d) => {
      const why = d.code === Disconnects.slow.code ? 'outgoing queue full' : 'socket did not drain within uni_websocket.write_timeout';
      log.warn({ client: client.id, transport: transport.name, code: d.code }, `client too slow: ${why}, closing`);
      client.close(d);
    };
    transport.onNoPong = () => {
      log.info({ client: client.id, transport: transport.name }, 'no pong to a WebSocket ping: closing');
      client.close(Disconnects.noPong);
    };
    this.node.accept(client);
    ws.on('error', (err: Error) => log.info({ client: client.id, err: err.message }, 'websocket error'));
    ws.on('close', () => client.onTransportClosed());
    let received = params !== undefined;
    ws.on('message', (data: WebSocket.RawData) => {
      // Only the first message counts (when cf_connect did not bring the request): the rest is dropped, as in Centrifugo.
      if (received) return;
      received = true;
      let request: ConnectCommandParams;
      try {
        request = decodeConnectRequest(rawToBuffer(data));
      } catch (e) {
        log.info({ client: client.id, transport: transport.name, reason: e instanceof Error ? e.message : String(e) }, 'malformed connect request: closing');
        client.close(Disconnects.badRequest);
        return;
      }
      transport.connectStarted = true;
      client.connectUnidirectional(request);
    });
    if (params !== undefined) {
      transport.connectStarted = true;
      client.connectUnidirectional(params);
    }
  }

  close(): void {
    this.wss.close();
  }
}
