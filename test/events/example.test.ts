/** The "user with id 500" example runs end to end (it checks its own outcome and exits non-zero otherwise). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

test('examples/events-user-500.ts: user 500 gets the notification on both tabs, user 501 does not', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'examples/events-user-500.ts'], {
    env: { ...process.env, PORT: '0' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /user 500 got it on both tabs, user 501 did not/);
  assert.equal(run.stdout.match(/\(user 500\) got \{"event":"NOTIFICATION"/g)?.length, 2);
  assert.doesNotMatch(run.stdout, /\(user 501\) got \{"event":"NOTIFICATION"/);
});
