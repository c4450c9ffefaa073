/**
 * The ticket-booking demo, assembled: the database, the booking service, the web app, and a Gyre
 * node attached to the same HTTP server (one process, one port: pages, JSON API and
 * `/connection/websocket`).
 *
 *   browser ──HTTP──▶ pages, /api/*                       (pages.ts, api.ts)
 *   browser ══WS═══▶ Gyre: connect / subscribe / rpc     (realtime.ts)
 *                      rpc post:events/1/holds ──▶ POST /api/events/1/holds ──▶ BookingService
 *   BookingService ──▶ SQLite (store.ts) ──▶ Broadcast `local` ──▶ event.1, user.alice (broadcasts.ts)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import { BroadcastManager, createLogger, type Gyre, type Logger } from 'gyre';
import { BookingService } from './booking.js';
import { BookingBroadcasts } from './broadcasts.js';
import { openDatabase, type Db } from './db.js';
import { HoldExpiry } from './expiry.js';
import { webApp } from './pages.js';
import { createRealtime } from './realtime.js';
import { Sessions } from './session.js';
import { BookingStore } from './store.js';

/** Where the database lives unless told otherwise. */
export const DEFAULT_DB_FILE = fileURLToPath(new URL('./data/booking.sqlite', import.meta.url));

export interface BookingAppOptions {
  /** Port to listen on (0: any free one). Default 3000. */
  port?: number;
  /** Address to listen on. Default all interfaces. */
  host?: string;
  /** The SQLite file, created and seeded when missing. Default `data/booking.sqlite` here. */
  dbFile?: string;
  /** How long a hold lasts, in seconds. Default 60. */
  holdSeconds?: number;
  /** The session cookie's signing key. Default random per start (a restart signs everyone out). */
  sessionSecret?: string;
  /** Publications kept per channel for recovery (default 300). */
  historySize?: number;
  /** Server ping interval, e.g. "5s" (default Gyre's 25 s). */
  pingInterval?: string;
  /** Log level: "info" (default), "warn", "none" ... */
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'none';
  /** A logger of your own instead. */
  log?: Logger;
}

export interface BookingApp {
  /** `http://localhost:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly booking: BookingService;
  readonly gyre: Gyre;
  readonly db: Db;
  /** Stops the expiry timer, closes every connection (clients get 3001), the server and the database. */
  close(): Promise<void>;
}

/** Starts the demo: creates and seeds the database if needed, and listens. */
export async function startBookingApp(options: BookingAppOptions = {}): Promise<BookingApp> {
  const log = options.log ?? createLogger({ level: options.logLevel ?? 'info', file: '' });
  const db = openDatabase(options.dbFile ?? DEFAULT_DB_FILE);
  const store = new BookingStore(db);
  const sessions = new Sessions(options.sessionSecret);

  // The web app is built after Gyre (the booking service publishes through it), and Gyre's RPC
  // router calls the web app: this forward reference ties the two.
  let web: ReturnType<typeof webApp> | undefined;
  const gyre = createRealtime({
    store,
    sessions,
    app: (request, bindings) => web!.fetch(request, bindings),
    log,
    ...(options.historySize !== undefined && { historySize: options.historySize }),
    ...(options.pingInterval !== undefined && { pingInterval: options.pingInterval }),
  });
  // env: {}: BROADCAST_CONNECTION must not move the demo's seat updates off this node.
  const broadcast = new BroadcastManager({ default: 'local', connections: { local: { driver: 'local' } } }, { gyre, logger: log, env: {} });
  const broadcasts = new BookingBroadcasts(broadcast, log);
  const expiry = new HoldExpiry(store, broadcasts, log);
  const booking = new BookingService(store, broadcasts, expiry, (options.holdSeconds ?? 60) * 1000);
  web = webApp(booking, sessions);

  // Node's HTTP server in front of the fetch-style app (@hono/node-server).
  const server: Server = createServer(getRequestListener((request) => web!.fetch(request, {})));
  await gyre.server.attach(server); // WebSocket upgrades at /connection/websocket
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Holds that ran out while the app was down are freed now; then the timer takes over.
  await expiry.sweep();
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    url: `http://localhost:${port}`,
    port,
    booking,
    gyre,
    db,
    close() {
      closing ??= (async () => {
        expiry.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await gyre.server.shutdown();
        server.closeAllConnections();
        await closed;
        await broadcast.close();
        db.close();
      })();
      return closing;
    },
  };
}
