/**
 * The app's JSON routes (Hono). Browsers reach them two ways: over HTTP with the session cookie,
 * and as RPC calls over their Gyre connection (`post:events/1/holds` → `POST /api/events/1/holds`,
 * see realtime.ts), where the user is the connection's, handed over as the `rpcUser` binding.
 *
 *   GET    /api/me                        the signed-in user
 *   GET    /api/events                    events with their free seats
 *   GET    /api/events/{id}               an event's seat map (taken seats) at its version
 *   POST   /api/events/{id}/holds         {"seat": "C7"}: hold it → 201 {hold}; 409 taken / sold
 *   DELETE /api/events/{id}/holds/{seat}  give a hold back
 *   POST   /api/events/{id}/purchase      buy your holds → 201 {order}; 422 nothing held
 *
 * Refusals are `{"error": code, "message": sentence}` with the HTTP status.
 */
import { Hono, type Context } from 'hono';
import type { BookingService } from './booking.js';
import type { Sessions } from './session.js';
import { BookingError, type User } from './store.js';

/** What a request carries besides itself: the RPC caller, when it came over a Gyre connection. */
export interface ApiBindings {
  rpcUser?: string;
}

export type ApiEnv = { Bindings: ApiBindings; Variables: { user: User } };

type Ctx = Context<ApiEnv>;

function refuse(c: Ctx, status: BookingError['status'], error: string, message: string): Response {
  return c.json({ error, message }, status);
}

/** The event id of the path (digits only, else 404 as for an unknown event). */
function eventIdOf(c: Ctx): number {
  const id = Number(c.req.param('id'));
  if (!Number.isSafeInteger(id) || id <= 0) throw new BookingError(404, 'event_not_found', `There is no event ${c.req.param('id')}.`);
  return id;
}

/** The JSON object body; a 400 BookingError for bad JSON or anything but an object. */
async function bodyOf(c: Ctx): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new BookingError(400, 'bad_json', 'The request body is not valid JSON.');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BookingError(400, 'bad_request', 'The request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

/** The JSON API over the booking service; the user comes from `rpcUser`, else the session cookie. */
export function apiRoutes(booking: BookingService, sessions: Sessions): Hono<ApiEnv> {
  const api = new Hono<ApiEnv>();
  const store = booking.store;

  api.onError((e, c) => {
    if (e instanceof BookingError) return refuse(c, e.status, e.code, e.message);
    throw e;
  });

  api.use('*', async (c, next) => {
    const userId = c.env?.rpcUser ?? sessions.userOf(c.req.header('cookie'));
    const user = userId === undefined ? undefined : store.user(userId);
    if (user === undefined) return refuse(c, 401, 'signed_out', 'Sign in first.');
    c.set('user', user);
    await next();
  });

  api.get('/me', (c) => c.json({ user: c.get('user') }));

  api.get('/events', (c) => c.json({ events: store.events(Date.now()) }));

  api.get('/events/:id', (c) => {
    const now = Date.now();
    return c.json({ ...store.seatMap(eventIdOf(c), now), holdSeconds: booking.holdMs / 1000, serverTime: now });
  });

  api.post('/events/:id/holds', async (c) => {
    const eventId = eventIdOf(c);
    const { seat } = await bodyOf(c);
    if (typeof seat !== 'string') return refuse(c, 400, 'bad_request', 'Say which seat: {"seat": "C7"}.');
    const hold = await booking.hold(eventId, seat, c.get('user').id);
    return c.json({ hold, serverTime: Date.now() }, 201);
  });

  api.delete('/events/:id/holds/:seat', async (c) => {
    await booking.release(eventIdOf(c), c.req.param('seat'), c.get('user').id);
    return c.json({ released: c.req.param('seat') });
  });

  api.post('/events/:id/purchase', async (c) => {
    const order = await booking.purchase(eventIdOf(c), c.get('user').id);
    return c.json({ order }, 201);
  });

  return api;
}
