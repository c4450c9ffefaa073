/**
 * The event endpoint over raw `ws` sockets: routing to listeners (functions, objects, async, in
 * order), replies, broadcast, disconnect, the own listener, origins, and the disabled endpoint.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EventMessage, EventsApi } from '../../src/events/types.js';
import { EventSocket, assertServed, connectionIdOf, echoListeners, freePort, startEvents, until, type EventsGyre } from './helpers.js';
import { RawSocket } from '../helpers/gyre.js';

/** A listener class with a handle() method, as in the original bundle. */
class TestHandler {
  private readonly greeting = 'Hello World';

  handle(server: EventsApi, message: EventMessage): void {
    server.sendMessage(message.connectionId, 'RESPONSE_EVENT', { message: this.greeting });
  }
}

describe('the event endpoint on the main port', () => {
  let gyre: EventsGyre;
  const order: string[] = [];

  before(async () => {
    gyre = await startEvents(
      // Lets the test of the Centrifugo endpoint next to this one connect without a token.
      { client: { allow_anonymous_connect_without_token: true } },
      {
        setup(events) {
          echoListeners(events);
          // An object listener, as the original bundle's listener classes.
          events.on('HELLO', new TestHandler());
          events.on('SLOW', async (server, m) => {
            await new Promise((r) => setTimeout(r, 20));
            order.push('slow');
            server.sendMessage(m.connectionId, 'DONE', 'slow');
          });
          events.on('FAST', (server, m) => {
            order.push('fast');
            server.sendMessage(m.connectionId, 'DONE', 'fast');
          });
          events.on('TWICE', (server, m) => void server.sendMessage(m.connectionId, 'FIRST', null));
          events.on('TWICE', (server, m) => void server.sendMessage(m.connectionId, 'SECOND', null));
          events.on('SHOUT', async (server, m) => server.broadcast('SHOUTED', m.data));
          events.on('BYE', (server, m) => void server.disconnect(m.connectionId, 4000, 'bye'));
        },
      },
    );
  });
  after(() => gyre.close());

  test('a message reaches its listener, which replies to the sender', async () => {
    const s = await gyre.socket();
    s.emit('ECHO', { text: 'hi', nested: { a: [1, 2] } });
    assert.deepEqual(await s.next(), { event: 'ECHOED', data: { text: 'hi', nested: { a: [1, 2] } } });
  });

  test('an object listener with handle() works like a function', async () => {
    const s = await gyre.socket();
    s.emit('HELLO', {});
    assert.deepEqual(await s.next(), { event: 'RESPONSE_EVENT', data: { message: 'Hello World' } });
  });

  test('async listeners are awaited: messages of one connection are handled in order', async () => {
    const s = await gyre.socket();
    order.length = 0;
    s.emit('SLOW');
    s.emit('FAST');
    assert.deepEqual(await s.nextEvent('DONE'), { event: 'DONE', data: 'slow' });
    assert.deepEqual(await s.nextEvent('DONE'), { event: 'DONE', data: 'fast' });
    assert.deepEqual(order, ['slow', 'fast']);
  });

  test('several listeners of one event run in registration order', async () => {
    const s = await gyre.socket();
    s.emit('TWICE');
    assert.equal((await s.next()).event, 'FIRST');
    assert.equal((await s.next()).event, 'SECOND');
  });

  test('a message without data reaches the listener with data undefined', async () => {
    const s = await gyre.socket();
    s.sendRaw('{"event":"ECHO"}');
    assert.deepEqual(await s.next(), { event: 'ECHOED' });
  });

  test('connection ids are distinct UUIDs', async () => {
    const a = await connectionIdOf(await gyre.socket());
    const b = await connectionIdOf(await gyre.socket());
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.notEqual(a, b);
    assert.equal(gyre.events.connection(a)?.id, a);
  });

  test('broadcast reaches every connection', async () => {
    const sockets = [await gyre.socket(), await gyre.socket(), await gyre.socket()];
    sockets[0]!.emit('SHOUT', { n: 7 });
    for (const s of sockets) assert.deepEqual(await s.nextEvent('SHOUTED'), { event: 'SHOUTED', data: { n: 7 } });
    await gyre.events.broadcast('SHOUTED', { n: 8 });
    for (const s of sockets) assert.deepEqual(await s.nextEvent('SHOUTED'), { event: 'SHOUTED', data: { n: 8 } });
  });

  test('disconnect closes the connection with the code and reason', async () => {
    const s = await gyre.socket();
    const id = await connectionIdOf(s);
    s.emit('BYE');
    assert.deepEqual(await s.closed, { code: 4000, reason: 'bye' });
    await until(() => gyre.events.connection(id) === undefined);
    assert.equal(gyre.events.sendMessage(id, 'LATE', {}), false);
    assert.equal(gyre.events.disconnect(id), false);
  });

  test('disconnect refuses close codes WebSocket does not allow', async () => {
    const s = await gyre.socket();
    const id = await connectionIdOf(s);
    assert.throws(() => gyre.events.disconnect(id, 1006), RangeError);
    assert.throws(() => gyre.events.disconnect(id, 2999), RangeError);
    await assertServed(s);
  });

  test('disconnect cuts a long reason to 123 bytes on a character boundary', async () => {
    const s = await gyre.socket();
    const id = await connectionIdOf(s);
    const reason = 'é'.repeat(100); // 200 bytes
    assert.equal(gyre.events.disconnect(id, 4000, reason), true);
    assert.deepEqual(await s.closed, { code: 4000, reason: 'é'.repeat(61) }); // 122 bytes
  });

  test('sendMessage to an unknown connection returns false', () => {
    assert.equal(gyre.events.sendMessage('no-such-connection', 'X', {}), false);
  });

  test('a plain HTTP request to the endpoint path is told to upgrade', async () => {
    const res = await fetch(`http://127.0.0.1:${gyre.port}/connection/events`);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: 'expected a WebSocket upgrade' });
  });

  test('the Centrifugo endpoint still serves next to it', async () => {
    const ws = await RawSocket.open(`ws://127.0.0.1:${gyre.port}/connection/websocket`);
    try {
      // It speaks the Centrifugo protocol: a connect command is answered with a client id.
      const reply = await ws.connect();
      const result = reply['connect'] as { client?: unknown; version?: unknown; ping?: unknown; pong?: unknown } | undefined;
      assert.ok(result !== undefined, `connect failed: ${JSON.stringify(reply)}`);
      assert.equal(typeof result.client, 'string');
      assert.match(result.client as string, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(typeof result.version, 'string');
      assert.equal(result.pong, true);
      assert.equal(typeof result.ping, 'number');
      // A Centrifugo client is not an event connection.
      assert.equal(gyre.events.connection(result.client as string), undefined);
      // A second command on the same connection is answered too (id for id).
      ws.sendJson({ id: 2, presence: { channel: 'nope:x' } });
      assert.deepEqual(await ws.reply(2), { id: 2, error: { code: 102, message: 'unknown channel' } });
    } finally {
      ws.ws.terminate();
    }
  });

  test('a listener removed with the function on() returned no longer runs', async () => {
    const off = gyre.events.on('TEMP', (server, m) => void server.sendMessage(m.connectionId, 'TEMP_OK', null));
    const s = await gyre.socket();
    s.emit('TEMP');
    assert.equal((await s.next()).event, 'TEMP_OK');
    off();
    s.emit('TEMP');
    const m = await s.next();
    assert.equal(m.event, 'error');
    assert.equal((m.data as { code: string }).code, 'unknown_event');
  });
});

describe('origins', () => {
  let gyre: EventsGyre;
  before(async () => {
    gyre = await startEvents({ client: { allowed_origins: ['https://good.example'] } }, { setup: echoListeners });
  });
  after(() => gyre.close());

  test('an allowed origin connects, another one is refused with 403', async () => {
    const s = await gyre.socket({ origin: 'https://good.example' });
    await assertServed(s);
    await assert.rejects(EventSocket.open(gyre.url, { origin: 'https://evil.example' }), /403/);
    const lines = gyre.logs.filter((l) => /is not allowed: refused with 403; to accept pages from it, add it to client\.allowed_origins/.test(String(l.msg)));
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!['transport'], 'events');
  });
});

describe('the event endpoint on its own listener', () => {
  let gyre: EventsGyre;
  let port = 0;
  const started: Array<{ host: string; port: number; path: string }> = [];

  before(async () => {
    port = await freePort();
    gyre = await startEvents(
      { events: { address: '127.0.0.1', port, handler_prefix: '/' } },
      {
        setup(events) {
          echoListeners(events);
          events.hook('start_server', (_server, e) => void started.push({ host: e.host, port: e.port, path: e.path }));
        },
      },
    );
  });
  after(() => gyre.close());

  test('serves ws://host:port/ as configured, and only there', async () => {
    assert.equal(gyre.url, `ws://127.0.0.1:${port}/`);
    await assertServed(await gyre.socket());
    assert.deepEqual(started, [{ host: '127.0.0.1', port, path: '/' }]);
    await assert.rejects(EventSocket.open(`ws://127.0.0.1:${port}/other`), /404/);
    // The main port does not serve it.
    await assert.rejects(EventSocket.open(`ws://127.0.0.1:${gyre.port}/`), /404/);
  });

  test('is closed by shutdown', async () => {
    const s = await gyre.socket();
    await gyre.server.shutdown();
    assert.deepEqual(await s.closed, { code: 1001, reason: 'shutdown' });
    await assert.rejects(EventSocket.open(gyre.url));
  });
});

describe('a disabled event endpoint', () => {
  let gyre: EventsGyre | undefined;
  after(() => gyre?.close());

  test('is not served, and server.events says why', async () => {
    const { startGyre } = await import('../helpers/gyre.js');
    const g = await startGyre({ events: { enabled: false } });
    try {
      await assert.rejects(EventSocket.open(`ws://127.0.0.1:${g.port}/connection/events`), /404/);
      assert.throws(() => g.server.events, /events\.enabled/);
    } finally {
      await g.close();
    }
  });
});
