/**
 * The harness as a library: scenario sizes, running the scenarios, writing the results (JSON, SVG,
 * BENCHMARKS.md). `bench/run.ts` is the command line; the smoke test calls {@link runBench} directly.
 */
import { pinningEnabled } from './cpu-pinning.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import type { ServerKind } from './common.js';
import { LoadGen, REPO_DIR, type Log } from './harness.js';
import { BENCH_REDIS_URL } from './redis.js';
import { charts, consoleReport, markdown, type Results } from './report.js';
import { Bench, type BenchOptions, type ScenarioName, type ScenarioResults } from './scenarios.js';

export const ALL_SCENARIOS: ScenarioName[] = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6'];

const TITLES: Readonly<Record<ScenarioName, string>> = {
  S1: 'fan-out',
  S2: 'many channels',
  S3: 'idle memory',
  S4: 'connect rate',
  S5: 'fan-out on two nodes over Redis',
  S6: 'fan-out with worker processes (gyre serve --workers)',
};
export const ALL_SERVERS: ServerKind[] = ['gyre', 'raw', 'sio'];

/** `client.write_delay` of the S1 rows publishing through the HTTP API with write batching. */
export const WRITE_DELAY = '20ms';
/** The S1 batch publisher: the publications of each this many ms in one `POST /api/batch`. */
export const HTTP_BATCH_MS = 10;

/** Descriptors a process keeps for itself besides connections. */
const FD_MARGIN = 512;

/** Scenario sizes: the full run, or `--quick`. */
export function defaultOptions(quick: boolean, openFileLimit: number, log: Log): BenchOptions {
  const maxConnectionsPerProcess = Math.max(100, openFileLimit - FD_MARGIN);
  return quick
    ? {
        scenarios: ALL_SCENARIOS,
        servers: ALL_SERVERS,
        quick,
        payloadSize: 100,
        s1: {
          subscribers: [1000],
          stepSeconds: 1,
          maxSteps: 4,
          resolution: 1.5,
          http: true,
          protobuf: true,
          streams: true,
          writeDelay: WRITE_DELAY,
          httpBatchMs: HTTP_BATCH_MS,
        },
        s2: { clients: 2000, stepSeconds: 1, maxSteps: 4, resolution: 1.5, startRate: 16_000 },
        s3: { counts: [1000, 4000], workers: 2 },
        s4: { clients: 2000, concurrencyPerWorker: 64, workers: [2] },
        s5: { subscribers: 200, stepSeconds: 1, maxSteps: 3, resolution: 1.5, http: false, redisUrl: BENCH_REDIS_URL },
        s6: { subscribers: [1000], workers: [0, 1, 2], stepSeconds: 1, maxSteps: 4, resolution: 1.5, relay: { subscribers: 100, rates: [2000] } },
        maxP99Ms: 250,
        maxP99UsPerSubscriber: 40,
        noiseBudgetSeconds: 15,
        setupConcurrency: 128,
        maxConnectionsPerProcess,
        log,
      }
    : {
        scenarios: ALL_SCENARIOS,
        servers: ALL_SERVERS,
        quick,
        payloadSize: 100,
        s1: {
          subscribers: [1000, 5000, 10_000],
          stepSeconds: 2,
          maxSteps: 8,
          resolution: 1.2,
          http: true,
          protobuf: true,
          streams: true,
          writeDelay: WRITE_DELAY,
          httpBatchMs: HTTP_BATCH_MS,
        },
        s2: { clients: 10_000, stepSeconds: 2, maxSteps: 7, resolution: 1.25, startRate: 8000 },
        // 50k connections need 3 processes under a 20k open-file limit.
        s3: { counts: [10_000, 50_000], workers: 3 },
        s4: { clients: 10_000, concurrencyPerWorker: 128, workers: [1, 2], schedNone: true, rounds: 3 },
        s5: { subscribers: 2000, stepSeconds: 2, maxSteps: 6, resolution: 1.25, http: true, redisUrl: BENCH_REDIS_URL },
        s6: {
          subscribers: [5000, 20_000],
          workers: [0, 1, 2],
          stepSeconds: 2,
          maxSteps: 8,
          resolution: 1.2,
          // Three worker counts: the report fits a cost per publication and one per worker.
          relay: { subscribers: 100, rates: [1000, 4000], workers: [1, 2, 3] },
        },
        maxP99Ms: 250,
        maxP99UsPerSubscriber: 40,
        noiseBudgetSeconds: 150,
        setupConcurrency: 128,
        maxConnectionsPerProcess,
        log,
      };
}

/** Runs the chosen scenarios and returns the results (nothing written). */
export async function runBench(opts: BenchOptions, command: string): Promise<Results> {
  const started = Date.now();
  const loadStart = loadavg();
  const counts: number[] = [];
  if (opts.scenarios.includes('S1')) counts.push(...opts.s1.subscribers);
  if (opts.scenarios.includes('S2')) counts.push(opts.s2.clients);
  if (opts.scenarios.includes('S3')) {
    const perServer = opts.maxConnectionsPerProcess * Math.max(1, opts.s3.workers ?? 0);
    counts.push(...opts.s3.counts.map((c) => Math.min(c, perServer)));
  }
  if (opts.scenarios.includes('S4')) counts.push(opts.s4.clients);
  if (opts.scenarios.includes('S5')) counts.push(opts.s5.subscribers);
  if (opts.scenarios.includes('S6')) counts.push(...opts.s6.subscribers.map((c) => Math.min(c, opts.maxConnectionsPerProcess * Math.max(1, ...opts.s6.workers))));
  const biggest = Math.max(1, ...counts);
  const workers = Math.max(2, Math.ceil(biggest / opts.maxConnectionsPerProcess));
  const lg = new LoadGen(workers, opts.maxConnectionsPerProcess);
  const bench = new Bench(opts, lg);
  const res: Results = {
    meta: {
      date: new Date().toISOString(),
      command,
      quick: opts.quick,
      node: process.version,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      cores: cpus().length,
      memoryGiB: totalmem() / 2 ** 30,
      platform: `${process.platform} ${process.arch}`,
      ...(pinningEnabled() && { pinned: true }),
      openFileLimit: opts.maxConnectionsPerProcess + FD_MARGIN,
      loadAverageAtStart: loadStart,
      loadAverageAtEnd: [],
      durationSeconds: 0,
      payloadBytes: opts.payloadSize,
      workers,
      noiseBudgetSeconds: opts.noiseBudgetSeconds,
      noiseSpentSeconds: 0,
      stepSeconds: opts.s1.stepSeconds,
      maxP99Ms: opts.maxP99Ms,
      maxP99UsPerSubscriber: opts.maxP99UsPerSubscriber,
    },
    notes: [],
    runs: {},
  };
  const capped = opts.scenarios.includes('S3') ? opts.s3.counts.filter((c) => c > opts.maxConnectionsPerProcess) : [];
  if (capped.length > 0) {
    const w = opts.s3.workers ?? 0;
    const perServer = opts.maxConnectionsPerProcess * Math.max(1, w);
    res.notes.push(
      `S3 asked for ${capped.join(', ')} connections but one process may open only ${res.meta.openFileLimit} files here ` +
        `(hard limit, not raisable without CAP_SYS_RESOURCE): the single-process rows are measured at ${opts.maxConnectionsPerProcess} instead` +
        (w > 0
          ? `; Gyre with ${w} workers spreads its connections over ${w} processes` +
            (capped.some((c) => c > perServer) ? ` (at most ${perServer} here)` : ' and holds them all')
          : '') +
        '. Raise the limit (see "How to run") to measure 50k in one process.',
    );
  }
  try {
    for (const s of opts.scenarios) {
      const t0 = Date.now();
      opts.log(`\n${s}: ${TITLES[s]}`);
      try {
        if (s === 'S1') res.s1 = await bench.s1();
        else if (s === 'S2') res.s2 = await bench.s2();
        else if (s === 'S3') res.s3 = await bench.s3();
        else if (s === 'S4') res.s4 = await bench.s4();
        else if (s === 'S6') {
          if (opts.servers.includes('gyre')) res.s6 = await bench.s6();
          else res.notes.push('S6 skipped: it measures Gyre only, and --servers leaves Gyre out');
        }
        else if (opts.servers.includes('gyre')) res.s5 = await bench.s5();
        else res.notes.push('S5 skipped: it measures Gyre only, and --servers leaves Gyre out');
      } catch (e) {
        const msg = `${s} failed: ${e instanceof Error ? e.message : String(e)}`;
        opts.log(msg);
        res.notes.push(msg);
      }
      res.runs![s] = { date: new Date(t0).toISOString(), command, seconds: (Date.now() - t0) / 1000, quick: opts.quick };
      opts.log(`${s} took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
  } finally {
    await lg.exit();
  }
  res.meta.loadAverageAtEnd = loadavg();
  res.meta.noiseSpentSeconds = bench.noiseSpentMs / 1000;
  res.meta.durationSeconds = (Date.now() - started) / 1000;
  return res;
}

const KEY: Readonly<Record<ScenarioName, keyof ScenarioResults>> = { S1: 's1', S2: 's2', S3: 's3', S4: 's4', S5: 's5', S6: 's6' };

/** Notes that belong to a scenario start with its name ("S5 failed: …", "S3 asked for …"). */
function noteOf(note: string): ScenarioName | undefined {
  const m = /^(S[1-6])\b/.exec(note);
  return m ? (m[1] as ScenarioName) : undefined;
}

/**
 * `base` (a full run's results) with the scenarios `update` ran replaced by the new ones: their
 * results, their notes and their run record. Anything else of `base` (the machine and run
 * description, other scenarios, their notes) stays. A scenario that failed in `update` keeps its
 * old results, with the failure note.
 */
export function mergeResults(base: Results, update: Results, scenarios: readonly ScenarioName[]): Results {
  const out: Results = { ...base, notes: base.notes.filter((n) => !scenarios.includes(noteOf(n) as ScenarioName)), runs: { ...base.runs } };
  for (const s of scenarios) {
    const k = KEY[s];
    if (update[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = update[k];
    const run = update.runs?.[s];
    if (run !== undefined) out.runs![s] = run;
  }
  out.notes.push(...update.notes.filter((n) => scenarios.includes(noteOf(n) as ScenarioName)));
  return out;
}

export interface WriteOptions {
  /** Directory for JSON and SVG files. */
  dir: string;
  /** Base name of the JSON file (latest, quick, partial). */
  name: string;
  /** Prefix of the SVG file names. */
  chartPrefix: string;
  /** Also rewrite BENCHMARKS.md at the repository root. */
  markdownFile?: string;
}

/** Writes the JSON, the SVG charts and (optionally) BENCHMARKS.md; returns the paths written. */
export function writeResults(res: Results, w: WriteOptions): string[] {
  mkdirSync(w.dir, { recursive: true });
  const written: string[] = [];
  const json = join(w.dir, `${w.name}.json`);
  writeFileSync(json, JSON.stringify(res, null, 2) + '\n');
  written.push(json);
  const list = charts(res, w.chartPrefix);
  for (const c of list) {
    const p = join(w.dir, c.file);
    writeFileSync(p, c.svg);
    written.push(p);
  }
  if (w.markdownFile !== undefined) {
    const rel = relative(REPO_DIR, w.dir) || '.';
    writeFileSync(w.markdownFile, markdown(res, list, rel));
    written.push(w.markdownFile);
  }
  return written;
}

export { consoleReport };
