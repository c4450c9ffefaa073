/**
 * External services for engine tests: is Redis / NATS reachable, a test that skips (with a visible
 * notice) when its service is not, unless GYRE_REQUIRE_SERVICES=1 (CI), where it fails; unique key
 * prefixes per run; and private `redis-server` processes on other ports (for restarts, shards,
 * Sentinel and Cluster), so the shared server on 6379 is never disturbed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { DEFAULT_WAIT_MS, deadline, sleep, withTimeout } from './wait.js';

export const REDIS_URL = process.env['GYRE_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
export const NATS_URL = process.env['GYRE_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';

const REQUIRE = process.env['GYRE_REQUIRE_SERVICES'] === '1';

/** True when a TCP connection to host:port opens and the service answers its greeting. */
async function probe(host: string, port: number, hello: string | undefined, expect: RegExp): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let buf = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (d: Buffer) => {
      buf += d.toString();
      if (expect.test(buf)) done(true);
    });
    socket.connect(port, host, () => {
      if (hello !== undefined) socket.write(hello);
    });
  });
}

function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: u.port === '' ? defaultPort : Number(u.port) };
}

let redisUp: Promise<boolean> | undefined;
let natsUp: Promise<boolean> | undefined;

export function redisReachable(): Promise<boolean> {
  const { host, port } = hostPort(REDIS_URL, 6379);
  redisUp ??= probe(host, port, 'PING\r\n', /\+PONG/);
  return redisUp;
}

export function natsReachable(): Promise<boolean> {
  const { host, port } = hostPort(NATS_URL, 4222);
  natsUp ??= probe(host, port, undefined, /^INFO /);
  return natsUp;
}

/** True when `redis-server` can be started here (for the tests that run their own). */
export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

type Service = 'redis' | 'nats' | 'redis-server' | 'nats-server';

async function available(service: Service): Promise<boolean> {
  if (service === 'redis') return redisReachable();
  if (service === 'nats') return natsReachable();
  if (service === 'nats-server') return NATS_SERVER_BIN !== undefined;
  return redisServerAvailable();
}

const DESCRIBE: Record<Service, string> = {
  redis: `Redis at ${REDIS_URL}`,
  nats: `NATS at ${NATS_URL}`,
  'redis-server': 'the redis-server binary',
  'nats-server': 'the nats-server binary',
};

/**
 * A test that needs services: skipped with a notice when one is missing, failed instead when
 * GYRE_REQUIRE_SERVICES=1.
 */
export function serviceTest(name: string, services: readonly Service[], fn: (t: TestContext) => Promise<void>): void {
  test(name, async (t) => {
    for (const s of services) {
      if (await available(s)) continue;
      const msg = `${DESCRIBE[s]} is not reachable`;
      if (REQUIRE) assert.fail(`${msg} (GYRE_REQUIRE_SERVICES=1)`);
      console.log(`# SKIPPED "${name}": ${msg}`);
      t.skip(msg);
      return;
    }
    await fn(t);
  });
}

/** A key / subject prefix unique to this test run. */
export function uniquePrefix(tag = 'gyre-test'): string {
  return `${tag}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `prefix` (cleanup after a test run on a shared Redis). */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5000 });
  const run = async () => {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}.*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== '0');
  };
  try {
    await withTimeout(run(), { timeoutMs: 30_000 }, 'deleteKeys', `deleting the keys under "${prefix}" at ${url} did not finish`);
  } finally {
    r.disconnect();
  }
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return deadline(DEFAULT_WAIT_MS, () => `freePort: no free port found within ${DEFAULT_WAIT_MS} ms`, (resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** How long a private redis-server / nats-server may take to answer after its start (ms). */
const START_WAIT_MS = Math.max(DEFAULT_WAIT_MS, 15_000);

/** Servers (and other children) this process started: killed when it exits, whatever way the tests ended. */
const spawned = new Set<ChildProcess>();
/** Their scratch directories, removed at exit too. */
const scratch = new Set<string>();
let guarded = false;

function killSpawned(): void {
  for (const proc of spawned) if (proc.exitCode === null) proc.kill('SIGKILL');
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
}

export function track(proc: ChildProcess): ChildProcess {
  if (!guarded) {
    guarded = true;
    process.once('exit', killSpawned);
    // The test runner stops a file that ran out of time with a signal: take the servers along.
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        killSpawned();
        process.exit(128 + (signal === 'SIGTERM' ? 15 : 2));
      });
    }
  }
  spawned.add(proc);
  proc.once('exit', () => spawned.delete(proc));
  return proc;
}

/** A private redis-server on its own port (and directory), to stop and restart at will. */
export class OwnRedis {
  private proc: ChildProcess | undefined;
  readonly dir: string;

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[],
    private readonly configFile: string | undefined,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'gyre-redis-'));
    scratch.add(this.dir);
    if (configFile !== undefined) writeFileSync(join(this.dir, 'redis.conf'), configFile);
  }

  /**
   * Starts a redis-server on a free port; `persist` keeps data over restarts (AOF); `config` is the
   * text of a config file to start with (a Sentinel needs one it can rewrite).
   */
  static async start(opts: { persist?: boolean; args?: readonly string[]; port?: number; config?: string } = {}): Promise<OwnRedis> {
    const persistence = opts.persist === true ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    // A free port may be taken by another test's server before ours binds it: then try another.
    for (let attempt = 0; ; attempt++) {
      const port = opts.port ?? (await freePort());
      const r = new OwnRedis(port, [...persistence, '--save', '', ...(opts.args ?? [])], opts.config);
      try {
        await r.up();
        return r;
      } catch (e) {
        await r.stop();
        if (opts.port !== undefined || attempt >= 4) throw e;
      }
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts (again) and waits until it answers PING. */
  async up(): Promise<void> {
    const config = this.configFile !== undefined ? [join(this.dir, 'redis.conf')] : [];
    this.proc = track(
      spawn('redis-server', [...config, '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, ...this.extraArgs], {
        stdio: 'ignore',
      }),
    );
    const proc = this.proc;
    const end = Date.now() + START_WAIT_MS;
    while (proc.exitCode === null && Date.now() < end) {
      if (await probe('127.0.0.1', this.port, 'PING\r\n', /\+PONG/)) {
        // The server answering must be ours, not another one that had the port already.
        const info = String(await this.command('INFO', 'server'));
        if (info.includes(`process_id:${proc.pid}\r`)) return;
        throw new Error(`redis-server on port ${this.port} did not start: another server answers there`);
      }
      await sleep(20);
    }
    throw new Error(
      proc.exitCode !== null
        ? `redis-server on port ${this.port} did not start: it exited with ${proc.exitCode}`
        : `redis-server on port ${this.port} did not start: no PONG within ${START_WAIT_MS} ms`,
    );
  }

  /** Stops it (SIGKILL: an abrupt loss, no goodbye to clients) and waits for the exit. */
  async down(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    await killAndWait(proc);
  }

  /** A command on this server (test setup and inspection). */
  async command(...args: string[]): Promise<unknown> {
    const r = new Redis(this.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5000 });
    const run = async () => {
      await r.connect();
      return await r.call(args[0]!, ...args.slice(1));
    };
    try {
      return await withTimeout(run(), undefined, 'OwnRedis.command', `no answer to ${args.join(' ')} from port ${this.port}`);
    } finally {
      r.disconnect();
    }
  }

  async stop(): Promise<void> {
    await this.down();
    rmSync(this.dir, { recursive: true, force: true });
    scratch.delete(this.dir);
  }
}

/** Writes a file in a fresh temp directory; returns its path. */
export function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gyre-'));
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** The nats-server binary, if installed. */
export const NATS_SERVER_BIN = ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', 'nats-server'].find(
  (bin) => spawnSync(bin, ['--version']).status === 0,
);

/** A private nats-server on its own port, to stop and restart at will. */
export class OwnNats {
  private proc: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnNats> {
    if (NATS_SERVER_BIN === undefined) throw new Error('nats-server is not installed');
    const n = new OwnNats(await freePort());
    await n.up();
    return n;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    const proc = track(spawn(NATS_SERVER_BIN!, ['-a', '127.0.0.1', '-p', String(this.port)], { stdio: 'ignore' }));
    this.proc = proc;
    const end = Date.now() + START_WAIT_MS;
    while (proc.exitCode === null && Date.now() < end) {
      if (await probe('127.0.0.1', this.port, undefined, /^INFO /)) {
        // One that could not bind the port exits at once: make sure ours is the one answering.
        await sleep(50);
        if (proc.exitCode === null) return;
        break;
      }
      await sleep(20);
    }
    throw new Error(
      proc.exitCode !== null
        ? `nats-server on port ${this.port} did not start: it exited with ${proc.exitCode}`
        : `nats-server on port ${this.port} did not start: no INFO within ${START_WAIT_MS} ms`,
    );
  }

  async down(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    await killAndWait(proc);
  }
}

/** SIGKILLs a child process (an abrupt loss, no goodbye to clients) and waits for its exit. */
async function killAndWait(proc: ChildProcess | undefined): Promise<void> {
  if (proc === undefined || proc.exitCode !== null) return;
  await deadline<void>(
    DEFAULT_WAIT_MS,
    () => `killAndWait: process ${proc.pid} (${proc.spawnfile}) did not exit within ${DEFAULT_WAIT_MS} ms of SIGKILL`,
    (resolve) => {
      const onExit = () => resolve();
      proc.once('exit', onExit);
      proc.kill('SIGKILL');
      return () => proc.off('exit', onExit);
    },
  );
}
