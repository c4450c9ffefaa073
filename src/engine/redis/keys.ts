/**
 * Redis key and PUB/SUB channel names, all under the configured prefix:
 *
 * | what | name |
 * | --- | --- |
 * | channel PUB/SUB | `<prefix>.client.<channel>` |
 * | control (all nodes) | `<prefix>.control` |
 * | one node | `<prefix>.node.<node id>` |
 * | history stream | `<prefix>.stream.<channel>` (Redis Stream, entry ID = `<offset>-0`) |
 * | stream meta | `<prefix>.meta.<channel>` (hash: `e` epoch, `s` top offset) |
 * | idempotent publish result | `<prefix>.result.<channel>.<key>` (`<offset>:<epoch>`) |
 * | presence | `<prefix>.presence.data.<channel>` (hash client → info), `<prefix>.presence.expire.<channel>` (sorted set client → expiry ms) |
 *
 * With Redis Cluster, the channel part of keys becomes a hash tag (`{channel}`) so that the keys a
 * Lua script touches together share a slot.
 */
export class RedisKeys {
  readonly clientPrefix: string;
  readonly control: string;

  constructor(
    readonly prefix: string,
    private readonly cluster: boolean,
  ) {
    this.clientPrefix = `${prefix}.client.`;
    this.control = `${prefix}.control`;
  }

  /** The channel part of a key: the channel itself, or a hash tag in Redis Cluster. */
  private tag(channel: string): string {
    if (!this.cluster) return channel;
    // A brace inside the channel would end the tag early: tag a brace-free form, then add the name.
    return /[{}]/.test(channel) ? `{${channel.replace(/[{}]/g, '')}}${channel}` : `{${channel}}`;
  }

  clientChannel(channel: string): string {
    return this.clientPrefix + channel;
  }

  node(nodeId: string): string {
    return `${this.prefix}.node.${nodeId}`;
  }

  stream(channel: string): string {
    return `${this.prefix}.stream.${this.tag(channel)}`;
  }

  meta(channel: string): string {
    return `${this.prefix}.meta.${this.tag(channel)}`;
  }

  result(channel: string, idempotencyKey: string): string {
    return `${this.prefix}.result.${this.tag(channel)}.${idempotencyKey}`;
  }

  presenceData(channel: string): string {
    return `${this.prefix}.presence.data.${this.tag(channel)}`;
  }

  presenceExpire(channel: string): string {
    return `${this.prefix}.presence.expire.${this.tag(channel)}`;
  }
}
