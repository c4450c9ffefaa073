/** One channel subscription of one client: its options, its state, and its place in the hub. */
import type { Publication, RawJson } from '../protocol/types.js';
import type { OutFrame } from '../transport/frame.js';
import type { Transport } from '../transport/types.js';
import type { ResolvedChannel } from './channel-rules.js';
import type { HubSubscriber } from './hub.js';

/** Per-subscription overrides of channel options (from a token or a handler). */
export interface SubscriptionOverride {
  presence?: boolean;
  join_leave?: boolean;
  force_push_join_leave?: boolean;
  force_recovery?: boolean;
  force_positioning?: boolean;
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

  constructor(
    private readonly transport: Transport,
    readonly clientId: string,
    readonly resolved: ResolvedChannel,
    /** Channel info attached to this client's presence and publications (a sub_refresh service may replace it). */
    public chanInfo: RawJson | undefined,
    readonly presence: boolean,
    /** Publish join/leave for this subscription. */
    readonly joinLeave: boolean,
    readonly pushJoinLeave: boolean,
    readonly recoverable: boolean,
    readonly positioned: boolean,
    readonly delta: boolean,
    /** Made by the server (token `channels`, API subscribe), not by the client. */
    readonly serverSide: boolean,
  ) {}

  get channel(): string {
    return this.resolved.channel;
  }

  send(frame: OutFrame): boolean {
    return this.transport.send(frame);
  }
}
