/** In-memory presence: which clients are in which channel, for a single node. */
import type { ClientInfo } from '../../protocol/types.js';
import type { PresenceManager, PresenceStats } from '../types.js';

export class MemoryPresenceManager implements PresenceManager {
  private readonly channels = new Map<string, Map<string, ClientInfo>>();

  async addPresence(channel: string, clientId: string, info: ClientInfo): Promise<void> {
    let clients = this.channels.get(channel);
    if (clients === undefined) {
      clients = new Map();
      this.channels.set(channel, clients);
    }
    clients.set(clientId, info);
  }

  async removePresence(channel: string, clientId: string, _user: string): Promise<void> {
    const clients = this.channels.get(channel);
    if (clients === undefined) return;
    clients.delete(clientId);
    if (clients.size === 0) this.channels.delete(channel);
  }

  async presence(channel: string): Promise<Map<string, ClientInfo>> {
    return new Map(this.channels.get(channel));
  }

  async presenceStats(channel: string): Promise<PresenceStats> {
    const clients = this.channels.get(channel);
    if (clients === undefined) return { numClients: 0, numUsers: 0 };
    const users = new Set<string>();
    for (const info of clients.values()) users.add(info.user);
    return { numClients: clients.size, numUsers: users.size };
  }

  async close(): Promise<void> {
    this.channels.clear();
  }
}
