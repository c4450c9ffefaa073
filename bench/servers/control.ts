/**
 * The control API every server under test exposes on its own port (never the port being measured):
 *   POST /publish  {rate, count, seqStart, size, target} → publishes in-process at that rate, answers when done
 *   GET  /stats    → process CPU time, wall clock, RSS, heap, connections (a server with worker
 *                    processes: CPU and RSS summed over this process and its workers)
 *   POST /gc       → memory after forced GC (needs --expose-gc; with workers: GC in each, summed)
 *   POST /profile/start, POST /profile/stop {file}
 *                  → V8 CPU profile of this process over a window, written to `file` (.cpuprofile)
 *   POST /heap {file} → V8 heap snapshot (after GC) written to `file`
 *   POST /quit     → stops the server and exits
 */
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Session } from 'node:inspector';
import { writeHeapSnapshot } from 'node:v8';
import type { AddressInfo } from 'node:net';
import { procUsage } from './procstat.js';
import {
  channelFor,
  makePayload,
  nowUs,
  READY_PREFIX,
  type BenchPayload,
  type MemoryStats,
  type PublishRequest,
  type PublishResponse,
  type ReadyLine,
  type ServerStats,
} from '../common.js';

export interface ControlledServer {
  /** Publishes one payload into a channel (may return a promise; errors are counted). */
  publish(channel: string, payload: BenchPayload): void | Promise<unknown>;
  connections(): number | Promise<number>;
  stop(): Promise<void>;
  /**
   * The server's other processes (`gyre serve --workers`: the workers of this primary). Their CPU
   * time and RSS are added to this process's in /stats (read from /proc), and /gc collects in
   * each of them and adds their memory.
   */
  others?: {
    pids(): number[];
    /** Forces GC in every other process; resolves with the memory of each afterwards. */
    gc(): Promise<NodeJS.MemoryUsage[]>;
  };
}

/** Starts the control API and prints the ready line for the orchestrator. */
export async function runControl(server: ControlledServer, port: number): Promise<void> {
  const http = createServer((req, res) => {
    handle(server, req, res).catch((e: unknown) => reply(res, 500, { error: String(e) }));
  });
  http.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const ready: ReadyLine = { port, control: (http.address() as AddressInfo).port, pid: process.pid };
  process.stdout.write(READY_PREFIX + JSON.stringify(ready) + '\n');
  // The orchestrator going away (IPC/stdin closed) must not leave a server behind.
  process.stdin.on('end', () => void quit(server));
  process.stdin.on('error', () => void quit(server));
  process.stdin.resume();
  process.on('SIGTERM', () => void quit(server));
}

let quitting = false;
async function quit(server: ControlledServer): Promise<void> {
  if (quitting) return;
  quitting = true;
  const force = setTimeout(() => process.exit(0), 3000);
  force.unref();
  try {
    await server.stop();
  } catch {
    // exiting anyway
  }
  process.exit(0);
}

async function handle(server: ControlledServer, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  if (req.method === 'GET' && url === '/stats') {
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    let user = cpu.user;
    let system = cpu.system;
    let rss = mem.rss;
    const pids = server.others?.pids() ?? [];
    const perProcessUs = [cpu.user + cpu.system];
    for (const pid of pids) {
      const u = procUsage(pid);
      user += u.userUs;
      system += u.systemUs;
      rss += u.rss;
      perProcessUs.push(u.userUs + u.systemUs);
    }
    // The clock is read with the CPU times; the connection count may take an IPC round trip.
    const wallUs = nowUs();
    const stats: ServerStats = {
      cpuUserUs: user,
      cpuSystemUs: system,
      wallUs,
      rss,
      heapUsed: mem.heapUsed,
      connections: await server.connections(),
      processes: 1 + pids.length,
      ...(pids.length > 0 && { perProcessUs }),
    };
    return reply(res, 200, stats);
  }
  if (req.method === 'POST' && url === '/gc') {
    const gc = (globalThis as { gc?: () => void }).gc;
    const others = server.others?.gc() ?? Promise.resolve([]);
    for (let i = 0; i < 4 && gc !== undefined; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 50));
    }
    const mems = [process.memoryUsage(), ...(await others)];
    const sum = (k: 'rss' | 'heapUsed' | 'heapTotal' | 'external' | 'arrayBuffers') => mems.reduce((s, m) => s + m[k], 0);
    const out: MemoryStats = {
      rss: sum('rss'),
      heapUsed: sum('heapUsed'),
      heapTotal: sum('heapTotal'),
      external: sum('external'),
      arrayBuffers: sum('arrayBuffers'),
      connections: await server.connections(),
      gc: gc !== undefined,
      processes: mems.length,
    };
    return reply(res, 200, out);
  }
  if (req.method === 'POST' && url === '/publish') {
    const body = JSON.parse(await readBody(req)) as PublishRequest;
    return reply(res, 200, await publishLoop(server, body));
  }
  if (req.method === 'POST' && url === '/profile/start') {
    await startProfile();
    return reply(res, 200, {});
  }
  if (req.method === 'POST' && url === '/profile/stop') {
    const { file } = JSON.parse(await readBody(req)) as { file: string };
    await stopProfile(file);
    return reply(res, 200, { file });
  }
  if (req.method === 'POST' && url === '/heap') {
    const { file } = JSON.parse(await readBody(req)) as { file: string };
    (globalThis as { gc?: () => void }).gc?.();
    return reply(res, 200, { file: writeHeapSnapshot(file) });
  }
  if (req.method === 'POST' && url === '/quit') {
    reply(res, 200, {});
    res.on('finish', () => void quit(server));
    return;
  }
  reply(res, 404, { error: 'not found' });
}

let profiler: Session | undefined;

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T)));
  });
}

async function startProfile(): Promise<void> {
  if (profiler !== undefined) return;
  const s = new Session();
  s.connect();
  await post(s, 'Profiler.enable');
  await post(s, 'Profiler.setSamplingInterval', { interval: 500 });
  await post(s, 'Profiler.start');
  profiler = s;
}

async function stopProfile(file: string): Promise<void> {
  const s = profiler;
  if (s === undefined) return;
  profiler = undefined;
  const { profile } = await post<{ profile: unknown }>(s, 'Profiler.stop');
  s.disconnect();
  writeFileSync(file, JSON.stringify(profile));
}

/**
 * Publishes `count` payloads at `rate`/s: every timer tick publishes what is due by then, so a busy
 * event loop shows up as bursts and as latency (each payload is stamped with the time it was due);
 * the next tick is set for when the next publication is due.
 */
function publishLoop(server: ControlledServer, r: PublishRequest): Promise<PublishResponse> {
  return new Promise((resolve) => {
    const out: PublishResponse = { sent: 0, errors: 0, firstUs: 0, lastUs: 0, callUs: 0, maxCallUs: 0, aborted: false };
    const pending: Array<Promise<unknown>> = [];
    const fail = () => {
      out.errors++;
    };
    const start = nowUs();
    const tick = () => {
      const now = nowUs();
      if (out.sent > 0 && now - (start + (out.sent * 1e6) / r.rate) > r.maxLagUs) {
        out.aborted = true;
        void Promise.all(pending).then(() => resolve(out));
        return;
      }
      const due = Math.min(r.count, Math.floor(((now - start) * r.rate) / 1e6) + 1);
      while (out.sent < due) {
        const k = out.sent;
        const payload = makePayload(r.seqStart + k, r.size, start + (k * 1e6) / r.rate);
        if (k === 0) out.firstUs = now;
        out.lastUs = now;
        const t0 = nowUs();
        try {
          const p = server.publish(channelFor(r.target, k), payload);
          if (p !== undefined) pending.push(p.catch(fail));
        } catch {
          fail();
        }
        const took = nowUs() - t0;
        out.callUs += took;
        if (took > out.maxCallUs) out.maxCallUs = took;
        out.sent++;
      }
      if (pending.length > 1000) pending.splice(0, pending.length);
      if (out.sent < r.count) {
        // Wake when the next publication is due (at least 1 ms on): no idle ticks at low rates,
        // whose cost would count as the server's.
        const nextUs = start + (out.sent * 1e6) / r.rate;
        setTimeout(tick, Math.max(1, Math.floor((nextUs - nowUs()) / 1000)));
        return;
      }
      void Promise.all(pending).then(() => resolve(out));
    };
    tick();
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
