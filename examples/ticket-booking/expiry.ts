/**
 * Frees holds when they run out: one timer, set for the earliest hold's end, that sweeps the
 * expired holds (one transaction), broadcasts the freed seats and sets itself for the next one.
 */
import type { Logger } from 'gyre';
import type { BookingBroadcasts } from './broadcasts.js';
import type { BookingStore } from './store.js';

export class HoldExpiry {
  private timer: NodeJS.Timeout | undefined;
  private due: number | undefined;
  private closed = false;

  constructor(
    private readonly store: BookingStore,
    private readonly broadcasts: BookingBroadcasts,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Sets the timer for the earliest hold (call after a hold is made; at start, it sweeps at once). */
  schedule(): void {
    if (this.closed) return;
    const next = this.store.nextExpiry();
    if (next === undefined || next === this.due) return;
    clearTimeout(this.timer);
    this.due = next;
    // +1 ms: a hold is expired once `now` passed its end; the timer must not fire a tick early.
    this.timer = setTimeout(() => void this.sweep(), Math.max(0, next - this.now() + 1));
    this.timer.unref();
  }

  /** Frees what ran out, tells everyone, and waits for the next. */
  async sweep(): Promise<void> {
    this.due = undefined;
    this.timer = undefined;
    if (this.closed) return;
    try {
      const { changes, expired } = this.store.expire(this.now());
      await Promise.all([...changes.map((c) => this.broadcasts.seatsChanged(c)), ...expired.map((e) => this.broadcasts.holdsExpired(e))]);
      if (changes.length > 0) this.log.info({ seats: changes.flatMap((c) => c.seats.map((s) => `${c.eventId}:${s.seat}`)) }, 'holds expired');
    } catch (e) {
      // Try again in a second rather than at once (the next hold is still due).
      this.log.error({ err: e }, 'expiring holds failed');
      if (!this.closed) this.timer = setTimeout(() => void this.sweep(), 1000).unref();
      return;
    }
    this.schedule();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
