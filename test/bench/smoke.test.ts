/**
 * Smoke test of the benchmark harness: a tiny S1 (20 subscribers, one short step at one rate) through
 * the same code path as `npm run bench` — real server processes, real load-generator workers — for
 * Gyre (in-process and HTTP API publishing), the raw ws ceiling and Socket.IO. It checks that numbers
 * come out and that the report renders; it makes no timing assertion.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultOptions, runBench, writeResults } from '../../bench/bench.js';
import { consoleReport } from '../../bench/report.js';

test('bench harness: a tiny S1 run produces deliveries and latency percentiles', { timeout: 90_000 }, async () => {
  const lines: string[] = [];
  const opts = defaultOptions(true, 4096, (l) => lines.push(l));
  opts.scenarios = ['S1'];
  opts.servers = ['gyre', 'raw', 'sio'];
  opts.s1 = { subscribers: [20], stepSeconds: 0.5, maxSteps: 1, resolution: 2, http: true, fixedRates: [40] };
  const res = await runBench(opts, 'smoke test');

  assert.deepEqual(res.notes, [], `no scenario failed: ${res.notes.join('; ')}\n${lines.join('\n')}`);
  const rows = res.s1 ?? [];
  assert.deepEqual(rows.map((r) => r.variant).sort(), ['gyre', 'gyre-http', 'raw', 'sio']);
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
  }

  const text = consoleReport(res);
  assert.match(text, /S1 fan-out/);
  assert.match(text, /Gyre \(HTTP API\)/);
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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
