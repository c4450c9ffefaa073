import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from '../../src/config/duration.js';

test('parses Go-style durations into milliseconds', () => {
  assert.equal(parseDuration('25s'), 25_000);
  assert.equal(parseDuration('1000ms'), 1_000);
  assert.equal(parseDuration('720h'), 2_592_000_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('1.5s'), 1_500);
  assert.equal(parseDuration('1.1s'), 1_100);
  assert.equal(parseDuration('.5m'), 30_000);
  assert.equal(parseDuration('1500us'), 1.5);
  assert.equal(parseDuration('1500µs'), 1.5);
  assert.equal(parseDuration('2000000ns'), 2);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('0s'), 0);
  assert.equal(parseDuration('+5s'), 5_000);
  assert.equal(parseDuration('-1s'), -1_000);
  assert.equal(parseDuration('1h1m1s1ms'), 3_661_001);
});

test('rejects malformed durations', () => {
  for (const bad of ['', '25', '1.5', 's', '25 s', '25sec', '1d', 'abc', '-', '1h-5m', '.s', '9999999999999h']) {
    assert.throws(() => parseDuration(bad), Error, `should reject ${JSON.stringify(bad)}`);
  }
  assert.throws(() => parseDuration('25'), /missing unit/);
  assert.throws(() => parseDuration('1d'), /unknown unit "d"/);
});

test('formats milliseconds back into strings parseDuration reads', () => {
  for (const [ms, text] of [
    [0, '0s'],
    [25_000, '25s'],
    [1_000, '1s'],
    [1_500, '1500ms'],
    [90_000, '90s'],
    [120_000, '2m'],
    [2_592_000_000, '720h'],
    [1.5, '1500us'],
    [-1_000, '-1s'],
  ] as const) {
    assert.equal(formatDuration(ms), text);
    assert.equal(parseDuration(text), ms);
  }
});
