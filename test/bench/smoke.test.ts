/**
 * Smoke test of the benchmark harness: a tiny S1 (20 subscribers, one short step at one rate) through
 * the same code path as `npm run bench` — real server processes, real load-generator workers — for
 * Gyre (in-process and HTTP API publishing to JSON clients, in-process to protobuf clients, to
 * HTTP-streaming clients, to SSE clients and to a mix of the four kinds), the raw ws ceiling and
 * Socket.IO; and a tiny S5 (20 subscribers; one node with each engine, two nodes over
 * the real Redis), skipped with a notice when
 * Redis is not reachable (failed instead with GYRE_REQUIRE_SERVICES=1). It checks that numbers come
 * out, that the report renders and that S5 merges into earlier results; it makes no timing assertion.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { defaultOptions, mergeResults, runBench, writeResults } from '../../bench/bench.js';
import { consoleReport } from '../../bench/report.js';
import { REDIS_URL, serviceTest } from '../helpers/services.js';

test('bench harness: a tiny S1 run produces deliveries and latency percentiles', { timeout: 90_000 }, async () => {
  const lines: string[] = [];
  const opts = defaultOptions(true, 4096, (l) => lines.push(l));
  // No repeats of noisy steps: the suite runs beside other work, and a smoke test times nothing.
  opts.noiseBudgetSeconds = 0;
  opts.scenarios = ['S1'];
  opts.servers = ['gyre', 'raw', 'sio'];
  opts.s1 = { subscribers: [20], stepSeconds: 0.5, maxSteps: 1, resolution: 2, http: true, fixedRates: [40], writeDelay: '5ms', httpBatchMs: 10 };
  const res = await runBench(opts, 'smoke test');

  assert.deepEqual(res.notes, [], `no scenario failed: ${res.notes.join('; ')}\n${lines.join('\n')}`);
  const rows = res.s1 ?? [];
  assert.deepEqual(rows.map((r) => r.variant).sort(), [
    'gyre',
    'gyre-http',
    'gyre-http-batch',
    'gyre-http-stream',
    'gyre-http-wd',
    'gyre-mixed',
    'gyre-pb',
    'gyre-sse',
    'raw',
    'sio',
  ]);
  for (const row of rows) {
    assert.equal(row.connected, 20, `${row.variant}: all subscribers connected`);
    assert.equal(row.steps.length, 1, `${row.variant}: one step`);
    const s = row.steps[0]!;
    assert.ok(s.published > 0, `${row.variant}: published`);
    assert.ok(s.delivered > 0, `${row.variant}: delivered > 0`);
    assert.ok(s.deliveredPerSec > 0, `${row.variant}: delivered/s > 0`);
    for (const p of [s.p50, s.p95, s.p99]) assert.ok(Number.isFinite(p) && p >= 0, `${row.variant}: finite percentile ${p}`);
    assert.ok(s.p50 <= s.p95 && s.p95 <= s.p99, `${row.variant}: percentiles ordered`);
    assert.ok(Number.isFinite(s.serverCpu), `${row.variant}: server CPU measured`);
    if (row.variant === 'gyre-http-wd' || row.variant === 'gyre-http-batch') {
      // Messages joined into frames by client.write_delay: each publication still counts once.
      assert.equal(row.writeDelay, '5ms', `${row.variant}: the write delay is recorded`);
      assert.equal(s.delivered, s.expected, `${row.variant}: every subscriber got every publication once`);
      assert.equal(s.publishErrors, 0, `${row.variant}: no publish errors`);
    }
    if (row.variant === 'gyre-http-stream' || row.variant === 'gyre-sse' || row.variant === 'gyre-mixed') {
      // Stream chunks are cut anywhere: each publication still counts exactly once per subscriber.
      assert.equal(s.delivered, s.expected, `${row.variant}: every subscriber got every publication once`);
    }
  }

  const text = consoleReport(res);
  assert.match(text, /S1 fan-out/);
  assert.match(text, /Gyre \(HTTP API\)/);
  assert.match(text, /Gyre \(protobuf\)/);
  assert.match(text, /Gyre \(HTTP-streaming\)/);
  assert.match(text, /Gyre \(SSE\)/);
  assert.match(text, /Gyre \(mixed transports\)/);
  assert.match(text, /protobuf ≥ 1\.0 × JSON delivered msg\/s/);
  assert.match(text, /HTTP API with write_delay 5ms ≤ 1\.5 × in-process CPU µs \/ msg/);
  assert.match(text, /Gyre \(HTTP API, 10 ms batches, write_delay 5ms\)/);
  const dir = mkdtempSync(join(tmpdir(), 'gyre-bench-smoke-'));
  try {
    const written = writeResults(res, { dir, name: 'smoke', chartPrefix: 'smoke-', markdownFile: join(dir, 'BENCHMARKS.md') });
    for (const f of written) assert.ok(existsSync(f), `${f} written`);
    const svg = readFileSync(join(dir, 'smoke-s1-throughput.svg'), 'utf8');
    assert.match(svg, /^<svg /);
    assert.match(svg, /<\/svg>\s*$/);
    const md = readFileSync(join(dir, 'BENCHMARKS.md'), 'utf8');
    assert.match(md, /## S1 fan-out/);
    assert.match(md, /smoke-s1-throughput\.svg/);
    assert.match(md, /\| Gyre \(protobuf\) \|/);
    assert.match(md, /\| Gyre \(HTTP-streaming\) \|/);
    assert.match(md, /\| Gyre \(SSE\) \|/);
    assert.match(md, /\| Gyre \(mixed transports\) \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

serviceTest('bench harness: a tiny S5 run (one node vs two nodes over Redis) merges into earlier results', ['redis'], async () => {
  const lines: string[] = [];
  const opts = defaultOptions(true, 4096, (l) => lines.push(l));
  // No repeats of noisy steps: the suite runs beside other work, and a smoke test times nothing.
  opts.noiseBudgetSeconds = 0;
  opts.scenarios = ['S1'];
  opts.servers = ['gyre'];
  opts.s1 = { subscribers: [20], stepSeconds: 0.5, maxSteps: 1, resolution: 2, http: false, fixedRates: [40] };
  const base = await runBench(opts, 'smoke test S1');
  opts.scenarios = ['S5'];
  opts.s5 = { subscribers: 20, stepSeconds: 0.5, maxSteps: 1, resolution: 2, http: true, redisUrl: REDIS_URL, fixedRates: [40] };
  const res = await runBench(opts, 'smoke test S5');

  assert.deepEqual(res.notes, [], `no scenario failed: ${res.notes.join('; ')}\n${lines.join('\n')}`);
  const s5 = res.s5!;
  assert.deepEqual(
    s5.rows.map((r) => r.setup),
    ['memory-1', 'redis-1', 'redis-2', 'redis-2-http'],
  );
  for (const row of s5.rows) {
    assert.equal(row.connected.reduce((a, b) => a + b, 0), 20, `${row.setup}: all subscribers connected`);
    assert.equal(row.connected.length, row.nodes, `${row.setup}: subscribers on every node`);
    const s = row.sweep.steps[0]!;
    assert.ok(s.delivered > 0, `${row.setup}: delivered > 0`);
    assert.equal(s.delivered, s.expected, `${row.setup}: every subscriber (on both nodes) got every publication`);
    for (const p of [s.p50, s.p95, s.p99]) assert.ok(Number.isFinite(p) && p >= 0, `${row.setup}: finite percentile ${p}`);
    if (row.nodes === 2) assert.equal(s.nodeCpu?.length, 2, `${row.setup}: CPU of each node`);
    if (row.engine === 'redis') assert.ok(Number.isFinite(s.redisCpu), `${row.setup}: Redis CPU measured`);
  }
  // The run's keys are gone.
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    const [, keys] = await r.scan('0', 'MATCH', `${s5.prefix}.*`, 'COUNT', 10_000);
    assert.deepEqual(keys, [], 'no keys left under the run prefix');
  } finally {
    r.disconnect();
  }

  const merged = mergeResults(base, res, ['S5']);
  assert.ok(merged.s1 !== undefined && merged.s1.length === base.s1!.length, 'S1 kept');
  assert.equal(merged.s5, res.s5, 'S5 added');
  assert.equal(merged.meta, base.meta, 'the run description of the base kept');
  assert.equal(merged.runs?.S5?.command, 'smoke test S5');
  assert.equal(merged.runs?.S1?.command, 'smoke test S1');

  const text = consoleReport(merged);
  assert.match(text, /S5 fan-out, one node vs two nodes over Redis/);
  assert.match(text, /2 nodes over Redis/);
  const dir = mkdtempSync(join(tmpdir(), 'gyre-bench-smoke-'));
  try {
    writeResults(merged, { dir, name: 'smoke', chartPrefix: 'smoke-', markdownFile: join(dir, 'BENCHMARKS.md') });
    const md = readFileSync(join(dir, 'BENCHMARKS.md'), 'utf8');
    assert.match(md, /## S1 fan-out/);
    assert.match(md, /## S5 two nodes over Redis/);
    assert.match(md, /smoke-s5-cluster\.svg/);
    assert.match(md, /S5 comes from a later run/);
    assert.match(readFileSync(join(dir, 'smoke-s5-cluster.svg'), 'utf8'), /^<svg [\s\S]*<\/svg>\s*$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
