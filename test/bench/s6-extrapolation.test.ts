/**
 * BENCHMARKS.md's S6 extrapolation to 16 and 64 cores: the primary's relay cost fitted as a base per
 * publication plus a cost per publication per worker (from the relay rows of several worker counts),
 * and the worker count that delivers most, so that more cores never extrapolate to less.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { relayModel, s6Extrapolation } from '../../bench/report.js';
import type { StepResult, SweepResult, Variant } from '../../bench/scenarios.js';

function step(rate: number, deliveredPerSec: number, processCpu: number[]): StepResult {
  return {
    via: 'inproc',
    rate,
    published: rate,
    expected: deliveredPerSec,
    delivered: deliveredPerSec,
    deliveredPerSec,
    p50: 1,
    p95: 2,
    p99: 3,
    max: 4,
    earlyP50: 1,
    lateP50: 1,
    serverCpu: processCpu.reduce((a, b) => a + b, 0),
    processCpu,
    loadgenCpu: 50,
    otherCpu: 0,
    irqCpu: 10,
    disconnects: 0,
    publishErrors: 0,
    sustained: true,
    drainMs: 0,
  };
}

function row(variant: Variant, clients: number, steps: StepResult[], relay = false): SweepResult {
  return { variant, clients, connected: clients, best: steps[steps.length - 1] ?? null, half: null, steps, ...(relay && { relay }) };
}

// Relay rows: 100 subscribers; at 4,000 publications/s the primary spends 23, 27 and 31 µs per
// publication with 1, 2 and 3 workers (9.2%, 10.8%, 12.4% of a core): 19 µs + 4 µs per worker. The
// lower rate's steps cost more per publication and must not enter the fit.
const relayRows = [
  row('gyre-w1', 100, [step(1000, 100_000, [13, 60]), step(4000, 400_000, [9.2, 60])], true),
  row('gyre-w2', 100, [step(1000, 100_000, [13, 30, 30]), step(4000, 400_000, [10.8, 30, 30])], true),
  row('gyre-w3', 100, [step(1000, 100_000, [14, 20, 20, 20]), step(4000, 400_000, [12.4, 20, 20, 20])], true),
];
// Fan-out: 2 workers deliver 500,000 msg/s to 5,000 subscribers at 25% of a core each: 1 µs per message.
const fanOut = row('gyre-w2', 5000, [step(100, 500_000, [3, 25, 25])]);

test('S6 relay model: a base per publication plus a cost per worker, fitted at the highest rate', () => {
  const m = relayModel([...relayRows, fanOut]);
  assert.ok(m !== undefined);
  assert.ok(Math.abs(m.baseUs - 19) < 1e-6, `base ${m.baseUs}`);
  assert.ok(Math.abs(m.perWorkerUs - 4) < 1e-6, `per worker ${m.perWorkerUs}`);
  assert.equal(m.rate, 4000);
  assert.deepEqual(m.workerCounts, [1, 2, 3]);
});

test('S6 relay model: with one worker count all of the cost counts per worker; none without relay rows', () => {
  const m = relayModel([relayRows[1]!]);
  assert.ok(m !== undefined);
  assert.equal(m.baseUs, 0);
  assert.ok(Math.abs(m.perWorkerUs - 13.5) < 1e-6, `per worker ${m.perWorkerUs}`);
  assert.equal(relayModel([fanOut]), undefined);
});

test('S6 extrapolation: every worker busy on 16 cores; on 64, the count where the primary becomes the limit', () => {
  const rows = [...relayRows, fanOut];
  const e16 = s6Extrapolation(rows, 5000, 16);
  assert.ok(e16 !== undefined);
  assert.equal(e16.workers, 15);
  assert.ok(Math.abs(e16.delivered - 15e6) < 1, `16 cores: ${e16.delivered}`);
  assert.equal(e16.bounded, false);
  // 64 cores: min(w × 1 M, 5,000 × 10⁶ / (19 + 4w)) is largest at w = 33 (33 M vs 33.1 M).
  const e64 = s6Extrapolation(rows, 5000, 64);
  assert.ok(e64 !== undefined);
  assert.equal(e64.workers, 33);
  assert.ok(Math.abs(e64.delivered - 33e6) < 1, `64 cores: ${e64.delivered}`);
  assert.ok(e64.delivered >= e16.delivered, 'more cores never extrapolate to less');
  assert.equal(s6Extrapolation(rows, 20_000, 16), undefined, 'no fan-out row at that count');
});
