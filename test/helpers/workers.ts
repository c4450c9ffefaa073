/**
 * `gyre serve --workers N` as a real process group for the worker tests: the CLI (through tsx) in
 * a temporary directory with a config file, started in its own process group so a test can signal
 * the primary alone or the whole group; its JSON log lines parsed as they come. Also the real SDK
 * with a WebSocket that notes which node (worker) each connect reply came from.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Centrifuge, type Options } from 'centrifuge';
import WebSocket from 'ws';
import { signToken } from '../../src/auth/sign.js';
import type { ConfigInput } from '../../src/config/tree.js';
import { API_KEY, BASE_CONFIG, SECRET, type LogLine } from './gyre.js';
import { DEFAULT_WAIT_MS, deadline, preview, until } from './wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** How long a group may take to start: N processes compiling through tsx on a loaded machine. */
export const START_WAIT_MS = Math.max(DEFAULT_WAIT_MS, 60_000);

export { API_KEY, BASE_CONFIG, SECRET };

const groups = new Set<WorkerGroup>();
process.once('exit', () => {
  for (const g of groups) g.kill('SIGKILL');
});

export interface WorkerGroupOptions {
  /** Files to write into the directory beside config.json (name → content). */
  files?: Record<string, string>;
  /** Extra CLI arguments after `serve --config config.json`. */
  args?: string[];
}

/** A running `gyre serve` process group. */
export class WorkerGroup {
  readonly logs: LogLine[] = [];
  /** Output that was not a JSON log line (stderr, warnings). */
  readonly stderr: string[] = [];
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;
  port = 0;

  constructor(
    readonly proc: ChildProcessByStdio<null, Readable, Readable>,
    readonly dir: string,
  ) {
    groups.add(this);
    createInterface({ input: proc.stdout }).on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.stderr.push(line);
      }
    });
    createInterface({ input: proc.stderr }).on('line', (line) => this.stderr.push(line));
    this.exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        groups.delete(this);
        resolve();
      });
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/connection/websocket`;
  }

  /** The log lines with this message. */
  lines(msg: string): LogLine[] {
    return this.logs.filter((l) => l.msg === msg);
  }

  /** Waits for a log line matching `match`; returns it. */
  async waitLog(match: (l: LogLine) => boolean, what: string, timeoutMs = START_WAIT_MS, from = 0): Promise<LogLine> {
    let found: LogLine | undefined;
    await until(
      () => {
        found = this.logs.slice(from).find(match);
        return found !== undefined || this.exit !== undefined;
      },
      { timeoutMs, what: `${what} (last log lines: ${preview(this.logs.slice(-5).map((l) => l.msg))}; stderr: ${preview(this.stderr.slice(-5))})`, stepMs: 20 },
    );
    if (found === undefined) throw new Error(`${what}: the process exited (${JSON.stringify(this.exit)}) first; stderr: ${preview(this.stderr.slice(-10))}`);
    return found;
  }

  /** The live pid of worker `index` (1-based), from the last "worker started" line. */
  workerPid(index: number): number {
    const started = this.lines('worker started').filter((l) => l['worker'] === index);
    const pid = started[started.length - 1]?.['pid'];
    if (typeof pid !== 'number') throw new Error(`no "worker started" line for worker ${index}`);
    return pid;
  }

  /** Node id of worker `index`, from its last "worker listening" line. */
  workerNode(index: number): string {
    const lines = this.lines('worker listening').filter((l) => l['worker'] === index);
    const node = lines[lines.length - 1]?.['node'];
    if (typeof node !== 'string') throw new Error(`no "worker listening" line for worker ${index}`);
    return node;
  }

  /** Calls `POST /api/<method>`; returns the parsed body. */
  async api(method: string, params: unknown = {}): Promise<Record<string, any>> {
    const res = await fetch(`${this.baseUrl}/api/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify(params),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`api ${method}: HTTP ${res.status} ${text}`);
    return JSON.parse(text) as Record<string, any>;
  }

  /** Node ids `/api/info` lists. */
  async infoNodes(): Promise<Array<Record<string, any>>> {
    return ((await this.api('info')).result?.nodes ?? []) as Array<Record<string, any>>;
  }

  token(user: string, claims: Record<string, unknown> = {}): Promise<string> {
    return signToken({ sub: user, ...claims }, { hmacSecret: SECRET, ttlSeconds: 3600 });
  }

  /** Sends `signal` to the primary alone, or to the whole process group. */
  signal(signal: NodeJS.Signals, group = false): void {
    process.kill(group ? -this.pid : this.pid, signal);
  }

  kill(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      // gone already
    }
  }

  /** Waits for the primary to exit. */
  waitExit(timeoutMs = START_WAIT_MS): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return deadline(
      timeoutMs,
      () => `the primary (pid ${this.pid}) did not exit within ${timeoutMs} ms (last log lines: ${preview(this.logs.slice(-5).map((l) => l.msg))})`,
      (resolve) => {
        void this.exited.then(() => resolve(this.exit!));
      },
    );
  }

  /** SIGTERM to the primary, then waits for the group to be gone; removes the directory. */
  async close(): Promise<void> {
    if (this.exit === undefined) {
      this.signal('SIGTERM');
      try {
        await this.waitExit();
      } catch (e) {
        this.kill('SIGKILL');
        throw e;
      }
    }
    this.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts `gyre serve` with `config` (merged over nothing: pass BASE_CONFIG parts yourself); resolves once it listens. */
export async function startWorkers(config: ConfigInput, opts: WorkerGroupOptions = {}): Promise<WorkerGroup> {
  const group = spawnWorkers(config, opts);
  const line = await group.waitLog((l) => typeof l.msg === 'string' && l.msg.startsWith('Gyre ') && l['port'] !== undefined, 'the primary did not log "Gyre ... listening"');
  group.port = line['port'] as number;
  return group;
}

/** Spawns `gyre serve` with `config` without waiting for it. */
export function spawnWorkers(config: ConfigInput, opts: WorkerGroupOptions = {}): WorkerGroup {
  const dir = mkdtempSync(join(tmpdir(), 'gyre-workers-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  for (const [name, content] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, name), content);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CENTRIFUGO|GYRE)_/.test(k) && k !== 'NODE_TEST_CONTEXT') env[k] = v;
  const proc = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', '--config', 'config.json', ...(opts.args ?? [])], {
    cwd: dir,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new WorkerGroup(proc, dir);
}

/** An SDK client whose WebSocket notes the `node` of each connect reply (the worker it reached). */
export interface NodeAwareClient {
  c: Centrifuge;
  /** The node of the last connect reply; undefined before the first. */
  node(): string | undefined;
}

export function nodeAwareClient(url: string, opts: Partial<Options> = {}): NodeAwareClient {
  let node: string | undefined;
  class NotingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      this.on('message', (data: Buffer) => {
        const text = data.toString('utf8');
        if (!text.includes('"connect":')) return;
        for (const line of text.split('\n')) {
          try {
            const reply = JSON.parse(line) as { connect?: { node?: string } };
            if (typeof reply.connect?.node === 'string') node = reply.connect.node;
          } catch {
            // not a reply
          }
        }
      });
    }
  }
  const c = new Centrifuge(url, { websocket: NotingWebSocket, minReconnectDelay: 50, maxReconnectDelay: 500, ...opts });
  return { c, node: () => node };
}
