/**
 * The hub: which local subscriptions each channel has, and the fan-out of publications, joins and
 * leaves to them. A publication is encoded and framed once per channel (once per delta variant);
 * the only per-subscriber work is appending the shared frame to the subscriber's queue.
 */
import { createDelta } from 'fossil-delta';
import { encodeClientInfo, encodePublicationPush, encodePush } from '../protocol/json-encode.js';
import type { ClientInfo, Publication } from '../protocol/types.js';
import { OutFrame } from '../protocol/frame.js';
import { isInternalChannel } from './channel-rules.js';

/** A local subscription as the hub sees it. */
export interface HubSubscriber {
  /** The connection's id. */
  readonly clientId: string;
  /** Queues a frame on the subscriber's connection. */
  send(frame: OutFrame): boolean;
  /** Receives join / leave pushes. */
  readonly pushJoinLeave: boolean;
  /** Negotiated fossil delta. */
  readonly delta: boolean;
  /** Has received a full payload in delta mode since (re)subscribing, so patches apply. */
  deltaPrimed: boolean;
  /** Publications held back while the subscribe reply is being prepared; null when live. */
  pending: Publication[] | null;
}

interface ChannelEntry {
  readonly subscribers: Map<string, HubSubscriber>;
  /** Subscribers in delta mode; the last publication is kept only while there are any. */
  deltaSubscribers: number;
  last: Publication | undefined;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export class Hub {
  private readonly channels = new Map<string, ChannelEntry>();
  private subscriptionCount = 0;

  /** Adds a subscriber; returns true when it is the channel's first on this node. */
  add(channel: string, sub: HubSubscriber): boolean {
    let entry = this.channels.get(channel);
    const first = entry === undefined;
    if (entry === undefined) {
      entry = { subscribers: new Map(), deltaSubscribers: 0, last: undefined };
      this.channels.set(channel, entry);
    }
    const replaced = entry.subscribers.get(sub.clientId);
    if (replaced === undefined) this.subscriptionCount++;
    else if (replaced.delta) entry.deltaSubscribers--;
    entry.subscribers.set(sub.clientId, sub);
    if (sub.delta) entry.deltaSubscribers++;
    return first;
  }

  /** Removes a subscriber; returns true when the channel has no subscriber left on this node. */
  remove(channel: string, clientId: string): boolean {
    const entry = this.channels.get(channel);
    if (entry === undefined) return false;
    const sub = entry.subscribers.get(clientId);
    if (sub === undefined) return false;
    entry.subscribers.delete(clientId);
    this.subscriptionCount--;
    if (sub.delta && --entry.deltaSubscribers === 0) entry.last = undefined;
    if (entry.subscribers.size === 0) {
      this.channels.delete(channel);
      return true;
    }
    return false;
  }

  /** Delivers a publication to every local subscriber of the channel. */
  publish(channel: string, pub: Publication, useDelta: boolean): void {
    const entry = this.channels.get(channel);
    if (entry === undefined) return;
    let plain: OutFrame | undefined;
    let full: OutFrame | undefined;
    let patch: OutFrame | null | undefined;
    const prev = entry.last;
    for (const sub of entry.subscribers.values()) {
      if (sub.pending !== null) {
        sub.pending.push(pub);
        continue;
      }
      if (!sub.delta) {
        plain ??= new OutFrame(encodePublicationPush(channel, pub));
        sub.send(plain);
        continue;
      }
      if (useDelta && sub.deltaPrimed && prev !== undefined) {
        if (patch === undefined) patch = deltaFrame(channel, prev, pub);
        if (patch !== null) {
          sub.send(patch);
          continue;
        }
      }
      full ??= new OutFrame(encodePublicationPush(channel, pub, JSON.stringify(pub.data)));
      sub.deltaPrimed = true;
      sub.send(full);
    }
    if (entry.deltaSubscribers > 0) entry.last = pub;
  }

  /** Delivers a join (`kind` = "join") or leave push to subscribers that want them. */
  joinLeave(channel: string, kind: 'join' | 'leave', info: ClientInfo): void {
    const entry = this.channels.get(channel);
    if (entry === undefined) return;
    let frame: OutFrame | undefined;
    for (const sub of entry.subscribers.values()) {
      if (!sub.pushJoinLeave || sub.pending !== null) continue;
      frame ??= new OutFrame(encodePush(channel, kind, `{"info":${encodeClientInfo(info)}}`));
      sub.send(frame);
    }
  }

  /** Number of local subscribers of a channel. */
  subscriberCount(channel: string): number {
    return this.channels.get(channel)?.subscribers.size ?? 0;
  }

  /** Channels with local subscribers. */
  /** Client channels with local subscribers (internal channels, like the event protocol's, left out). */
  *channelNames(): IterableIterator<string> {
    for (const name of this.channels.keys()) if (!isInternalChannel(name)) yield name;
  }

  /** Number of client channels with local subscribers. */
  get channelCount(): number {
    let n = 0;
    for (const _ of this.channelNames()) n++;
    return n;
  }

  get subscriptions(): number {
    return this.subscriptionCount;
  }
}

/** A fossil patch frame from `prev` to `pub`, or null when a patch would not help or not be valid UTF-8. */
function deltaFrame(channel: string, prev: Publication, pub: Publication): OutFrame | null {
  const from = Buffer.from(prev.data, 'utf8');
  const to = Buffer.from(pub.data, 'utf8');
  const bytes = createDelta(from, to);
  if (bytes.length >= to.length) return null;
  let text: string;
  try {
    text = utf8Strict.decode(bytes);
  } catch {
    return null;
  }
  return new OutFrame(encodePublicationPush(channel, pub, JSON.stringify(text), true));
}
