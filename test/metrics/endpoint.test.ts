/**
 * `/metrics` of one Gyre server (`prometheus.enabled`), read in the Prometheus text format after a
 * real SDK client connects, subscribes, publishes, calls an RPC that fails and is disconnected by
 * the server API: Centrifugo's metric names, types and labels move as they do there. Also server
 * unsubscribes and recoveries, the server API's timings and errors, Node's process metrics, the
 * path and the internal port, and 404 when disabled.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PublicationContext } from 'centrifuge';
import { VERSION } from '../../src/version.js';
import { startGyre, type TestGyre } from '../helpers/gyre.js';
import { get, scrape, type Scrape } from '../helpers/prometheus.js';
import { once, until } from '../helpers/wait.js';
import { freePort } from '../helpers/services.js';


test('disabled (the default): /metrics answers 404', async () => {
  const gyre = await startGyre();
  try {
    assert.equal((await get(`${gyre.baseUrl}/metrics`)).status, 404);
  } finally {
    await gyre.close();
  }
});

test('handler_prefix moves the endpoint; with internal_port it is served there only, like the server API', async () => {
  const internal = await freePort();
  const gyre = await startGyre({ prometheus: { enabled: true, handler_prefix: '/internal/metrics' }, http_server: { internal_port: internal } });
  try {
    assert.equal((await get(`${gyre.baseUrl}/internal/metrics`)).status, 404, 'not on the public port');
    assert.equal((await get(`http://127.0.0.1:${internal}/metrics`)).status, 404, 'not at the default path');
    const m = await scrape(`http://127.0.0.1:${internal}/internal/metrics`);
    assert.equal(m.value('centrifugo_node_num_clients'), 0);
  } finally {
    await gyre.close();
  }
});

describe('prometheus.enabled', () => {
  let gyre: TestGyre;
  before(async () => {
    gyre = await startGyre({ prometheus: { enabled: true } });
  });
  after(() => gyre.close());
  const metrics = (): Promise<Scrape> => scrape(`${gyre.baseUrl}/metrics`);

  test('before any client: the build, the gauges at zero, the metric types, and Node process metrics', async () => {
    const m = await metrics();
    assert.equal(m.value('centrifugo_node_build', { version: VERSION }), 1);
    for (const g of ['clients', 'users', 'channels', 'subscriptions']) assert.equal(m.value(`centrifugo_node_num_${g}`), 0, g);
    assert.equal(m.value('centrifugo_node_num_nodes'), 1);
    assert.equal(m.value('centrifugo_transport_connect_count', { transport: 'websocket' }), 0);
    const types: Record<string, string> = {
      centrifugo_node_messages_sent_count: 'counter',
      centrifugo_node_messages_received_count: 'counter',
      centrifugo_node_num_clients: 'gauge',
      centrifugo_node_num_users: 'gauge',
      centrifugo_node_num_channels: 'gauge',
      centrifugo_node_num_subscriptions: 'gauge',
      centrifugo_node_num_nodes: 'gauge',
      centrifugo_node_build: 'gauge',
      centrifugo_node_survey_duration_seconds: 'summary',
      centrifugo_client_num_reply_errors: 'counter',
      centrifugo_client_num_server_disconnects: 'counter',
      centrifugo_client_num_server_unsubscribes: 'counter',
      centrifugo_client_command_duration_seconds: 'summary',
      centrifugo_client_recover: 'counter',
      centrifugo_transport_connect_count: 'counter',
      centrifugo_transport_messages_sent: 'counter',
      centrifugo_transport_messages_sent_size: 'counter',
      centrifugo_transport_messages_received: 'counter',
      centrifugo_transport_messages_received_size: 'counter',
      centrifugo_proxy_duration_seconds: 'summary',
      centrifugo_proxy_duration_seconds_histogram: 'histogram',
      centrifugo_proxy_errors: 'counter',
      centrifugo_proxy_inflight_requests: 'gauge',
      centrifugo_api_command_duration_seconds: 'summary',
      centrifugo_api_command_duration_seconds_histogram: 'histogram',
      centrifugo_api_command_errors_total: 'counter',
      process_cpu_seconds_total: 'counter',
      process_resident_memory_bytes: 'gauge',
      nodejs_eventloop_lag_seconds: 'gauge',
      nodejs_heap_size_used_bytes: 'gauge',
    };
    for (const [name, type] of Object.entries(types)) assert.equal(m.types.get(name), type, name);
    assert.ok(m.value('process_resident_memory_bytes') > 0);
  });

  test('an SDK client that connects, subscribes, publishes, fails an RPC and is disconnected by the server API', async () => {
    const before = await metrics();
    const c = gyre.client({ token: await gyre.token('alice') });
    const connected = once(c, 'connected', 'SDK client did not connect');
    c.connect();
    await connected;
    const sub = c.newSubscription('news');
    const pubs: PublicationContext[] = [];
    sub.on('publication', (ctx) => pubs.push(ctx));
    const subscribed = once(sub, 'subscribed', 'subscription not confirmed');
    sub.subscribe();
    await subscribed;
    await sub.publish({ n: 1 });
    await gyre.api('publish', { channel: 'news', data: { n: 2 } });
    await until(() => pubs.length === 2, 'the two publications did not arrive');
    await assert.rejects(c.rpc('nothing-handles-this', {}), (e: { code?: number }) => e.code === 108);

    const m = await metrics();
    assert.equal(m.value('centrifugo_node_num_clients'), 1);
    assert.equal(m.value('centrifugo_node_num_users'), 1);
    assert.equal(m.value('centrifugo_node_num_subscriptions'), 1);
    assert.equal(m.value('centrifugo_node_num_channels'), 1);
    const moved = (name: string, labels: Record<string, string>) => m.value(name, labels) - (before.get(name, labels) ?? 0);
    assert.equal(moved('centrifugo_transport_connect_count', { transport: 'websocket' }), 1);
    assert.equal(moved('centrifugo_node_messages_sent_count', { type: 'publication' }), 2);
    assert.equal(moved('centrifugo_node_messages_received_count', { type: 'publication' }), 2);
    assert.equal(moved('centrifugo_node_messages_sent_count', { type: 'join' }), 1);
    assert.equal(m.value('centrifugo_client_num_reply_errors', { method: 'rpc', code: '108' }), 1);
    const ws = (frame_type: string) => ({ transport: 'websocket', frame_type });
    assert.equal(m.value('centrifugo_transport_messages_sent', ws('push_publication')), 2);
    for (const reply of ['connect', 'subscribe', 'publish', 'rpc']) {
      assert.equal(m.value('centrifugo_transport_messages_sent', ws(reply)), 1, `${reply} reply`);
      assert.equal(m.value('centrifugo_transport_messages_received', ws(reply)), 1, `${reply} command`);
      assert.ok(m.value('centrifugo_transport_messages_sent_size', ws(reply)) > 0);
      assert.ok(m.value('centrifugo_transport_messages_received_size', ws(reply)) > 0);
      assert.equal(m.value('centrifugo_client_command_duration_seconds_count', { method: reply }), 1, `${reply} duration`);
      assert.ok(m.value('centrifugo_client_command_duration_seconds', { method: reply, quantile: '0.99' }) > 0);
    }
    // Bytes: the JSON of two publication pushes, {"push":{"channel":"news","pub":{"data":...,"offset":N}}}.
    const pubBytes = m.value('centrifugo_transport_messages_sent_size', ws('push_publication'));
    assert.ok(pubBytes > 2 * '{"push":{"channel":"news","pub":{"data":{"n":1}}}}'.length, String(pubBytes));
    assert.equal(m.value('centrifugo_api_command_duration_seconds_count', { protocol: 'http', method: 'publish' }), 1);
    assert.equal(m.value('centrifugo_api_command_duration_seconds_histogram_count', { protocol: 'http', method: 'publish' }), 1);

    const disconnected = once(c, 'disconnected', 'the SDK client was not disconnected');
    await gyre.api('disconnect', { user: 'alice' });
    await disconnected;
    let after = await metrics();
    await until(async () => (after = await metrics()).value('centrifugo_node_num_clients') === 0, 'num_clients did not go back to 0');
    assert.equal(after.value('centrifugo_client_num_server_disconnects', { code: '3503' }), 1);
    assert.equal(after.value('centrifugo_node_num_users'), 0);
    assert.equal(after.value('centrifugo_node_num_subscriptions'), 0);
    assert.equal(after.value('centrifugo_node_num_channels'), 0);
    assert.equal(after.value('centrifugo_api_command_duration_seconds_count', { protocol: 'http', method: 'disconnect' }), 1);
  });

  test('server unsubscribes and recoveries (recovered and not) are counted', async () => {
    const s = await gyre.raw();
    s.pongs = true;
    await s.connect(await gyre.token('bob'));
    s.sendJson({ id: 2, subscribe: { channel: 'feed' } });
    const first = (await s.reply(2))['subscribe'] as { epoch: string; offset: number };
    await gyre.api('unsubscribe', { user: 'bob', channel: 'feed' });
    await s.next((msg) => (msg['push'] as { unsubscribe?: unknown } | undefined)?.unsubscribe !== undefined);
    await gyre.api('publish', { channel: 'feed', data: { missed: true } });
    s.sendJson({ id: 3, subscribe: { channel: 'feed', recover: true, epoch: first.epoch, offset: first.offset } });
    const recovered = (await s.reply(3))['subscribe'] as { recovered?: boolean; publications?: unknown[] };
    assert.equal(recovered.recovered, true);
    assert.equal(recovered.publications?.length, 1);
    s.sendJson({ id: 4, unsubscribe: { channel: 'feed' } });
    await s.reply(4);
    s.sendJson({ id: 5, subscribe: { channel: 'feed', recover: true, epoch: 'another-epoch', offset: 0 } });
    const lost = (await s.reply(5))['subscribe'] as { recovered?: boolean; was_recovering?: boolean };
    assert.equal(lost.was_recovering, true);
    assert.equal(lost.recovered, undefined);

    const m = await metrics();
    assert.equal(m.value('centrifugo_client_num_server_unsubscribes', { code: '2000' }), 1);
    assert.equal(m.value('centrifugo_client_recover', { recovered: 'yes' }), 1);
    assert.equal(m.value('centrifugo_client_recover', { recovered: 'no' }), 1);
  });

  test('server API errors count by method and code; an unknown method is not a label', async () => {
    const res = await gyre.api('publish', { channel: 'unknown-namespace:x', data: {} });
    assert.equal((res['error'] as { code: number }).code, 102);
    const bad = await fetch(`${gyre.baseUrl}/api`, {
      method: 'POST',
      headers: { 'X-API-Key': 'test-api-key' },
      body: JSON.stringify({ method: 'no_such_method', params: {} }),
    });
    assert.equal(((await bad.json()) as { error: { code: number } }).error.code, 104);
    const m = await metrics();
    assert.equal(m.value('centrifugo_api_command_errors_total', { protocol: 'http', method: 'publish', error: '102' }), 1);
    assert.ok(!m.text.includes('no_such_method'), 'no series for a method that does not exist');
  });
});
