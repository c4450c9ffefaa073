/**
 * The ticket-booking demo without a browser: its HTTP API (sessions, refusals with clear errors,
 * bad input), its Gyre side through the real `centrifuge` client (a session is needed to connect,
 * the topic registry, RPC routed to the HTTP routes, broadcasts, the personal channel), concurrent
 * holds of one seat (exactly one winner over HTTP and over RPC), expiry, and the database across
 * restarts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Centrifuge, type PublicationContext, type Subscription } from 'centrifuge';
import WebSocket from 'ws';
import { startBookingApp, type BookingApp } from '../../examples/ticket-booking/app.js';
import { openDatabase } from '../../examples/ticket-booking/db.js';
import { BookingError, BookingStore } from '../../examples/ticket-booking/store.js';
import { once, waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'booking-test-'));
  dirs.push(dir);
  return join(dir, 'booking.sqlite');
}

/** Signs in through the form; returns the session cookie (name=value). */
async function signIn(app: BookingApp, user: string): Promise<string> {
  const res = await fetch(`${app.url}/login`, { method: 'POST', body: new URLSearchParams({ user, next: '/events/1' }), redirect: 'manual' });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/events/1');
  const cookie = res.headers.getSetCookie()[0];
  assert.ok(cookie !== undefined, 'a session cookie');
  return cookie.split(';')[0]!;
}

async function api(app: BookingApp, cookie: string | undefined, method: string, path: string, body?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${app.url}${path}`, {
    method,
    headers: { ...(cookie !== undefined && { cookie }), 'content-type': 'application/json' },
    ...(body !== undefined && { body }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** A centrifuge client whose WebSocket upgrade carries the cookie, as a browser's would. */
function client(app: BookingApp, cookie: string | undefined): Centrifuge {
  class CookieWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers: cookie === undefined ? {} : { cookie } });
    }
  }
  return new Centrifuge(`ws://localhost:${app.port}/connection/websocket`, { websocket: CookieWebSocket, minReconnectDelay: 100 });
}

async function connected(c: Centrifuge): Promise<Centrifuge> {
  const ready = once(c, 'connected', 'the client to connect');
  c.connect();
  await ready;
  return c;
}

/** Subscribes and resolves once subscribed; collects publications. */
async function subscribed(c: Centrifuge, channel: string): Promise<{ sub: Subscription; pubs: unknown[] }> {
  const sub = c.newSubscription(channel);
  const pubs: unknown[] = [];
  sub.on('publication', (ctx: PublicationContext) => pubs.push(ctx.data));
  const ready = once(sub, 'subscribed', `a subscription to ${channel}`);
  sub.subscribe();
  await ready;
  return { sub, pubs };
}

/** Waits until `pubs` holds one matching `match`; resolves with it. */
function publication<T>(pubs: unknown[], what: string, match: (p: T) => boolean): Promise<T> {
  return waitFor<T>(what, (resolve) => {
    const timer = setInterval(() => {
      const found = (pubs as T[]).find(match);
      if (found !== undefined) resolve(found);
    }, 10);
    return () => clearInterval(timer);
  });
}

type SeatsMessage = { type: 'seats'; version: number; seats: Array<{ seat: string; status: string; user?: string }> };

describe('ticket booking over HTTP', () => {
  let app: BookingApp;
  let alice: string;
  let bob: string;

  before(async () => {
    app = await startBookingApp({ port: 0, dbFile: tempDb(), logLevel: 'none' });
    alice = await signIn(app, 'alice');
    bob = await signIn(app, 'bob');
  });
  after(() => app.close());

  test('pages need a session; the sign-in form refuses unknown users', async () => {
    const page = await fetch(`${app.url}/events/1`, { redirect: 'manual' });
    assert.equal(page.status, 302);
    assert.equal(page.headers.get('location'), '/login?next=%2Fevents%2F1');
    const withSession = await fetch(`${app.url}/events/1`, { headers: { cookie: alice } });
    assert.equal(withSession.status, 200);
    assert.match(await withSession.text(), /\/vendor\/centrifuge\.js/);
    const sdk = await fetch(`${app.url}/vendor/centrifuge.js`);
    assert.equal(sdk.status, 200);
    assert.match(await sdk.text(), /globalThis\.Centrifuge=/);
    const unknown = await fetch(`${app.url}/login`, { method: 'POST', body: new URLSearchParams({ user: 'mallory', next: '//evil.example' }), redirect: 'manual' });
    assert.equal(unknown.status, 303);
    assert.equal(unknown.headers.get('location'), '/login?error=unknown_user&next=%2F');
    assert.equal(unknown.headers.getSetCookie().length, 0);
    assert.equal((await fetch(`${app.url}/assets/..%2f..%2fapp.ts`)).status, 404);
  });

  test('the API refuses with a status, a code and a sentence', async () => {
    const cases: Array<[string, string | undefined, string, string, string | undefined, number, string]> = [
      ['no session', undefined, 'GET', '/api/events', undefined, 401, 'signed_out'],
      ['a forged session', 'booking_session=alice.forged', 'GET', '/api/events', undefined, 401, 'signed_out'],
      ['bad JSON', alice, 'POST', '/api/events/1/holds', '{"seat": ', 400, 'bad_json'],
      ['not an object', alice, 'POST', '/api/events/1/holds', '["A1"]', 400, 'bad_request'],
      ['no seat', alice, 'POST', '/api/events/1/holds', '{}', 400, 'bad_request'],
      ['a seat out of range', alice, 'POST', '/api/events/1/holds', '{"seat": "Z99"}', 400, 'bad_seat'],
      ['a seat past the row', alice, 'POST', '/api/events/1/holds', '{"seat": "A13"}', 400, 'bad_seat'],
      ['not a seat id', alice, 'POST', '/api/events/1/holds', '{"seat": "A01; DROP TABLE claims"}', 400, 'bad_seat'],
      ['an unknown event', alice, 'POST', '/api/events/99/holds', '{"seat": "A1"}', 404, 'event_not_found'],
      ['an event id that is no number', alice, 'GET', '/api/events/abc', undefined, 404, 'event_not_found'],
      ['a sold seat', alice, 'POST', '/api/events/1/holds', '{"seat": "A5"}', 409, 'seat_sold'],
      ['nothing to buy', alice, 'POST', '/api/events/1/purchase', '{}', 422, 'nothing_to_buy'],
      ['releasing a seat one does not hold', alice, 'DELETE', '/api/events/1/holds/C3', undefined, 404, 'no_hold'],
      ['an unknown route', alice, 'GET', '/api/nothing', undefined, 404, 'not_found'],
    ];
    for (const [name, cookie, method, path, body, status, code] of cases) {
      const res = await api(app, cookie, method, path, body);
      assert.equal(res.status, status, `${name}: ${JSON.stringify(res.json)}`);
      assert.equal(res.json['error'], code, name);
      assert.equal(typeof res.json['message'], 'string', name);
    }
    const huge = await api(app, alice, 'POST', '/api/events/1/holds', JSON.stringify({ seat: 'A1', pad: 'x'.repeat(100_000) }));
    assert.equal(huge.status, 413);
  });

  test('hold, refuse a second holder, release, hold again, buy', async () => {
    const hold = await api(app, alice, 'POST', '/api/events/1/holds', '{"seat": "C3"}');
    assert.equal(hold.status, 201);
    assert.equal((hold.json['hold'] as { seat: string }).seat, 'C3');
    assert.deepEqual((await api(app, alice, 'POST', '/api/events/1/holds', '{"seat": "C3"}')).status, 201, 'holding one\'s own hold again is fine');
    const taken = await api(app, bob, 'POST', '/api/events/1/holds', '{"seat": "C3"}');
    assert.equal(taken.status, 409);
    assert.equal(taken.json['error'], 'seat_held');
    assert.equal((await api(app, alice, 'DELETE', '/api/events/1/holds/C3')).status, 200);
    assert.equal((await api(app, bob, 'POST', '/api/events/1/holds', '{"seat": "C3"}')).status, 201);
    const order = await api(app, bob, 'POST', '/api/events/1/purchase', '{}');
    assert.equal(order.status, 201);
    assert.deepEqual((order.json['order'] as { seats: string[] }).seats, ['C3']);
    const map = await api(app, alice, 'GET', '/api/events/1');
    assert.deepEqual(
      (map.json['taken'] as Array<{ seat: string }>).find((s) => s.seat === 'C3'),
      { seat: 'C3', status: 'sold', user: 'bob' },
    );
  });

  test('many users holding one seat at once: exactly one gets it', async () => {
    const users = ['alice', 'bob', 'carol', 'dave'];
    const cookies = await Promise.all(users.map((u) => signIn(app, u)));
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => api(app, cookies[i % users.length], 'POST', '/api/events/3/holds', '{"seat": "F7"}')),
    );
    const holders = app.db.prepare("SELECT user_id FROM claims WHERE event_id = 3 AND seat = 'F7'").pluck().all() as string[];
    assert.equal(holders.length, 1, 'one claim of the seat');
    // The winner's requests all get the hold (holding one's own hold again is fine); everyone else's are refused.
    results.forEach((r, i) => {
      const mine = users[i % users.length] === holders[0];
      assert.equal(r.status, mine ? 201 : 409, `request ${i} (${users[i % users.length]}): ${JSON.stringify(r.json)}`);
      if (!mine) assert.equal(r.json['error'], 'seat_held');
    });
  });
});

describe('ticket booking over Gyre', () => {
  let app: BookingApp;
  let alice: string;
  let bob: string;
  const clients: Centrifuge[] = [];
  const track = (c: Centrifuge): Centrifuge => (clients.push(c), c);

  before(async () => {
    app = await startBookingApp({ port: 0, dbFile: tempDb(), holdSeconds: 0.4, logLevel: 'none' });
    alice = await signIn(app, 'alice');
    bob = await signIn(app, 'bob');
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    await app.close();
  });

  test('a connection needs a session: without one it is closed with 4501 and not retried', async () => {
    const c = track(client(app, undefined));
    const closed = once<{ code: number; reason: string }>(c, 'disconnected', 'the connect handler to refuse');
    c.connect();
    const { code, reason } = await closed;
    assert.equal(code, 4501);
    assert.equal(reason, 'sign in first');
  });

  test('the topic registry: event.{id} of an existing event, user.{id} of oneself only', async () => {
    const c = track(await connected(client(app, alice)));
    await subscribed(c, 'event.1');
    await subscribed(c, 'user.alice');
    for (const channel of ['user.bob', 'event.99', 'event.01', 'news', 'user.alice.x']) {
      const sub = c.newSubscription(channel);
      const refused = once<{ code: number }>(sub, 'unsubscribed', `${channel} to be refused`);
      sub.subscribe();
      assert.equal((await refused).code, 103, channel);
      c.removeSubscription(sub);
    }
  });

  test('RPC reaches the HTTP routes as the connection\'s user; viewers get the change, the buyer the confirmation', async () => {
    const a = track(await connected(client(app, alice)));
    const b = track(await connected(client(app, bob)));
    const { pubs: seen } = await subscribed(a, 'event.2');
    const { pubs: bobs } = await subscribed(b, 'user.bob');

    const map = (await b.rpc('get:events/2', {})).data as { code: number; version: number; event: { title: string } };
    assert.equal(map.code, 200);
    assert.equal(map.event.title, 'Metropolis (1927), restored');

    const hold = (await b.rpc('post:events/2/holds', { seat: 'B4' })).data as { code: number; hold: { seat: string } };
    assert.equal(hold.code, 201);
    const held = await publication<SeatsMessage>(seen, 'the hold on event.2', (p) => p.seats[0]?.seat === 'B4');
    assert.deepEqual({ ...held.seats[0], expiresAt: undefined }, { seat: 'B4', status: 'held', user: 'bob', expiresAt: undefined });
    assert.ok(held.version > map.version);

    const refused = (await a.rpc('post:events/2/holds', { seat: 'B4' })).data as { code: number; error: string; message: string };
    assert.equal(refused.code, 409);
    assert.equal(refused.error, 'seat_held');

    const bad = (await a.rpc('post:events/2/holds', 'not an object')).data as { code: number; error: string };
    assert.deepEqual([bad.code, bad.error], [400, 'bad_request']);
    await assert.rejects(a.rpc('no-such-method', {}), (e: { code: number }) => e.code === 104);

    const order = (await b.rpc('post:events/2/purchase', {})).data as { code: number; order: { id: number; seats: string[] } };
    assert.equal(order.code, 201);
    const sold = await publication<SeatsMessage>(seen, 'the sale on event.2', (p) => p.seats[0]?.status === 'sold');
    assert.deepEqual(sold.seats, [{ seat: 'B4', status: 'sold', user: 'bob' }]);
    const booked = await publication<{ type: string; order: { id: number } }>(bobs, 'the confirmation on user.bob', (p) => p.type === 'booked');
    assert.equal(booked.order.id, order.order.id);
  });

  test('two connections racing for one seat over RPC: one winner', async () => {
    const a = track(await connected(client(app, alice)));
    const b = track(await connected(client(app, bob)));
    const calls = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).rpc('post:events/4/holds', { seat: 'C2' }));
    const codes = (await Promise.all(calls)).map((r) => (r.data as { code: number }).code);
    const holders = app.db.prepare("SELECT user_id FROM claims WHERE event_id = 4 AND seat = 'C2'").all() as Array<{ user_id: string }>;
    assert.equal(holders.length, 1);
    const winnerIsAlice = holders[0]!.user_id === 'alice';
    assert.deepEqual(
      codes,
      codes.map((_, i) => ((i % 2 === 0) === winnerIsAlice ? 201 : 409)),
    );
  });

  test('a hold that runs out frees the seat for every viewer and tells the holder', async () => {
    const a = track(await connected(client(app, alice)));
    const { pubs: seen } = await subscribed(a, 'event.3');
    const { pubs: mine } = await subscribed(a, 'user.alice');
    assert.equal(((await a.rpc('post:events/3/holds', { seat: 'J14' })).data as { code: number }).code, 201);
    const freed = await publication<SeatsMessage>(seen, 'J14 freed by expiry', (p) => p.seats.some((s) => s.seat === 'J14' && s.status === 'free'));
    assert.ok(freed.version > 0);
    const told = await publication<{ type: string; seats: string[] }>(mine, 'the expiry on user.alice', (p) => p.type === 'hold_expired' && p.seats.includes('J14'));
    assert.deepEqual(told.seats, ['J14']);
    assert.equal(app.db.prepare("SELECT COUNT(*) AS n FROM claims WHERE event_id = 3 AND seat = 'J14'").pluck().get(), 0);
  });
});

describe('the booking store', () => {
  test('a hold that ran out but was not swept yet counts as free, and names whose it was', () => {
    const db = openDatabase(':memory:');
    const store = new BookingStore(db);
    store.hold(1, 'H1', 'alice', 1000, 500);
    assert.throws(() => store.hold(1, 'H1', 'bob', 1499, 500), (e: BookingError) => e.code === 'seat_held');
    const { hold, expired } = store.hold(1, 'H1', 'bob', 1500, 500);
    assert.deepEqual(hold, { eventId: 1, seat: 'H1', expiresAt: 2000 });
    assert.deepEqual(expired, { userId: 'alice', eventId: 1, eventTitle: 'The Lighthouse Keepers', seats: ['H1'] });
    assert.equal(store.nextExpiry(), 2000);
    assert.deepEqual(store.expire(1999).changes, []);
    const { changes } = store.expire(2000);
    assert.deepEqual(changes.map((c) => c.seats), [[{ seat: 'H1', status: 'free' }]]);
    assert.equal(store.nextExpiry(), undefined);
    db.close();
  });

  test('a user holds at most six seats of an event at a time', () => {
    const db = openDatabase(':memory:');
    const store = new BookingStore(db);
    for (let n = 1; n <= 6; n++) store.hold(4, `A${n}`, 'dave', 0, 60_000);
    assert.throws(() => store.hold(4, 'A7', 'dave', 0, 60_000), (e: BookingError) => e.status === 409 && e.code === 'hold_limit');
    db.close();
  });

  test('the database is created and seeded once, and keeps what was sold across restarts', async () => {
    const file = tempDb();
    const first = await startBookingApp({ port: 0, dbFile: file, logLevel: 'none' });
    const cookie = await signIn(first, 'carol');
    assert.equal((await api(first, cookie, 'POST', '/api/events/2/holds', '{"seat": "A1"}')).status, 201);
    assert.equal((await api(first, cookie, 'POST', '/api/events/2/purchase', '{}')).status, 201);
    await first.close();
    const second = await startBookingApp({ port: 0, dbFile: file, logLevel: 'none' });
    try {
      const again = await signIn(second, 'carol');
      const { json } = await api(second, again, 'GET', '/api/events');
      assert.equal((json['events'] as unknown[]).length, 4);
      const map = await api(second, again, 'GET', '/api/events/2');
      assert.ok((map.json['taken'] as Array<{ seat: string; status: string }>).some((s) => s.seat === 'A1' && s.status === 'sold'));
    } finally {
      await second.close();
    }
  });
});
