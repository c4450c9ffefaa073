/**
 * Smoke test of the benchmark harness for `gyre serve --workers`: S3 / S4 rows with worker
 * processes, through the same code path as `npm run bench`; it checks that numbers come out; it
 * makes no timing assertion.
 * (A file of its own: the runner's per-file time budget.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultOptions, runBench } from '../../bench/bench.js';

test('bench harness: S3 and S4 rows with workers', { timeout: 120_000 }, async () => {
  const lines: string[] = [];
  const opts = defaultOptions(true, 4096, (l) => lines.push(l));
  // No repeats of noisy steps: the suite runs beside other work, and a smoke test times nothing.
  opts.noiseBudgetSeconds = 0;
  opts.scenarios = ['S3', 'S4'];
  opts.servers = ['gyre'];
  opts.s3 = { counts: [30], workers: 2 };
  opts.s4 = { clients: 30, concurrencyPerWorker: 8, workers: [2], schedNone: true };
  const res = await runBench(opts, 'smoke test workers');

  assert.deepEqual(res.notes, [], `no scenario failed: ${res.notes.join('; ')}\n${lines.join('\n')}`);
  const s3 = res.s3 ?? [];
  assert.deepEqual(s3.map((r) => r.variant), ['gyre', 'gyre-w2']);
  assert.equal(s3[1]!.connections, 30, 'connections counted over the workers');
  assert.equal(s3[1]!.processes, 3, 'memory summed over the primary and 2 workers');
  const s4 = res.s4 ?? [];
  assert.deepEqual(s4.map((r) => r.variant), ['gyre', 'gyre-w2', 'gyre-w2-none']);
  for (const r of s4) {
    assert.equal(r.connected, 30, `${r.variant}: all connected`);
    assert.ok(r.serverCpuPerConnUs > 0, `${r.variant}: server CPU per connection`);
  }
  assert.equal(s4[1]!.processCpuPerConnUs?.length, 3, 'S4 with workers: CPU per connection of each process');
});
