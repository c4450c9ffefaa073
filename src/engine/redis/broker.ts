/**
 * The Redis broker: one PUB/SUB channel per Gyre channel (subscribed while the node has local
 * subscribers), history in Redis Streams with offsets and epochs assigned by a Lua script that also
 * publishes, so history and delivery agree. Each node decodes a message once and hands it to the
 * hub. See {@link RedisKeys} for the layout and `../wire.ts` for the message format.
 */
import type { Logger } from 'pino';
import type { ClientInfo, Publication, Payload } from '../../protocol/types.js';
import { newEpoch } from '../memory/broker.js';
import type {
  Broker,
  BrokerEventHandler,
  HistoryQuery,
  HistoryResult,
  PublishOptions,
  PublishResult,
} from '../types.js';
import { deliverEvent } from '../deliver.js';
import { decodePublication, encodeJoinLeave, encodePublicationBody } from '../wire.js';
import type { RedisShard, RedisShards, ShardListener } from './shards.js';

const DEFAULT_IDEMPOTENT_TTL_MS = 5 * 60_000;

export class RedisBroker implements Broker, ShardListener {
  private handler: BrokerEventHandler | undefined;
  private closed = false;
  private badMessages = 0;

  constructor(
    private readonly shards: RedisShards,
    private readonly log: Logger,
  ) {
    shards.acquire();
    shards.listen(this);
  }

  async run(handler: BrokerEventHandler): Promise<void> {
    this.handler = handler;
    await this.shards.start();
  }

  onMessage(redisChannel: string, message: string): void {
    const prefix = this.shards.keys.clientPrefix;
    if (!redisChannel.startsWith(prefix)) return;
    const handler = this.handler;
    if (handler === undefined) return;
    const channel = redisChannel.slice(prefix.length);
    if (!deliverEvent(handler, channel, message) && this.badMessages++ % 1000 === 0) {
      this.log.warn({ channel }, 'undecodable message from Redis ignored');
    }
  }

  onReconnected(shard: RedisShard, channels: readonly string[]): void {
    const prefix = this.shards.keys.clientPrefix;
    const lost = channels.filter((c) => c.startsWith(prefix)).map((c) => c.slice(prefix.length));
    if (lost.length === 0) return;
    this.log.warn({ redis: shard.label, channels: lost.length }, 'PUB/SUB restored: subscribers must recover what they may have missed');
    this.handler?.onStateLost?.(lost);
  }

  subscribe(channel: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('broker closed'));
    return this.shards.shardFor(channel).subscribe(this.shards.keys.clientChannel(channel));
  }

  unsubscribe(channel: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.shards.shardFor(channel).unsubscribe(this.shards.keys.clientChannel(channel));
  }

  async publish(channel: string, data: Payload, opts: PublishOptions): Promise<PublishResult> {
    const keys = this.shards.keys;
    const shard = this.shards.shardFor(channel);
    const { size, ttl, metaTtl } = opts.history;
    const keep = size > 0 && ttl > 0;
    const idem = opts.idempotencyKey;
    const [suppressed, position] = await shard.command.gyrePublish(
      keys.stream(channel),
      keys.meta(channel),
      keys.result(channel, idem ?? ''),
      keys.clientChannel(channel),
      encodePublicationBody(data, opts.info, opts.tags, opts.useDelta === true),
      keep ? size : 0,
      keep ? ttl : 0,
      keep ? metaTtl : 0,
      newEpoch(),
      idem !== undefined ? (opts.idempotentResultTtl ?? DEFAULT_IDEMPOTENT_TTL_MS) : 0,
    );
    const colon = position.indexOf(':');
    return {
      position: { offset: Number(position.slice(0, colon)), epoch: position.slice(colon + 1) },
      suppressed: suppressed === 1,
    };
  }

  async publishJoin(channel: string, info: ClientInfo): Promise<void> {
    await this.publishEvent(channel, encodeJoinLeave('join', info));
  }

  async publishLeave(channel: string, info: ClientInfo): Promise<void> {
    await this.publishEvent(channel, encodeJoinLeave('leave', info));
  }

  private async publishEvent(channel: string, message: string): Promise<void> {
    if (this.closed) return;
    await this.shards.shardFor(channel).command.publish(this.shards.keys.clientChannel(channel), message);
  }

  async history(channel: string, query: HistoryQuery): Promise<HistoryResult> {
    const keys = this.shards.keys;
    const [top, epoch, entries] = await this.shards
      .shardFor(channel)
      .reader(keys.clientChannel(channel))
      .gyreHistory(
        keys.stream(channel),
        keys.meta(channel),
        newEpoch(),
        query.metaTtl,
        query.limit,
        query.since?.offset ?? 0,
        query.reverse === true ? '1' : '0',
      );
    const publications: Publication[] = [];
    for (const [, fields] of entries) {
      const pub = fields[1] !== undefined ? decodePublication(fields[1]) : null;
      if (pub !== null) publications.push(pub);
    }
    return { publications, position: { offset: Number(top), epoch } };
  }

  async removeHistory(channel: string): Promise<void> {
    // The publications go; the stream position (meta) stays, as with the memory engine.
    await this.shards.shardFor(channel).command.del(this.shards.keys.stream(channel));
  }

  unavailable(): string | undefined {
    return this.shards.unavailable();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.shards.release();
  }
}
