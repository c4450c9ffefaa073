/**
 * bench/connect-overhead.ts runs (a smoke test: it times nothing): its connections are answered
 * (the script waits for both replies of every one) and it reports a figure for each round.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { promisify } from 'node:util';

const SCRIPT = fileURLToPath(new URL('../../bench/connect-overhead.ts', import.meta.url));

test('connect-overhead connects every client of every round and reports the rounds', { timeout: 120_000 }, async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', SCRIPT, '--connections', '150', '--rounds', '3'], {
    timeout: 110_000,
  });
  const m = /median ([\d.]+) µs per connection \(rounds of 150: ([\d., ]+)\)/.exec(stdout);
  assert.ok(m !== null, `unexpected output: ${stdout}`);
  assert.ok(Number(m[1]) > 0);
  assert.equal(m[2]!.split(', ').length, 3);
});

test('connect-overhead refuses a bad --connections', async () => {
  await assert.rejects(promisify(execFile)(process.execPath, ['--import', 'tsx', SCRIPT, '--connections', 'lots']), (e: { code?: number; stderr?: string }) => {
    assert.equal(e.code, 2);
    assert.match(e.stderr ?? '', /usage/);
    return true;
  });
});
