/**
 * The A/B sections of BENCHMARKS.md (bench/ab-result.ts): medians per rate, B ÷ A, and each
 * switch's verdict, from a result written the way bench/ab.ts writes it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { abTable, TOGGLES, type AbResult, type AbStep } from '../../bench/ab-result.js';

function step(round: number, a: boolean, rate: number, cpuPerMsgUs: number): AbStep {
  return { round, a, rate, deliveredPerSec: rate * 1000, serverCpu: (cpuPerMsgUs * rate * 1000) / 1e4, cpuPerMsgUs, p50: 10, p99: 20, sustained: true, otherCpu: 0 };
}

const result: AbResult = {
  toggle: 'prometheus',
  date: '2026-12-06T00:00:00.000Z',
  command: 'node --expose-gc --import tsx bench/ab.ts --toggle prometheus',
  cores: 2,
  node: 'v20',
  subscribers: 1000,
  stepSeconds: 2,
  // A (off): medians 1.0 at 100, 2.0 at 200; B (on): 1.02 and 2.2.
  steps: [step(1, true, 100, 1.0), step(1, false, 100, 1.02), step(2, true, 100, 0.9), step(2, false, 100, 1.1), step(3, true, 100, 1.1), step(3, false, 100, 1.0), step(1, true, 200, 2.0), step(1, false, 200, 2.2)],
};

test('the table gives medians over the rounds and B ÷ A per rate', () => {
  const table = abTable(result);
  const rows = table.split('\n').slice(2);
  assert.equal(rows.length, 2);
  assert.match(rows[0]!, /^\| 100 \| .* \| 1\.00 \(1\.00, 0\.90, 1\.10\) \| 1\.02 \(1\.02, 1\.10, 1\.00\) \| 1\.020× \|/);
  assert.match(rows[1]!, /^\| 200 \| .* \| 2\.00 \(2\.00\) \| 2\.20 \(2\.20\) \| 1\.100× \|/);
  assert.match(table.split('\n')[0]!, /A: metrics off \| B: on \(prometheus\.enabled\)/);
});

test('the metrics verdict: met within 5% at every rate, not met beyond', () => {
  assert.match(TOGGLES.prometheus.verdict([0.998, 1.04]), /\*\*within 5%\*\* at every rate \(target met\)/);
  assert.match(TOGGLES.prometheus.verdict([1.0, 1.1]), /\*\*more than 5%\*\* at some rate \(target not met\)/);
  assert.match(TOGGLES.bufferutil.verdict([1.05, 0.98]), /within the run-to-run noise/);
});

test('the switches set the environment the server inherits', () => {
  const before = process.env['GYRE_BENCH_PROMETHEUS'];
  try {
    TOGGLES.prometheus.apply(false);
    assert.equal(process.env['GYRE_BENCH_PROMETHEUS'], '1', 'B: metrics on');
    TOGGLES.prometheus.apply(true);
    assert.equal(process.env['GYRE_BENCH_PROMETHEUS'], '0', 'A: metrics off');
  } finally {
    if (before === undefined) delete process.env['GYRE_BENCH_PROMETHEUS'];
    else process.env['GYRE_BENCH_PROMETHEUS'] = before;
  }
});
