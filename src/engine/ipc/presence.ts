/** A worker's presence manager when the primary hosts the embedded engine: requests to its memory presence. */
import type { ClientInfo } from '../../protocol/types.js';
import type { PresenceManager, PresenceStats } from '../types.js';
import { decodeInfo, encodeInfo } from '../wire.js';
import type { EngineLink } from './link.js';

export class IpcPresenceManager implements PresenceManager {
  constructor(private readonly link: EngineLink) {}

  async addPresence(channel: string, clientId: string, info: ClientInfo): Promise<void> {
    const text = encodeInfo(info);
    await this.link.request({ op: 'addPresence', ch: channel, client: clientId, info: text }, channel.length + text.length);
  }

  async removePresence(channel: string, clientId: string, user: string): Promise<void> {
    await this.link.request({ op: 'removePresence', ch: channel, client: clientId, user }, channel.length + clientId.length);
  }

  async presence(channel: string): Promise<Map<string, ClientInfo>> {
    const entries = await this.link.request<Array<[string, string]>>({ op: 'presence', ch: channel }, channel.length);
    return new Map(entries.map(([client, info]) => [client, decodeInfo(info)]));
  }

  async presenceStats(channel: string): Promise<PresenceStats> {
    return this.link.request<PresenceStats>({ op: 'presenceStats', ch: channel }, channel.length);
  }

  async close(): Promise<void> {}
}
