/**
 * The benchmark's Socket.IO server authenticates a JWT sent in the CONNECT packet (as socket.io-client
 * sends `auth: { token }`), so that S4's "Socket.IO (JWT)" row pays for a token as Gyre does: a good
 * token is let in, a bad, foreign or non-string one is refused with a CONNECT_ERROR, and with
 * `--require-token` a client without one is refused too. Then a tiny S4 through the harness measures
 * both Socket.IO rows and compares Gyre's target with the JWT one. No timing assertion.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { defaultOptions, runBench } from '../../bench/bench.js';
import { BENCH_SECRET } from '../../bench/common.js';
import { ServerProcess } from '../../bench/harness.js';
import { checkTargets } from '../../bench/report.js';
import { signToken } from '../../src/auth/sign.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Opens an Engine.IO WebSocket, answers the open packet with a Socket.IO CONNECT carrying `auth`
 * (none when undefined) and resolves with the server's answer to it: `40…` (connected) or `44…`.
 */
function connectWith(port: number, auth: unknown): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
  return waitFor<string>(
    `the Socket.IO answer to a CONNECT with auth ${JSON.stringify(auth)}`,
    (resolve, reject) => {
      ws.on('error', reject);
      ws.on('message', (data: Buffer) => {
        const s = data.toString();
        if (s.startsWith('0')) ws.send(auth === undefined ? '40' : `40${JSON.stringify(auth)}`);
        else if (s.startsWith('40') || s.startsWith('44')) resolve(s);
      });
      return () => ws.terminate();
    },
    { timeoutMs: 15_000 },
  );
}

test('bench Socket.IO server: a JWT in the CONNECT packet is verified; --require-token refuses clients without one', { timeout: 60_000 }, async () => {
  const good = await signToken({ sub: 'u1' }, { hmacSecret: BENCH_SECRET });
  const foreign = await signToken({ sub: 'u1' }, { hmacSecret: 'another-secret' });
  const log = (): void => {};
  const open = await ServerProcess.start('sio', log);
  try {
    assert.match(await connectWith(open.port, { token: good }), /^40\{"sid":/, 'a good token is let in');
    assert.match(await connectWith(open.port, undefined), /^40\{"sid":/, 'without --require-token, no token is let in');
    assert.equal(await connectWith(open.port, { token: foreign }), '44{"message":"invalid token"}', 'a token of another secret');
    assert.equal(await connectWith(open.port, { token: `${good}x` }), '44{"message":"invalid token"}', 'a tampered token');
    assert.equal(await connectWith(open.port, { token: 42 }), '44{"message":"invalid token"}', 'a token that is not a string');
  } finally {
    await open.stop();
  }
  const strict = await ServerProcess.start('sio', log, { args: ['--require-token'] });
  try {
    assert.equal(await connectWith(strict.port, undefined), '44{"message":"missing token"}', 'no token, token required');
    assert.match(await connectWith(strict.port, { token: good }), /^40\{"sid":/, 'a good token, token required');
  } finally {
    await strict.stop();
  }
});

test('bench harness: S4 measures Socket.IO without and with a JWT, and the target compares with the JWT row', { timeout: 120_000 }, async () => {
  const lines: string[] = [];
  const opts = defaultOptions(true, 4096, (l) => lines.push(l));
  opts.noiseBudgetSeconds = 0; // a smoke test times nothing
  opts.scenarios = ['S4'];
  opts.servers = ['gyre', 'sio'];
  opts.s4 = { clients: 30, concurrencyPerWorker: 8 };
  const res = await runBench(opts, 'smoke test sio jwt');

  assert.deepEqual(res.notes, [], `no scenario failed: ${res.notes.join('; ')}\n${lines.join('\n')}`);
  const s4 = res.s4 ?? [];
  assert.deepEqual(s4.map((r) => r.variant), ['gyre', 'sio', 'sio-jwt']);
  // The sio-jwt server refuses clients without a valid token: all connected means all were verified.
  for (const r of s4) assert.equal(r.connected, 30, `${r.variant}: all connected`);
  const s4Targets = checkTargets(res).filter((c) => c.target.startsWith('S4'));
  assert.equal(s4Targets.length, 1);
  assert.match(s4Targets[0]!.target, /Socket\.IO \(JWT\) connect rate/);
  assert.match(s4Targets[0]!.measured, /× Socket\.IO without authentication/);
});
