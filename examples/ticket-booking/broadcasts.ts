/**
 * What the booking app tells browsers, and on which topics: seat changes to everyone viewing an
 * event (`event.{id}`), confirmations and expired holds to one user (`user.{id}`). These are the
 * topics `realtime.ts` authorizes. Messages go out through a Gyre `Broadcast` (the `local` driver
 * here; an `http` or `grpc` connection would carry them to a Gyre or Centrifugo elsewhere unchanged).
 */
import type { Broadcast, Logger } from 'gyre';
import type { ExpiredHolds, Order, SeatChange } from './store.js';

/** The topic of an event's viewers: `event.42`. */
export class EventTopic {
  constructor(readonly eventId: number) {}
  toString(): string {
    return `event.${this.eventId}`;
  }
}

/** A user's personal topic: `user.alice`. */
export class UserTopic {
  constructor(readonly userId: string) {}
  toString(): string {
    return `user.${this.userId}`;
  }
}

/** Published to `event.{id}`: seats that changed, at the event's version. */
export interface SeatsMessage extends SeatChange {
  type: 'seats';
}

/** Published to `user.{id}`. */
export type UserMessage = { type: 'booked'; order: Order } | ({ type: 'hold_expired' } & ExpiredHolds);

export class BookingBroadcasts {
  constructor(
    private readonly broadcast: Broadcast,
    private readonly log: Logger,
  ) {}

  /** Seats of an event changed: every viewer's map follows. */
  seatsChanged(change: SeatChange): Promise<void> {
    const message: SeatsMessage = { type: 'seats', ...change };
    return this.send(new EventTopic(change.eventId), message);
  }

  /** An order went through: "your tickets are booked" on the buyer's pages. */
  booked(userId: string, order: Order): Promise<void> {
    const message: UserMessage = { type: 'booked', order };
    return this.send(new UserTopic(userId), message);
  }

  /** Holds ran out: the holder hears which. */
  holdsExpired(expired: ExpiredHolds): Promise<void> {
    const message: UserMessage = { type: 'hold_expired', ...expired };
    return this.send(new UserTopic(expired.userId), message);
  }

  /**
   * The change is already in the database, so a failed publish is logged, not thrown: pages that
   * missed it load the seat map afresh when they resubscribe.
   */
  private async send(topic: EventTopic | UserTopic, message: SeatsMessage | UserMessage): Promise<void> {
    try {
      await this.broadcast.publish(topic, message);
    } catch (e) {
      this.log.error({ err: e, topic: String(topic) }, 'broadcast failed');
    }
  }
}
