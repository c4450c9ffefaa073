/**
 * A client connection: the protocol state machine (connect first, then commands), command dispatch,
 * subscriptions, pings and expiry. Commands of one connection run one after another.
 */
import { randomUUID } from 'node:crypto';
import type { ConnectionContext } from '../handlers/requests.js';
import { expireAtSeconds } from '../handlers/responses.js';
import {
  DisconnectException,
  Disconnects,
  Errors,
  ProtocolException,
  Unsubscribes,
  type Disconnect,
  type ProtocolError,
} from '../protocol/codes.js';
import { CommandDecodeError, decodeFrame } from '../protocol/json-decode.js';
import {
  encodeClientInfo,
  encodeCodeReason,
  encodeError,
  encodeObject,
  encodePublication,
  encodePush,
  encodeResult,
  PING,
} from '../protocol/json-encode.js';
import type {
  ClientInfo,
  Command,
  ConnectCommandParams,
  HistoryCommandParams,
  Publication,
  RawJson,
  SubscribeCommandParams,
} from '../protocol/types.js';
import { OutFrame } from '../transport/frame.js';
import type { Transport } from '../transport/types.js';
import type { ResolvedChannel } from './channel-rules.js';
import type { GyreNode } from './node.js';
import { ClientSubscription, type SubscriptionOverride } from './subscription.js';
import { toRawJson } from './raw-json.js';
import { ErrorBudget } from './error-budget.js';
import { expiryFields } from './expiry.js';
import { grantFromHandler, subscribeGrantFromHandler, type ConnectGrant, type SubscribeGrant } from './grants.js';
import { mayPublish, mayRead, maySubscribe, type Asker } from './permissions.js';
import { recoverFrom } from './recovery.js';
import { checkConnectionToken, checkSubscriptionToken } from './token-checks.js';

type State = 'connecting' | 'connected' | 'closed';

/** Max commands waiting to be processed on one connection before it is closed (3013). */
const MAX_INBOX = 1024;

const PING_FRAME = new OutFrame(PING);

/** Wait between attempts when a refresh handler fails. */
const REFRESH_RETRY_MS = 1000;

/** How a subscription is to be set up (a client subscribe, a token `channels` entry, an API subscribe). */
export interface SubscribeSpec {
  resolved: ResolvedChannel;
  serverSide: boolean;
  recover?: { epoch: string; offset: number } | undefined;
  /** The client asked for recovery and may have it (allow_recovery or history access). */
  recoverableAsked?: boolean | undefined;
  /** The client asked for positioning and may have it (allow_positioning or history access). */
  positionedAsked?: boolean | undefined;
  /** The client asked for join/leave pushes and may have them (presence access). */
  joinLeaveAsked?: boolean | undefined;
  deltaAsked?: string | undefined;
  chanInfo?: RawJson | undefined;
  /** Data for the subscribe result / push. */
  data?: RawJson | undefined;
  override?: SubscriptionOverride | undefined;
  expireAt?: number | undefined;
  /** A sub_refresh handler extends the subscription (the client is not asked to). */
  refreshByServer?: boolean | undefined;
  /**
   * The result goes into a `subscribe` push (server API subscribe), which carries only recoverable,
   * epoch, offset (the stream top), positioned and data: recovered publications follow it as
   * publication pushes, since clients take none from the push itself.
   */
  push?: boolean | undefined;
}

export class Client {
  readonly id = randomUUID();
  user = '';
  connInfo: RawJson | undefined;
  /** Seconds since epoch when the connection expires; 0 = never. */
  expireAt = 0;
  name = '';
  version = '';
  /** Connection meta (from the token or the connect handler): handed to handlers, never to clients. */
  meta: unknown = undefined;
  readonly subscriptions = new Map<string, ClientSubscription>();
  /** The connect handler granted this connection: the refresh handler (if any) extends it. */
  private refreshByServer = false;
  private refreshing = false;
  private refreshRetryAt = 0;

  private state: State = 'connecting';
  private readonly inbox: Command[] = [];
  private busy = false;
  /** Ms timestamps driven by the node's shared ticker. */
  private nextPingAt = 0;
  /**
   * When the pong to the last ping is due; 0 = no ping awaits its pong, `Infinity` = one does but
   * `pong_timeout` is off (the pong is still expected, just never late).
   */
  private pongDeadline = 0;
  private closeDeadline: number;
  /** This connection's errors: counted against client.error_limit, a few log lines per interval. */
  private readonly errors: ErrorBudget;

  constructor(
    private readonly node: GyreNode,
    readonly transport: Transport,
  ) {
    // A connection that never sends connect is dropped as stale.
    this.closeDeadline = Date.now() + node.config.client.stale_close_delay;
    this.errors = new ErrorBudget(node.log, { client: this.id }, {
      limit: node.config.client.error_limit,
      interval: node.config.client.error_limit_interval,
    });
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

  /** Handles one text frame from the transport. */
  handleFrame(text: string): void {
    if (this.state === 'closed') return;
    let entries;
    try {
      entries = decodeFrame(text);
    } catch (e) {
      const reason = e instanceof CommandDecodeError ? e.reason : String(e);
      this.node.log.info({ client: this.id, reason }, 'bad request: closing connection');
      this.close(Disconnects.badRequest);
      return;
    }
    for (const entry of entries) {
      if (entry.kind === 'pong') {
        this.handlePong();
      } else if (entry.kind === 'unknown') {
        if (this.state !== 'connected') return this.rejectBeforeConnect('unknown');
        this.sendText(encodeError(entry.id, Errors.methodNotFound));
        this.recordError('info', { id: entry.id }, 'command with no known method', true);
      } else if (entry.kind === 'invalid') {
        if (this.state !== 'connected') return this.rejectBeforeConnect('invalid');
        this.sendText(encodeError(entry.id, Errors.badRequest));
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
    if (!this.busy) void this.drain();
  }

  /** Handles a frame of the wrong kind (binary in JSON mode). */
  handleBinary(): void {
    this.node.log.info({ client: this.id }, 'binary frame on a JSON connection: closing');
    this.close(Disconnects.badRequest);
  }

  private rejectBeforeConnect(method: string): void {
    this.node.log.info({ client: this.id, method }, 'command before connect: closing connection');
    this.close(Disconnects.badRequest);
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.inbox.length > 0 && this.state !== 'closed') {
        const cmd = this.inbox.shift()!;
        await this.dispatch(cmd);
      }
    } finally {
      this.busy = false;
    }
  }

  private async dispatch(cmd: Command): Promise<void> {
    if (this.state === 'connecting' && cmd.method !== 'connect') return this.rejectBeforeConnect(cmd.method);
    try {
      switch (cmd.method) {
        case 'connect':
          return await this.connect(cmd.id, cmd.params);
        case 'subscribe':
          return await this.subscribe(cmd.id, cmd.params);
        case 'unsubscribe':
          return await this.unsubscribeCmd(cmd.id, cmd.params.channel);
        case 'publish':
          return await this.publish(cmd.id, cmd.params.channel, cmd.params.data);
        case 'presence':
          return await this.presenceCmd(cmd.id, cmd.params.channel);
        case 'presence_stats':
          return await this.presenceStatsCmd(cmd.id, cmd.params.channel);
        case 'history':
          return await this.historyCmd(cmd.id, cmd.params);
        case 'ping':
          return this.sendText(encodeResult(cmd.id, 'ping', '{}'));
        case 'send':
          this.node.log.debug({ client: this.id }, 'async message with no handler: ignored');
          return;
        case 'rpc':
          return await this.rpcCmd(cmd.id, cmd.params.method ?? '', cmd.params.data);
        case 'refresh':
          return await this.refreshCmd(cmd.id, cmd.params.token);
        case 'sub_refresh':
          return await this.subRefreshCmd(cmd.id, cmd.params.channel, cmd.params.token);
      }
    } catch (e) {
      this.fail(cmd, e);
    }
  }

  private fail(cmd: Command, e: unknown): void {
    // A log line per failed command (the exception's own detail when it has one), a few per
    // interval and connection: the error budget counts the rest.
    if (e instanceof ProtocolException) {
      this.replyError(cmd.id, e.error);
      const fields = { method: cmd.method, code: e.error.code, ...e.log?.fields };
      this.recordError(e.log !== undefined ? 'info' : 'debug', fields, e.log?.msg ?? 'command error', isClientError(e.error));
    } else if (e instanceof DisconnectException) {
      const fields = { client: this.id, method: cmd.method, code: e.disconnect.code, ...e.log?.fields };
      this.node.log.info(fields, e.log?.msg ?? e.disconnect.reason);
      this.close(e.disconnect);
    } else {
      this.replyError(cmd.id, Errors.internal);
      this.recordError('error', { method: cmd.method, err: e }, 'command failed', false);
    }
  }

  /** Logs an error through the budget; closes with 3509 when the client made too many. */
  private recordError(level: 'debug' | 'info' | 'warn' | 'error', fields: Record<string, unknown>, msg: string, counts: boolean): void {
    if (this.errors.record(level, fields, msg, counts)) this.close(Disconnects.tooManyErrors);
  }

  private replyError(id: number, error: ProtocolError): void {
    if (id > 0) this.sendText(encodeError(id, error));
  }

  /** Queues one encoded message on the connection. */
  sendText(text: string): void {
    if (this.state !== 'closed') this.transport.send(new OutFrame(text));
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

    const result: Record<string, unknown> = { client: this.id, version: this.node.version };
    // With server-side refresh (a refresh handler) the client is not asked to refresh.
    if (!this.refreshByServer) Object.assign(result, expiryFields(this.expireAt, now));
    if (claims?.data !== undefined) result['data'] = claims.data;
    const subs: Array<[string, string]> = [];
    const started: SubscriptionSetup[] = [];
    for (const [channel, spec] of this.serverSideChannels(claims)) {
      try {
        const resolved = this.node.rules.resolve(channel);
        const recover = req.subs?.[channel];
        const { result: subResult, ...setup } = await this.setUpSubscription({
          ...spec,
          resolved,
          serverSide: true,
          recover:
            recover?.recover === true ? { epoch: recover.epoch ?? '', offset: recover.offset ?? 0 } : undefined,
        });
        subs.push([channel, subResult]);
        started.push(setup);
      } catch (e) {
        this.node.log.warn({ client: this.id, channel, err: e }, 'server-side subscription failed');
      }
    }
    if (subs.length > 0) result['subs'] = '{' + subs.map(([ch, r]) => `${JSON.stringify(ch)}:${r}`).join(',') + '}';
    if (ping > 0) {
      result['ping'] = Math.round(ping / 1000);
      if (this.transport.pongs) result['pong'] = true;
    }
    result['node'] = this.node.id;
    this.sendText(encodeResult(id, 'connect', encodeObject(result, RAW_CONNECT)));
    for (const setup of started) this.goLive(setup);
  }

  /** The token's `channels` and `subs`, and the personal channel, each with its token-given options. */
  private serverSideChannels(claims: ConnectGrant | undefined): Map<string, Partial<SubscribeSpec>> {
    const out = new Map<string, Partial<SubscribeSpec>>();
    const subs = Object.entries(claims?.subs ?? {});
    // As in Centrifugo, `channels` is ignored when `subs` is given.
    if (subs.length === 0) for (const ch of claims?.channels ?? []) out.set(ch, {});
    for (const [ch, s] of subs) out.set(ch, { chanInfo: s.info, data: s.data, override: s.override });
    const personal = this.node.config.client.subscribe_to_user_personal_channel;
    if (personal.enabled && this.user !== '') {
      out.set(this.node.rules.personalChannel(personal.personal_channel_namespace, this.user), {});
    }
    return out;
  }

  // ---- subscribe ----

  private async subscribe(id: number, req: SubscribeCommandParams): Promise<void> {
    const cfg = this.node.config.client;
    const resolved = this.node.rules.resolveForClient(req.channel);
    if (this.subscriptions.has(req.channel)) throw new ProtocolException(Errors.alreadySubscribed);
    if (cfg.channel_limit > 0 && this.subscriptions.size >= cfg.channel_limit) {
      throw new ProtocolException(Errors.limitExceeded);
    }
    const grant = await this.authorizeSubscribe(resolved, req.token, req.data);
    if (this.state !== 'connected' || this.subscriptions.has(req.channel)) return;
    const opts = resolved.options;
    const who = this.asker();
    const { result, ...setup } = await this.setUpSubscription({
      resolved,
      serverSide: false,
      recover: req.recover === true ? { epoch: req.epoch ?? '', offset: req.offset ?? 0 } : undefined,
      recoverableAsked: req.recoverable === true && (opts.allow_recovery || mayRead(resolved, 'history', who, true)),
      positionedAsked: req.positioned === true && (opts.allow_positioning || mayRead(resolved, 'history', who, true)),
      joinLeaveAsked: req.join_leave === true && mayRead(resolved, 'presence', who, true),
      deltaAsked: req.delta,
      chanInfo: grant.info,
      data: grant.data,
      override: grant.override,
      expireAt: grant.expireAt,
      refreshByServer: grant.refreshByServer,
    });
    this.sendText(encodeResult(id, 'subscribe', result));
    this.goLive(setup);
  }

  /** Decides whether this client may subscribe; throws 103 (or 109 for an expired token). */
  /**
   * Decides whether this client may subscribe, in Centrifugo's order: a token decides alone; a
   * private channel needs one; a user-limited channel admits its users; then the subscribe handler;
   * then the channel's permission flags. Throws 103 (or 109 for an expired token).
   */
  private async authorizeSubscribe(resolved: ResolvedChannel, token: string | undefined, data: unknown): Promise<SubscribeGrant> {
    if (token !== undefined && token !== '') {
      const claims = await checkSubscriptionToken(this.node.tokens, token, resolved.channel, this.user, this.id);
      return { info: claims.info, data: claims.data, override: claims.override, expireAt: claims.expireAt };
    }
    const rules = this.node.rules;
    if (resolved.isPrivate) throw new ProtocolException(Errors.permissionDenied);
    if (rules.isUserLimited(resolved) && rules.userAllowed(resolved, this.user)) return {};
    const handler = this.node.handles('subscribe', resolved);
    if (handler !== undefined) {
      const f = await handler.subscribe(this.context(), resolved.channel, '', data);
      const expireAt = expireAtSeconds(f.expireAt);
      if (expireAt > 0 && expireAt * 1000 <= Date.now()) {
        throw new ProtocolException(Errors.expired, { msg: 'subscribe service granted an expiry in the past', fields: { channel: resolved.channel } });
      }
      return subscribeGrantFromHandler(f, expireAt, this.node.handles('sub_refresh', resolved) !== undefined);
    }
    if (!maySubscribe(rules, resolved, this.asker())) throw new ProtocolException(Errors.permissionDenied);
    return {};
  }

  /** This connection as handlers see it. */
  context(): ConnectionContext {
    const t = this.transport;
    return { client: this.id, transport: t.name, protocol: t.protocol, encoding: 'json', headers: t.headers, user: this.user, meta: this.meta };
  }

  /** This client as the permission rules see it. */
  private asker(): Asker {
    return { user: this.user, insecure: this.node.config.client.insecure };
  }

  /**
   * Registers a subscription in the hub (publications held back while it is set up), adds presence,
   * recovers or positions it, and returns the encoded SubscribeResult. Call {@link goLive} after the
   * result is sent.
   */
  async setUpSubscription(spec: SubscribeSpec): Promise<SubscriptionSetup & { result: string }> {
    const { resolved } = spec;
    const opts = resolved.options;
    const ov = spec.override ?? {};
    const presence = ov.presence ?? opts.presence;
    const joinLeave = ov.join_leave ?? opts.join_leave;
    const pushJoinLeave = joinLeave && ((ov.force_push_join_leave ?? opts.force_push_join_leave) || spec.joinLeaveAsked === true);
    const recoverable = resolved.history && ((ov.force_recovery ?? opts.force_recovery) || spec.recoverableAsked === true);
    const positioned =
      resolved.history && (recoverable || (ov.force_positioning ?? opts.force_positioning) || spec.positionedAsked === true);
    const delta = spec.deltaAsked === 'fossil' && opts.allowed_delta_types.includes('fossil');
    const sub = new ClientSubscription(
      this.transport,
      this.id,
      resolved,
      spec.chanInfo,
      presence,
      joinLeave,
      pushJoinLeave,
      recoverable,
      positioned,
      delta,
      spec.serverSide,
    );
    sub.expireAt = spec.expireAt ?? 0;
    sub.refreshByServer = spec.refreshByServer === true;
    const channel = resolved.channel;
    this.subscriptions.set(channel, sub);
    try {
      await this.node.addSubscription(channel, sub);
      if (presence) await this.node.presence.addPresence(channel, this.id, this.info(sub.chanInfo));
      const push = spec.push === true;
      let skipUpTo = 0;
      let replay: Publication[] = [];
      const result: Record<string, unknown> = push || sub.refreshByServer ? {} : { ...expiryFields(sub.expireAt) };
      if (recoverable) result['recoverable'] = true;
      if (positioned) result['positioned'] = true;
      if (positioned) {
        const recovery = await recoverFrom(
          this.node.broker,
          resolved,
          this.node.rules.metaTtl(resolved),
          recoverable ? spec.recover : undefined,
          this.node.config.client.recovery_max_publication_limit,
        );
        result['epoch'] = recovery.epoch;
        result['offset'] = push ? recovery.lastOffset : recovery.offset;
        if (recovery.publications.length > 0 && !push) {
          result['publications'] = '[' + recovery.publications.map((p) => this.encodeForSub(sub, p)).join(',') + ']';
        }
        if (spec.recover !== undefined && recoverable && !push) {
          result['was_recovering'] = true;
          // Omitted when false, like every empty protobuf field on the wire.
          if (recovery.recovered) result['recovered'] = true;
        }
        skipUpTo = recovery.lastOffset;
        // A push cannot carry publications: goLive sends them first, in order.
        if (push) replay = recovery.publications;
      }
      if (spec.data !== undefined) result['data'] = spec.data;
      if (delta && !push) result['delta'] = true;
      return { sub, replay, skipUpTo, result: encodeObject(result, RAW_SUBSCRIBE) };
    } catch (e) {
      await this.dropSubscription(sub, false);
      throw e;
    }
  }

  /** Encodes a publication for one subscription's result (delta mode carries data as a JSON string). */
  private encodeForSub(sub: ClientSubscription, pub: Publication): string {
    return sub.delta ? encodePublication(pub, JSON.stringify(pub.data)) : encodePublication(pub);
  }

  /** Sends publications held back during set-up, makes the subscription live, and publishes join. */
  goLive({ sub, replay, skipUpTo }: SubscriptionSetup): void {
    const pending = sub.pending ?? [];
    sub.pending = null;
    for (const pub of replay) this.sendText(encodePush(sub.channel, 'pub', this.encodeForSub(sub, pub)));
    // Held-back publications the result (or replay) already covers are duplicates: drop them,
    // whenever they arrived (an engine may deliver a live publication before the history read).
    for (const pub of pending) {
      if (pub.offset > 0 && pub.offset <= skipUpTo) continue;
      this.sendText(encodePush(sub.channel, 'pub', this.encodeForSub(sub, pub)));
    }
    if (sub.joinLeave) {
      void this.node.broker.publishJoin(sub.channel, this.info(sub.chanInfo)).catch((e: unknown) => {
        this.node.log.warn({ client: this.id, channel: sub.channel, err: e }, 'publishing join failed');
      });
    }
  }

  private async unsubscribeCmd(id: number, channel: string): Promise<void> {
    const sub = this.subscriptions.get(channel);
    if (sub !== undefined) await this.dropSubscription(sub, true);
    this.sendText(encodeResult(id, 'unsubscribe', '{}'));
  }

  /** Removes a subscription from the hub and presence; publishes leave when it was live. */
  async dropSubscription(sub: ClientSubscription, announce: boolean): Promise<void> {
    if (this.subscriptions.get(sub.channel) !== sub) return;
    this.subscriptions.delete(sub.channel);
    const channel = sub.channel;
    try {
      await this.node.removeSubscription(channel, this.id);
      if (sub.presence) await this.node.presence.removePresence(channel, this.id, this.user);
      if (announce && sub.joinLeave) await this.node.broker.publishLeave(channel, this.info(sub.chanInfo));
    } catch (e) {
      this.node.log.warn({ client: this.id, channel, err: e }, 'unsubscribe cleanup failed');
    }
  }

  /** Ends a subscription from the server side, telling the client with an `unsubscribe` push. */
  async serverUnsubscribe(channel: string, reason: Disconnect = Unsubscribes.server): Promise<void> {
    const sub = this.subscriptions.get(channel);
    if (sub === undefined) return;
    await this.dropSubscription(sub, true);
    this.sendText(encodePush(channel, 'unsubscribe', encodeCodeReason(reason)));
  }

  /** Subscribes the client from the server side (server API), with a `subscribe` push. */
  async serverSubscribe(spec: SubscribeSpec): Promise<void> {
    if (this.state !== 'connected' || this.subscriptions.has(spec.resolved.channel)) return;
    const { result, ...setup } = await this.setUpSubscription({ ...spec, push: true });
    this.sendText(encodePush(spec.resolved.channel, 'subscribe', result));
    this.goLive(setup);
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
      await this.node.publish(channel, f.data !== undefined ? toRawJson(f.data) : toRawJson(data), {
        info,
        ...(f.skipHistory !== undefined && { skipHistory: f.skipHistory }),
        ...(f.tags !== undefined && { tags: f.tags }),
      });
    } else {
      if (!mayPublish(resolved, this.asker(), sub !== undefined)) throw new ProtocolException(Errors.permissionDenied);
      await this.node.publish(channel, toRawJson(data), { info });
    }
    this.sendText(encodeResult(id, 'publish', '{}'));
  }

  /** Throws 103 unless the client may read presence / history of the channel. */
  private checkRead(resolved: ResolvedChannel, kind: 'presence' | 'history'): void {
    const subscribed = this.subscriptions.get(resolved.channel)?.pending === null;
    if (!mayRead(resolved, kind, this.asker(), subscribed)) throw new ProtocolException(Errors.permissionDenied);
  }

  private async presenceCmd(id: number, channel: string): Promise<void> {
    const resolved = this.node.rules.resolveForClient(channel);
    if (!resolved.options.presence) throw new ProtocolException(Errors.notAvailable);
    this.checkRead(resolved, 'presence');
    const presence = await this.node.presence.presence(channel);
    const entries: string[] = [];
    for (const [clientId, info] of presence) entries.push(`${JSON.stringify(clientId)}:${encodeClientInfo(info)}`);
    this.sendText(encodeResult(id, 'presence', `{"presence":{${entries.join(',')}}}`));
  }

  private async presenceStatsCmd(id: number, channel: string): Promise<void> {
    const resolved = this.node.rules.resolveForClient(channel);
    if (!resolved.options.presence) throw new ProtocolException(Errors.notAvailable);
    this.checkRead(resolved, 'presence');
    const s = await this.node.presence.presenceStats(channel);
    this.sendText(encodeResult(id, 'presence_stats', `{"num_clients":${s.numClients},"num_users":${s.numUsers}}`));
  }

  private async historyCmd(id: number, req: HistoryCommandParams): Promise<void> {
    const resolved = this.node.rules.resolveForClient(req.channel);
    if (!resolved.history) throw new ProtocolException(Errors.notAvailable);
    this.checkRead(resolved, 'history');
    const res = await this.node.history(req.channel, req);
    const pubs = res.publications.map((p) => encodePublication(p)).join(',');
    this.sendText(
      encodeResult(id, 'history', `{"publications":[${pubs}],"epoch":${JSON.stringify(res.position.epoch)},"offset":${res.position.offset}}`),
    );
  }

  // ---- rpc ----

  private async rpcCmd(id: number, method: string, data: unknown): Promise<void> {
    const handler = this.node.handles('rpc', method);
    if (handler === undefined) throw new ProtocolException(Errors.notAvailable);
    const f = await handler.rpc(this.context(), method, data);
    this.sendText(encodeResult(id, 'rpc', f.data === undefined ? '{}' : `{"data":${toRawJson(f.data)}}`));
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
    const result = { client: this.id, version: this.node.version, ...expiryFields(this.expireAt) };
    this.sendText(encodeResult(id, 'refresh', encodeObject(result)));
  }

  /** Sets a new expiry (seconds since epoch; 0 = never); the server API's refresh uses it too. */
  applyExpiry(expireAt: number): void {
    this.expireAt = expireAt;
    this.closeDeadline = 0;
  }

  private async subRefreshCmd(id: number, channel: string, token: string): Promise<void> {
    const sub = this.subscriptions.get(channel);
    if (sub === undefined) throw new ProtocolException(Errors.permissionDenied);
    if (token === '') throw new ProtocolException(Errors.badRequest);
    const claims = await checkSubscriptionToken(this.node.tokens, token, channel, this.user, this.id);
    sub.expireAt = claims.expireAt ?? 0;
    this.sendText(encodeResult(id, 'sub_refresh', encodeObject(expiryFields(sub.expireAt))));
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
      this.transport.send(PING_FRAME);
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
    for (const sub of this.subscriptions.values()) {
      if (sub.expireAt <= 0 || nowSec < sub.expireAt) continue;
      if (sub.refreshByServer && !sub.refreshing && now >= sub.refreshRetryAt) void this.subRefreshOnServer(sub);
      if (nowSec >= sub.expireAt + cfg.expired_sub_close_delay / 1000) {
        this.node.log.info({ client: this.id, channel: sub.channel }, 'subscription expired');
        void this.serverUnsubscribe(sub.channel, Unsubscribes.expired);
      }
    }
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

  /** Asks the sub_refresh handler to extend an expiring subscription granted by the subscribe handler. */
  private async subRefreshOnServer(sub: ClientSubscription): Promise<void> {
    const calls = this.node.handles('sub_refresh', sub.resolved);
    if (calls === undefined) return;
    sub.refreshing = true;
    try {
      const f = await calls.subRefresh(this.context(), sub.channel);
      if (this.subscriptions.get(sub.channel) !== sub) return;
      if (f.expired === true) {
        this.node.log.info({ client: this.id, channel: sub.channel }, 'sub_refresh handler: subscription expired');
        await this.serverUnsubscribe(sub.channel, Unsubscribes.expired);
        return;
      }
      sub.expireAt = expireAtSeconds(f.expireAt);
      if (sub.expireAt > 0 && sub.expireAt * 1000 <= Date.now()) {
        this.node.log.info({ client: this.id, channel: sub.channel }, 'sub_refresh handler: expiry in the past, subscription expired');
        await this.serverUnsubscribe(sub.channel, Unsubscribes.expired);
        return;
      }
      if (f.info !== undefined) {
        sub.chanInfo = toRawJson(f.info);
        if (sub.presence) await this.node.presence.addPresence(sub.channel, this.id, this.info(sub.chanInfo));
      }
    } catch (e) {
      this.onServerRefreshFailure(e, 'sub_refresh');
      sub.refreshRetryAt = Date.now() + REFRESH_RETRY_MS;
    } finally {
      sub.refreshing = false;
    }
  }

  /** A refresh handler answered with an error (retried until the close delay runs out) or a disconnect. */
  private onServerRefreshFailure(e: unknown, type: 'refresh' | 'sub_refresh'): void {
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

  /** Closes the connection with a disconnect code (idempotent). */
  close(disconnect: Disconnect): void {
    if (this.state === 'closed') return;
    try {
      this.transport.close(disconnect);
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
    this.errors.flush();
    this.inbox.length = 0;
    this.node.unregister(this);
    for (const sub of [...this.subscriptions.values()]) await this.dropSubscription(sub, sub.pending === null);
  }
}

/** Errors caused by what the client sent (not temporary, not an application's own 400+ code). */
function isClientError(error: ProtocolError): boolean {
  return error.code < 400 && error.temporary !== true;
}

const RAW_CONNECT: ReadonlySet<string> = new Set(['subs', 'data']);
const RAW_SUBSCRIBE: ReadonlySet<string> = new Set(['publications', 'data']);

/** A subscription set up but not live yet, and what {@link Client.goLive} needs to finish it. */
export interface SubscriptionSetup {
  sub: ClientSubscription;
  /** Recovered publications to send before going live (server API subscribe). */
  replay: Publication[];
  /** Held-back publications at or below this offset are already covered. */
  skipUpTo: number;
}
