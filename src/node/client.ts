/**
 * A client connection: the protocol state machine (connect first, then commands), command dispatch,
 * connection refresh, pings and expiry. Channel subscriptions live in {@link ClientSubscriptions}.
 * Commands of one connection run one after another, or, with `client.concurrency` above 1, up to
 * that many at once (connect always alone, before anything else).
 */
import { randomUUID } from 'node:crypto';
import type { ConnectionContext } from '../handlers/requests.js';
import { expireAtSeconds } from '../handlers/responses.js';
import {
  DisconnectException,
  Disconnects,
  Errors,
  MAX_INBOX,
  ProtocolException,
  Unsubscribes,
  type Disconnect,
  type ProtocolError,
} from '../protocol/codes.js';
import { CommandDecodeError, type DecodedEntry, type ProtocolCodec } from '../protocol/codec.js';
import { codecFor } from '../protocol/codecs.js';
import type { OutFrame } from '../protocol/frame.js';
import { commandFrameType, FrameType } from '../protocol/frame-types.js';
import type { Metrics, TransportCounters } from '../metrics/metrics.js';
import type { ConnectResultMsg, PushMsg, ReplyMsg } from '../protocol/messages.js';
import type {
  ClientInfo,
  Command,
  ConnectCommandParams,
  HistoryCommandParams,
  RawJson,
} from '../protocol/types.js';
import type { Transport } from './transport.js';
import type { ResolvedChannel } from './channel-rules.js';
import type { GyreNode } from './node.js';
import { ClientSubscriptions, REFRESH_RETRY_MS, type SubscriptionOwner } from './client-subscriptions.js';
import type { NodeClient } from './node-client.js';
import type { ClientSubscription, SubscribeSpec } from './subscription.js';
import { toPayload, toRawJson } from './raw-json.js';
import { ErrorBudget } from './error-budget.js';
import { expiryFields } from './expiry.js';
import { grantFromHandler, type ConnectGrant } from './grants.js';
import { mayPublish, mayRead } from './permissions.js';
import { checkConnectionToken } from './token-checks.js';

type State = 'connecting' | 'connected' | 'closed';

export class Client implements SubscriptionOwner, NodeClient {
  readonly id = randomUUID();
  /**
   * The session id of an emulated or unidirectional connection (sent in its connect result; the
   * emulation endpoint finds the connection by it). Never shared with other clients, unlike `id`.
   */
  readonly session: string | undefined;
  user = '';
  connInfo: RawJson | undefined;
  /** Seconds since epoch when the connection expires; 0 = never. */
  expireAt = 0;
  name = '';
  version = '';
  /** Connection meta (from the token or the connect handler): handed to handlers, never to clients. */
  meta: unknown = undefined;
  /** The subscription lifecycle of this connection. */
  private readonly subs: ClientSubscriptions;
  /** The connect handler granted this connection: the refresh handler (if any) extends it. */
  private refreshByServer = false;
  private refreshing = false;
  private refreshRetryAt = 0;

  private state: State = 'connecting';
  /** Commands waiting to run; replaced by a fresh array once empty (a used one keeps its capacity). */
  private inbox: Command[] = [];
  /** Commands being processed now. */
  private running = 0;
  /** Most commands processed at once (`client.concurrency`; 1 = one after another). */
  private readonly concurrency: number;
  /** The last command started runs alone: connect, or anything before the connection is connected. */
  private alone = false;
  /** Ms timestamps driven by the node's shared ticker. */
  private nextPingAt = 0;
  /**
   * When the pong to the last ping is due; 0 = no ping awaits its pong, `Infinity` = one does but
   * `pong_timeout` is off (the pong is still expected, just never late).
   */
  private pongDeadline = 0;
  private closeDeadline: number;
  /** This connection's errors: counted against client.error_limit, a few log lines per interval (made at the first). */
  private errors: ErrorBudget | undefined;
  /** Encodes this connection's replies and pushes, decodes its frames. */
  readonly codec: ProtocolCodec;
  /** The node's metrics, and its counters of this connection's transport (messages in and out by type). */
  private readonly metrics: Metrics;
  readonly counters: TransportCounters;

  constructor(
    private readonly node: GyreNode,
    readonly transport: Transport,
  ) {
    this.codec = codecFor(transport.protocol, transport.unidirectional);
    this.session = transport.emulation || transport.unidirectional ? randomUUID() : undefined;
    // A connection that never sends connect is dropped as stale.
    this.closeDeadline = Date.now() + node.config.client.stale_close_delay;
    this.metrics = node.metrics;
    this.counters = node.metrics.transport(transport.name);
    this.counters.connects++;
    this.subs = new ClientSubscriptions(node, this);
    this.concurrency = Math.max(1, node.config.client.concurrency);
  }

  /** This connection's subscriptions by channel. */
  get subscriptions(): ReadonlyMap<string, ClientSubscription> {
    return this.subs.byChannel;
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** This client's `ClientInfo` (with channel info for a subscription). */
  info(chanInfo?: RawJson): ClientInfo {
    const info: ClientInfo = { user: this.user, client: this.id };
    if (this.connInfo !== undefined) info.connInfo = this.connInfo;
    if (chanInfo !== undefined) info.chanInfo = chanInfo;
    return info;
  }

  /**
   * Handles one frame from the transport: commands of the connection's protocol (JSON text or
   * protobuf bytes).
   */
  handleFrame(frame: Buffer | string): void {
    if (this.state === 'closed') return;
    if (this.transport.unidirectional) {
      this.node.log.info({ client: this.id }, 'command on a unidirectional connection: closing');
      this.close(Disconnects.badRequest);
      return;
    }
    const bytes = typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame;
    let entries: DecodedEntry[];
    try {
      entries = this.codec.decode(bytes);
    } catch (e) {
      const reason = e instanceof CommandDecodeError ? e.reason : String(e);
      this.node.log.info({ client: this.id, reason }, 'bad request: closing connection');
      this.close(Disconnects.badRequest);
      return;
    }
    this.countReceived(entries, bytes.length);
    for (const entry of entries) {
      if (entry.kind === 'pong') {
        this.handlePong();
      } else if (entry.kind === 'unknown') {
        if (this.state !== 'connected') return this.rejectBeforeConnect('unknown');
        this.sendError(entry.id, Errors.methodNotFound, FrameType.unknown);
        this.recordError('info', { id: entry.id }, 'command with no known method', true);
      } else if (entry.kind === 'invalid') {
        if (this.state !== 'connected') return this.rejectBeforeConnect('invalid');
        this.sendError(entry.id, Errors.badRequest, FrameType.unknown);
        this.recordError('warn', { id: entry.id, reason: entry.reason }, 'bad request: answered 107', true);
      } else {
        if (this.inbox.length >= MAX_INBOX) {
          this.node.log.warn({ client: this.id }, 'too many commands queued: closing connection');
          this.close(Disconnects.tooManyRequests);
          return;
        }
        this.inbox.push(entry.command);
      }
      if ((this.state as State) === 'closed') return;
    }
    this.pump();
  }

  /** Counts a frame's messages by type; its bytes are shared between them. */
  private countReceived(entries: readonly DecodedEntry[], size: number): void {
    const n = entries.length;
    if (n === 0) return;
    const { received, receivedBytes } = this.counters;
    const share = Math.floor(size / n);
    for (let i = 0; i < n; i++) {
      const entry = entries[i]!;
      const type = entry.kind === 'command' ? commandFrameType(entry.command.method) : entry.kind === 'pong' ? FrameType.client_pong : FrameType.unknown;
      received[type]!++;
      receivedBytes[type]! += i === 0 ? size - share * (n - 1) : share;
    }
  }

  /** Handles a frame of the wrong kind (binary in JSON mode, text in protobuf mode). */
  handleWrongFrameKind(): void {
    const kind = this.transport.protocol === 'json' ? 'binary frame on a JSON connection' : 'text frame on a protobuf connection';
    this.node.log.info({ client: this.id }, `${kind}: closing`);
    this.close(Disconnects.badRequest);
  }

  /**
   * Starts a unidirectional connection from its connect request (the first message, the request
   * body or the `cf_connect` parameter): the `connect` push, then the server-side subscriptions.
   */
  connectUnidirectional(params: ConnectCommandParams): void {
    this.counters.received[FrameType.connect]!++;
    this.inbox.push({ id: 0, method: 'connect', params });
    this.pump();
  }

  private rejectBeforeConnect(method: string): void {
    this.node.log.info({ client: this.id, method }, 'command before connect: closing connection');
    this.close(Disconnects.badRequest);
  }

  /**
   * Starts queued commands while fewer than `client.concurrency` run (one at a time by default).
   * A connect, and any command before the connection is connected, runs alone: nothing starts
   * beside it, and what follows waits for its reply.
   */
  private pump(): void {
    while (this.inbox.length > 0 && this.state !== 'closed' && this.running < this.concurrency) {
      if (this.running > 0 && this.alone) return;
      const cmd = this.inbox.shift()!;
      this.alone = cmd.method === 'connect' || this.state === 'connecting';
      this.running++;
      void this.runQueued(cmd);
    }
    if (this.inbox.length === 0) this.inbox = [];
  }

  /** Runs a command from the inbox, then starts what waits behind it. */
  private async runQueued(cmd: Command): Promise<void> {
    try {
      // dispatch answers every failure itself: it settles, never rejects.
      await this.dispatch(cmd);
    } finally {
      this.running--;
      this.pump();
    }
  }

  /** Runs a command; with metrics on, times it (`centrifugo_client_command_duration_seconds`). */
  private dispatch(cmd: Command): Promise<void> {
    return this.metrics.enabled ? this.timed(cmd) : this.run(cmd);
  }

  private async timed(cmd: Command): Promise<void> {
    const started = performance.now();
    try {
      await this.run(cmd);
    } finally {
      this.metrics.commandDuration(commandFrameType(cmd.method), (performance.now() - started) / 1000);
    }
  }

  private async run(cmd: Command): Promise<void> {
    if (this.state === 'connecting' && cmd.method !== 'connect') return this.rejectBeforeConnect(cmd.method);
    try {
      switch (cmd.method) {
        case 'connect':
          return await this.connect(cmd.id, cmd.params);
        case 'subscribe':
          return await this.subs.subscribe(cmd.id, cmd.params, (id, result) => this.sendReply({ id, kind: 'subscribe', result }));
        case 'unsubscribe':
          await this.subs.unsubscribe(cmd.params.channel);
          return this.sendReply({ id: cmd.id, kind: 'unsubscribe' });
        case 'publish':
          return await this.publish(cmd.id, cmd.params.channel, cmd.params.data);
        case 'presence':
          return await this.presenceCmd(cmd.id, cmd.params.channel);
        case 'presence_stats':
          return await this.presenceStatsCmd(cmd.id, cmd.params.channel);
        case 'history':
          return await this.historyCmd(cmd.id, cmd.params);
        case 'ping':
          return this.sendReply({ id: cmd.id, kind: 'ping' });
        case 'send':
          this.node.log.debug({ client: this.id }, 'async message with no handler: ignored');
          return;
        case 'rpc':
          return await this.rpcCmd(cmd.id, cmd.params.method ?? '', cmd.params.data);
        case 'refresh':
          return await this.refreshCmd(cmd.id, cmd.params.token);
        case 'sub_refresh':
          return this.sendReply({ id: cmd.id, kind: 'sub_refresh', result: await this.subs.refreshWithToken(cmd.params.channel, cmd.params.token) });
      }
    } catch (e) {
      this.fail(cmd, e);
    }
  }

  private fail(cmd: Command, e: unknown): void {
    if (cmd.method === 'connect' && this.transport.unidirectional) return this.failUnidirectionalConnect(e);
    // A log line per failed command (the exception's own detail when it has one), a few per
    // interval and connection: the error budget counts the rest.
    if (e instanceof ProtocolException) {
      this.replyError(cmd.id, e.error, cmd.method);
      const fields = { method: cmd.method, code: e.error.code, ...e.log?.fields };
      this.recordError(e.log !== undefined ? 'info' : 'debug', fields, e.log?.msg ?? 'command error', isClientError(e.error));
    } else if (e instanceof DisconnectException) {
      const fields = { client: this.id, method: cmd.method, code: e.disconnect.code, ...e.log?.fields };
      this.node.log.info(fields, e.log?.msg ?? e.disconnect.reason);
      this.close(e.disconnect);
    } else {
      this.replyError(cmd.id, Errors.internal, cmd.method);
      this.recordError('error', { method: cmd.method, err: e }, 'command failed', false);
    }
  }

  /**
   * A refused connect on a unidirectional connection, which cannot get an error reply: it is closed
   * with a disconnect, as in Centrifugo. A disconnect is used as it is; an error code goes through
   * `client.connect_code_to_unidirectional_disconnect` when enabled, else 109/110 → 3005,
   * 111 → 3013, 103 → 3507, anything else 3004. One log line. The transport also gets the original
   * code and message, for answering with an HTTP status (`connect_code_to_http_response` of
   * uni_http_stream / uni_sse).
   */
  private failUnidirectionalConnect(e: unknown): void {
    let disconnect: Disconnect;
    let connectError: { code: number; message: string };
    if (e instanceof DisconnectException) {
      disconnect = e.disconnect;
      connectError = { code: e.disconnect.code, message: e.disconnect.reason };
    } else if (e instanceof ProtocolException) {
      const code = e.error.code;
      connectError = { code, message: e.error.message };
      const mapping = this.node.config.client.connect_code_to_unidirectional_disconnect;
      const to = mapping.enabled ? mapping.transforms.find((t) => t.code === code)?.to : undefined;
      if (to !== undefined) disconnect = { code: to.code, reason: to.reason };
      else if (code === Errors.expired.code || code === Errors.tokenExpired.code) disconnect = Disconnects.expired;
      else if (code === Errors.tooManyRequests.code) disconnect = Disconnects.tooManyRequests;
      else if (code === Errors.permissionDenied.code) disconnect = Disconnects.permissionDenied;
      else disconnect = Disconnects.internal;
    } else {
      disconnect = Disconnects.internal;
      connectError = { code: 0, message: '' };
    }
    const detail = e instanceof DisconnectException || e instanceof ProtocolException ? e.log : undefined;
    const fields = { client: this.id, transport: this.transport.name, code: disconnect.code, cause: connectError.code, ...detail?.fields };
    if (connectError.code === 0) this.node.log.error({ ...fields, err: e }, 'unidirectional connect failed');
    else this.node.log.info(fields, `unidirectional connect refused: ${detail?.msg ?? connectError.message}`);
    this.close(disconnect, connectError);
  }

  /** Logs an error through the budget; closes with 3509 when the client made too many. */
  private recordError(level: 'debug' | 'info' | 'warn' | 'error', fields: Record<string, unknown>, msg: string, counts: boolean): void {
    const client = this.node.config.client;
    this.errors ??= new ErrorBudget(this.node.log, { client: this.id }, { limit: client.error_limit, interval: client.error_limit_interval });
    if (this.errors.record(level, fields, msg, counts)) this.close(Disconnects.tooManyErrors);
  }

  private replyError(id: number, error: ProtocolError, method: Command['method']): void {
    if (id > 0) this.sendError(id, error, commandFrameType(method));
  }

  /** Queues an error reply to a command of frame type `method` (counted in the metrics by it). */
  private sendError(id: number, error: ProtocolError, method: number): void {
    if (this.state === 'closed' || this.transport.unidirectional) return;
    this.metrics.replyError(method, error.code);
    const frame = this.codec.reply({ id, kind: 'error', error });
    frame.type = method;
    this.write(frame);
  }

  /** Queues a reply on the connection (a unidirectional connection gets its connect result as a push; no other reply). */
  sendReply(msg: ReplyMsg): void {
    if (this.state === 'closed') return;
    if (!this.transport.unidirectional) this.write(this.codec.reply(msg));
    else if (msg.kind === 'connect') this.write(this.codec.push({ kind: 'connect', result: msg.result }));
  }

  /** Queues a push on the connection. */
  sendPush(msg: PushMsg): void {
    if (this.state !== 'closed') this.write(this.codec.push(msg));
  }

  /** Queues a frame on the transport, counting it by type. */
  private write(frame: OutFrame): void {
    const c = this.counters;
    c.sent[frame.type]!++;
    c.sentBytes[frame.type]! += frame.payload.length;
    this.transport.send(frame);
  }

  // ---- connect ----

  private async connect(id: number, req: ConnectCommandParams): Promise<void> {
    if (this.state !== 'connecting') {
      throw new DisconnectException(Disconnects.badRequest, { msg: 'connect on a connected connection' });
    }
    const cfg = this.node.config.client;
    let claims: ConnectGrant | undefined;
    const connectHandler = this.node.handles('connect');
    if (req.token !== undefined && req.token !== '') {
      claims = await checkConnectionToken(this.node.tokens, req.token, 'connection');
      if (claims.expireAt !== undefined && claims.expireAt > 0 && claims.expireAt * 1000 <= Date.now()) {
        throw new ProtocolException(Errors.expired);
      }
      if (claims.user === '' && cfg.disallow_anonymous_connection_tokens) {
        throw new DisconnectException(Disconnects.invalidToken, { msg: 'anonymous connection token not allowed' });
      }
    } else if (connectHandler !== undefined) {
      const fields = await connectHandler.connect(
        this.context(),
        req.data,
        req.name ?? '',
        req.version ?? '',
        Object.keys(req.subs ?? {}),
      );
      claims = grantFromHandler(fields);
      // As for a token: an expiry that has already passed is refused (110).
      if (claims.expireAt !== undefined && claims.expireAt * 1000 <= Date.now()) {
        throw new ProtocolException(Errors.expired, { msg: 'connect service granted an expiry in the past' });
      }
      this.refreshByServer = this.node.handles('refresh') !== undefined;
    } else if (!cfg.insecure && !cfg.allow_anonymous_connect_without_token) {
      throw new DisconnectException(Disconnects.badRequest, { msg: 'connect without token: client credentials not found' });
    }
    if (this.state !== 'connecting') return;
    const user = claims?.user ?? '';
    if (cfg.connection_limit > 0 && this.node.clientCount >= cfg.connection_limit) {
      throw new DisconnectException(Disconnects.connectionLimit);
    }
    if (cfg.user_connection_limit > 0 && user !== '' && this.node.userClientCount(user) >= cfg.user_connection_limit) {
      throw new DisconnectException(Disconnects.connectionLimit);
    }
    const personal = cfg.subscribe_to_user_personal_channel;
    if (personal.enabled && personal.single_connection && user !== '') {
      // Keep one connection per user, on every node: the newest wins.
      await this.node.disconnectUser(user, Disconnects.connectionLimit, this.id);
      if ((this.state as State) !== 'connecting') return;
    }
    this.user = user;
    this.connInfo = claims?.info;
    this.expireAt = claims?.expireAt ?? 0;
    this.meta = claims?.meta;
    this.name = req.name ?? '';
    this.version = req.version ?? '';
    this.state = 'connected';
    this.node.register(this);

    const now = Date.now();
    this.closeDeadline = 0;
    const ping = this.node.config.client.ping_interval;
    if (ping > 0) this.nextPingAt = now + ping / 2 + Math.floor(Math.random() * (ping / 2));

    const { results: subs, started } = await this.subs.atConnect(claims, req.subs);
    const result: ConnectResultMsg = {
      client: this.id,
      version: this.node.version,
      // With server-side refresh (a refresh handler) the client is not asked to refresh.
      ...(!this.refreshByServer && expiryFields(this.expireAt, now)),
      ...(claims?.data !== undefined && { data: claims.data }),
      ...(subs.length > 0 && { subs }),
      ...(ping > 0 && { ping: Math.round(ping / 1000), ...(this.transport.pongs && { pong: true }) }),
      ...(this.session !== undefined && { session: this.session }),
      node: this.node.id,
    };
    this.sendReply({ id, kind: 'connect', result });
    for (const setup of started) this.subs.goLive(setup);
  }

  /** This connection as handlers see it. */
  context(): ConnectionContext {
    const t = this.transport;
    return {
      client: this.id,
      transport: t.name,
      protocol: t.protocol,
      encoding: 'json',
      headers: t.headers,
      user: this.user,
      meta: this.meta,
    };
  }

  /** Subscribes the client from the server side (server API), with a `subscribe` push. */
  serverSubscribe(spec: SubscribeSpec): Promise<void> {
    return this.subs.serverSubscribe(spec);
  }

  /** Ends a subscription from the server side, telling the client with an `unsubscribe` push. */
  serverUnsubscribe(channel: string, reason: Disconnect = Unsubscribes.server): Promise<void> {
    return this.subs.serverUnsubscribe(channel, reason);
  }

  // ---- publish, presence, history ----

  private async publish(id: number, channel: string, data: unknown): Promise<void> {
    const resolved = this.node.rules.resolveForClient(channel);
    if (data === undefined) throw new ProtocolException(Errors.badRequest);
    const sub = this.subscriptions.get(channel);
    const info = this.info(sub?.chanInfo);
    const handler = this.node.handles('publish', resolved);
    if (handler !== undefined) {
      const f = await handler.publish(this.context(), channel, data);
      await this.node.publish(channel, f.data !== undefined ? toPayload(f.data) : toPayload(data), {
        info,
        ...(f.skipHistory !== undefined && { skipHistory: f.skipHistory }),
        ...(f.tags !== undefined && { tags: f.tags }),
      });
    } else {
      if (!mayPublish(resolved, this.subs.asker(), sub !== undefined)) throw new ProtocolException(Errors.permissionDenied);
      await this.node.publish(channel, toPayload(data), { info });
    }
    this.sendReply({ id, kind: 'publish' });
  }

  /** Throws 103 unless the client may read presence / history of the channel. */
  private checkRead(resolved: ResolvedChannel, kind: 'presence' | 'history'): void {
    if (!mayRead(resolved, kind, this.subs.asker(), this.subs.isLive(resolved.channel))) throw new ProtocolException(Errors.permissionDenied);
  }

  private async presenceCmd(id: number, channel: string): Promise<void> {
    const resolved = this.node.rules.resolveForClient(channel);
    if (!resolved.options.presence) throw new ProtocolException(Errors.notAvailable);
    this.checkRead(resolved, 'presence');
    const presence = await this.node.channelPresence(channel);
    this.sendReply({ id, kind: 'presence', presence });
  }

  private async presenceStatsCmd(id: number, channel: string): Promise<void> {
    const resolved = this.node.rules.resolveForClient(channel);
    if (!resolved.options.presence) throw new ProtocolException(Errors.notAvailable);
    this.checkRead(resolved, 'presence');
    const s = await this.node.channelPresenceStats(channel);
    this.sendReply({ id, kind: 'presence_stats', numClients: s.numClients, numUsers: s.numUsers });
  }

  private async historyCmd(id: number, req: HistoryCommandParams): Promise<void> {
    const resolved = this.node.rules.resolveForClient(req.channel);
    if (!resolved.history) throw new ProtocolException(Errors.notAvailable);
    this.checkRead(resolved, 'history');
    const res = await this.node.history(req.channel, req);
    this.sendReply({ id, kind: 'history', result: { publications: res.publications, epoch: res.position.epoch, offset: res.position.offset } });
  }

  // ---- rpc ----

  private async rpcCmd(id: number, method: string, data: unknown): Promise<void> {
    const handler = this.node.handles('rpc', method);
    if (handler === undefined) throw new ProtocolException(Errors.notAvailable);
    const f = await handler.rpc(this.context(), method, data);
    this.sendReply(f.data === undefined ? { id, kind: 'rpc' } : { id, kind: 'rpc', data: toPayload(f.data) });
  }

  // ---- refresh ----

  private async refreshCmd(id: number, token: string): Promise<void> {
    if (token === '') throw new ProtocolException(Errors.badRequest);
    const claims = await checkConnectionToken(this.node.tokens, token, 'refresh');
    if (claims.user !== this.user) {
      throw new DisconnectException(Disconnects.invalidToken, { msg: 'refresh token for another user' });
    }
    if (claims.info !== undefined) this.connInfo = claims.info;
    this.applyExpiry(claims.expireAt ?? 0);
    this.sendReply({ id, kind: 'refresh', result: { client: this.id, version: this.node.version, ...expiryFields(this.expireAt) } });
  }

  /** Sets a new expiry (seconds since epoch; 0 = never); the server API's refresh uses it too. */
  applyExpiry(expireAt: number): void {
    this.expireAt = expireAt;
    this.closeDeadline = 0;
  }

  // ---- pings and expiry (driven by the node's shared ticker) ----

  /** Called by the node's ticker; sends pings and closes expired or silent connections. */
  tick(now: number): void {
    if (this.state === 'closed') return;
    if (this.state === 'connecting') {
      if (this.closeDeadline > 0 && now >= this.closeDeadline) {
        this.node.log.info({ client: this.id }, 'no connect command in time: closing as stale');
        this.close(Disconnects.stale);
      }
      return;
    }
    const cfg = this.node.config.client;
    if (this.pongDeadline > 0 && now >= this.pongDeadline) {
      this.node.log.info({ client: this.id }, 'no pong: closing connection');
      this.close(Disconnects.noPong);
      return;
    }
    if (this.nextPingAt > 0 && now >= this.nextPingAt) {
      this.write(this.codec.ping);
      this.nextPingAt = now + cfg.ping_interval;
      if (this.transport.pongs && this.pongDeadline === 0) {
        this.pongDeadline = cfg.pong_timeout > 0 ? now + cfg.pong_timeout : Number.POSITIVE_INFINITY;
      }
    }
    const nowSec = now / 1000;
    if (this.expireAt > 0 && nowSec >= this.expireAt) {
      if (this.refreshByServer && !this.refreshing && now >= this.refreshRetryAt) void this.refreshOnServer();
      if (this.closeDeadline === 0) this.closeDeadline = now + cfg.expired_close_delay;
      if (now >= this.closeDeadline) {
        this.node.log.info({ client: this.id }, 'connection expired');
        this.close(Disconnects.expired);
        return;
      }
    }
    this.subs.tick(now);
  }

  /** Asks the refresh handler to extend an expiring connection granted by the connect handler. */
  private async refreshOnServer(): Promise<void> {
    const calls = this.node.handles('refresh');
    if (calls === undefined) return;
    this.refreshing = true;
    try {
      const f = await calls.refresh(this.context());
      if (this.state !== 'connected') return;
      if (f.expired === true) {
        this.node.log.info({ client: this.id }, 'refresh handler: connection expired');
        this.close(Disconnects.expired);
        return;
      }
      if (f.info !== undefined) this.connInfo = toRawJson(f.info);
      if (f.meta !== undefined) this.meta = f.meta;
      const expireAt = expireAtSeconds(f.expireAt);
      if (expireAt > 0 && expireAt * 1000 <= Date.now()) {
        // Extended into the past: expired now (rather than asking again at every tick).
        this.node.log.info({ client: this.id }, 'refresh handler: expiry in the past, connection expired');
        this.close(Disconnects.expired);
        return;
      }
      this.applyExpiry(expireAt);
    } catch (e) {
      this.onServerRefreshFailure(e, 'refresh');
      this.refreshRetryAt = Date.now() + REFRESH_RETRY_MS;
    } finally {
      this.refreshing = false;
    }
  }

  /** A refresh handler answered with an error (retried until the close delay runs out) or a disconnect. */
  onServerRefreshFailure(e: unknown, type: 'refresh' | 'sub_refresh'): void {
    if (e instanceof DisconnectException) {
      this.node.log.info({ client: this.id, type, code: e.disconnect.code }, 'refresh handler disconnected the client');
      this.close(e.disconnect);
      return;
    }
    const code = e instanceof ProtocolException ? e.error.code : Errors.internal.code;
    this.node.log.warn({ client: this.id, type, code }, 'refresh handler failed: retrying');
  }

  private handlePong(): void {
    if (this.state !== 'connected') return this.rejectBeforeConnect('pong');
    if (this.pongDeadline === 0) {
      this.node.log.info({ client: this.id }, 'unexpected pong: closing connection');
      this.close(Disconnects.badRequest);
      return;
    }
    this.pongDeadline = 0;
  }

  // ---- closing ----

  /**
   * Closes the connection with a disconnect code (idempotent); `refusedConnect`: the error that
   * refused a unidirectional connection's connect (see {@link Transport.close}).
   */
  close(disconnect: Disconnect, refusedConnect?: ProtocolError): void {
    if (this.state === 'closed') return;
    this.metrics.serverDisconnect(disconnect.code);
    try {
      this.transport.close(disconnect, refusedConnect);
    } catch (e) {
      // Transports close without throwing; should one not, the connection is still cleaned up.
      this.node.log.error({ client: this.id, err: e }, 'closing the transport failed');
    }
    void this.cleanup();
  }

  /** Called by the transport when the connection is gone. */
  onTransportClosed(): void {
    if (this.state === 'closed') return;
    void this.cleanup();
  }

  private async cleanup(): Promise<void> {
    this.state = 'closed';
    this.errors?.flush();
    this.inbox.length = 0;
    this.node.unregister(this);
    await this.subs.dropAll();
  }
}

/** Errors caused by what the client sent (not temporary, not an application's own 400+ code). */
function isClientError(error: ProtocolError): boolean {
  return error.code < 400 && error.temporary !== true;
}
