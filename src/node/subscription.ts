/** One channel subscription of one client: its options, its state, and its place in the hub. */
import type { Payload, Publication, RawJson, SubscriptionOverride } from '../protocol/types.js';

export type { SubscriptionOverride };
import type { ProtocolCodec } from '../protocol/codec.js';
import type { OutFrame } from '../protocol/frame.js';
import type { Transport } from './transport.js';
import type { TransportCounters } from '../metrics/metrics.js';
import type { ResolvedChannel } from './channel-rules.js';
import type { HubSubscriber } from './hub.js';

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
  data?: Payload | undefined;
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

/** What a subscription is, decided once when it is set up. */
export interface ClientSubscriptionSpec {
  /** The connection its publications are written to. */
  transport: Transport;
  /** The connection's message counters (the metrics). */
  counters: TransportCounters;
  /** The connection's codec. */
  codec: ProtocolCodec;
  clientId: string;
  resolved: ResolvedChannel;
  /** Channel info attached to the client's presence and publications. */
  chanInfo: RawJson | undefined;
  /** The client is added to the channel's presence. */
  presence: boolean;
  /** Join/leave are published for this client. */
  joinLeave: boolean;
  /** This client receives join/leave pushes. */
  pushJoinLeave: boolean;
  recoverable: boolean;
  positioned: boolean;
  /** Publications reach this client as fossil deltas. */
  delta: boolean;
  /** Made by the server (token `channels`, API subscribe), not by the client. */
  serverSide: boolean;
}

export class ClientSubscription implements HubSubscriber {
  deltaPrimed = false;
  pending: Publication[] | null = [];
  /** Seconds since epoch when the subscription expires; 0 = never. */
  expireAt = 0;
  /** A sub_refresh handler extends it when it expires (instead of the client). */
  refreshByServer = false;
  /** A server-side refresh is in flight. */
  refreshing = false;
  /** Ms timestamp before which a failed server-side refresh is not retried. */
  refreshRetryAt = 0;

  private readonly transport: Transport;
  private readonly counters: TransportCounters;
  readonly codec: ProtocolCodec;
  readonly clientId: string;
  readonly resolved: ResolvedChannel;
  /** Channel info attached to this client's presence and publications (a sub_refresh service may replace it). */
  chanInfo: RawJson | undefined;
  readonly presence: boolean;
  /** Publish join/leave for this subscription. */
  readonly joinLeave: boolean;
  readonly pushJoinLeave: boolean;
  readonly recoverable: boolean;
  readonly positioned: boolean;
  readonly delta: boolean;
  /** Made by the server (token `channels`, API subscribe), not by the client. */
  readonly serverSide: boolean;

  constructor(spec: ClientSubscriptionSpec) {
    this.transport = spec.transport;
    this.counters = spec.counters;
    this.codec = spec.codec;
    this.clientId = spec.clientId;
    this.resolved = spec.resolved;
    this.chanInfo = spec.chanInfo;
    this.presence = spec.presence;
    this.joinLeave = spec.joinLeave;
    this.pushJoinLeave = spec.pushJoinLeave;
    this.recoverable = spec.recoverable;
    this.positioned = spec.positioned;
    this.delta = spec.delta;
    this.serverSide = spec.serverSide;
  }

  get channel(): string {
    return this.resolved.channel;
  }

  /** Queues a frame of the fan-out (counted by type: two array increments, the metrics' whole cost here). */
  send(frame: OutFrame): boolean {
    const c = this.counters;
    c.sent[frame.type]!++;
    c.sentBytes[frame.type]! += frame.payload.length;
    return this.transport.send(frame);
  }
}
