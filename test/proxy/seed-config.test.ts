/**
 * The getting-started config.json of the seeds (the real-time server wired to an application server
 * over gRPC: flat proxy_* keys, `grpc_api: true`, a `// ...` line) starts Gyre unchanged:
 * `checkconfig` passes, `serve` starts with the gRPC API on; and with a gRPC handler backend on the
 * address the file names (127.0.0.1:10001), the seed's topology works end to end: the backend
 * decides connect, subscribe, publish and rpc, and the application publishes through the gRPC API.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Centrifuge, type PublicationContext } from 'centrifuge';
import WebSocket from 'ws';
import { GrpcApiClient } from '../../src/api/client/grpc.js';
import { loadConfig } from '../../src/config/load.js';
import { until } from '../helpers/gyre.js';
import { connectOutcome, startBackend, subscribeOutcome, type TestBackend } from './helpers.js';
import { deadline, withTimeout } from '../helpers/wait.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/getting-started.config.json', import.meta.url));
const SEED = fileURLToPath(new URL('../../../shared/seeds/002_12fe62753493379b.txt', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** The environment without config variables, plus `extra`. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CENTRIFUGO|GYRE)_/.test(k)) out[k] = v;
  return { ...out, ...extra };
}

function gyre(args: string[], extraEnv: Record<string, string> = {}) {
  return spawn(process.execPath, ['--import', TSX, MAIN, ...args], { env: env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
}

test('the fixture is the seed config.json, verbatim', (t) => {
  if (!existsSync(SEED)) return t.skip('the seeds are not beside this checkout');
  const seed = readFileSync(SEED, 'utf8');
  const block = /```json config\.json\n([\s\S]*?)```/.exec(seed)?.[1];
  assert.equal(readFileSync(FIXTURE, 'utf8'), block);
});

test('its keys land where the v6 layout keeps them', () => {
  const { config, warnings } = loadConfig({ file: FIXTURE, env: {} });
  const p = config.client.proxy;
  assert.deepEqual([p.connect.enabled, p.connect.endpoint, p.connect.timeout], [true, 'grpc://127.0.0.1:10001', 10_000]);
  assert.deepEqual([p.refresh.enabled, p.refresh.endpoint], [true, 'grpc://127.0.0.1c:10001']);
  assert.deepEqual([config.channel.proxy.subscribe.endpoint, config.channel.proxy.publish.timeout], ['grpc://127.0.0.1:10001', 10_000]);
  assert.equal(config.channel.without_namespace.subscribe_proxy_enabled, true);
  assert.equal(config.channel.without_namespace.publish_proxy_enabled, true);
  assert.deepEqual([config.rpc.proxy.endpoint, config.rpc.without_namespace.proxy_enabled], ['grpc://127.0.0.1:10001', true]);
  assert.deepEqual([config.grpc_api.enabled, config.grpc_api.address, config.grpc_api.port], [true, '0.0.0.0', 10_000]);
  // Proxy and gRPC keys are all understood (other older keys still get their "moved" warnings).
  assert.deepEqual(warnings.filter((w) => /proxy|grpc/.test(w)), []);
});

test('checkconfig passes', async () => {
  const child = gyre(['checkconfig', FIXTURE]);
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await deadline<number | null>(
    30_000,
    () => {
      child.kill('SIGKILL');
      return `"gyre checkconfig" did not finish within 30000 ms (stdout: ${stdout})`;
    },
    (resolve) => void child.once('close', resolve),
  );
  assert.equal(code, 0);
  assert.match(stdout, /: OK$/m);
});

test('serve starts with it; the seed topology works with a gRPC handler backend on 127.0.0.1:10001', async (t) => {
  // Ports: the HTTP port and the gRPC API port come from the command line / env (the file stays as it is).
  const child = gyre(['serve', '--config', FIXTURE, '--port', '0'], { GYRE_GRPC_API_PORT: '0', GYRE_GRPC_API_ADDRESS: '127.0.0.1' });
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // Starting a process through tsx takes seconds on a loaded machine: a longer bound.
  const ports = await deadline<{ http: number; grpc: number }>(
    30_000,
    () => {
      child.kill('SIGKILL');
      return `"gyre serve" did not log "listening" within 30000 ms (stderr: ${stderr})`;
    },
    (resolve, reject) => {
      let grpcPort = 0;
      createInterface({ input: child.stdout }).on('line', (text) => {
        const line = JSON.parse(text) as Record<string, unknown>;
        if (line['msg'] === 'gRPC API listening') grpcPort = line['port'] as number;
        if (/^Gyre .* listening$/.test(String(line['msg']))) resolve({ http: line['port'] as number, grpc: grpcPort });
      });
      void exited.then((code) => reject(new Error(`serve exited (${code}) before listening: ${stderr}`)));
    },
  );
  let backend: TestBackend | undefined;
  const api = new GrpcApiClient({ address: `127.0.0.1:${ports.grpc}` });
  try {
    assert.ok(ports.grpc > 0, 'the gRPC API listens');
    assert.equal((await api.info()).nodes.length, 1);

    try {
      backend = await startBackend('grpc', undefined, 10001);
    } catch (e) {
      return t.skip(`127.0.0.1:10001 is taken here (${(e as Error).message}): the end-to-end part needs it`);
    }
    const c = new Centrifuge(`ws://127.0.0.1:${ports.http}/connection/websocket`, { websocket: WebSocket, data: { token: 'good-bob' } });
    try {
      const out = await connectOutcome(c);
      assert.ok('connected' in out, JSON.stringify(out));
      assert.equal((out.connected.data as { greeting: string }).greeting, 'hello bob');

      const sub = c.newSubscription('tickets');
      const subbed = await subscribeOutcome(sub);
      assert.ok('subscribed' in subbed, JSON.stringify(subbed));
      const received: unknown[] = [];
      sub.on('publication', (ctx: PublicationContext) => received.push(ctx.data));

      // The application publishes through the gRPC API; the client publishes through the proxy.
      await api.publish({ channel: 'tickets', data: { seat: 'A1' } });
      await sub.publish({ seat: 'B2' });
      await until(() => received.length === 2);
      assert.deepEqual(received, [{ seat: 'A1' }, { seat: 'B2', by: 'bob', tier: null }]);

      assert.deepEqual((await c.rpc('whoami', {})).data, { user: 'bob', meta: null, params: {} });
      assert.deepEqual(
        backend.seen.map((s) => s.event),
        ['connect', 'subscribe', 'publish', 'rpc'],
      );
    } finally {
      c.disconnect();
    }
  } finally {
    await api.close();
    child.kill('SIGTERM');
    await withTimeout(exited, undefined, 'serve', '"gyre serve" did not exit after SIGTERM');
    await backend?.close();
  }
});
