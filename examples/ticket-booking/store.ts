/**
 * The booking rules over the database: events and their seat maps, holds, purchases and expiry.
 * Every change runs in one immediate transaction (the write lock is taken at its start) and bumps
 * the event's version; it returns the seats it changed, for the caller to broadcast.
 *
 * Times are milliseconds since the epoch and passed in, so that the rules are plain functions of
 * the database and the clock.
 */
import type { Db } from './db.js';

/** A refusal with an HTTP status, a stable code for programs and a sentence for people. */
export class BookingError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 409 | 422,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BookingError';
  }
}

export interface User {
  id: string;
  name: string;
}

export interface EventSummary {
  id: number;
  title: string;
  kind: string;
  venue: string;
  startsAt: string;
  priceCents: number;
  rows: number;
  seatsPerRow: number;
  seatsTotal: number;
  seatsFree: number;
}

export type SeatStatus = 'free' | 'held' | 'sold';

/** One seat as pages see it; free seats carry no user. */
export interface SeatState {
  seat: string;
  status: SeatStatus;
  /** The holder or buyer. */
  user?: string;
  /** When a hold ends (ms). */
  expiresAt?: number;
}

/** An event's seats: the ones that are not free, at `version`. */
export interface SeatMap {
  event: EventSummary;
  version: number;
  taken: SeatState[];
}

/** Seats of one event that changed, at `version`: what is broadcast to the event's viewers. */
export interface SeatChange {
  eventId: number;
  version: number;
  seats: SeatState[];
}

export interface Hold {
  eventId: number;
  seat: string;
  expiresAt: number;
}

export interface Order {
  id: number;
  eventId: number;
  eventTitle: string;
  seats: string[];
  totalCents: number;
  createdAt: number;
}

/** Holds of one user on one event that ran out. */
export interface ExpiredHolds {
  userId: string;
  eventId: number;
  eventTitle: string;
  seats: string[];
}

/** How many seats one user may hold on one event at a time. */
export const MAX_HOLDS_PER_EVENT = 6;

const SEAT_ID = /^([A-Z])([1-9][0-9]?)$/;

interface EventRow {
  id: number;
  title: string;
  kind: string;
  venue: string;
  starts_at: string;
  rows: number;
  seats_per_row: number;
  price_cents: number;
  version: number;
  taken: number;
}

interface ClaimRow {
  event_id: number;
  seat: string;
  user_id: string;
  status: 'held' | 'sold';
  expires_at: number | null;
}

/** The id of seat `number` (1-based) of row `row` (0-based): `A1`, `C12`. */
export function seatId(row: number, number: number): string {
  return `${String.fromCharCode(65 + row)}${number}`;
}

function summary(row: EventRow): EventSummary {
  const total = row.rows * row.seats_per_row;
  return {
    id: row.id,
    title: row.title,
    kind: row.kind,
    venue: row.venue,
    startsAt: row.starts_at,
    priceCents: row.price_cents,
    rows: row.rows,
    seatsPerRow: row.seats_per_row,
    seatsTotal: total,
    seatsFree: total - row.taken,
  };
}

function seatState(row: ClaimRow): SeatState {
  return row.status === 'held'
    ? { seat: row.seat, status: 'held', user: row.user_id, expiresAt: row.expires_at ?? 0 }
    : { seat: row.seat, status: 'sold', user: row.user_id };
}

export class BookingStore {
  /** Events with their count of taken seats (sold, or held and not expired at :now). */
  private readonly eventsQuery;
  private readonly eventQuery;
  private readonly claimsQuery;
  private readonly claimQuery;
  private readonly bump;

  constructor(private readonly db: Db) {
    const select = `SELECT e.*, (SELECT COUNT(*) FROM claims c WHERE c.event_id = e.id
        AND (c.status = 'sold' OR c.expires_at > @now)) AS taken FROM events e`;
    this.eventsQuery = db.prepare<{ now: number }, EventRow>(`${select} ORDER BY e.starts_at`);
    this.eventQuery = db.prepare<{ now: number; id: number }, EventRow>(`${select} WHERE e.id = @id`);
    this.claimsQuery = db.prepare<{ now: number; id: number }, ClaimRow>(
      "SELECT * FROM claims WHERE event_id = @id AND (status = 'sold' OR expires_at > @now) ORDER BY seat",
    );
    this.claimQuery = db.prepare<[number, string], ClaimRow>('SELECT * FROM claims WHERE event_id = ? AND seat = ?');
    this.bump = db.prepare<[number], { version: number }>('UPDATE events SET version = version + 1 WHERE id = ? RETURNING version');
  }

  users(): User[] {
    return this.db.prepare<[], User>('SELECT id, name FROM users ORDER BY name').all();
  }

  user(id: string): User | undefined {
    return this.db.prepare<[string], User>('SELECT id, name FROM users WHERE id = ?').get(id);
  }

  events(now: number): EventSummary[] {
    return this.eventsQuery.all({ now }).map(summary);
  }

  /** True when there is an event with that id. */
  hasEvent(id: number): boolean {
    return Number.isSafeInteger(id) && id > 0 && this.db.prepare<[number], { id: number }>('SELECT id FROM events WHERE id = ?').get(id) !== undefined;
  }

  /** The event; a 404 BookingError when there is none with that id. */
  event(id: number, now: number): EventSummary {
    return summary(this.eventRow(id, now));
  }

  /** The event's taken seats and version. */
  seatMap(eventId: number, now: number): SeatMap {
    const row = this.eventRow(eventId, now);
    return { event: summary(row), version: row.version, taken: this.claimsQuery.all({ id: eventId, now }).map(seatState) };
  }

  /**
   * Holds a free seat for the user until `now + holdMs`. Refused (409) when someone holds it or it
   * is sold, or when the user already holds {@link MAX_HOLDS_PER_EVENT} seats of the event; holding
   * a seat one already holds gives the same hold. A hold that ran out but was not swept yet counts
   * as free (`expired` names whose it was).
   */
  hold(eventId: number, seat: string, userId: string, now: number, holdMs: number): { hold: Hold; change?: SeatChange; expired?: ExpiredHolds } {
    return this.db
      .transaction(() => {
        const event = this.eventRow(eventId, now);
        this.checkSeat(event, seat);
        const existing = this.claimQuery.get(eventId, seat);
        let expired: ExpiredHolds | undefined;
        if (existing !== undefined) {
          if (existing.status === 'sold') throw new BookingError(409, 'seat_sold', `Seat ${seat} is already sold.`);
          if (existing.expires_at! > now) {
            if (existing.user_id === userId) return { hold: { eventId, seat, expiresAt: existing.expires_at! } };
            throw new BookingError(409, 'seat_held', `Seat ${seat} is held by someone else right now. It frees up if they do not buy it.`);
          }
          // A hold that ran out a moment ago and was not swept yet: it goes now.
          this.db.prepare('DELETE FROM claims WHERE event_id = ? AND seat = ?').run(eventId, seat);
          expired = { userId: existing.user_id, eventId, eventTitle: event.title, seats: [seat] };
        }
        const { held } = this.db
          .prepare<[number, string, number], { held: number }>(
            "SELECT COUNT(*) AS held FROM claims WHERE event_id = ? AND user_id = ? AND status = 'held' AND expires_at > ?",
          )
          .get(eventId, userId, now)!;
        if (held >= MAX_HOLDS_PER_EVENT) {
          throw new BookingError(409, 'hold_limit', `You can hold at most ${MAX_HOLDS_PER_EVENT} seats at a time: buy or release some first.`);
        }
        const expiresAt = now + holdMs;
        // The primary key refuses a second claim of the seat, whatever got here first.
        this.db
          .prepare("INSERT INTO claims (event_id, seat, user_id, status, expires_at) VALUES (?, ?, ?, 'held', ?)")
          .run(eventId, seat, userId, expiresAt);
        const version = this.bump.get(eventId)!.version;
        const change = { eventId, version, seats: [{ seat, status: 'held' as const, user: userId, expiresAt }] };
        return { hold: { eventId, seat, expiresAt }, change, ...(expired !== undefined && { expired }) };
      })
      .immediate();
  }

  /** Gives up the user's hold of a seat; 404 when the user holds no such seat. */
  release(eventId: number, seat: string, userId: string, now: number): SeatChange {
    return this.db
      .transaction(() => {
        const event = this.eventRow(eventId, now);
        this.checkSeat(event, seat);
        const { changes } = this.db
          .prepare("DELETE FROM claims WHERE event_id = ? AND seat = ? AND user_id = ? AND status = 'held' AND expires_at > ?")
          .run(eventId, seat, userId, now);
        if (changes === 0) throw new BookingError(404, 'no_hold', `You do not hold seat ${seat}.`);
        return { eventId, version: this.bump.get(eventId)!.version, seats: [{ seat, status: 'free' as const }] };
      })
      .immediate();
  }

  /** Turns every hold of the user on the event into a ticket, in one order; 422 when there is none. */
  purchase(eventId: number, userId: string, now: number): { order: Order; change: SeatChange } {
    return this.db
      .transaction(() => {
        const event = this.eventRow(eventId, now);
        const seats = this.db
          .prepare<[number, string, number], { seat: string }>(
            "SELECT seat FROM claims WHERE event_id = ? AND user_id = ? AND status = 'held' AND expires_at > ? ORDER BY seat",
          )
          .all(eventId, userId, now)
          .map((r) => r.seat);
        if (seats.length === 0) {
          throw new BookingError(422, 'nothing_to_buy', 'You hold no seats of this event (holds that ran out are released): pick seats first.');
        }
        const totalCents = seats.length * event.price_cents;
        const orderId = Number(
          this.db.prepare('INSERT INTO orders (event_id, user_id, total_cents, created_at) VALUES (?, ?, ?, ?)').run(eventId, userId, totalCents, now)
            .lastInsertRowid,
        );
        this.db
          .prepare(
            "UPDATE claims SET status = 'sold', expires_at = NULL, order_id = ? WHERE event_id = ? AND user_id = ? AND status = 'held' AND expires_at > ?",
          )
          .run(orderId, eventId, userId, now);
        const version = this.bump.get(eventId)!.version;
        return {
          order: { id: orderId, eventId, eventTitle: event.title, seats, totalCents, createdAt: now },
          change: { eventId, version, seats: seats.map((seat) => ({ seat, status: 'sold' as const, user: userId })) },
        };
      })
      .immediate();
  }

  /** Frees every hold that ran out by `now`: the seats per event, and whose holds they were. */
  expire(now: number): { changes: SeatChange[]; expired: ExpiredHolds[] } {
    return this.db
      .transaction(() => {
        const rows = this.db
          .prepare<[number], ClaimRow & { title: string }>(
            `DELETE FROM claims WHERE status = 'held' AND expires_at <= ?
             RETURNING event_id, seat, user_id, status, expires_at, (SELECT title FROM events WHERE id = event_id) AS title`,
          )
          .all(now);
        const byEvent = new Map<number, string[]>();
        const byHolder = new Map<string, ExpiredHolds>();
        for (const r of rows) {
          byEvent.set(r.event_id, [...(byEvent.get(r.event_id) ?? []), r.seat]);
          const key = `${r.user_id}\u0000${r.event_id}`;
          const entry = byHolder.get(key) ?? { userId: r.user_id, eventId: r.event_id, eventTitle: r.title, seats: [] };
          entry.seats.push(r.seat);
          byHolder.set(key, entry);
        }
        const changes = [...byEvent].map(([eventId, seats]) => ({
          eventId,
          version: this.bump.get(eventId)!.version,
          seats: seats.sort().map((seat) => ({ seat, status: 'free' as const })),
        }));
        return { changes, expired: [...byHolder.values()] };
      })
      .immediate();
  }

  /** When the next hold runs out (ms), if any is held. */
  nextExpiry(): number | undefined {
    const row = this.db.prepare<[], { at: number | null }>("SELECT MIN(expires_at) AS at FROM claims WHERE status = 'held'").get();
    return row?.at ?? undefined;
  }

  private eventRow(id: number, now: number): EventRow {
    const row = Number.isSafeInteger(id) && id > 0 ? this.eventQuery.get({ id, now }) : undefined;
    if (row === undefined) throw new BookingError(404, 'event_not_found', `There is no event ${id}.`);
    return row;
  }

  /** A 400 BookingError unless `seat` is a seat of the event (`A1` … the last row and number). */
  private checkSeat(event: EventRow, seat: string): void {
    const m = SEAT_ID.exec(seat);
    const row = m === null ? -1 : m[1]!.charCodeAt(0) - 65;
    const number = m === null ? -1 : Number(m[2]);
    if (row < 0 || row >= event.rows || number < 1 || number > event.seats_per_row) {
      const last = seatId(event.rows - 1, event.seats_per_row);
      throw new BookingError(400, 'bad_seat', `${JSON.stringify(seat).slice(0, 40)} is not a seat of this event (A1 to ${last}).`);
    }
  }
}
