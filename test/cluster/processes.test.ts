/**
 * A cluster of separate processes over the real Redis: node A is the real `gyre serve` CLI with a
 * Redis engine config file, nodes B and C are child processes with short registry timings. A real
 * `centrifuge` client on A receives what B's HTTP API published; C's API disconnects a user on A;
 * a node killed with SIGKILL drops out of the registry after the timeout, one stopped with SIGTERM
 * at once.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { Centrifuge, type PublicationContext } from 'centrifuge';
import WebSocket from 'ws';
import { signToken } from '../../src/auth/sign.js';
import { deepMerge } from '../../src/config/tree.js';
import { API_KEY, BASE_CONFIG, SECRET, once, until } from '../helpers/gyre.js';
import { deleteKeys, freePort, REDIS_URL, serviceTest, track, uniquePrefix } from '../helpers/services.js';
import { exitOf, waitFor } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const NODE_SCRIPT = fileURLToPath(new URL('./node-process.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

const prefix = uniquePrefix();
const children: ChildProcess[] = [];
const dirs: string[] = [];
const clients: Centrifuge[] = [];
after(async () => {
  for (const c of clients) c.disconnect();
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await deleteKeys(REDIS_URL, prefix).catch(() => {});
});

const CONFIG = deepMerge(BASE_CONFIG, {
  log: { level: 'warn' },
  engine: { type: 'redis', redis: { address: REDIS_URL, prefix } },
  health: { enabled: true },
});

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CENTRIFUGO|GYRE)_/.test(k)) env[k] = v;
  return env;
}

interface Proc {
  child: ChildProcess;
  port: number;
  base: string;
}

/** The real CLI: `gyre serve --config FILE --port N`, ready once /health answers. */
async function cliNode(name: string): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), 'gyre-cluster-'));
  dirs.push(dir);
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(deepMerge(CONFIG, { node: { name } })));
  const port = await freePort();
  const child = track(
    spawn(process.execPath, ['--import', TSX, MAIN, 'serve', '--config', file, '--port', String(port)], {
      cwd: dir,
      env: cleanEnv(),
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  children.push(child);
  const base = `http://127.0.0.1:${port}`;
  // Starting a process through tsx takes seconds on a loaded machine: a longer bound.
  await until(async () => (await fetch(`${base}/health`).catch(() => undefined))?.ok === true, {
    stepMs: 50,
    timeoutMs: 30_000,
    what: `node ${name} (gyre serve) to answer /health`,
  });
  return { child, port, base };
}

/** A node process with registry timings of its own. */
async function scriptNode(name: string, cluster: Record<string, number>): Promise<Proc> {
  const child = track(
    spawn(process.execPath, ['--import', TSX, NODE_SCRIPT, JSON.stringify(deepMerge(CONFIG, { node: { name } })), JSON.stringify(cluster)], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  children.push(child);
  const line = await waitFor<string>(
    `node ${name} to print its port`,
    (resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`node ${name} exited with ${code}`)));
    },
    { timeoutMs: 30_000 },
  );
  const { port } = JSON.parse(line) as { port: number };
  return { child, port, base: `http://127.0.0.1:${port}` };
}

async function api(p: Proc, method: string, params: unknown = {}): Promise<Record<string, unknown>> {
  const res = await fetch(`${p.base}/api/${method}`, {
    method: 'POST',
    headers: { 'X-API-Key': API_KEY },
    body: JSON.stringify(params),
  });
  return (await res.json()) as Record<string, unknown>;
}

async function nodeNames(p: Proc): Promise<string[]> {
  const res = (await api(p, 'info'))['result'] as { nodes: Array<{ name: string }> };
  return res.nodes.map((n) => n.name).sort();
}

async function exited(child: ChildProcess): Promise<number | null> {
  return (await exitOf(child)).code;
}

serviceTest('processes: three node processes act as one over Redis', ['redis'], async () => {
  const [a, b, c] = await Promise.all([
    cliNode('proc-a'),
    scriptNode('proc-b', { announceInterval: 200 }),
    scriptNode('proc-c', { announceInterval: 200, nodeTimeout: 1000 }),
  ]);
  await until(async () => (await nodeNames(a)).length === 3, 50);
  assert.deepEqual(await nodeNames(a), ['proc-a', 'proc-b', 'proc-c']);

  // A client on A (the CLI) receives what B's API published.
  const client = new Centrifuge(`ws://127.0.0.1:${a.port}/connection/websocket`, {
    websocket: WebSocket,
    token: await signToken({ sub: 'walker' }, { hmacSecret: SECRET }),
    minReconnectDelay: 50,
    maxReconnectDelay: 300,
  });
  clients.push(client);
  const sub = client.newSubscription('procs');
  const got: unknown[] = [];
  sub.on('publication', (ctx: PublicationContext) => got.push(ctx.data));
  const subscribed = once(sub, 'subscribed');
  sub.subscribe();
  client.connect();
  await subscribed;
  assert.equal(((await api(b, 'publish', { channel: 'procs', data: { from: 'B' } }))['result'] as { offset: number }).offset, 1);
  await until(() => got.length === 1);
  assert.deepEqual(got, [{ from: 'B' }]);
  // History is shared: C sees what B published.
  const hist = (await api(c, 'history', { channel: 'procs', limit: 10 }))['result'] as { publications: Array<{ data: unknown }> };
  assert.deepEqual(
    hist.publications.map((p) => p.data),
    [{ from: 'B' }],
  );

  // C's API disconnects the user on A.
  const disconnected = once<{ code: number }>(client, 'disconnected');
  await api(c, 'disconnect', { user: 'walker' });
  assert.equal((await disconnected).code, 3503);

  // B dies without a word: C (1 s node timeout) drops it.
  b.child.kill('SIGKILL');
  await exited(b.child);
  await until(async () => !(await nodeNames(c)).includes('proc-b'), 50);
  // C stops gracefully: A drops it at once, although its own timeout is the default (7 s).
  c.child.kill('SIGTERM');
  assert.equal(await exited(c.child), 0);
  await until(async () => !(await nodeNames(a)).includes('proc-c'), 20);
  a.child.kill('SIGTERM');
  assert.equal(await exited(a.child), 0);
});
