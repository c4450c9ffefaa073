/**
 * The hub: which local subscriptions each channel has, and the fan-out of publications, joins and
 * leaves to them. A publication is encoded and framed once per channel (once per delta variant);
 * the only per-subscriber work is appending the shared frame to the subscriber's queue.
 */
import { createDelta } from 'fossil-delta';
import { CODEC_COUNT, type ProtocolCodec } from '../protocol/codec.js';
import type { PublicationForm } from '../protocol/messages.js';
import type { ClientInfo, Publication } from '../protocol/types.js';
import type { OutFrame } from '../protocol/frame.js';
import { isInternalChannel } from './channel-rules.js';

/** A local subscription as the hub sees it. */
export interface HubSubscriber {
  /** The connection's id. */
  readonly clientId: string;
  /** The connection's codec: subscribers with the same codec share each frame. */
  readonly codec: ProtocolCodec;
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

/**
 * A watcher of a channel that is not a client (the admin UI's live tap): it sees what passes through
 * this node without being a subscriber (it counts in no subscriber, channel or presence figure).
 */
export interface ChannelTap {
  onPublication(channel: string, pub: Publication): void;
  onJoinLeave(channel: string, kind: 'join' | 'leave', info: ClientInfo): void;
}

interface ChannelEntry {
  readonly subscribers: Map<string, HubSubscriber>;
  /** Subscribers in delta mode; the last publication is kept only while there are any. */
  deltaSubscribers: number;
  last: Publication | undefined;
}

const PLAIN: PublicationForm = { kind: 'plain' };
const FULL: PublicationForm = { kind: 'full' };

/**
 * The frames of one publication, built on first need: per codec, plain, full (delta mode) and patch
 * (null: no patch helps or the codec cannot carry it).
 */
class PublicationFrames {
  private readonly plain = new Array<OutFrame | undefined>(CODEC_COUNT);
  private readonly full = new Array<OutFrame | undefined>(CODEC_COUNT);
  private readonly patches = new Array<OutFrame | null | undefined>(CODEC_COUNT);
  /** The fossil patch from the previous publication; null when none helps. */
  private patchBytes: Uint8Array | null | undefined;

  constructor(
    private readonly channel: string,
    private readonly pub: Publication,
    private readonly prev: Publication | undefined,
  ) {}

  plainFor(codec: ProtocolCodec): OutFrame {
    return (this.plain[codec.index] ??= codec.publicationPush(this.channel, this.pub, PLAIN)!);
  }

  fullFor(codec: ProtocolCodec): OutFrame {
    return (this.full[codec.index] ??= codec.publicationPush(this.channel, this.pub, FULL)!);
  }

  /** The patch frame for a codec, or null when the subscriber must get the full payload. */
  patchFor(codec: ProtocolCodec): OutFrame | null {
    let frame = this.patches[codec.index];
    if (frame === undefined) {
      if (this.patchBytes === undefined) this.patchBytes = this.prev === undefined ? null : fossilPatch(this.prev, this.pub);
      frame = this.patchBytes === null ? null : codec.publicationPush(this.channel, this.pub, { kind: 'patch', patch: this.patchBytes });
      this.patches[codec.index] = frame;
    }
    return frame;
  }
}

export class Hub {
  private readonly channels = new Map<string, ChannelEntry>();
  private subscriptionCount = 0;
  /** Taps by channel (usually none: the publish path checks the map's size only). */
  private readonly taps = new Map<string, Set<ChannelTap>>();

  /** Adds a subscriber; returns true when the node had no reason yet to hear the channel (no subscriber, no tap). */
  add(channel: string, sub: HubSubscriber): boolean {
    let entry = this.channels.get(channel);
    const first = entry === undefined && !this.taps.has(channel);
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

  /** Removes a subscriber; returns true when nothing on this node hears the channel any more (no subscriber, no tap). */
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
      return !this.taps.has(channel);
    }
    return false;
  }

  /** Adds a tap; returns true when the node had no reason yet to hear the channel. */
  addTap(channel: string, tap: ChannelTap): boolean {
    let set = this.taps.get(channel);
    const first = set === undefined && !this.channels.has(channel);
    if (set === undefined) this.taps.set(channel, (set = new Set()));
    set.add(tap);
    return first;
  }

  /** Removes a tap; returns true when nothing on this node hears the channel any more. */
  removeTap(channel: string, tap: ChannelTap): boolean {
    const set = this.taps.get(channel);
    if (set === undefined || !set.delete(tap)) return false;
    if (set.size > 0) return false;
    this.taps.delete(channel);
    return !this.channels.has(channel);
  }

  /** Delivers a publication to every local subscriber of the channel. */
  publish(channel: string, pub: Publication, useDelta: boolean): void {
    if (this.taps.size > 0) this.tapPublication(channel, pub);
    const entry = this.channels.get(channel);
    if (entry === undefined) return;
    // One codec is the usual case: its plain frame is kept at hand without a lookup.
    let lastCodec: ProtocolCodec | undefined;
    let lastPlain: OutFrame | undefined;
    let frames: PublicationFrames | undefined;
    const prev = useDelta ? entry.last : undefined;
    for (const sub of entry.subscribers.values()) {
      if (sub.pending !== null) {
        sub.pending.push(pub);
        continue;
      }
      frames ??= new PublicationFrames(channel, pub, prev);
      if (!sub.delta) {
        if (sub.codec !== lastCodec) {
          lastCodec = sub.codec;
          lastPlain = frames.plainFor(sub.codec);
        }
        sub.send(lastPlain!);
        continue;
      }
      if (sub.deltaPrimed && prev !== undefined) {
        const patch = frames.patchFor(sub.codec);
        if (patch !== null) {
          sub.send(patch);
          continue;
        }
      }
      sub.deltaPrimed = true;
      sub.send(frames.fullFor(sub.codec));
    }
    if (entry.deltaSubscribers > 0) entry.last = pub;
  }

  private tapPublication(channel: string, pub: Publication): void {
    const set = this.taps.get(channel);
    if (set !== undefined) for (const tap of set) tap.onPublication(channel, pub);
  }

  /** Delivers a join (`kind` = "join") or leave push to subscribers that want them. */
  joinLeave(channel: string, kind: 'join' | 'leave', info: ClientInfo): void {
    if (this.taps.size > 0) {
      const set = this.taps.get(channel);
      if (set !== undefined) for (const tap of set) tap.onJoinLeave(channel, kind, info);
    }
    const entry = this.channels.get(channel);
    if (entry === undefined) return;
    const frames = new Array<OutFrame | undefined>(CODEC_COUNT);
    for (const sub of entry.subscribers.values()) {
      if (!sub.pushJoinLeave || sub.pending !== null) continue;
      sub.send((frames[sub.codec.index] ??= sub.codec.push({ kind, channel, info })));
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

/**
 * The fossil patch from `prev` to `pub`, or null when a patch would not help. Only JSON payloads are
 * patched (binary payloads always travel in full, so a JSON subscriber's base64 form never needs one).
 */
function fossilPatch(prev: Publication, pub: Publication): Uint8Array | null {
  if (typeof prev.data !== 'string' || typeof pub.data !== 'string') return null;
  const from = Buffer.from(prev.data, 'utf8');
  const to = Buffer.from(pub.data, 'utf8');
  const bytes = createDelta(from, to);
  if (bytes.length >= to.length) return null;
  return bytes;
}
