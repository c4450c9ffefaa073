/**
 * The ticket-booking demo's command line: `npm run example:booking`.
 *
 *   PORT          port of the pages, the API and the WebSocket endpoint (default 3000)
 *   BOOKING_DB    the SQLite file (default examples/ticket-booking/data/booking.sqlite)
 *   HOLD_SECONDS  how long a clicked seat stays held (default 60)
 *   SESSION_SECRET  the session cookie's key (default random: a restart signs everyone out)
 */
import { startBookingApp } from './app.js';
import { DEMO_USERS } from './db.js';

/** A number from the environment (or the fallback); a bad one stops the start, naming it. */
function numberFrom(name: string, fallback: number, what: string, valid: (n: number) => boolean): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!valid(n)) {
    console.error(`${name}=${raw} is not ${what}`);
    process.exit(2);
  }
  return n;
}

const port = numberFrom('PORT', 3000, 'a port (0-65535)', (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
const app = await startBookingApp({
  port,
  holdSeconds: numberFrom('HOLD_SECONDS', 60, 'a number of seconds above 0', (n) => Number.isFinite(n) && n > 0),
  ...(process.env['BOOKING_DB'] !== undefined && { dbFile: process.env['BOOKING_DB'] }),
  ...(process.env['SESSION_SECRET'] !== undefined && { sessionSecret: process.env['SESSION_SECRET'] }),
}).catch((e: unknown) => {
  if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
  console.error(`port ${port} is already taken: stop what runs there, or pick another: PORT=3001 npm run example:booking`);
  process.exit(1);
});

console.log(`
  Ticket booking on Gyre: ${app.url}

  Open it in two browser windows (one private, so each has its own session), sign in as two
  of ${DEMO_USERS.map((u) => u.name).join(', ')}, open the same event and click seats.
  Ctrl-C stops it.
`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void app.close().then(() => process.exit(0)));
}
