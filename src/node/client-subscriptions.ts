/**
 * The subscription lifecycle of one connection: authorize, set up (hub, presence, recovery or
 * positioning), go live, drop; server-side subscribe and unsubscribe; subscription refresh by token
 * or by the sub_refresh handler; expiry. The connection ({@link SubscriptionOwner}) keeps the
 * protocol state machine and hands channel commands here.
 */
import type { ConnectionContext } from '../handlers/requests.js';
import { expireAtSeconds } from '../handlers/responses.js';
import { DisconnectException, Disconnects, Errors, ProtocolException, Unsubscribes, type Disconnect } from '../protocol/codes.js';
import type { ProtocolCodec } from '../protocol/codec.js';
import type { PublicationForm, PushMsg, SubRefreshResultMsg, SubscribeResultMsg } from '../protocol/messages.js';
import type { ClientInfo, Publication, RawJson, SubscribeCommandParams } from '../protocol/types.js';
import type { ResolvedChannel } from './channel-rules.js';
import { expiryFields } from './expiry.js';
import { subscribeGrantFromHandler, type ConnectGrant, type SubscribeGrant } from './grants.js';
import type { GyreNode } from './node.js';
import { mayRead, maySubscribe, type Asker } from './permissions.js';
import { toRawJson } from './raw-json.js';
import { ClientSubscription, type SubscribeSpec } from './subscription.js';
import { checkSubscriptionToken } from './token-checks.js';
import type { Transport } from './transport.js';
import type { TransportCounters } from '../metrics/metrics.js';

/** Wait between attempts when a sub_refresh handler fails. */
export const REFRESH_RETRY_MS = 1000;

/** A subscription set up but not live yet, and what {@link ClientSubscriptions.goLive} needs to finish it. */
export interface SubscriptionSetup {
  sub: ClientSubscription;
  /** Recovered publications to send before going live (server API subscribe). */
  replay: Publication[];
  /** Held-back publications at or below this offset are already covered. */
  skipUpTo: number;
}

/** The server-side subscriptions made at connect: their results, and what makes them live. */
export interface ConnectSubscriptions {
  /** Channel → SubscribeResult, for the connect result's `subs`. */
  results: Array<[string, SubscribeResultMsg]>;
  /** To pass to {@link ClientSubscriptions.goLive} once the connect result is sent. */
  started: SubscriptionSetup[];
}

/** What the subscription lifecycle needs from its connection. */
export interface SubscriptionOwner {
  readonly id: string;
  readonly user: string;
  readonly connected: boolean;
  readonly transport: Transport;
  readonly codec: ProtocolCodec;
  /** The connection's message counters (the metrics). */
  readonly counters: TransportCounters;
  /** The connection's `ClientInfo` with a subscription's channel info. */
  info(chanInfo?: RawJson): ClientInfo;
  /** The connection as handlers see it. */
  context(): ConnectionContext;
  /** Queues a push on the connection. */
  sendPush(msg: PushMsg): void;
  /** A server-side refresh failed: retried later, or the connection closed for a disconnect answer. */
  onServerRefreshFailure(e: unknown, type: 'refresh' | 'sub_refresh'): void;
}

export class ClientSubscriptions {
  /** The connection's subscriptions by channel. */
  readonly byChannel = new Map<string, ClientSubscription>();
  /** Whether a subscription of this connection has ever had an expiry (only then does `tick` look). */
  private mayExpire = false;

  constructor(
    private readonly node: GyreNode,
    private readonly owner: SubscriptionOwner,
  ) {}

  get size(): number {
    return this.byChannel.size;
  }

  /** True when the connection is subscribed to `channel` and the subscription is live. */
  isLive(channel: string): boolean {
    return this.byChannel.get(channel)?.pending === null;
  }

  /** The connection as the permission rules see it. */
  asker(): Asker {
    return { user: this.owner.user, insecure: this.node.config.client.insecure };
  }

  // ---- client commands ----

  /** A client's subscribe command: checks, authorization, set-up, the result, then live. */
  async subscribe(id: number, req: SubscribeCommandParams, reply: (id: number, result: SubscribeResultMsg) => void): Promise<void> {
    const cfg = this.node.config.client;
    const resolved = this.node.rules.resolveForClient(req.channel);
    if (this.byChannel.has(req.channel)) throw new ProtocolException(Errors.alreadySubscribed);
    if (cfg.channel_limit > 0 && this.byChannel.size >= cfg.channel_limit) {
      throw new ProtocolException(Errors.limitExceeded);
    }
    const grant = await this.authorize(resolved, req.token, req.data);
    if (!this.owner.connected) return;
    // Subscribed meanwhile: by the server, or by a concurrent subscribe (client.concurrency).
    if (this.byChannel.has(req.channel)) throw new ProtocolException(Errors.alreadySubscribed);
    const opts = resolved.options;
    const who = this.asker();
    const { result, ...setup } = await this.setUp({
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
    reply(id, result);
    this.goLive(setup);
  }

  /** A client's unsubscribe command (nothing to do when not subscribed). */
  async unsubscribe(channel: string): Promise<void> {
    const sub = this.byChannel.get(channel);
    if (sub !== undefined) await this.drop(sub, true);
  }

  /** A client's sub_refresh command: a new subscription token; returns the result. */
  async refreshWithToken(channel: string, token: string): Promise<SubRefreshResultMsg> {
    const sub = this.byChannel.get(channel);
    if (sub === undefined) throw new ProtocolException(Errors.permissionDenied);
    if (token === '') throw new ProtocolException(Errors.badRequest);
    const claims = await checkSubscriptionToken(this.node.tokens, token, channel, this.owner.user, this.owner.id);
    sub.expireAt = claims.expireAt ?? 0;
    this.noteExpiry(sub);
    return expiryFields(sub.expireAt);
  }

  /**
   * Decides whether this client may subscribe, in Centrifugo's order: a token decides alone; a
   * private channel needs one; a user-limited channel admits its users; then the subscribe handler;
   * then the channel's permission flags. Throws 103 (or 109 for an expired token).
   */
  async authorize(resolved: ResolvedChannel, token: string | undefined, data: unknown): Promise<SubscribeGrant> {
    if (token !== undefined && token !== '') {
      const claims = await checkSubscriptionToken(this.node.tokens, token, resolved.channel, this.owner.user, this.owner.id);
      return { info: claims.info, data: claims.data, override: claims.override, expireAt: claims.expireAt };
    }
    const rules = this.node.rules;
    if (resolved.isPrivate) throw new ProtocolException(Errors.permissionDenied);
    if (rules.isUserLimited(resolved) && rules.userAllowed(resolved, this.owner.user)) return {};
    const handler = this.node.handles('subscribe', resolved);
    if (handler !== undefined) {
      const f = await handler.subscribe(this.owner.context(), resolved.channel, '', data);
      const expireAt = expireAtSeconds(f.expireAt);
      if (expireAt > 0 && expireAt * 1000 <= Date.now()) {
        throw new ProtocolException(Errors.expired, { msg: 'subscribe service granted an expiry in the past', fields: { channel: resolved.channel } });
      }
      return subscribeGrantFromHandler(f, expireAt, this.node.handles('sub_refresh', resolved) !== undefined);
    }
    if (!maySubscribe(rules, resolved, this.asker())) throw new ProtocolException(Errors.permissionDenied);
    return {};
  }

  // ---- server-side subscriptions ----

  /**
   * Sets up the server-side subscriptions of a connection being connected (the grant's `channels`
   * or `subs`, and the personal channel), recovering those the client asks to (`recoverable`). A
   * subscription that fails is logged and left out. Call {@link goLive} for each once the connect
   * result is sent.
   */
  async atConnect(
    grant: ConnectGrant | undefined,
    recovering: Readonly<Record<string, { recover?: boolean; epoch?: string; offset?: number }>> | undefined,
  ): Promise<ConnectSubscriptions> {
    const out: ConnectSubscriptions = { results: [], started: [] };
    for (const [channel, spec] of this.serverSideChannels(grant)) {
      if (!this.owner.connected) break;
      try {
        const resolved = this.node.rules.resolve(channel);
        const recover = recovering?.[channel];
        const { result, ...setup } = await this.setUp({
          ...spec,
          resolved,
          serverSide: true,
          recover: recover?.recover === true ? { epoch: recover.epoch ?? '', offset: recover.offset ?? 0 } : undefined,
        });
        out.results.push([channel, result]);
        out.started.push(setup);
      } catch (e) {
        if (e instanceof ClosedDuringSetUp) break;
        this.node.log.warn({ client: this.owner.id, channel, err: e }, 'server-side subscription failed');
      }
    }
    return out;
  }

  /** The grant's `channels` and `subs`, and the personal channel, each with its grant-given options. */
  private serverSideChannels(grant: ConnectGrant | undefined): Map<string, Partial<SubscribeSpec>> {
    const out = new Map<string, Partial<SubscribeSpec>>();
    const subs = Object.entries(grant?.subs ?? {});
    // As in Centrifugo, `channels` is ignored when `subs` is given.
    if (subs.length === 0) for (const ch of grant?.channels ?? []) out.set(ch, {});
    for (const [ch, s] of subs) out.set(ch, { chanInfo: s.info, data: s.data, override: s.override });
    const personal = this.node.config.client.subscribe_to_user_personal_channel;
    if (personal.enabled && this.owner.user !== '') {
      out.set(this.node.rules.personalChannel(personal.personal_channel_namespace, this.owner.user), {});
    }
    return out;
  }

  /** Subscribes the client from the server side (server API), with a `subscribe` push. */
  async serverSubscribe(spec: SubscribeSpec): Promise<void> {
    if (!this.owner.connected || this.byChannel.has(spec.resolved.channel)) return;
    let set: Awaited<ReturnType<ClientSubscriptions['setUp']>>;
    try {
      set = await this.setUp({ ...spec, push: true });
    } catch (e) {
      if (e instanceof ClosedDuringSetUp) return;
      throw e;
    }
    const { result, ...setup } = set;
    const { recoverable, epoch, offset, positioned, data } = result;
    this.owner.sendPush({ kind: 'subscribe', channel: spec.resolved.channel, result: { recoverable, epoch, offset, positioned, data } });
    this.goLive(setup);
  }

  /** Ends a subscription from the server side, telling the client with an `unsubscribe` push. */
  async serverUnsubscribe(channel: string, reason: Disconnect = Unsubscribes.server): Promise<void> {
    const sub = this.byChannel.get(channel);
    if (sub === undefined) return;
    await this.drop(sub, true);
    this.node.metrics.serverUnsubscribe(reason.code);
    this.owner.sendPush({ kind: 'unsubscribe', channel, reason });
  }

  // ---- set up, live, drop ----

  /**
   * Registers a subscription in the hub (publications held back while it is set up), adds presence,
   * recovers or positions it, and returns the SubscribeResult. Call {@link goLive} after the
   * result is sent.
   */
  async setUp(spec: SubscribeSpec): Promise<SubscriptionSetup & { result: SubscribeResultMsg }> {
    const { resolved } = spec;
    const opts = resolved.options;
    const ov = spec.override ?? {};
    const joinLeave = ov.join_leave ?? opts.join_leave;
    const recoverable = resolved.history && ((ov.force_recovery ?? opts.force_recovery) || spec.recoverableAsked === true);
    const sub = new ClientSubscription({
      transport: this.owner.transport,
      counters: this.owner.counters,
      codec: this.owner.codec,
      clientId: this.owner.id,
      resolved,
      chanInfo: spec.chanInfo,
      presence: ov.presence ?? opts.presence,
      joinLeave,
      pushJoinLeave: joinLeave && ((ov.force_push_join_leave ?? opts.force_push_join_leave) || spec.joinLeaveAsked === true),
      recoverable,
      positioned: resolved.history && (recoverable || (ov.force_positioning ?? opts.force_positioning) || spec.positionedAsked === true),
      delta: spec.deltaAsked === 'fossil' && opts.allowed_delta_types.includes('fossil'),
      serverSide: spec.serverSide,
    });
    sub.expireAt = spec.expireAt ?? 0;
    this.noteExpiry(sub);
    sub.refreshByServer = spec.refreshByServer === true;
    const channel = resolved.channel;
    this.byChannel.set(channel, sub);
    // The connection may close while set-up waits (its cleanup drops what is there by then): check
    // after every wait, and take back what was added after the cleanup.
    const stillWanted = (): void => {
      if (!this.owner.connected) throw new ClosedDuringSetUp();
    };
    try {
      await this.node.addSubscription(channel, sub);
      stillWanted();
      if (sub.presence) {
        await this.node.addPresence(channel, this.owner.id, this.owner.info(sub.chanInfo));
        stillWanted();
      }
      const push = spec.push === true;
      let skipUpTo = 0;
      let replay: Publication[] = [];
      const result: SubscribeResultMsg = push || sub.refreshByServer ? {} : { ...expiryFields(sub.expireAt) };
      if (sub.recoverable) result.recoverable = true;
      if (sub.positioned) {
        result.positioned = true;
        const recovery = await this.node.recover(resolved, sub.recoverable ? spec.recover : undefined);
        stillWanted();
        result.epoch = recovery.epoch;
        result.offset = push ? recovery.lastOffset : recovery.offset;
        if (recovery.publications.length > 0 && !push) result.publications = recovery.publications;
        if (spec.recover !== undefined && sub.recoverable && !push) {
          result.was_recovering = true;
          // Omitted when false, like every empty protobuf field on the wire.
          if (recovery.recovered) result.recovered = true;
          this.node.metrics.recover(recovery.recovered);
        }
        skipUpTo = recovery.lastOffset;
        // A push cannot carry publications: goLive sends them first, in order.
        if (push) replay = recovery.publications;
      }
      if (spec.data !== undefined) result.data = spec.data;
      if (sub.delta && !push) result.delta = true;
      return { sub, replay, skipUpTo, result };
    } catch (e) {
      if (this.byChannel.get(channel) === sub) await this.drop(sub, false);
      else if (!this.owner.connected) await this.takeBack(sub);
      throw e;
    }
  }

  /** Removes from the hub and presence a subscription whose connection closed during its set-up. */
  private async takeBack(sub: ClientSubscription): Promise<void> {
    try {
      await this.node.removeSubscription(sub.channel, this.owner.id);
      if (sub.presence) await this.node.removePresence(sub.channel, this.owner.id, this.owner.user);
    } catch (e) {
      this.node.log.warn({ client: this.owner.id, channel: sub.channel, err: e }, 'unsubscribe cleanup failed');
    }
  }

  /** Sends publications held back during set-up, makes the subscription live, and publishes join. */
  goLive({ sub, replay, skipUpTo }: SubscriptionSetup): void {
    const pending = sub.pending ?? [];
    sub.pending = null;
    const form: PublicationForm = sub.delta ? FULL : PLAIN;
    for (const pub of replay) this.owner.sendPush({ kind: 'pub', channel: sub.channel, pub, form });
    // Held-back publications the result (or replay) already covers are duplicates: drop them,
    // whenever they arrived (an engine may deliver a live publication before the history read).
    for (const pub of pending) {
      if (pub.offset > 0 && pub.offset <= skipUpTo) continue;
      this.owner.sendPush({ kind: 'pub', channel: sub.channel, pub, form });
    }
    if (sub.joinLeave) {
      void this.node.publishJoin(sub.channel, this.owner.info(sub.chanInfo)).catch((e: unknown) => {
        this.node.log.warn({ client: this.owner.id, channel: sub.channel, err: e }, 'publishing join failed');
      });
    }
  }

  /** Removes a subscription from the hub and presence; publishes leave when `announce`. */
  async drop(sub: ClientSubscription, announce: boolean): Promise<void> {
    if (this.byChannel.get(sub.channel) !== sub) return;
    this.byChannel.delete(sub.channel);
    const channel = sub.channel;
    try {
      await this.node.removeSubscription(channel, this.owner.id);
      if (sub.presence) await this.node.removePresence(channel, this.owner.id, this.owner.user);
      if (announce && sub.joinLeave) await this.node.publishLeave(channel, this.owner.info(sub.chanInfo));
    } catch (e) {
      this.node.log.warn({ client: this.owner.id, channel, err: e }, 'unsubscribe cleanup failed');
    }
  }

  /** Drops every subscription of a closed connection (leave for the live ones). */
  async dropAll(): Promise<void> {
    for (const sub of [...this.byChannel.values()]) await this.drop(sub, sub.pending === null);
  }

  // ---- expiry ----

  /** Remembers that a subscription has an expiry, so that `tick` looks from now on. */
  private noteExpiry(sub: ClientSubscription): void {
    if (sub.expireAt > 0) this.mayExpire = true;
  }

  /** Called by the connection's tick: refreshes (sub_refresh handler) or ends expired subscriptions. */
  tick(now: number): void {
    // Most connections never hold an expiring subscription: nothing to look at once a second.
    if (!this.mayExpire) return;
    const nowSec = now / 1000;
    const closeDelay = this.node.config.client.expired_sub_close_delay / 1000;
    for (const sub of this.byChannel.values()) {
      if (sub.expireAt <= 0 || nowSec < sub.expireAt) continue;
      if (sub.refreshByServer && !sub.refreshing && now >= sub.refreshRetryAt) void this.refreshOnServer(sub);
      if (nowSec >= sub.expireAt + closeDelay) {
        this.node.log.info({ client: this.owner.id, channel: sub.channel }, 'subscription expired');
        void this.serverUnsubscribe(sub.channel, Unsubscribes.expired);
      }
    }
  }

  /** Asks the sub_refresh handler to extend an expiring subscription granted by the subscribe handler. */
  private async refreshOnServer(sub: ClientSubscription): Promise<void> {
    const calls = this.node.handles('sub_refresh', sub.resolved);
    if (calls === undefined) return;
    sub.refreshing = true;
    try {
      const f = await calls.subRefresh(this.owner.context(), sub.channel);
      if (this.byChannel.get(sub.channel) !== sub) return;
      if (f.expired === true) {
        this.node.log.info({ client: this.owner.id, channel: sub.channel }, 'sub_refresh handler: subscription expired');
        await this.serverUnsubscribe(sub.channel, Unsubscribes.expired);
        return;
      }
      sub.expireAt = expireAtSeconds(f.expireAt);
      this.noteExpiry(sub);
      if (sub.expireAt > 0 && sub.expireAt * 1000 <= Date.now()) {
        this.node.log.info({ client: this.owner.id, channel: sub.channel }, 'sub_refresh handler: expiry in the past, subscription expired');
        await this.serverUnsubscribe(sub.channel, Unsubscribes.expired);
        return;
      }
      if (f.info !== undefined) {
        sub.chanInfo = toRawJson(f.info);
        if (sub.presence) await this.node.addPresence(sub.channel, this.owner.id, this.owner.info(sub.chanInfo));
      }
    } catch (e) {
      this.owner.onServerRefreshFailure(e, 'sub_refresh');
      sub.refreshRetryAt = Date.now() + REFRESH_RETRY_MS;
    } finally {
      sub.refreshing = false;
    }
  }
}

/**
 * The connection closed while a subscription was being set up: nothing to answer (a disconnect,
 * so that a client command ends quietly; the close is idempotent).
 */
export class ClosedDuringSetUp extends DisconnectException {
  constructor() {
    super(Disconnects.connectionClosed, { msg: 'connection closed while a subscription was being set up' });
  }
}

const PLAIN: PublicationForm = { kind: 'plain' };
/** Delta mode: publications sent outside the fan-out carry their full payload. */
const FULL: PublicationForm = { kind: 'full' };
