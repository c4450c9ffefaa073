/**
 * Graceful shutdown of the real CLI process: on SIGTERM / SIGINT every client is closed with 3001
 * "shutdown" (the centrifuge client goes back to connecting), the listener stops taking new
 * connections, and the process exits with code 0.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { Centrifuge, type ConnectingContext, type SubscribedContext } from 'centrifuge';
import WebSocket from 'ws';
import { signToken } from '../../src/auth/sign.js';
import { once, RawSocket, type LogLine } from '../helpers/gyre.js';
import { exitOf, waitFor } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');
const SECRET = 'shutdown-test-secret';

const dirs: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  // A test that failed half way leaves its server running: it must not keep this file alive.
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The environment without config variables, so only the test's config file counts. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CENTRIFUGO|GYRE)_/.test(k)) env[k] = v;
  return env;
}

interface Served {
  child: ChildProcess;
  port: number;
  /** JSON log lines from stdout, as they arrive. */
  logs: LogLine[];
  /** The exit code and signal, once the process has exited (bounded: see exitOf). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `gyre serve` with `config` on a free port and waits for its "listening" log line. */
async function serve(config: Record<string, unknown>): Promise<Served> {
  assert.ok(existsSync(fileURLToPath(TSX)), `tsx loader not found at ${TSX}`);
  const dir = mkdtempSync(join(tmpdir(), 'gyre-shutdown-'));
  dirs.push(dir);
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config));
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', '--config', file, '--port', '0'], {
    cwd: dir,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const logs: LogLine[] = [];
  // Starting a process through tsx takes seconds on a loaded machine: a longer bound.
  const port = await waitFor<number>('"gyre serve" to log "listening"', (resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`gyre serve exited (${code}) before listening: ${stderr}`));
    child.once('exit', onExit);
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        return;
      }
      logs.push(line);
      if (/^Gyre .* listening$/.test(line.msg)) resolve(line['port'] as number);
    });
    return () => child.off('exit', onExit);
  }, { timeoutMs: 30_000 });
  return {
    child,
    port,
    logs,
    get exited() {
      return exitOf(child, `"gyre serve" (pid ${child.pid}) to exit`);
    },
  };
}

const CONFIG = {
  log: { level: 'info' },
  http_server: { address: '127.0.0.1' },
  client: { token: { hmac_secret_key: SECRET } },
  channel: { without_namespace: { allow_subscribe_for_client: true } },
  shutdown: { timeout: '5s' },
};

const wsUrl = (port: number) => `ws://127.0.0.1:${port}/connection/websocket`;

/** A raw socket, connected with a token. */
async function rawClient(port: number): Promise<RawSocket> {
  const s = await RawSocket.open(wsUrl(port));
  const reply = await s.connect(await signToken({ sub: 'raw' }, { hmacSecret: SECRET }));
  assert.ok(reply['connect'] !== undefined, JSON.stringify(reply));
  return s;
}

/** A real centrifuge client, connected and subscribed. */
async function sdkClient(port: number): Promise<Centrifuge> {
  const client = new Centrifuge(wsUrl(port), {
    websocket: WebSocket,
    token: await signToken({ sub: 'sdk' }, { hmacSecret: SECRET }),
    minReconnectDelay: 50,
    maxReconnectDelay: 300,
  });
  const sub = client.newSubscription('news');
  const subscribed = once<SubscribedContext>(sub, 'subscribed');
  sub.subscribe();
  client.connect();
  await subscribed;
  return client;
}

/** Resolves with the first `connecting` event (the SDK reconnecting after a disconnect). */
function nextConnecting(client: Centrifuge): Promise<ConnectingContext> {
  return once<ConnectingContext>(client, 'connecting');
}

/** A TCP connection with half an HTTP request: the server cannot finish closing it gracefully. */
function halfRequest(port: number): Promise<Socket> {
  return waitFor('a TCP connection to the server', (resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1', () => {
      socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      resolve(socket);
    });
    socket.once('error', reject);
    socket.on('error', () => {});
  });
}

describe('graceful shutdown', { concurrency: true }, () => {
  test('SIGTERM closes clients with 3001 "shutdown", refuses new connections and exits 0', async () => {
    const served = await serve(CONFIG);
    const raw = await rawClient(served.port);
    const sdk = await sdkClient(served.port);
    const sdkReconnecting = nextConnecting(sdk);

    served.child.kill('SIGTERM');

    assert.deepEqual(await raw.closed, { code: 3001, reason: 'shutdown' });
    const ctx = await sdkReconnecting;
    assert.equal(ctx.code, 3001);
    assert.equal(ctx.reason, 'shutdown');
    sdk.disconnect();

    assert.deepEqual(await served.exited, { code: 0, signal: null });
    await assert.rejects(RawSocket.open(wsUrl(served.port)), { code: 'ECONNREFUSED' });
    const shutting = served.logs.find((l) => l.msg === 'shutting down');
    assert.equal(shutting?.['signal'], 'SIGTERM');
    assert.ok(served.logs.some((l) => l.msg === 'stopped'), 'graceful stop logged');
  });

  test('SIGINT shuts down too; while a connection lingers the process takes no new connection, and exits once it is gone', async () => {
    // A long shutdown.timeout: only the lingering connection going away ends the shutdown.
    const served = await serve({ ...CONFIG, shutdown: { timeout: '30s' } });
    const raw = await rawClient(served.port);
    const sdk = await sdkClient(served.port);
    const sdkReconnecting = nextConnecting(sdk);
    const lingering = await halfRequest(served.port);

    served.child.kill('SIGINT');

    assert.deepEqual(await raw.closed, { code: 3001, reason: 'shutdown' });
    assert.equal((await sdkReconnecting).code, 3001);
    sdk.disconnect();
    // Still draining the lingering connection, but taking no new ones.
    await assert.rejects(RawSocket.open(wsUrl(served.port)), { code: 'ECONNREFUSED' });
    assert.equal(served.child.exitCode, null, 'still shutting down while the new connection was refused');
    assert.ok(served.logs.some((l) => l.msg === 'shutting down' && l['signal'] === 'SIGINT'));

    lingering.destroy();
    assert.deepEqual(await served.exited, { code: 0, signal: null });
    assert.ok(served.logs.some((l) => l.msg === 'stopped'), 'graceful stop logged');
  });

  test('shutdown.timeout ends a shutdown that a connection holds up, still with exit code 0', async () => {
    const served = await serve({ ...CONFIG, shutdown: { timeout: '1s' } });
    const raw = await rawClient(served.port);
    const lingering = await halfRequest(served.port);
    const lingeringClosed = once(lingering, 'close');

    served.child.kill('SIGTERM');

    assert.deepEqual(await raw.closed, { code: 3001, reason: 'shutdown' });
    assert.deepEqual(await served.exited, { code: 0, signal: null });
    await lingeringClosed;
    assert.ok(served.logs.some((l) => l.msg === 'stopped'), 'the shutdown completed, not the forced exit');
  });
});
