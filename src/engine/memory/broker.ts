/**
 * The embedded in-memory broker: one process, history kept in memory with size, TTL and meta TTL,
 * epochs, and idempotent publishes. Publications reach the node's hub synchronously.
 */
import { randomBytes } from 'node:crypto';
import type { ClientInfo, Publication, Payload, StreamPosition } from '../../protocol/types.js';
import type {
  Broker,
  BrokerEventHandler,
  HistoryQuery,
  HistoryResult,
  PublishOptions,
  PublishResult,
} from '../types.js';
import { HistoryStream } from './history-stream.js';

const DEFAULT_IDEMPOTENT_TTL_MS = 5 * 60_000;
const SWEEP_INTERVAL_MS = 10_000;

/** Makes a fresh epoch string (short, random). */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

export class MemoryBroker implements Broker {
  private handler: BrokerEventHandler | undefined;
  private readonly streams = new Map<string, HistoryStream>();
  private readonly idempotent = new Map<string, { result: StreamPosition; expireAt: number }>();
  private sweeper: NodeJS.Timeout | undefined;

  async run(handler: BrokerEventHandler): Promise<void> {
    this.handler = handler;
    this.sweeper = setInterval(() => this.sweep(Date.now()), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  async subscribe(_channel: string): Promise<void> {}

  async unsubscribe(_channel: string): Promise<void> {}

  async publish(channel: string, data: Payload, opts: PublishOptions): Promise<PublishResult> {
    const now = Date.now();
    const key = opts.idempotencyKey ? `${channel}\u0000${opts.idempotencyKey}` : undefined;
    if (key !== undefined) {
      const seen = this.idempotent.get(key);
      if (seen !== undefined && seen.expireAt > now) return { position: seen.result, suppressed: true };
    }
    const pub: Publication = { data, offset: 0, time: now };
    if (opts.info !== undefined) pub.info = opts.info;
    if (opts.tags !== undefined) pub.tags = opts.tags;

    let position: StreamPosition = { offset: 0, epoch: '' };
    const { size, ttl, metaTtl } = opts.history;
    if (size > 0 && ttl > 0) {
      const stream = this.streamFor(channel, now);
      position = stream.append(pub, { size, ttl, metaTtl }, now);
    }
    if (key !== undefined) {
      this.idempotent.set(key, { result: position, expireAt: now + (opts.idempotentResultTtl ?? DEFAULT_IDEMPOTENT_TTL_MS) });
    }
    this.handler?.onPublication(channel, pub, position, opts.useDelta === true);
    return { position, suppressed: false };
  }

  async publishJoin(channel: string, info: ClientInfo): Promise<void> {
    this.handler?.onJoin(channel, info);
  }

  async publishLeave(channel: string, info: ClientInfo): Promise<void> {
    this.handler?.onLeave(channel, info);
  }

  async history(channel: string, query: HistoryQuery): Promise<HistoryResult> {
    const now = Date.now();
    const stream = this.streamFor(channel, now, query.metaTtl);
    stream.touch(now, query.metaTtl);
    return stream.read(query, now);
  }

  async removeHistory(channel: string): Promise<void> {
    this.streams.get(channel)?.clear();
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.streams.clear();
    this.idempotent.clear();
  }

  private streamFor(channel: string, now: number, metaTtl?: number): HistoryStream {
    let stream = this.streams.get(channel);
    if (stream === undefined || stream.metaExpired(now)) {
      stream = new HistoryStream(newEpoch(), now, metaTtl ?? 0);
      this.streams.set(channel, stream);
    }
    return stream;
  }

  private sweep(now: number): void {
    for (const [channel, stream] of this.streams) {
      if (stream.metaExpired(now)) this.streams.delete(channel);
      else stream.dropExpired(now);
    }
    for (const [key, entry] of this.idempotent) if (entry.expireAt <= now) this.idempotent.delete(key);
  }
}
