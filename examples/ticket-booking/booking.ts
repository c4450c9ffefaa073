/**
 * The booking service the HTTP routes call: a change in the database (store.ts), then its
 * broadcast (broadcasts.ts), and the expiry timer set for new holds (expiry.ts). A request is
 * answered after the broadcast was handed to Gyre, so when the clicking user sees "held by you",
 * every other viewer's message is already on its way.
 */
import type { BookingBroadcasts } from './broadcasts.js';
import type { HoldExpiry } from './expiry.js';
import type { BookingStore, Hold, Order } from './store.js';

export class BookingService {
  constructor(
    readonly store: BookingStore,
    private readonly broadcasts: BookingBroadcasts,
    private readonly expiry: HoldExpiry,
    /** How long a hold lasts (ms). */
    readonly holdMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Holds a seat for the user (see {@link BookingStore.hold}); viewers of the event see it held. */
  async hold(eventId: number, seat: string, userId: string): Promise<Hold> {
    const { hold, change, expired } = this.store.hold(eventId, seat, userId, this.now(), this.holdMs);
    if (change !== undefined) {
      this.expiry.schedule();
      await Promise.all([this.broadcasts.seatsChanged(change), expired !== undefined && this.broadcasts.holdsExpired(expired)]);
    }
    return hold;
  }

  /** Gives a held seat back; viewers see it free. */
  async release(eventId: number, seat: string, userId: string): Promise<void> {
    await this.broadcasts.seatsChanged(this.store.release(eventId, seat, userId, this.now()));
  }

  /** Buys the user's holds; viewers see the seats sold, the buyer's pages get the confirmation. */
  async purchase(eventId: number, userId: string): Promise<Order> {
    const { order, change } = this.store.purchase(eventId, userId, this.now());
    await Promise.all([this.broadcasts.seatsChanged(change), this.broadcasts.booked(userId, order)]);
    return order;
  }
}
