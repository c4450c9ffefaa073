/**
 * Gyre under test: an in-process GyreServer (memory engine, HS256 tokens, HTTP API on the same port),
 * plus the bench control API. In-process publications go through `node.publish`.
 *   node --expose-gc --import tsx bench/servers/gyre.ts
 */
import { validateConfig } from '../../src/config/validate.js';
import { GyreServer } from '../../src/server.js';
import { BENCH_API_KEY, BENCH_SECRET } from '../common.js';
import { runControl } from './control.js';

const { config } = validateConfig({
  log: { level: 'error' },
  client: { token: { hmac_secret_key: BENCH_SECRET }, allowed_origins: ['*'] },
  http_api: { key: BENCH_API_KEY },
  channel: { without_namespace: { allow_subscribe_for_client: true } },
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
