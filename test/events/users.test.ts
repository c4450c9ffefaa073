/**
 * Users on one node: a listener binds a connection to a user on a CONNECT event, sendToUser reaches
 * every connection of that user and nobody else, bindings end on unbind and on close, and the node
 * is subscribed to a user's internal channel only while it holds connections of that user. The
 * internal channels cannot be reached through the Centrifugo endpoint or the server API.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { userChannel } from '../../src/events/channels.js';
import { EventError } from '../../src/events/errors.js';
import { RawSocket } from '../helpers/gyre.js';
import { connectionIdOf, echoListeners, startEvents, until, type EventSocket, type EventsGyre } from './helpers.js';

const API_KEY = 'events-test-key';

/** Incoming events of this test app. */
interface In {
  CONNECT: { user_id: number };
  LOGOUT: undefined;
  NOTIFY: { user_id: number; text: string };
  WHOAMI: undefined;
  ECHO: unknown;
}
/** Outgoing events. */
interface Out {
  CONNECTED: { user_id: number };
  NOTIFICATION: { text: string };
  LOGGED_OUT: null;
  YOU_ARE: { connectionId: string; userId: string | null };
  ECHOED: unknown;
}

let gyre: EventsGyre;

before(async () => {
  gyre = await startEvents(
    { client: { insecure: true }, http_api: { key: API_KEY } },
    {
      setup(untyped) {
        echoListeners(untyped);
        const events = untyped.typed<In, Out>();
        events.on('CONNECT', async (server, m) => {
          // In a real app: verify a token and take the user id from it.
          if (!Number.isInteger(m.data?.user_id)) throw new EventError('bad_request', 'user_id must be an integer');
          await server.bindUser(m.connectionId, m.data.user_id);
          server.sendMessage(m.connectionId, 'CONNECTED', { user_id: m.data.user_id });
        });
        events.on('LOGOUT', async (server, m) => {
          await server.unbindUser(m.connectionId);
          server.sendMessage(m.connectionId, 'LOGGED_OUT', null);
        });
        events.on('NOTIFY', (server, m) => server.sendToUser(m.data.user_id, 'NOTIFICATION', { text: m.data.text }));
      },
    },
  );
});
after(() => gyre.close());

async function login(userId: number): Promise<{ s: EventSocket; id: string }> {
  const s = await gyre.socket();
  const id = await connectionIdOf(s);
  s.emit('CONNECT', { user_id: userId });
  assert.deepEqual(await s.nextEvent('CONNECTED'), { event: 'CONNECTED', data: { user_id: userId } });
  return { s, id };
}

function subscribers(userId: string): number {
  return gyre.server.node.hub.subscriberCount(userChannel(userId));
}

test('sendToUser reaches every connection of the user, and only those', async () => {
  const a = await login(500);
  const b = await login(500);
  const other = await login(501);
  const anonymous = await gyre.socket();
  assert.deepEqual(gyre.events.userConnections(500).sort(), [a.id, b.id].sort());
  assert.deepEqual(gyre.events.userConnections('500').sort(), [a.id, b.id].sort());

  await gyre.events.sendToUser(500, 'NOTIFICATION', { text: 'hello 500' });
  for (const s of [a.s, b.s]) assert.deepEqual(await s.nextEvent('NOTIFICATION'), { event: 'NOTIFICATION', data: { text: 'hello 500' } });

  // From a listener too; a marker to the others proves they got nothing before it.
  anonymous.emit('NOTIFY', { user_id: 500, text: 'from a listener' });
  for (const s of [a.s, b.s]) assert.equal(((await s.nextEvent('NOTIFICATION')).data as { text: string }).text, 'from a listener');
  await gyre.events.sendToUser(501, 'NOTIFICATION', { text: 'marker' });
  assert.deepEqual(await other.s.next(), { event: 'NOTIFICATION', data: { text: 'marker' } });
  await gyre.events.broadcast('ECHOED', 'marker');
  assert.deepEqual(await anonymous.next(), { event: 'ECHOED', data: 'marker' });
  assert.equal(gyre.events.connection(a.id)?.userId, '500');
});

test('the listener sees the bound user on later messages', async () => {
  const { s, id } = await login(502);
  s.emit('WHOAMI');
  assert.deepEqual((await s.nextEvent('YOU_ARE')).data, { connectionId: id, userId: '502' });
});

test('a connection that closes is unbound; the node leaves the user channel with the last one', async () => {
  const a = await login(600);
  const b = await login(600);
  assert.equal(subscribers('600'), 1); // one subscription per node, whatever the number of connections
  a.s.ws.close();
  await until(() => gyre.events.userConnections(600).length === 1);
  await gyre.events.sendToUser(600, 'NOTIFICATION', { text: 'still here' });
  assert.equal(((await b.s.nextEvent('NOTIFICATION')).data as { text: string }).text, 'still here');
  b.s.ws.close();
  await until(() => gyre.events.userConnections(600).length === 0);
  await until(() => subscribers('600') === 0);
});

test('unbindUser ends the binding: messages to the user no longer arrive', async () => {
  const { s, id } = await login(700);
  s.emit('LOGOUT');
  await s.nextEvent('LOGGED_OUT');
  assert.equal(gyre.events.connection(id)?.userId, undefined);
  assert.equal(subscribers('700'), 0);
  await gyre.events.sendToUser(700, 'NOTIFICATION', { text: 'lost' });
  await gyre.events.broadcast('ECHOED', 'marker');
  assert.deepEqual(await s.next(), { event: 'ECHOED', data: 'marker' }); // not the notification
  assert.equal(await gyre.events.unbindUser(id), false);
});

test('binding again moves the connection to the new user', async () => {
  const { s, id } = await login(800);
  s.emit('CONNECT', { user_id: 801 });
  await s.nextEvent('CONNECTED');
  assert.deepEqual(gyre.events.userConnections(800), []);
  assert.deepEqual(gyre.events.userConnections(801), [id]);
  await gyre.events.sendToUser(800, 'NOTIFICATION', { text: 'old user' });
  await gyre.events.sendToUser(801, 'NOTIFICATION', { text: 'new user' });
  assert.deepEqual(await s.next(), { event: 'NOTIFICATION', data: { text: 'new user' } });
});

test('binding an unknown connection returns false; a bad user id is refused', async () => {
  assert.equal(await gyre.events.bindUser('no-such-connection', 'u'), false);
  await assert.rejects(gyre.events.bindUser('no-such-connection', ''), TypeError);
  await assert.rejects(gyre.events.sendToUser('', 'NOTIFICATION', { text: '' }), TypeError);
});

test('the internal channels cannot be reached through the Centrifugo endpoint or the server API', async () => {
  const { s } = await login(900);
  const raw = await RawSocket.open(`ws://127.0.0.1:${gyre.port}/connection/websocket`);
  try {
    const connect = await raw.connect();
    assert.ok(connect['connect'] !== undefined, JSON.stringify(connect));
    raw.sendJson({ id: 2, subscribe: { channel: userChannel('900') } });
    assert.equal(((await raw.reply(2))['error'] as { code: number }).code, 107);
    raw.sendJson({ id: 3, publish: { channel: userChannel('900'), data: { event: 'NOTIFICATION', data: { text: 'forged' } } } });
    assert.equal(((await raw.reply(3))['error'] as { code: number }).code, 107);
  } finally {
    raw.ws.terminate();
  }
  const res = await fetch(`http://127.0.0.1:${gyre.port}/api/publish`, {
    method: 'POST',
    headers: { 'X-API-Key': API_KEY, 'Content-Type': 'application/json' },
    body: JSON.stringify({ channel: userChannel('900'), data: { event: 'NOTIFICATION', data: { text: 'forged' } } }),
  });
  const body = (await res.json()) as { error?: { code: number } };
  assert.equal(body.error?.code, 107, JSON.stringify(body));
  await gyre.events.broadcast('ECHOED', 'marker');
  assert.deepEqual(await s.next(), { event: 'ECHOED', data: 'marker' }); // nothing forged arrived
});

test('internal user channels stay out of the server API channel list and channel count', async () => {
  const { id } = await login(777);
  assert.ok(id !== '');
  assert.equal(subscribers('777'), 1, 'the node holds the internal channel');
  const post = async (method: string, body: unknown) =>
    (await (
      await fetch(`http://127.0.0.1:${gyre.port}/api/${method}`, {
        method: 'POST',
        headers: { 'X-API-Key': API_KEY },
        body: JSON.stringify(body),
      })
    ).json()) as { result: Record<string, unknown> };
  const channels = (await post('channels', {})).result['channels'] as Record<string, unknown>;
  assert.deepEqual(
    Object.keys(channels).filter((c) => c.charCodeAt(0) > 127),
    [],
  );
  const nodes = (await post('info', {})).result['nodes'] as Array<{ num_channels: number }>;
  assert.equal(nodes[0]!.num_channels, Object.keys(channels).length);
});
