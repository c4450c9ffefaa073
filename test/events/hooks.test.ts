/**
 * Lifecycle hooks: start_worker and start_server once per node, in order; connection_open with the
 * request headers and Sec-WebSocket-Key; message before listeners; message_sent; the exception
 * hook; connection_closed last; a failing hook is logged and changes nothing else.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { validateConfig } from '../../src/config/validate.js';
import { deepMerge } from '../../src/config/tree.js';
import type {
  ConnectionClosedEvent,
  ConnectionOpenEvent,
  EventMessage,
  MessageHandlerExceptionEvent,
  MessageSentEvent,
} from '../../src/events/types.js';
import { GyreServer } from '../../src/server.js';
import { EVENTS_BASE, assertServed, connectionIdOf, echoListeners, startEvents, until, type EventsGyre } from './helpers.js';

let gyre: EventsGyre;
const calls: string[] = [];
const opened: ConnectionOpenEvent[] = [];
const closed: ConnectionClosedEvent[] = [];
const messages: EventMessage[] = [];
const sent: MessageSentEvent[] = [];
const exceptions: MessageHandlerExceptionEvent[] = [];
let workerEvent: { nodeId: string; pid: number } | undefined;
let serverEvent: { port: number; path: string } | undefined;

before(async () => {
  gyre = await startEvents(
    {},
    {
      setup(events) {
        echoListeners(events);
        events.hook('start_worker', async (_s, e) => {
          await new Promise((r) => setImmediate(r));
          calls.push('start_worker');
          workerEvent = { nodeId: e.nodeId, pid: e.pid };
        });
        events.hook('start_server', (_s, e) => {
          calls.push('start_server');
          serverEvent = { port: e.port, path: e.path };
        });
        events.hook('connection_open', (_s, e) => void opened.push(e));
        events.hook('connection_closed', (_s, e) => void closed.push(e));
        events.hook('message', (_s, m) => {
          messages.push(m);
          calls.push(`message:${m.event}`);
        });
        events.hook('message_sent', (_s, e) => void sent.push(e));
        events.hook('message_handler_exception', (_s, e) => void exceptions.push(e));
        events.on('BOOM', () => {
          throw new Error('kaput');
        });
        events.on('ORDER', (server, m) => {
          calls.push('listener:ORDER');
          server.sendMessage(m.connectionId, 'ORDERED', null);
        });
        events.on('BIND', async (server, m) => void (await server.bindUser(m.connectionId, String(m.data))));
      },
    },
  );
});
after(() => gyre.close());

test('start_worker then start_server, once, before listen() resolves', () => {
  assert.deepEqual(calls.slice(0, 2), ['start_worker', 'start_server']);
  assert.deepEqual(workerEvent, { nodeId: gyre.server.node.id, pid: process.pid });
  assert.deepEqual(serverEvent, { port: gyre.port, path: '/connection/events' });
});

test('connection_open carries the request headers and the Sec-WebSocket-Key of the handshake', async () => {
  const s = await gyre.socket({ headers: { 'X-App-Version': '1.2.3' } });
  const id = await connectionIdOf(s);
  const e = opened.find((o) => o.connectionId === id);
  assert.ok(e !== undefined);
  assert.equal(e.headers['x-app-version'], '1.2.3');
  assert.equal(e.url, '/connection/events');
  assert.match(e.secWebSocketKey, /^[A-Za-z0-9+/]{22}==$/);
  assert.equal(e.secWebSocketKey, gyre.events.connection(id)?.secWebSocketKey);
  // The key is the one the handshake answered: accept = base64(sha1(key + GUID)).
  const expected = createHash('sha1').update(e.secWebSocketKey + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  assert.equal(s.upgradeHeaders['sec-websocket-accept'], expected);
});

test('the message hook sees each message before its listeners', async () => {
  const s = await gyre.socket();
  const id = await connectionIdOf(s);
  calls.length = 0;
  s.emit('ORDER', { x: 1 });
  await s.nextEvent('ORDERED');
  assert.deepEqual(calls, ['message:ORDER', 'listener:ORDER']);
  const m = messages.find((x) => x.connectionId === id && x.event === 'ORDER');
  assert.deepEqual(m, { connectionId: id, event: 'ORDER', data: { x: 1 }, userId: undefined });
});

test('message_sent reports each message queued on a connection', async () => {
  const s = await gyre.socket();
  const id = await connectionIdOf(s);
  s.emit('ECHO', { n: 42 });
  await s.nextEvent('ECHOED');
  assert.ok(sent.some((e) => e.connectionId === id && e.event === 'ECHOED' && (e.data as { n: number }).n === 42));
  await gyre.events.sendToUser('nobody', 'X', null); // no connection: nothing reported
  assert.ok(!sent.some((e) => e.event === 'X'));
});

test('message_handler_exception gets the message and the error, before the error event', async () => {
  const s = await gyre.socket();
  const id = await connectionIdOf(s);
  s.emit('BOOM', { why: 'test' });
  const err = await s.nextEvent('error');
  assert.deepEqual(err.data, { code: 'internal', reason: 'the listener of event "BOOM" failed', event: 'BOOM' });
  const e = exceptions.find((x) => x.message.connectionId === id);
  assert.ok(e !== undefined);
  assert.deepEqual(e.message.data, { why: 'test' });
  assert.equal((e.error as Error).message, 'kaput');
  await assertServed(s);
});

test('connection_closed comes last, with the code, reason and the user it was bound to', async () => {
  const s = await gyre.socket();
  const id = await connectionIdOf(s);
  s.emit('BIND', 'u-1');
  await until(() => gyre.events.userConnections('u-1').includes(id));
  s.ws.close(4001, 'leaving');
  await until(() => closed.some((c) => c.connectionId === id));
  assert.deepEqual(
    closed.find((c) => c.connectionId === id),
    { connectionId: id, userId: 'u-1', code: 4001, reason: 'leaving' },
  );
  assert.deepEqual(gyre.events.userConnections('u-1'), []);
});

test('a hook that throws is logged once and the connection carries on', async () => {
  const off = gyre.events.hook('message', (_s, m) => {
    if (m.event === 'ECHO') throw new Error('hook bug');
  });
  try {
    const s = await gyre.socket();
    const mark = gyre.logs.length;
    await assertServed(s);
    const lines = gyre.logs.slice(mark);
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0]!.msg, 'events: hook failed');
    assert.equal(lines[0]!['hook'], 'message');
  } finally {
    off();
  }
});

test('an unknown hook name is refused', () => {
  assert.throws(() => gyre.events.hook('connection_opened' as 'connection_open', () => {}), /unknown hook/);
});

test('a start_worker hook that throws fails listen()', async () => {
  const { config } = validateConfig(deepMerge(EVENTS_BASE, { log: { level: 'none' } }));
  const server = new GyreServer({ config });
  server.events.hook('start_worker', () => {
    throw new Error('no database');
  });
  await assert.rejects(server.listen(0, '127.0.0.1'), /no database/);
  await server.shutdown();
});
