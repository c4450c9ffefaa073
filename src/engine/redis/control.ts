/**
 * Control messages between nodes over Redis PUB/SUB, on the first shard: `<prefix>.control` for all
 * nodes, `<prefix>.node.<id>` for one.
 */
import type { Logger } from 'pino';
import type { ControlBus } from '../types.js';
import type { RedisShard, RedisShards, ShardListener } from './shards.js';

export class RedisControlBus implements ControlBus, ShardListener {
  private onControl: ((message: string) => void) | undefined;
  private nodeChannel = '';
  private closed = false;

  constructor(
    private readonly shards: RedisShards,
    private readonly log: Logger,
  ) {
    shards.acquire();
    shards.listen(this);
  }

  private get shard(): RedisShard {
    return this.shards.shards[0]!;
  }

  async run(nodeId: string, onMessage: (message: string) => void): Promise<void> {
    this.onControl = onMessage;
    this.nodeChannel = this.shards.keys.node(nodeId);
    await this.shards.start();
    // While Redis is away these stay wanted and are subscribed once it is back.
    await Promise.all(
      [this.shards.keys.control, this.nodeChannel].map((ch) =>
        this.shard.subscribe(ch).catch((e: unknown) => {
          this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'control channel not subscribed yet');
        }),
      ),
    );
  }

  onMessage(channel: string, message: string): void {
    if (channel === this.shards.keys.control || channel === this.nodeChannel) this.onControl?.(message);
  }

  onReconnected(): void {}

  async publish(message: string): Promise<void> {
    if (this.closed) return;
    await this.shard.command.publish(this.shards.keys.control, message);
  }

  async publishTo(nodeId: string, message: string): Promise<void> {
    if (this.closed) return;
    await this.shard.command.publish(this.shards.keys.node(nodeId), message);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.shards.release();
  }
}
