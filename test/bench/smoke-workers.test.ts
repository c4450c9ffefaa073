/**
 * Smoke test of the benchmark harness for `gyre serve --workers`: a tiny S6 (one process, 1 and 2
 * workers), through the same code path as `npm run bench`; it checks
 * that numbers come out and that the report and its chart render; it makes no timing assertion.
 * (Files of their own, this and smoke-workers-s3s4.test.ts: the runner's per-file time budget.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultOptions, runBench, writeResults } from '../../bench/bench.js';
import { consoleReport } from '../../bench/report.js';

test('bench harness: a tiny S6 run (one process, 1 and 2 workers)', { timeout: 120_000 }, async () => {
  const lines: string[] = [];
  const opts = defaultOptions(true, 4096, (l) => lines.push(l));
  // No repeats of noisy steps: the suite runs beside other work, and a smoke test times nothing.
  opts.noiseBudgetSeconds = 0;
  opts.scenarios = ['S6'];
  opts.servers = ['gyre'];
  opts.s6 = { subscribers: [20], workers: [0, 1, 2], stepSeconds: 0.5, maxSteps: 1, resolution: 2, fixedRates: [40], relay: { subscribers: 10, rates: [100] } };
  const res = await runBench(opts, 'smoke test workers');

  assert.deepEqual(res.notes, [], `no scenario failed: ${res.notes.join('; ')}\n${lines.join('\n')}`);
  const rows = (res.s6 ?? []).filter((r) => r.relay !== true);
  assert.deepEqual(rows.map((r) => r.variant), ['gyre', 'gyre-w1', 'gyre-w2'], 'by worker count');
  const relay = (res.s6 ?? []).filter((r) => r.relay === true);
  assert.deepEqual(relay.map((r) => [r.variant, r.clients, r.steps.length]), [['gyre-w1', 10, 1], ['gyre-w2', 10, 1]], 'relay-cost rows last');
  for (const row of [...rows, ...relay]) {
    assert.equal(row.connected, row.relay === true ? 10 : 20, `${row.variant}: all subscribers connected`);
    const s = row.steps[0]!;
    // Publications from the primary reach the subscribers of every worker.
    assert.equal(s.delivered, s.expected, `${row.variant}: every subscriber got every publication`);
    const processes = row.variant === 'gyre' ? undefined : row.variant === 'gyre-w1' ? 2 : 3;
    assert.equal(s.processCpu?.length, processes, `${row.variant}: CPU of each process (primary first)`);
    if (s.processCpu !== undefined) {
      const sum = s.processCpu.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - s.serverCpu) < 5, `${row.variant}: server CPU ${s.serverCpu} is the sum of the processes' ${sum}`);
    }
  }
  const text = consoleReport(res);
  assert.match(text, /S6 fan-out with worker processes/);
  assert.match(text, /CPU µs \/ msg with 2 workers ≤ 1\.2 × 1 worker/);
  assert.match(text, /S6 relay cost of the primary/);
  const dir = mkdtempSync(join(tmpdir(), 'gyre-bench-smoke-'));
  try {
    writeResults(res, { dir, name: 'smoke', chartPrefix: 'smoke-', markdownFile: join(dir, 'BENCHMARKS.md') });
    const md = readFileSync(join(dir, 'BENCHMARKS.md'), 'utf8');
    assert.match(md, /## S6 fan-out with worker processes/);
    assert.match(md, /\| Gyre \(2 workers\) \|/);
    assert.match(readFileSync(join(dir, 'smoke-s6-workers.svg'), 'utf8'), /^<svg [\s\S]*<\/svg>\s*$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
