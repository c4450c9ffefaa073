/**
 * Users and broadcasts across two nodes over real engines, Redis and NATS: sendToUser on one node
 * reaches the user's connections on both and nobody else's; broadcast reaches both nodes; a node
 * holds a user's channel only while it has connections of that user. Uses the shared services of
 * the engine tests (`GYRE_TEST_REDIS_URL`, `GYRE_TEST_NATS_URL`): skipped with a notice when one is
 * not reachable, failed under GYRE_REQUIRE_SERVICES=1.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { ConfigInput } from '../../src/config/tree.js';
import { userChannel } from '../../src/events/channels.js';
import type { EventsServer } from '../../src/events/server.js';
import { deleteKeys, NATS_URL, REDIS_URL, serviceTest, uniquePrefix } from '../helpers/services.js';
import { connectionIdOf, echoListeners, startEvents, until, type EventSocket, type EventsGyre } from './helpers.js';

function app(events: EventsServer): void {
  echoListeners(events);
  events.on('CONNECT', async (server, m) => {
    const userId = (m.data as { user_id: number }).user_id;
    await server.bindUser(m.connectionId, userId);
    server.sendMessage(m.connectionId, 'CONNECTED', { user_id: userId });
  });
  events.on('NOTIFY', async (server, m) => {
    const { user_id, text } = m.data as { user_id: number; text: string };
    await server.sendToUser(user_id, 'NOTIFICATION', { text });
  });
}

async function login(node: EventsGyre, userId: number): Promise<{ s: EventSocket; id: string }> {
  const s = await node.socket();
  const id = await connectionIdOf(s);
  s.emit('CONNECT', { user_id: userId });
  await s.nextEvent('CONNECTED');
  return { s, id };
}

/** Runs the cross-node checks on two nodes started with `engine`. */
async function twoNodes(t: TestContext, engine: ConfigInput): Promise<void> {
  const overrides = { ...engine, log: { level: 'info' } };
  const a = await startEvents(overrides, { setup: app });
  const b = await startEvents(overrides, { setup: app });
  try {
    await t.test('sendToUser on one node reaches the user on every node, and nobody else', async () => {
      assert.notEqual(a.server.node.id, b.server.node.id);
      const onA = await login(a, 500);
      const onB = await login(b, 500);
      const otherOnB = await login(b, 501);
      assert.notEqual(onA.id, onB.id);
      assert.deepEqual(a.events.userConnections(500), [onA.id]);
      assert.deepEqual(b.events.userConnections(500), [onB.id]);

      await a.events.sendToUser(500, 'NOTIFICATION', { text: 'from node A' });
      for (const s of [onA.s, onB.s]) assert.deepEqual(await s.nextEvent('NOTIFICATION'), { event: 'NOTIFICATION', data: { text: 'from node A' } });

      // From a listener on node B, to a user with a connection on node A only.
      const onlyOnA = await login(a, 502);
      otherOnB.s.emit('NOTIFY', { user_id: 502, text: 'from a listener on B' });
      assert.deepEqual(await onlyOnA.s.nextEvent('NOTIFICATION'), { event: 'NOTIFICATION', data: { text: 'from a listener on B' } });

      // User 501 got none of it: the first thing it receives is this marker.
      await a.events.sendToUser(501, 'NOTIFICATION', { text: 'marker' });
      assert.deepEqual(await otherOnB.s.next(), { event: 'NOTIFICATION', data: { text: 'marker' } });
    });

    await t.test('broadcast on one node reaches connections on both', async () => {
      const onA = await a.socket();
      const onB = await b.socket();
      await b.events.broadcast('NEWS', { n: 1 });
      for (const s of [onA, onB]) assert.deepEqual(await s.nextEvent('NEWS'), { event: 'NEWS', data: { n: 1 } });
    });

    await t.test('a node leaves the user channel with its last connection of the user; the others still get messages', async () => {
      const onA = await login(a, 600);
      const onB = await login(b, 600);
      assert.equal(b.server.node.hub.subscriberCount(userChannel('600')), 1);
      onB.s.ws.close();
      await until(() => b.events.userConnections(600).length === 0 && b.server.node.hub.subscriberCount(userChannel('600')) === 0);
      await b.events.sendToUser(600, 'NOTIFICATION', { text: 'after B left' });
      assert.deepEqual(await onA.s.nextEvent('NOTIFICATION'), { event: 'NOTIFICATION', data: { text: 'after B left' } });
    });
  } finally {
    await a.close();
    await b.close();
  }
}

serviceTest('events: two nodes over Redis', ['redis'], async (t) => {
  const prefix = uniquePrefix('gyre-events');
  try {
    await twoNodes(t, { engine: { type: 'redis', redis: { address: [REDIS_URL], prefix } } });
  } finally {
    await deleteKeys(REDIS_URL, prefix);
  }
});

serviceTest('events: two nodes over NATS', ['nats'], async (t) => {
  await twoNodes(t, { broker: { enabled: true, type: 'nats', nats: { url: NATS_URL, prefix: uniquePrefix('gyre-events') } } });
});
