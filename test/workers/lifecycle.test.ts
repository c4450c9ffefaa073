/**
 * The life of a `gyre serve --workers` process group, each test on a group of its own: SIGTERM to
 * the whole group (as systemd and container runtimes send it) and SIGINT to the primary alone both
 * drain every worker (their SDK clients get 3001) and the primary exits 0; SIGHUP reopens the log
 * file in every process (single-process too) and the server keeps serving; a worker that cannot
 * listen stops the start with a clear message and exit code 1; bad `--workers` values and config
 * are refused; with the Redis engine each worker is a node of the Redis cluster.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/validate.js';
import { run } from '../cli/run-cli.js';
import { deleteKeys, REDIS_URL, serviceTest, uniquePrefix } from '../helpers/services.js';
import { once, until } from '../helpers/wait.js';
import { BASE_CONFIG, nodeAwareClient, spawnWorkers, startWorkers, type NodeAwareClient, type WorkerGroup } from '../helpers/workers.js';

const CONFIG = { ...BASE_CONFIG, log: { level: 'info' }, http_server: { port: 0, address: '127.0.0.1' }, workers: 2, shutdown: { timeout: '10s' } };

/** Connects SDK clients until both workers hold one; returns every client with the codes it saw on its way down. */
async function clientsOnBothWorkers(group: WorkerGroup): Promise<Array<{ c: NodeAwareClient; codes: number[] }>> {
  const out: Array<{ c: NodeAwareClient; codes: number[] }> = [];
  for (let i = 0; i < 12 && new Set(out.map((o) => o.c.node())).size < 2; i++) {
    const c = nodeAwareClient(group.wsUrl, { token: await group.token(`u${i}`) });
    const codes: number[] = [];
    const connected = once(c.c, 'connected', 'SDK client did not connect');
    c.c.connect();
    out.push({ c, codes });
    await connected;
    c.c.on('connecting', (ctx) => codes.push(ctx.code));
    c.c.on('disconnected', (ctx) => codes.push(ctx.code));
  }
  assert.equal(new Set(out.map((o) => o.c.node())).size, 2, 'no client reached the second worker');
  return out;
}

async function drains(signal: NodeJS.Signals, toGroup: boolean): Promise<void> {
  const group = await startWorkers(CONFIG);
  const clients: Array<{ c: NodeAwareClient; codes: number[] }> = [];
  try {
    clients.push(...(await clientsOnBothWorkers(group)));
    group.signal(signal, toGroup);
    await until(() => clients.every((o) => o.codes.length > 0), 'not every client was told the server shuts down');
    for (const o of clients) assert.equal(o.codes[0], 3001, `a client got ${o.codes.join(',')} instead of 3001`);
    for (const o of clients) o.c.c.disconnect();
    const exit = await group.waitExit();
    assert.deepEqual(exit, { code: 0, signal: null });
    const exits = group.lines('worker exited');
    assert.deepEqual(exits.map((l) => l['code']).sort(), [0, 0]);
    assert.equal(group.lines('worker exited unexpectedly').length, 0);
    assert.ok(group.lines('stopped').length === 1, 'the primary did not log "stopped"');
  } finally {
    for (const o of clients) o.c.c.disconnect();
    await group.close();
  }
}

describe('gyre serve --workers: lifecycle', () => {
  test('SIGTERM to the whole process group drains every worker (3001) and the primary exits 0', () => drains('SIGTERM', true));

  test('SIGINT to the primary alone drains every worker (3001) and the primary exits 0', () => drains('SIGINT', false));

  for (const workers of [0, 2]) {
    test(`SIGHUP reopens the log file (logrotate) and keeps serving (workers: ${workers})`, async () => {
      const group = spawnWorkers({ ...CONFIG, workers, log: { level: 'info', file: 'gyre.log' } });
      const logFile = join(group.dir, 'gyre.log');
      const fileLines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) : []);
      try {
        await until(() => fileLines(logFile).some((l) => typeof l['msg'] === 'string' && (l['msg'] as string).startsWith('Gyre ')), {
          timeoutMs: 60_000,
          what: 'the server did not log "Gyre ... listening" into its log file',
        });
        const port = fileLines(logFile).find((l) => typeof l['msg'] === 'string' && (l['msg'] as string).startsWith('Gyre '))!['port'] as number;
        renameSync(logFile, `${logFile}.1`);
        group.signal('SIGHUP');
        // Every process (the primary and each worker) writes its line into the new file.
        await until(() => fileLines(logFile).filter((l) => /log file reopened/.test(String(l['msg']))).length === workers + 1, 'the log file was not reopened by every process');
        assert.equal(group.exit, undefined, 'SIGHUP stopped the server');
        assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
        group.signal('SIGTERM');
        assert.deepEqual(await group.waitExit(), { code: 0, signal: null });
      } finally {
        await group.close();
      }
    });
  }

  test('a worker that cannot listen (port taken) stops the start: exit 1 with a message', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const group = spawnWorkers({ ...CONFIG, http_server: { port, address: '127.0.0.1' } });
    try {
      const exit = await group.waitExit();
      assert.equal(exit.code, 1);
      assert.match(group.stderr.join('\n'), /cannot start: worker \d exited before listening/);
      assert.equal(group.lines('restarting worker').length, 0);
    } finally {
      blocker.close();
      await group.close();
    }
  });

  test('worker_accept "workers": the workers accept from the shared socket (node:cluster SCHED_NONE), and serve as one', async () => {
    const group = await startWorkers({ ...CONFIG, worker_accept: 'workers' });
    try {
      const policy = group.lines('workers accept connections from the shared socket');
      assert.equal(policy.length, 1, 'the primary did not log that the workers accept');
      assert.equal(policy[0]!['worker_accept'], 'workers');
      const c = nodeAwareClient(group.wsUrl, { token: await group.token('accepting') });
      const sub = c.c.newSubscription('accepted');
      const got: unknown[] = [];
      sub.on('publication', (ctx) => got.push(ctx.data));
      const subscribed = once(sub, 'subscribed', 'the SDK client did not subscribe');
      c.c.connect();
      sub.subscribe();
      await subscribed;
      // Published through whichever worker takes the API request.
      for (let i = 0; i < 4; i++) assert.equal((await group.api('publish', { channel: 'accepted', data: { i } }))['error'], undefined);
      await until(() => got.length === 4, 'the client did not receive the 4 publications');
      assert.deepEqual(got, [{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }]);
      c.c.disconnect();
    } finally {
      await group.close();
    }
  });

  test('bad --workers values are refused', async () => {
    for (const bad of ['-1', 'x', '1.5']) {
      const res = await run(['serve', `--workers=${bad}`]);
      assert.equal(res.code, 1, `--workers ${bad}: exit ${res.code}`);
      assert.match(res.stderr, /invalid --workers/);
    }
  });

  test('config: workers is a count or "auto" (the number of cores), worker_accept one of auto / primary / workers; anything else is refused', () => {
    assert.equal(validateConfig({}).config.workers, 0);
    assert.equal(validateConfig({ workers: 3 }).config.workers, 3);
    assert.equal(validateConfig({ workers: 'auto' }).config.workers, availableParallelism());
    assert.equal(loadConfig({ env: { GYRE_WORKERS: 'auto' } }).config.workers, availableParallelism());
    for (const bad of ['many', -1, 2.5, true]) {
      assert.throws(
        () => validateConfig({ workers: bad }),
        (e: unknown) => e instanceof ConfigError && /workers: expected an integer or "auto"/.test(e.message),
        `workers: ${String(bad)} was accepted`,
      );
    }
    assert.equal(validateConfig({}).config.worker_accept, 'auto');
    assert.equal(validateConfig({ worker_accept: 'primary' }).config.worker_accept, 'primary');
    assert.throws(() => validateConfig({ worker_accept: 'kernel' }), (e: unknown) => e instanceof ConfigError && /worker_accept/.test(e.message));
    assert.throws(
      () => validateConfig({ events: { hooks: ['start_everything=./x.js'] } }),
      (e: unknown) => e instanceof ConfigError && /events\.hooks\[0\].*unknown hook "start_everything"/.test(e.message),
    );
  });
});

serviceTest('with the Redis engine each worker is a node of the Redis cluster', ['redis'], async () => {
  const prefix = uniquePrefix();
  const group = await startWorkers({ ...CONFIG, engine: { type: 'redis', redis: { address: REDIS_URL, prefix } } });
  try {
    const line = group.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('Gyre '));
    assert.equal(line?.['engine'], 'redis');
    await until(async () => (await group.infoNodes()).length === 2, 'api info did not list 2 nodes');
    const clients = await clientsOnBothWorkers(group);
    const got: unknown[][] = clients.map(() => []);
    await Promise.all(
      clients.map(async (o, i) => {
        const sub = o.c.c.newSubscription('redis-chan');
        sub.on('publication', (ctx) => got[i]!.push(ctx.data));
        const ok = once(sub, 'subscribed', 'subscription not confirmed');
        sub.subscribe();
        await ok;
      }),
    );
    await group.api('publish', { channel: 'redis-chan', data: { over: 'redis' } });
    await until(() => got.every((g) => g.length === 1), 'a client on some worker did not get the publication');
    for (const o of clients) o.c.c.disconnect();
  } finally {
    await group.close();
    await deleteKeys(REDIS_URL, prefix).catch(() => {});
  }
});
