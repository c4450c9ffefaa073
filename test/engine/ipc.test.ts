/**
 * The IPC engine between real processes: the primary's {@link EngineHost} (here, the test
 * process) and workers' {@link EngineLink}s in child processes over Node's IPC channel.
 * - A flood of publications towards a worker that stopped reading (SIGSTOP) stays bounded in the
 *   primary (its queue for that worker never exceeds the limit); the worker, once it runs again,
 *   is told which channel lost events (its subscribers recover) and gets the later ones.
 * - A worker's requests are bounded: beyond `maxPending` they fail at once, and a request the
 *   primary never answers fails after `requestTimeout`, with errors saying so.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { EngineHost, type HostedWorker } from '../../src/engine/ipc/host.js';
import { EngineLink, EngineUnavailableError } from '../../src/engine/ipc/link.js';
import { isEngineEnvelope, type WorkerMessage } from '../../src/engine/ipc/messages.js';
import { until } from '../helpers/wait.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/ipc-worker.ts', import.meta.url));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

interface Child {
  proc: ChildProcess;
  hosted: HostedWorker;
  reports: Array<Record<string, any>>;
}

function start(host: EngineHost, mode: string): Child {
  const proc = fork(FIXTURE, [mode], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
  children.push(proc);
  const hosted = host.attach(
    {
      send(envelope, written) {
        if (!proc.connected) return false;
        proc.send(envelope, undefined, {}, (err) => written(err));
        return true;
      },
    },
    mode,
  );
  const reports: Array<Record<string, any>> = [];
  proc.on('message', (m: any) => {
    if (isEngineEnvelope<WorkerMessage>(m)) hosted.receive(m.b);
    else if (m?.t === 'report') reports.push(m);
  });
  return { proc, hosted, reports };
}

test('a flood towards a worker that stopped reading stays bounded; the worker learns which channel lost events', async () => {
  const maxBytes = 256 * 1024;
  const host = new EngineHost(pino({ level: 'silent' }), { limits: { maxBytes, maxInFlight: 2, maxBatch: 64 } });
  await host.start();
  const sub = start(host, 'subscriber');
  const pub = start(host, 'publisher');
  try {
    await until(() => sub.reports.some((r) => r['ready']) && pub.reports.some((r) => r['ready']), 'the children did not start');
    await until(() => sub.hosted.channels.has('flood'), 'the subscriber did not subscribe');
    sub.proc.kill('SIGSTOP');
    let peak = 0;
    const watch = setInterval(() => (peak = Math.max(peak, sub.hosted.queuedBytes)), 1);
    const n = 20_000; // ≈ 20 MB of publications, far beyond the pipe and the queue
    pub.proc.send({ t: 'publish', n });
    await until(() => pub.reports.some((r) => r['published'] !== undefined), { timeoutMs: 60_000, what: 'the publisher did not finish' });
    clearInterval(watch);
    const done = pub.reports.find((r) => r['published'] !== undefined)!;
    assert.deepEqual([done['published'], done['failed']], [n, 0], 'publishes failed while a subscriber was stopped');
    assert.ok(sub.hosted.queuedBytes <= maxBytes, `queued ${sub.hosted.queuedBytes} bytes for the stopped worker`);
    assert.ok(peak <= maxBytes, `the queue for the stopped worker peaked at ${peak} bytes`);
    sub.proc.kill('SIGCONT');
    await until(() => sub.reports.some((r) => Array.isArray(r['lost'])), 'the worker was not told that events were lost');
    const lost = sub.reports.find((r) => Array.isArray(r['lost']))!;
    assert.deepEqual(lost['lost'], ['flood']);
    // Later events arrive again.
    pub.proc.send({ t: 'publish', n: 3 });
    await until(() => sub.reports.some((r) => r['lastOffset'] === n + 3), 'the worker did not get the events after the loss');
    const last = sub.reports[sub.reports.length - 1]!;
    assert.ok(last['events'] < n + 3, `the stopped worker got all ${last['events']} events: nothing was dropped, the bound did not act`);
  } finally {
    sub.proc.kill('SIGCONT');
    await host.close();
  }
});

test('a worker bounds its requests: too many waiting fail at once, an unanswered one times out', async () => {
  // A peer that reads and never answers.
  const proc = fork('-e', ['process.on("message", () => {})'], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(proc);
  const link = new EngineLink(
    {
      send(envelope, written) {
        if (!proc.connected) return false;
        proc.send(envelope, undefined, {}, (err) => written(err));
        return true;
      },
    },
    { maxPending: 3, requestTimeout: 300 },
  );
  try {
    const waiting = [1, 2, 3].map(() => link.request({ op: 'presenceStats', ch: 'x' }, 1));
    await assert.rejects(link.request({ op: 'presenceStats', ch: 'x' }, 1), (e: unknown) => e instanceof EngineUnavailableError && /too many requests waiting/.test(e.message));
    for (const w of waiting) await assert.rejects(w, (e: unknown) => e instanceof EngineUnavailableError && /no answer to presenceStats within 300 ms/.test(e.message));
  } finally {
    link.close();
    await assert.rejects(link.request({ op: 'presenceStats', ch: 'x' }, 1), /closed/);
  }
});
