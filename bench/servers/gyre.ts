/**
 * Gyre under test: an in-process GyreServer (HS256 tokens, HTTP API on the same port; the SDK's
 * HTTP-streaming and SSE fallbacks enabled, with their emulation endpoint), plus the bench control
 * API. In-process publications go through `node.publish`.
 *   node --expose-gc --import tsx bench/servers/gyre.ts [--engine memory|redis] [--redis-url URL] [--redis-prefix P]
 *                                                       [--workers N] [--write-delay DURATION]
 * The engine is the in-memory one unless `--engine redis` (or GYRE_BENCH_ENGINE=redis): then Redis at
 * `--redis-url` / GYRE_BENCH_REDIS_URL (default redis://127.0.0.1:6379) under the key prefix
 * `--redis-prefix` / GYRE_BENCH_REDIS_PREFIX (default "gyre-bench"; the harness passes one per run,
 * so that nodes of one run form a cluster and never see another run's keys). `--write-delay` (or
 * GYRE_BENCH_WRITE_DELAY) sets `client.write_delay` (e.g. "5ms"). GYRE_BENCH_PROMETHEUS=1 turns the
 * Prometheus metrics on.
 *
 * `--workers N` (N ≥ 1, or GYRE_BENCH_WORKERS) runs it as `gyre serve --workers N` does: this
 * process becomes the primary (src/workers/primary.ts), which forks N workers with node:cluster
 * (each re-runs this script with the same arguments and runs src/workers/worker.ts `runWorker`: a
 * full GyreServer whose embedded engine the primary hosts over IPC). The control API stays in the
 * primary: in-process publications go through `primary.engineHost.publish` (the cross-worker path:
 * the hosted broker sends one IPC message per worker with subscribers); /stats sums CPU and RSS over
 * the primary and every worker (/proc); connections are counted by asking the workers (IPC, the
 * bench's own messages `{bench: …}` beside the engine's); /gc collects in every process.
 */
import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { BENCH_API_KEY, BENCH_SECRET } from '../common.js';
import { gyreModule } from '../gyre-build.js';
import { runControl } from './control.js';

// Gyre itself comes from the compiled build (dist/, what `npm start` runs; the harness rebuilds it
// first), not through tsx: tsx's transform adds a `name` property to every arrow function kept in a
// field (keepNames), 256 bytes of heap each, several per connection. GYRE_BENCH_FROM=src measures the
// sources through tsx instead.
const { validateConfig } = await gyreModule<typeof import('../../src/config/validate.js')>('config/validate.js');
const { createLogger } = await gyreModule<typeof import('../../src/log.js')>('log.js');
const { GyreServer } = await gyreModule<typeof import('../../src/server.js')>('server.js');

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: process.env['GYRE_BENCH_ENGINE'] ?? 'memory' },
    'redis-url': { type: 'string', default: process.env['GYRE_BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379' },
    'redis-prefix': { type: 'string', default: process.env['GYRE_BENCH_REDIS_PREFIX'] ?? 'gyre-bench' },
    workers: { type: 'string', default: process.env['GYRE_BENCH_WORKERS'] ?? '0' },
    'write-delay': { type: 'string', ...(process.env['GYRE_BENCH_WRITE_DELAY'] !== undefined && { default: process.env['GYRE_BENCH_WRITE_DELAY'] }) },
  },
});
if (values.engine !== 'memory' && values.engine !== 'redis') {
  process.stderr.write(`unknown --engine "${values.engine}" (expected memory or redis)\n`);
  process.exit(2);
}
const workers = Number(values.workers);
if (!Number.isInteger(workers) || workers < 0) {
  process.stderr.write(`invalid --workers "${values.workers}" (expected a number ≥ 0)\n`);
  process.exit(2);
}

const { config } = validateConfig({
  log: { level: 'error' },
  client: {
    token: { hmac_secret_key: BENCH_SECRET },
    allowed_origins: ['*'],
    // client.write_delay, to measure write batching.
    ...(values['write-delay'] !== undefined && { write_delay: values['write-delay'] }),
  },
  http_api: { key: BENCH_API_KEY },
  // S1 also measures subscribers on the emulation transports (commands through /emulation).
  http_stream: { enabled: true },
  sse: { enabled: true },
  channel: { without_namespace: { allow_subscribe_for_client: true } },
  // Port 0: the workers of a primary share one random port (node:cluster).
  http_server: { address: '127.0.0.1', port: 0 },
  workers,
  // GYRE_BENCH_PROMETHEUS=1: metrics on, to measure what counting costs (issue 15: S1 within 5%).
  ...(process.env['GYRE_BENCH_PROMETHEUS'] === '1' && { prometheus: { enabled: true } }),
  ...(values.engine === 'redis' && {
    engine: { type: 'redis', redis: { address: values['redis-url'], prefix: values['redis-prefix'] } },
  }),
});

/** The bench's own messages between the primary and its workers (beside Gyre's engine envelopes). */
interface BenchAsk {
  bench: 'ask';
  id: number;
  what: 'gc' | 'count';
}
interface BenchAnswer {
  bench: 'answer';
  id: number;
  connections: number;
  memory: NodeJS.MemoryUsage;
}
const isBench = <T extends { bench: string }>(m: unknown, kind: T['bench']): m is T =>
  typeof m === 'object' && m !== null && (m as { bench?: unknown }).bench === kind;

if (workers === 0) {
  const server = new GyreServer({ config });
  const port = await server.listen();
  const node = server.node;
  await runControl(
    {
      publish: (channel, payload) => node.publish(channel, JSON.stringify(payload)),
      connections: () => node.clientCount,
      stop: () => server.shutdown(),
    },
    port,
  );
} else if (cluster.isWorker) {
  const { runWorker } = await gyreModule<typeof import('../../src/workers/worker.js')>('workers/worker.js');
  const { WORKER_INDEX_ENV } = await gyreModule<typeof import('../../src/workers/primary.js')>('workers/primary.js');
  const server = await runWorker({ config, log: createLogger(config.log), index: Number(process.env[WORKER_INDEX_ENV] ?? '1') });
  process.on('message', (m: unknown) => {
    if (!isBench<BenchAsk>(m, 'ask')) return;
    const answer = () => {
      const a: BenchAnswer = { bench: 'answer', id: m.id, connections: server.node.clientCount, memory: process.memoryUsage() };
      process.send?.(a);
    };
    if (m.what === 'count') return answer();
    void (async () => {
      const gc = (globalThis as { gc?: () => void }).gc;
      for (let i = 0; i < 4 && gc !== undefined; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 50));
      }
      answer();
    })();
  });
} else {
  const { Primary } = await gyreModule<typeof import('../../src/workers/primary.js')>('workers/primary.js');
  const log = createLogger(config.log);
  const primary = new Primary({ config, log, workers });
  const { port } = await primary.start();
  let seq = 0;
  const waiting = new Map<number, (a: BenchAnswer) => void>();
  cluster.on('message', (_worker, m: unknown) => {
    if (!isBench<BenchAnswer>(m, 'answer')) return;
    waiting.get(m.id)?.(m);
    waiting.delete(m.id);
  });
  const live = () => Object.values(cluster.workers ?? {}).filter((w) => w !== undefined && w.isConnected());
  /** Asks every live worker; a worker that does not answer within 10 s counts as nothing. */
  const ask = (what: BenchAsk['what']): Promise<BenchAnswer[]> =>
    Promise.all(
      live().map(
        (w) =>
          new Promise<BenchAnswer | undefined>((resolve) => {
            const id = ++seq;
            const timer = setTimeout(() => {
              waiting.delete(id);
              resolve(undefined);
            }, 10_000);
            waiting.set(id, (a) => {
              clearTimeout(timer);
              resolve(a);
            });
            w!.send({ bench: 'ask', id, what } satisfies BenchAsk);
          }),
      ),
    ).then((all) => all.filter((a): a is BenchAnswer => a !== undefined));
  const host = primary.engineHost;
  const NO_HISTORY = { history: { size: 0, ttl: 0, metaTtl: 0 } };
  await runControl(
    {
      publish: (channel, payload) => host.publish(channel, JSON.stringify(payload), NO_HISTORY),
      connections: async () => (await ask('count')).reduce((s, a) => s + a.connections, 0),
      stop: () => primary.stop(),
      others: {
        pids: () => primary.pids().filter((p): p is number => p !== undefined),
        gc: async () => (await ask('gc')).map((a) => a.memory),
      },
    },
    port,
  );
}
