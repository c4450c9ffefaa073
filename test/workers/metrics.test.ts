/**
 * `/metrics` with `gyre serve --workers 2` (a real process group): whichever worker a scrape
 * reaches, the answer holds every worker's metrics, combined by the primary over the supervisor's
 * IPC messages: the SDK clients of both workers summed, the same totals at every request. The
 * embedded engine's IPC beside it goes on working.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { PublicationContext } from 'centrifuge';
import { scrape } from '../helpers/prometheus.js';
import { once, until } from '../helpers/wait.js';
import { BASE_CONFIG, nodeAwareClient, startWorkers, type NodeAwareClient, type WorkerGroup } from '../helpers/workers.js';

const CONFIG = {
  ...BASE_CONFIG,
  log: { level: 'info' },
  http_server: { port: 0, address: '127.0.0.1' },
  workers: 2,
  worker_timeout: '3s',
  shutdown: { timeout: '10s' },
  prometheus: { enabled: true },
};

let group: WorkerGroup;
const clients: NodeAwareClient[] = [];

before(async () => {
  group = await startWorkers(CONFIG);
});

after(async () => {
  for (const c of clients) c.c.disconnect();
  await group?.close();
});

test('one /metrics answers for both workers: their clients summed, the same totals at every request', async () => {
  const nodes = new Set<string>();
  const received: PublicationContext[] = [];
  for (let i = 0; i < 12 && (nodes.size < 2 || clients.length < 4); i++) {
    const c = nodeAwareClient(group.wsUrl, { token: await group.token(`user-${i}`) });
    clients.push(c);
    const connected = once(c.c, 'connected', 'SDK client did not connect');
    c.c.connect();
    await connected;
    nodes.add(c.node()!);
    const sub = c.c.newSubscription('room');
    sub.on('publication', (ctx) => received.push(ctx));
    const subscribed = once(sub, 'subscribed', 'subscription not confirmed');
    sub.subscribe();
    await subscribed;
  }
  assert.equal(nodes.size, 2, 'the clients all reached one worker');
  const total = clients.length;

  // Fresh connections: the scrapes are spread over the workers.
  for (let i = 0; i < 6; i++) {
    const m = await scrape(`${group.baseUrl}/metrics`);
    assert.equal(m.value('centrifugo_node_num_clients'), total, `scrape ${i}: num_clients`);
    assert.equal(m.value('centrifugo_node_num_users'), total, `scrape ${i}: num_users`);
    assert.equal(m.value('centrifugo_node_num_subscriptions'), total, `scrape ${i}: num_subscriptions`);
    assert.equal(m.value('centrifugo_node_num_channels'), 2, `scrape ${i}: "room" on each worker`);
    assert.equal(m.value('centrifugo_node_num_nodes'), 2, `scrape ${i}: num_nodes`);
    assert.equal(m.value('centrifugo_transport_connect_count', { transport: 'websocket' }), total, `scrape ${i}: connect count`);
    assert.equal(m.value('centrifugo_transport_messages_received', { transport: 'websocket', frame_type: 'subscribe' }), total);
    assert.equal(m.value('centrifugo_client_command_duration_seconds_count', { method: 'connect' }), total);
    assert.ok(m.value('process_resident_memory_bytes') > 0, 'the process metrics, once');
  }

  // The engine's IPC is undisturbed: a publication reaches the clients of both workers.
  await group.api('publish', { channel: 'room', data: { after: 'scrapes' } });
  await until(() => received.length === total, `${total} clients did not all receive the publication`);
  const m = await scrape(`${group.baseUrl}/metrics`);
  assert.equal(m.value('centrifugo_transport_messages_sent', { transport: 'websocket', frame_type: 'push_publication' }), total);
  assert.equal(m.value('centrifugo_node_messages_received_count', { type: 'publication' }), 2, 'each worker received it from the engine once');
});
