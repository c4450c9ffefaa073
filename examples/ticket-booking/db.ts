/**
 * The booking database: SQLite through better-sqlite3, created and seeded on first start.
 *
 * A seat that is not free has one row in `claims`: held (until `expires_at`) or sold (with its
 * order). The primary key (event_id, seat) is what makes a double booking impossible: two holds of
 * one seat cannot both be inserted, whatever the timing, even from two processes.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

/** The schema version this code writes (`PRAGMA user_version`). */
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE users (
  id   TEXT PRIMARY KEY,
  name TEXT NOT NULL
);
CREATE TABLE events (
  id            INTEGER PRIMARY KEY,
  title         TEXT NOT NULL,
  kind          TEXT NOT NULL,
  venue         TEXT NOT NULL,
  starts_at     TEXT NOT NULL,
  rows          INTEGER NOT NULL CHECK (rows BETWEEN 1 AND 26),
  seats_per_row INTEGER NOT NULL CHECK (seats_per_row BETWEEN 1 AND 30),
  price_cents   INTEGER NOT NULL CHECK (price_cents >= 0),
  -- Bumped by every change of the event's seats; sent with the seat map and every broadcast, so a
  -- page can order what it gets (a fresh seat map and live changes may cross).
  version       INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE orders (
  id          INTEGER PRIMARY KEY,
  event_id    INTEGER NOT NULL REFERENCES events(id),
  user_id     TEXT NOT NULL REFERENCES users(id),
  total_cents INTEGER NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE TABLE claims (
  event_id   INTEGER NOT NULL REFERENCES events(id),
  seat       TEXT NOT NULL,
  user_id    TEXT NOT NULL REFERENCES users(id),
  status     TEXT NOT NULL CHECK (status IN ('held', 'sold')),
  expires_at INTEGER,
  order_id   INTEGER REFERENCES orders(id),
  PRIMARY KEY (event_id, seat),
  CHECK ((status = 'held' AND expires_at IS NOT NULL AND order_id IS NULL)
      OR (status = 'sold' AND expires_at IS NULL AND order_id IS NOT NULL))
);
CREATE INDEX claims_expiry ON claims (expires_at) WHERE status = 'held';
CREATE INDEX claims_user ON claims (user_id, event_id);
`;

/** The demo users: no passwords, you pick one on the sign-in page. */
export const DEMO_USERS: ReadonlyArray<{ id: string; name: string }> = [
  { id: 'alice', name: 'Alice' },
  { id: 'bob', name: 'Bob' },
  { id: 'carol', name: 'Carol' },
  { id: 'dave', name: 'Dave' },
];

interface SeedEvent {
  title: string;
  kind: string;
  venue: string;
  /** Days from the first start. */
  inDays: number;
  hour: number;
  rows: number;
  seatsPerRow: number;
  priceCents: number;
  /** Seats already sold (to carol and dave), so the map does not start empty. */
  sold: string[];
}

const SEED_EVENTS: readonly SeedEvent[] = [
  { title: 'The Lighthouse Keepers', kind: 'Concert', venue: 'Harbour Hall', inDays: 9, hour: 20, rows: 8, seatsPerRow: 12, priceCents: 4500, sold: ['A5', 'A6', 'A7', 'B6', 'D1', 'D2'] },
  { title: 'Metropolis (1927), restored', kind: 'Screening', venue: 'Cinema Paradiso, screen 2', inDays: 3, hour: 19, rows: 6, seatsPerRow: 10, priceCents: 1200, sold: ['C4', 'C5', 'F1'] },
  { title: 'A Midsummer Night’s Dream', kind: 'Theatre', venue: 'The Old Vic Annex', inDays: 16, hour: 19, rows: 10, seatsPerRow: 14, priceCents: 3800, sold: ['A1', 'A2', 'E7', 'E8', 'E9'] },
  { title: 'Late Night Jazz Trio', kind: 'Concert', venue: 'Blue Note Cellar', inDays: 5, hour: 22, rows: 5, seatsPerRow: 8, priceCents: 2500, sold: [] },
];

/** Opens (creating when missing) the database at `file`, with its schema and seed data. */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  // WAL: readers do not block the writer; busy_timeout: a second process waits for the write lock.
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === 0) {
    db.transaction(() => {
      db.exec(SCHEMA);
      seed(db, Date.now());
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }).immediate();
  } else if (version !== SCHEMA_VERSION) {
    db.close();
    throw new Error(`${file}: schema version ${version}, this demo knows ${SCHEMA_VERSION}: delete the file to start over`);
  }
  return db;
}

/** The demo users and events, with a few seats already sold. */
function seed(db: Db, now: number): void {
  const user = db.prepare('INSERT INTO users (id, name) VALUES (?, ?)');
  for (const u of DEMO_USERS) user.run(u.id, u.name);
  const event = db.prepare(
    'INSERT INTO events (title, kind, venue, starts_at, rows, seats_per_row, price_cents) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const order = db.prepare('INSERT INTO orders (event_id, user_id, total_cents, created_at) VALUES (?, ?, ?, ?)');
  const claim = db.prepare("INSERT INTO claims (event_id, seat, user_id, status, order_id) VALUES (?, ?, ?, 'sold', ?)");
  for (const e of SEED_EVENTS) {
    const day = new Date(now + e.inDays * 86_400_000);
    day.setHours(e.hour, 0, 0, 0);
    const eventId = Number(event.run(e.title, e.kind, e.venue, day.toISOString(), e.rows, e.seatsPerRow, e.priceCents).lastInsertRowid);
    e.sold.forEach((seat, i) => {
      const buyer = i % 2 === 0 ? 'carol' : 'dave';
      const orderId = Number(order.run(eventId, buyer, e.priceCents, now).lastInsertRowid);
      claim.run(eventId, seat, buyer, orderId);
    });
  }
}
