/**
 * The recorder (plain numbers, read at scrape time) and its Prometheus exporter, without a server:
 * counters keep their totals across scrapes, a disabled recorder keeps no durations, buffered
 * durations stay bounded before the exporter takes them; and the combination of several workers'
 * metrics (`gyre serve --workers`): counters and gauges summed, the node count and the build the
 * largest, summaries with their counts summed and each quantile the largest.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aggregateMetrics } from '../../src/metrics/aggregate.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { PrometheusExporter } from '../../src/metrics/prometheus.js';
import { FrameType } from '../../src/protocol/frame-types.js';
import { parseMetrics } from '../helpers/prometheus.js';

const scrape = async (e: PrometheusExporter) => parseMetrics(await e.text());

test('counters are the totals: the same at every scrape until something is counted', async () => {
  const m = new Metrics({ enabled: true });
  const e = new PrometheusExporter(m, '1.2.3');
  const ws = m.transport('websocket');
  ws.sent[FrameType.push_publication]! += 3;
  ws.sentBytes[FrameType.push_publication]! += 300;
  m.replyError(FrameType.subscribe, 103);
  m.serverDisconnect(3000);
  m.serverDisconnect(3503);
  for (let i = 0; i < 2; i++) {
    const s = await scrape(e);
    assert.equal(s.value('centrifugo_transport_messages_sent', { transport: 'websocket', frame_type: 'push_publication' }), 3);
    assert.equal(s.value('centrifugo_transport_messages_sent_size', { transport: 'websocket', frame_type: 'push_publication' }), 300);
    assert.equal(s.value('centrifugo_client_num_reply_errors', { method: 'subscribe', code: '103' }), 1);
    assert.equal(s.value('centrifugo_client_num_server_disconnects', { code: '3503' }), 1);
    assert.equal(s.get('centrifugo_client_num_server_disconnects', { code: '3000' }), undefined, '3000 is the client going away');
    assert.equal(s.value('centrifugo_node_build', { version: '1.2.3' }), 1);
  }
  ws.sent[FrameType.push_publication]!++;
  assert.equal((await scrape(e)).value('centrifugo_transport_messages_sent', { transport: 'websocket', frame_type: 'push_publication' }), 4);
});

test('durations are observed at scrape time; a disabled recorder keeps none', async () => {
  const on = new Metrics({ enabled: true });
  const e = new PrometheusExporter(on, '0');
  on.commandDuration(FrameType.publish, 0.002);
  on.commandDuration(FrameType.publish, 0.004);
  const s = await scrape(e);
  assert.equal(s.value('centrifugo_client_command_duration_seconds_count', { method: 'publish' }), 2);
  assert.ok(Math.abs(s.value('centrifugo_client_command_duration_seconds_sum', { method: 'publish' }) - 0.006) < 1e-9);

  const off = new Metrics();
  off.commandDuration(FrameType.publish, 0.002);
  off.api('http', 'publish').durations.add(0.001);
  const offScrape = await scrape(new PrometheusExporter(off, '0'));
  assert.equal(offScrape.get('centrifugo_client_command_duration_seconds_count', { method: 'publish' }), undefined);
  assert.equal(offScrape.get('centrifugo_api_command_duration_seconds_count', { protocol: 'http', method: 'publish' }), undefined);
});

test('durations recorded before the exporter exists are kept, within a bound', async () => {
  const m = new Metrics({ enabled: true });
  for (let i = 0; i < 10_000; i++) m.commandDuration(FrameType.rpc, 0.001);
  const s = await scrape(new PrometheusExporter(m, '0'));
  const count = s.value('centrifugo_client_command_duration_seconds_count', { method: 'rpc' });
  assert.ok(count > 0 && count <= 4096, String(count));
});

test("several workers' metrics combine into one answer", async () => {
  const workers = [new Metrics({ enabled: true }), new Metrics({ enabled: true })];
  const stats = [
    { clients: 3, users: 2, channels: 1, subscriptions: 3, nodes: 2 },
    { clients: 4, users: 4, channels: 2, subscriptions: 5, nodes: 2 },
  ];
  workers.forEach((m, i) => m.setNodeStats(() => stats[i]!));
  workers[0]!.transport('websocket').connects = 3;
  workers[1]!.transport('websocket').connects = 4;
  workers[0]!.commandDuration(FrameType.connect, 0.01);
  workers[1]!.commandDuration(FrameType.connect, 0.5);
  workers[1]!.commandDuration(FrameType.connect, 0.5);
  const json = await Promise.all(workers.map((m) => new PrometheusExporter(m, '9.9.9').json()));
  const s = parseMetrics(await aggregateMetrics(json));
  assert.equal(s.value('centrifugo_node_num_clients'), 7);
  assert.equal(s.value('centrifugo_node_num_users'), 6);
  assert.equal(s.value('centrifugo_node_num_subscriptions'), 8);
  assert.equal(s.value('centrifugo_node_num_nodes'), 2, 'the cluster both see, not the sum');
  assert.equal(s.value('centrifugo_node_build', { version: '9.9.9' }), 1);
  assert.equal(s.value('centrifugo_transport_connect_count', { transport: 'websocket' }), 7);
  assert.equal(s.value('centrifugo_client_command_duration_seconds_count', { method: 'connect' }), 3);
  assert.ok(Math.abs(s.value('centrifugo_client_command_duration_seconds_sum', { method: 'connect' }) - 1.01) < 1e-9);
  assert.equal(s.value('centrifugo_client_command_duration_seconds', { method: 'connect', quantile: '0.5' }), 0.5, 'the largest quantile');
  assert.equal(s.types.get('centrifugo_client_command_duration_seconds'), 'summary');
  assert.ok(s.value('process_resident_memory_bytes') > 0, 'process metrics are there');
});
