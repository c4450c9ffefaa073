/**
 * Internal channels of the event endpoint. Messages to users and broadcasts travel through the
 * engine's broker like any publication, so they reach every node with memory, Redis or NATS alike,
 * and a node receives them only while it has connections that want them (no polling).
 *
 * The names start with the node's reserved internal prefix, which clients and the server API are
 * refused: nobody can subscribe to, or publish into, these channels from outside.
 */
import { INTERNAL_CHANNEL_PREFIX } from '../node/channel-rules.js';
import type { HubSubscriber } from '../node/hub.js';
import type { Publication } from '../protocol/types.js';
import type { OutFrame } from '../protocol/frame.js';
import { jsonCodec } from '../protocol/json-codec.js';

/** Prefix of every internal channel of the event endpoint. */
export const EVENTS_CHANNEL_PREFIX = `${INTERNAL_CHANNEL_PREFIX}events:`;

/** The channel every node with the event endpoint subscribes to, for `broadcast`. */
export const BROADCAST_CHANNEL = `${EVENTS_CHANNEL_PREFIX}broadcast`;

/** The channel of one user, subscribed by the nodes holding connections bound to the user. */
export function userChannel(userId: string): string {
  return `${EVENTS_CHANNEL_PREFIX}user:${userId}`;
}


let seq = 0;

/**
 * A hub subscriber standing for the event endpoint in one internal channel. The hub hands it the
 * publication push frame (`{"push":{"channel":..,"pub":{"data":<message>}}}`); it takes the event
 * message back out of it, once per node, and passes it on.
 */
export class InternalSubscriber implements HubSubscriber {
  /** Unique per subscriber, so a late unsubscribe never removes a newer subscriber of the channel. */
  readonly clientId = `gyre-events-${++seq}`;
  /** Takes the JSON protocol's push frame apart. */
  readonly codec = jsonCodec;
  readonly pushJoinLeave = false;
  readonly delta = false;
  deltaPrimed = false;
  pending: Publication[] | null = null;

  constructor(private readonly onMessage: (pushText: string) => void) {}

  send(frame: OutFrame): boolean {
    this.onMessage(frame.payload.toString('utf8'));
    return true;
  }
}

/** The event message (`{"event":..,"data":..}`) inside a publication push frame's text, or undefined. */
export function messageOfPush(text: string): { event: string; data: unknown } | undefined {
  try {
    const push = (JSON.parse(text) as { push?: { pub?: { data?: unknown } } }).push;
    const msg = push?.pub?.data as { event?: unknown; data?: unknown } | undefined;
    if (typeof msg !== 'object' || msg === null || typeof msg.event !== 'string') return undefined;
    return { event: msg.event, data: msg.data };
  } catch {
    return undefined;
  }
}
