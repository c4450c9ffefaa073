import assert from 'node:assert/strict';
import { test } from 'node:test';
import { medianRound, type ConnectRow } from '../../bench/scenarios.js';

const row = (perSec: number, serverCpuPerConnUs: number): ConnectRow => ({
  variant: 'gyre',
  clients: 100,
  connected: 100,
  failed: 0,
  seconds: 100 / perSec,
  perSec,
  setupP50: 1,
  setupP99: 2,
  serverCpu: 50,
  serverCpuPerConnUs,
  loadgenCpu: 40,
  otherCpu: 0,
});

test('S4 rounds: the row is the round of median rate, with every round listed in order', () => {
  const m = medianRound([row(5000, 150), row(7000, 120), row(6000, 130)]);
  assert.equal(m.perSec, 6000);
  assert.equal(m.serverCpuPerConnUs, 130);
  assert.deepEqual(m.rounds, { perSec: [5000, 7000, 6000], serverCpuPerConnUs: [150, 120, 130] });
});

test('S4 rounds: of an even count, the lower middle round', () => {
  assert.equal(medianRound([row(4000, 1), row(1000, 1), row(3000, 1), row(2000, 1)]).perSec, 2000);
});
