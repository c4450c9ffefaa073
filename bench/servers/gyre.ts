/**
 * Gyre under test: an in-process GyreServer (HS256 tokens, HTTP API on the same port; the SDK's
 * HTTP-streaming and SSE fallbacks enabled, with their emulation endpoint), plus the bench control
 * API. In-process publications go through `node.publish`.
 *   node --expose-gc --import tsx bench/servers/gyre.ts [--engine memory|redis] [--redis-url URL] [--redis-prefix P]
 * The engine is the in-memory one unless `--engine redis` (or GYRE_BENCH_ENGINE=redis): then Redis at
 * `--redis-url` / GYRE_BENCH_REDIS_URL (default redis://127.0.0.1:6379) under the key prefix
 * `--redis-prefix` / GYRE_BENCH_REDIS_PREFIX (default "gyre-bench"; the harness passes one per run,
 * so that nodes of one run form a cluster and never see another run's keys). GYRE_BENCH_WRITE_DELAY
 * sets `client.write_delay` (e.g. "5ms").
 */
import { parseArgs } from 'node:util';
import { validateConfig } from '../../src/config/validate.js';
import { GyreServer } from '../../src/server.js';
import { BENCH_API_KEY, BENCH_SECRET } from '../common.js';
import { runControl } from './control.js';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: process.env['GYRE_BENCH_ENGINE'] ?? 'memory' },
    'redis-url': { type: 'string', default: process.env['GYRE_BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379' },
    'redis-prefix': { type: 'string', default: process.env['GYRE_BENCH_REDIS_PREFIX'] ?? 'gyre-bench' },
  },
});
if (values.engine !== 'memory' && values.engine !== 'redis') {
  process.stderr.write(`unknown --engine "${values.engine}" (expected memory or redis)\n`);
  process.exit(2);
}

const { config } = validateConfig({
  log: { level: 'error' },
  client: {
    token: { hmac_secret_key: BENCH_SECRET },
    allowed_origins: ['*'],
    // GYRE_BENCH_WRITE_DELAY (e.g. "5ms"): client.write_delay, to measure write batching.
    ...(process.env['GYRE_BENCH_WRITE_DELAY'] !== undefined && { write_delay: process.env['GYRE_BENCH_WRITE_DELAY'] }),
  },
  http_api: { key: BENCH_API_KEY },
  // S1 also measures subscribers on the emulation transports (commands through /emulation).
  http_stream: { enabled: true },
  sse: { enabled: true },
  channel: { without_namespace: { allow_subscribe_for_client: true } },
  ...(values.engine === 'redis' && {
    engine: { type: 'redis', redis: { address: values['redis-url'], prefix: values['redis-prefix'] } },
  }),
});
const server = new GyreServer({ config });
const port = await server.listen(0, '127.0.0.1');
const node = server.node;

await runControl(
  {
    publish: (channel, payload) => node.publish(channel, JSON.stringify(payload)),
    connections: () => node.clientCount,
    stop: () => server.shutdown(),
  },
  port,
);
