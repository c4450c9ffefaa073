/**
 * Which clients of one worker are in which channel, with their encoded client info: what the
 * primary must undo when that worker dies (presence entries to remove, leaves to announce).
 */
export class ChannelClients {
  private readonly byChannel = new Map<string, Map<string, string>>();

  set(channel: string, client: string, info: string): void {
    let m = this.byChannel.get(channel);
    if (m === undefined) {
      m = new Map();
      this.byChannel.set(channel, m);
    }
    m.set(client, info);
  }

  delete(channel: string, client: string): void {
    const m = this.byChannel.get(channel);
    if (m === undefined) return;
    m.delete(client);
    if (m.size === 0) this.byChannel.delete(channel);
  }

  /** Every entry as [channel, client, info]. */
  *entries(): IterableIterator<[string, string, string]> {
    for (const [channel, clients] of this.byChannel) for (const [client, info] of clients) yield [channel, client, info];
  }
}
