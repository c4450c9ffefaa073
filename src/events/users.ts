/**
 * User bindings of this node's event connections. While at least one local connection is bound
 * to a user, the node is subscribed (through {@link GyreNode.addSubscription}, hence the broker) to
 * the user's internal channel; `sendToUser` on any node publishes there.
 */
import type { GyreNode } from '../node/node.js';
import { InternalSubscriber, messageOfPush, userChannel } from './channels.js';
import type { EventConnection } from './connection.js';

interface UserEntry {
  readonly channel: string;
  readonly connections: Set<EventConnection>;
  readonly subscriber: InternalSubscriber;
  /** Settles when the node's subscription to the user's channel is in place. */
  ready: Promise<void>;
}

/** Delivers one message to the connections of a user. */
export type UserDelivery = (connections: ReadonlySet<EventConnection>, event: string, data: unknown, text: string) => void;

export class UserBindings {
  private readonly users = new Map<string, UserEntry>();

  constructor(
    private readonly node: GyreNode,
    private readonly deliver: UserDelivery,
  ) {}

  /**
   * Binds `conn` to `userId` (moving it from a previous user). Resolves when messages to the user
   * reach it; rejects (leaving it unbound) when the broker subscription fails.
   */
  async bind(conn: EventConnection, userId: string): Promise<void> {
    if (conn.userId !== undefined && conn.userId !== userId) await this.unbind(conn);
    let entry = this.users.get(userId);
    if (entry === undefined) {
      entry = this.subscribe(userId);
    }
    conn.userId = userId;
    entry.connections.add(conn);
    await entry.ready;
  }

  private subscribe(userId: string): UserEntry {
    const channel = userChannel(userId);
    const connections = new Set<EventConnection>();
    const subscriber = new InternalSubscriber((text) => {
      const msg = messageOfPush(text);
      if (msg === undefined) {
        this.node.log.warn({ channel }, 'events: undecodable message on a user channel, dropped');
        return;
      }
      this.deliver(connections, msg.event, msg.data, text);
    });
    const entry: UserEntry = { channel, connections, subscriber, ready: Promise.resolve() };
    this.users.set(userId, entry);
    entry.ready = this.node.addSubscription(channel, subscriber).catch((e: unknown) => {
      if (this.users.get(userId) === entry) this.users.delete(userId);
      for (const c of connections) if (c.userId === userId) c.userId = undefined;
      connections.clear();
      throw e;
    });
    return entry;
  }

  /** Ends the binding of `conn`; returns false when it had none. */
  async unbind(conn: EventConnection): Promise<boolean> {
    const userId = conn.userId;
    if (userId === undefined) return false;
    conn.userId = undefined;
    const entry = this.users.get(userId);
    if (entry === undefined || !entry.connections.delete(conn)) return true;
    if (entry.connections.size === 0) {
      this.users.delete(userId);
      try {
        await this.node.removeSubscription(entry.channel, entry.subscriber.clientId);
      } catch (e) {
        this.node.log.warn({ channel: entry.channel, err: e }, 'events: unsubscribing from a user channel failed');
      }
    }
    return true;
  }

  /** This node's connections bound to the user. */
  connectionsOf(userId: string): ReadonlySet<EventConnection> | undefined {
    return this.users.get(userId)?.connections;
  }

  /** Forgets every binding without touching the broker (shutdown: the broker is closing). */
  clear(): void {
    for (const entry of this.users.values()) for (const c of entry.connections) c.userId = undefined;
    this.users.clear();
  }
}
