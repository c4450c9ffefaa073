/**
 * The simple event protocol endpoint: a WebSocket endpoint where each text frame is one JSON
 * message `{"event": NAME, "data": ...}`, routed to the listeners registered for NAME, with
 * lifecycle hooks, and messages to connections, to users (on any node) and to everyone.
 *
 * Every problem with a message is answered with an `error` event and logged once; the connection
 * and everyone else carry on. Messages of one connection are dispatched one after another.
 */
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { pathOf, rawToString } from '../http/request.js';
import { answerClientError, sendJson as send } from '../http/respond.js';
import { refuseUpgrade } from '../http/upgrade.js';
import { EVENTS_HOOK_NAMES } from '../config/definition/server.js';
import type { EventsConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { GyreNode } from '../node/node.js';
import { MAX_INBOX, WebSocketCloses } from '../protocol/codes.js';
import { OutFrame } from '../protocol/frame.js';
import { checkOrigin, OriginCheck } from '../transport/origin.js';
import { WebSocketTransport, webSocketSettings, type WebSocketSettings } from '../transport/websocket.js';
import { BROADCAST_CHANNEL, InternalSubscriber, messageOfPush, userChannel } from './channels.js';
import { decodeEventMessage, encodeEventMessage } from './codec.js';
import { EventConnection } from './connection.js';
import { ERROR_EVENT, EventCloses, EventError, EventErrorCodes } from './errors.js';
import { loadHook, loadListener } from './load.js';
import type {
  AnyEvents,
  EventConnectionInfo,
  EventListener,
  EventListenerFn,
  EventMessage,
  EventName,
  EventsApi,
  EventsHook,
  EventsHooks,
  EventsHookName,
} from './types.js';
import { UserBindings } from './users.js';

/** `events.message_size_limit: 0`: the `ws` library's own ceiling. */
const UNLIMITED_MESSAGE_SIZE = 64 * 1024 * 1024;

const HOOK_NAMES: ReadonlySet<string> = new Set<EventsHookName>(EVENTS_HOOK_NAMES);

export interface EventsServerOptions {
  node: GyreNode;
  /** Makes the HTTP(S) server of the endpoint's own listener (when `events.port` is set). */
  createListener: (handler: RequestListener) => Server;
  /**
   * Whether this node runs the `start_server` hooks (default true). A worker of `gyre serve
   * --workers` does not: its primary runs them once for the whole server.
   */
  startServerHooks?: boolean;
}

type AnyListener = EventListenerFn<unknown, AnyEvents>;
type AnyHook = (server: EventsApi<AnyEvents>, event: unknown) => void | Promise<void>;

/**
 * The event endpoint of one node. Get it from `GyreServer.events`; register listeners with
 * {@link on} and hooks with {@link hook}. `In` and `Out` type the data of incoming and outgoing
 * events per name (see {@link typed}).
 */
export class EventsServer<In extends object = AnyEvents, Out extends object = AnyEvents> implements EventsApi<Out> {
  readonly nodeId: string;
  private readonly node: GyreNode;
  private readonly config: EventsConfig;
  private readonly log: Logger;
  private readonly listeners = new Map<string, readonly AnyListener[]>();
  private readonly hooks = new Map<string, readonly AnyHook[]>();
  private readonly connections = new Map<string, EventConnection>();
  private readonly users: UserBindings;
  private readonly broadcastSubscriber: InternalSubscriber;
  private readonly wss: WebSocketServer;
  /** What every events connection's socket writer shares. */
  private readonly socketSettings: WebSocketSettings;
  private readonly origins: OriginCheck;
  private own: Server | undefined;
  private pinger: NodeJS.Timeout | undefined;
  private state: 'idle' | 'running' | 'stopped' = 'idle';

  constructor(private readonly opts: EventsServerOptions) {
    const node = opts.node;
    this.node = node;
    this.nodeId = node.id;
    this.config = node.config.events;
    this.log = node.log;
    this.users = new UserBindings(node, (connections, event, data) => this.deliver(connections, event, data));
    this.broadcastSubscriber = new InternalSubscriber((text) => {
      const msg = messageOfPush(text);
      if (msg === undefined) this.log.warn('events: undecodable broadcast message, dropped');
      else this.deliver(this.connections.values(), msg.event, msg.data);
    });
    const limit = this.config.message_size_limit;
    this.socketSettings = webSocketSettings({
      maxQueued: node.config.client.queue_max_size,
      writeTimeout: node.config.websocket.write_timeout,
    });
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: limit > 0 ? limit : UNLIMITED_MESSAGE_SIZE,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.origins = new OriginCheck(node.config.client.allowed_origins, node.config.client.insecure);
  }

  // ---- registration ----

  /**
   * Registers a listener for a client event; several listeners of one event run in registration
   * order. Returns a function that removes it.
   */
  on<K extends EventName<In>>(event: K, listener: EventListener<In[K], Out, K>): () => void {
    checkEventName(event);
    const typed: EventListenerFn<In[K], Out, K> =
      typeof listener === 'function' ? listener : (server, message) => listener.handle(server, message);
    return this.addListener(event, typed as unknown as AnyListener);
  }

  private addListener(event: string, fn: AnyListener): () => void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
    return () => {
      const rest = (this.listeners.get(event) ?? []).filter((f) => f !== fn);
      if (rest.length > 0) this.listeners.set(event, rest);
      else this.listeners.delete(event);
    };
  }

  /** Registers a lifecycle hook (see {@link EventsHook} for when each runs). Returns a function that removes it. */
  hook<H extends EventsHookName>(name: H, fn: EventsHook<H, Out>): () => void {
    if (!HOOK_NAMES.has(name)) throw new TypeError(`events: unknown hook "${String(name)}" (known: ${[...HOOK_NAMES].join(', ')})`);
    const hook = fn as unknown as AnyHook;
    this.hooks.set(name, [...(this.hooks.get(name) ?? []), hook]);
    return () => {
      const rest = (this.hooks.get(name) ?? []).filter((h) => h !== hook);
      if (rest.length > 0) this.hooks.set(name, rest);
      else this.hooks.delete(name);
    };
  }

  /**
   * This server, typed with event maps: `In` for the data of incoming events (listeners), `Out`
   * for outgoing ones (`sendMessage`, `broadcast`, `sendToUser`).
   */
  typed<I extends object, O extends object = Out>(): EventsServer<I, O> {
    return this as unknown as EventsServer<I, O>;
  }

  // ---- the API ----

  sendMessage<K extends EventName<Out>>(connectionId: string, event: K, data: Out[K]): boolean {
    checkEventName(event);
    const conn = this.connections.get(connectionId);
    if (conn === undefined || conn.closed) return false;
    return this.sendTo(conn, event, data);
  }

  async broadcast<K extends EventName<Out>>(event: K, data: Out[K]): Promise<void> {
    checkEventName(event);
    this.checkRunning();
    await this.node.publishInternal(BROADCAST_CHANNEL, encodeEventMessage(event, data));
  }

  async sendToUser<K extends EventName<Out>>(userId: string | number, event: K, data: Out[K]): Promise<void> {
    checkEventName(event);
    const user = userKey(userId);
    this.checkRunning();
    await this.node.publishInternal(userChannel(user), encodeEventMessage(event, data));
  }

  disconnect(connectionId: string, code: number = WebSocketCloses.normal.code, reason = ''): boolean {
    if (!Number.isInteger(code) || (code !== WebSocketCloses.normal.code && (code < 3000 || code > 4999))) {
      throw new RangeError(`events: close code must be 1000 or 3000-4999, got ${code}`);
    }
    const conn = this.connections.get(connectionId);
    if (conn === undefined || conn.closed) return false;
    conn.closing = true;
    conn.transport.close({ code, reason });
    return true;
  }

  async bindUser(connectionId: string, userId: string | number): Promise<boolean> {
    const user = userKey(userId);
    this.checkRunning();
    const conn = this.connections.get(connectionId);
    if (conn === undefined || conn.closed) return false;
    await this.users.bind(conn, user);
    return !conn.closed;
  }

  async unbindUser(connectionId: string): Promise<boolean> {
    const conn = this.connections.get(connectionId);
    if (conn === undefined) return false;
    return this.users.unbind(conn);
  }

  connection(connectionId: string): EventConnectionInfo | undefined {
    return this.connections.get(connectionId);
  }

  userConnections(userId: string | number): string[] {
    const set = this.users.connectionsOf(userKey(userId));
    return set === undefined ? [] : [...set].map((c) => c.id);
  }

  /** Number of open connections on this node. */
  get connectionCount(): number {
    return this.connections.size;
  }

  // ---- lifecycle (driven by GyreServer) ----

  /**
   * Loads the configured listeners, subscribes the node to broadcasts, starts pings, then runs
   * the `start_worker` hooks. Called by `GyreServer.listen()` after the node started.
   */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error('events: already started');
    for (const [i, spec] of this.config.listeners.entries()) {
      const listener = await loadListener(spec, i);
      this.addListener(spec.event, typeof listener === 'function' ? listener : (server, message) => listener.handle(server, message));
    }
    for (const [i, spec] of this.config.hooks.entries()) {
      const hook = await loadHook(spec, i);
      this.hook(spec.event as EventsHookName, hook as unknown as EventsHook<EventsHookName, Out>);
    }
    await this.node.addSubscription(BROADCAST_CHANNEL, this.broadcastSubscriber);
    if (this.config.ping_interval > 0) {
      this.pinger = setInterval(() => this.ping(), this.config.ping_interval);
      this.pinger.unref();
    }
    this.state = 'running';
    await this.runStartHooks('start_worker', { nodeId: this.nodeId, nodeName: this.node.name, pid: process.pid });
  }

  /**
   * Opens the own listener when `events.port` is set, then runs the `start_server` hooks.
   * `host` / `mainPort`: where the main HTTP server listens.
   */
  async listening(host: string, mainPort: number): Promise<void> {
    let boundHost = host;
    let port = mainPort;
    if (this.config.port > 0) {
      const own = this.opts.createListener((req, res) => this.onOwnRequest(req, res));
      own.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onOwnUpgrade(req, socket, head));
      own.on('clientError', (err: Error & { code?: string }, socket: Duplex) => answerClientError(err, socket));
      this.own = own;
      await new Promise<void>((resolve, reject) => {
        own.once('error', reject);
        own.listen(this.config.port, this.config.address || undefined, () => {
          own.off('error', reject);
          resolve();
        });
      });
      boundHost = this.config.address;
      port = (own.address() as AddressInfo).port;
    }
    if (this.opts.startServerHooks === false) return;
    await this.runStartHooks('start_server', {
      nodeId: this.nodeId,
      nodeName: this.node.name,
      host: boundHost,
      port,
      path: this.config.handler_prefix,
    });
  }

  /** True when the main HTTP server should hand an upgrade on `path` to this endpoint. */
  servesPath(path: string): boolean {
    return this.config.port === 0 && path === this.config.handler_prefix;
  }

  /** Handles an HTTP upgrade already routed to this endpoint. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.state !== 'running') {
      refuseUpgrade(socket, 503);
      return;
    }
    if (!checkOrigin(this.origins, req, this.log, 'events')) {
      refuseUpgrade(socket, 403);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
  }

  /** Closes every connection with 1001 "shutdown", stops the own listener and leaves the broadcast channel. */
  async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    if (this.pinger) clearInterval(this.pinger);
    for (const conn of this.connections.values()) {
      conn.closing = true;
      conn.transport.close(EventCloses.shutdown);
    }
    this.users.clear();
    this.wss.close();
    if (this.own !== undefined) {
      this.own.close();
      this.own.closeIdleConnections();
    }
    if (wasRunning) {
      try {
        await this.node.removeSubscription(BROADCAST_CHANNEL, this.broadcastSubscriber.clientId);
      } catch (e) {
        this.log.debug({ err: e }, 'events: leaving the broadcast channel failed');
      }
    }
  }

  // ---- connections ----

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const transport = new WebSocketTransport(ws, req, this.socketSettings);
    const conn = new EventConnection(ws, transport, req, this.log, this.node.config.client);
    transport.onWriteFailure = (d) => {
      this.log.warn({ connection: conn.id, code: d.code }, 'events: connection too slow, closing');
      conn.closing = true;
      transport.close(d);
    };
    this.connections.set(conn.id, conn);
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => this.onFrame(conn, data, isBinary));
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('error', (err: Error) => this.onSocketError(conn, err));
    ws.on('close', (code: number, reason: Buffer) => this.onClose(conn, code, reason.toString('utf8')));
    if (this.hooks.has('connection_open')) {
      const event = {
        connectionId: conn.id,
        headers: conn.headers,
        secWebSocketKey: conn.secWebSocketKey,
        remoteAddress: conn.remoteAddress,
        url: req.url ?? '/',
      };
      void conn.run(() => this.runHooks('connection_open', event, conn.id));
    }
  }

  private onFrame(conn: EventConnection, data: WebSocket.RawData, isBinary: boolean): void {
    if (conn.closing || conn.closed) return;
    if (conn.inbox >= MAX_INBOX) {
      this.log.warn({ connection: conn.id, limit: MAX_INBOX }, 'events: too many messages waiting for their listeners, closing');
      conn.closing = true;
      conn.transport.close(EventCloses.tooManyRequests);
      return;
    }
    conn.inbox++;
    const text = isBinary ? undefined : rawToString(data);
    void conn.run(async () => {
      try {
        await this.dispatch(conn, text);
      } catch (e) {
        this.log.error({ connection: conn.id, err: e }, 'events: dispatch failed');
      } finally {
        conn.inbox--;
      }
    });
  }

  private async dispatch(conn: EventConnection, text: string | undefined): Promise<void> {
    const decoded =
      text === undefined
        ? { ok: false as const, code: EventErrorCodes.badMessage, reason: 'binary frames are not supported: send JSON text' }
        : decodeEventMessage(text);
    if (!decoded.ok) {
      this.sendError(conn, decoded.code, decoded.reason);
      this.recordError(conn, 'info', { code: decoded.code, reason: decoded.reason }, 'events: bad message', true);
      return;
    }
    const { event, data } = decoded;
    const message: EventMessage = { connectionId: conn.id, event, data, userId: conn.userId };
    await this.runHooks('message', message, conn.id);
    const listeners = this.listeners.get(event);
    if (listeners === undefined) {
      this.sendError(conn, EventErrorCodes.unknownEvent, `no listener for event ${JSON.stringify(event)}`, event);
      this.recordError(conn, 'info', { event }, 'events: no listener for the event', true);
      return;
    }
    try {
      for (const fn of listeners) await fn(this.api, message);
    } catch (error) {
      const known = error instanceof EventError;
      if (known) {
        this.recordError(conn, 'info', { event, code: error.code, reason: error.message }, 'events: listener rejected the message', false);
      } else {
        this.recordError(conn, 'error', { event, err: error }, 'events: listener failed', false);
      }
      await this.runHooks('message_handler_exception', { message, error }, conn.id);
      if (known) this.sendError(conn, error.code, error.message, event);
      else this.sendError(conn, EventErrorCodes.internal, `the listener of event ${JSON.stringify(event)} failed`, event);
    }
  }

  /** Logs a connection's error through its budget; closes it with 3509 when it made too many. */
  private recordError(
    conn: EventConnection,
    level: 'info' | 'error',
    fields: Record<string, unknown>,
    msg: string,
    counts: boolean,
  ): void {
    if (!conn.errors.record(level, fields, msg, counts) || conn.closing) return;
    conn.closing = true;
    conn.transport.close(EventCloses.tooManyErrors);
  }

  private onSocketError(conn: EventConnection, err: Error): void {
    if ((err as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.log.info({ connection: conn.id, limit: this.config.message_size_limit }, 'events: message too big, closing with 1009');
    } else {
      this.log.info({ connection: conn.id, err: err.message }, 'events: websocket error');
    }
  }

  private onClose(conn: EventConnection, code: number, reason: string): void {
    conn.closed = true;
    conn.errors.flush();
    this.connections.delete(conn.id);
    const userId = conn.userId;
    if (this.state === 'running') void this.users.unbind(conn);
    else conn.userId = undefined;
    if (this.hooks.has('connection_closed')) {
      const event = { connectionId: conn.id, userId, code, reason };
      void conn.run(() => this.runHooks('connection_closed', event, conn.id));
    }
  }

  /** One protocol ping to every connection; one that did not answer the previous ping is dropped. */
  private ping(): void {
    for (const conn of this.connections.values()) {
      if (conn.closed) continue;
      if (!conn.alive) {
        this.log.info({ connection: conn.id }, 'events: no pong to the last ping, dropping the connection');
        conn.closing = true;
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      try {
        conn.ws.ping();
      } catch {
        // not open (yet or any more): the close handler takes care of it
      }
    }
  }

  // ---- sending ----

  private sendTo(conn: EventConnection, event: string, data: unknown): boolean {
    const frame = new OutFrame(encodeEventMessage(event, data));
    if (!conn.transport.send(frame)) return false;
    if (this.hooks.has('message_sent')) void this.runHooks('message_sent', { connectionId: conn.id, event, data }, conn.id);
    return true;
  }

  private sendError(conn: EventConnection, code: string, reason: string, event?: string): void {
    if (conn.closed) return;
    this.sendTo(conn, ERROR_EVENT, event === undefined ? { code, reason } : { code, reason, event });
  }

  /** Delivers a message from the broker to local connections: one frame, shared. */
  private deliver(connections: Iterable<EventConnection>, event: string, data: unknown): void {
    const frame = new OutFrame(encodeEventMessage(event, data));
    const hooks = this.hooks.has('message_sent');
    for (const conn of connections) {
      if (conn.closed) continue;
      if (conn.transport.send(frame) && hooks) void this.runHooks('message_sent', { connectionId: conn.id, event, data }, conn.id);
    }
  }

  // ---- hooks ----

  private get api(): EventsApi<AnyEvents> {
    return this as unknown as EventsApi<AnyEvents>;
  }

  /** Runs a hook's functions in order; a failing one is logged and the next still runs. */
  private async runHooks<H extends EventsHookName>(name: H, event: EventsHooks[H], connectionId?: string): Promise<void> {
    const list = this.hooks.get(name);
    if (list === undefined) return;
    for (const fn of list) {
      try {
        await fn(this.api, event);
      } catch (e) {
        this.log.error({ hook: name, connection: connectionId, err: e }, 'events: hook failed');
      }
    }
  }

  /** Runs a start hook's functions in order; a throw fails the start. */
  private async runStartHooks<H extends 'start_worker' | 'start_server'>(name: H, event: EventsHooks[H]): Promise<void> {
    for (const fn of this.hooks.get(name) ?? []) await fn(this.api, event);
  }

  private checkRunning(): void {
    if (this.state !== 'running') throw new Error(`events: the event endpoint is not running (${this.state})`);
  }

  // ---- the own listener ----

  private onOwnRequest(req: IncomingMessage, res: ServerResponse): void {
    if (pathOf(req) === this.config.handler_prefix) send(res, 400, { error: 'expected a WebSocket upgrade' });
    else send(res, 404, { error: 'not found' });
  }

  private onOwnUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (pathOf(req) !== this.config.handler_prefix) {
      refuseUpgrade(socket, 404);
      return;
    }
    this.handleUpgrade(req, socket, head);
  }
}

function checkEventName(event: unknown): void {
  if (typeof event !== 'string' || event === '') throw new TypeError('events: an event name must be a non-empty string');
}

/** A user id as the key of its bindings and channel. */
function userKey(userId: string | number): string {
  const key = typeof userId === 'number' ? String(userId) : userId;
  if (typeof key !== 'string' || key === '') throw new TypeError('events: a user id must be a non-empty string or a number');
  return key;
}

