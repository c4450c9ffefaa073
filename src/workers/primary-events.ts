/**
 * The event endpoint's API as the primary's `start_server` hooks see it. The primary holds no
 * connection: `broadcast` and `sendToUser` are run by a worker (they reach every worker through
 * the engine); calls about connections find none.
 */
import type { EventConnectionInfo, EventsApi } from '../events/types.js';

/** Runs a broadcast or a send to a user on some live worker. */
export type EventsRelay = (op: 'broadcast' | 'sendToUser', event: string, data: unknown, user?: string | number) => Promise<void>;

export class PrimaryEventsApi implements EventsApi {
  constructor(
    readonly nodeId: string,
    private readonly relay: EventsRelay,
  ) {}

  sendMessage(): boolean {
    return false;
  }

  broadcast(event: string, data: unknown): Promise<void> {
    return this.relay('broadcast', event, data);
  }

  sendToUser(userId: string | number, event: string, data: unknown): Promise<void> {
    return this.relay('sendToUser', event, data, userId);
  }

  disconnect(): boolean {
    return false;
  }

  async bindUser(): Promise<boolean> {
    return false;
  }

  async unbindUser(): Promise<boolean> {
    return false;
  }

  connection(): EventConnectionInfo | undefined {
    return undefined;
  }

  userConnections(): string[] {
    return [];
  }
}
