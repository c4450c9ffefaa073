/**
 * Rendering of the results: the tables (markdown, also printed), the target check, SVG charts written
 * by hand, and BENCHMARKS.md.
 */
import type { ConnectRow, MemoryRow, S5Result, S5Row, S5Setup, ScenarioResults, StepResult, SweepResult, Variant } from './scenarios.js';
import { S5_LABEL, VARIANT_LABEL, workersOf } from './scenarios.js';
import { abSections } from './ab-result.js';
import { soakSection } from './soak-result.js';

export interface RunMeta {
  date: string;
  command: string;
  quick: boolean;
  node: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  /** `--pin`: the server on CPU 0, the load generators on the other CPUs. */
  pinned?: boolean;
  openFileLimit: number;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  durationSeconds: number;
  payloadBytes: number;
  workers: number;
  noiseBudgetSeconds: number;
  noiseSpentSeconds: number;
  /** Step length of the S1 / S2 sweeps (s) and the latency bound of a sustained step. */
  stepSeconds: number;
  maxP99Ms: number;
  maxP99UsPerSubscriber: number;
}

export interface Results extends ScenarioResults {
  meta: RunMeta;
}

// ---------------------------------------------------------------------------------------------------
// Formatting.

function num(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function msf(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  return n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0);
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '—';
  return `${(a / b).toFixed(2)}×`;
}

function rate(r: number): string {
  return r >= 100 ? num(r) : r >= 10 ? num(r, 1) : num(r, 2);
}

function table(head: string[], rows: string[][]): string {
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map((_h, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

/** Server CPU time per delivered message (µs): the cost independent of who saturated first. */
function cpuPerMsg(s: StepResult | null | undefined): number {
  if (!s || s.deliveredPerSec <= 0) return Number.NaN;
  return ((s.serverCpu / 100) * 1e6) / s.deliveredPerSec;
}

function rowOf(rows: SweepResult[], v: Variant, clients: number): SweepResult | undefined {
  return rows.find((r) => r.variant === v && r.clients === clients);
}

/** A sweep's row label: the variant, with the write delay and batch window where they apply. */
function rowLabel(r: SweepResult): string {
  if (r.writeDelay === undefined) return VARIANT_LABEL[r.variant];
  return r.batchMs !== undefined
    ? `Gyre (HTTP API, ${r.batchMs} ms batches, write_delay ${r.writeDelay})`
    : `Gyre (HTTP API, write_delay ${r.writeDelay})`;
}

/** Subscribers of a row, with the count asked for when it was capped. */
function clientsCell(r: SweepResult): string {
  return r.asked !== undefined && r.asked > r.clients ? `${num(r.clients)} (of ${num(r.asked)})` : num(r.clients);
}

// ---------------------------------------------------------------------------------------------------
// Tables.

function sweepTable(rows: SweepResult[], first: string): string {
  const head = [
    first,
    'Server',
    'Max rate (pub/s)',
    'Delivered msg/s',
    'p50 / p95 / p99 at max (ms)',
    'p50 / p95 / p99 at ½ max (ms)',
    'Server CPU',
    'CPU µs / msg',
    'Others CPU',
    '× raw ws',
    '× Socket.IO',
  ];
  const out: string[][] = [];
  for (const r of rows) {
    const raw = rowOf(rows, 'raw', r.clients)?.best?.deliveredPerSec;
    const sio = rowOf(rows, 'sio', r.clients)?.best?.deliveredPerSec;
    const b = r.best;
    const h = r.half;
    out.push([
      num(r.clients),
      rowLabel(r),
      b ? rate(b.rate) : 'none sustained',
      b ? num(b.deliveredPerSec) : '—',
      b ? `${msf(b.p50)} / ${msf(b.p95)} / ${msf(b.p99)}` : '—',
      h ? `${msf(h.p50)} / ${msf(h.p95)} / ${msf(h.p99)}` : '—',
      b ? `${num(b.serverCpu)}%` : '—',
      msf(cpuPerMsg(b)),
      b ? `${num(b.otherCpu)}%` : '—',
      ratio(b?.deliveredPerSec, raw),
      ratio(b?.deliveredPerSec, sio),
    ]);
  }
  return table(head, out);
}

function memoryTable(rows: MemoryRow[]): string {
  const head = ['Connections', 'Server', 'RSS / conn (KB)', 'Heap / conn (KB)', 'RSS total (MB)', 'Heap total (MB)', '× raw ws (RSS)', '× Socket.IO (RSS)'];
  const out = rows.map((r) => {
    const raw = rows.find((x) => x.variant === 'raw' && x.target === r.target)?.rssPerConn;
    const sio = rows.find((x) => x.variant === 'sio' && x.target === r.target)?.rssPerConn;
    return [
      r.connections === r.target ? num(r.target) : `${num(r.connections)} (of ${num(r.target)})`,
      VARIANT_LABEL[r.variant],
      num(r.rssPerConn / 1024, 2),
      num(r.heapPerConn / 1024, 2),
      num(r.rssBytes / 2 ** 20, 1),
      num(r.heapBytes / 2 ** 20, 1),
      ratio(r.rssPerConn, raw),
      ratio(r.rssPerConn, sio),
    ];
  });
  return table(head, out);
}

function connectTable(rows: ConnectRow[]): string {
  const head = [
    'Server',
    'Clients',
    'Subscribed',
    'Seconds',
    'Connections / s',
    'Setup p50 / p99 (ms)',
    'Server CPU',
    'Server CPU µs / conn',
    'Load-gen CPU',
    '× raw ws',
    `× ${VARIANT_LABEL[s4SocketIo(rows)?.variant ?? 'sio']}`,
  ];
  const raw = rows.find((r) => r.variant === 'raw')?.perSec;
  const sio = s4SocketIo(rows)?.perSec;
  const out = rows.map((r) => [
    VARIANT_LABEL[r.variant],
    num(r.clients),
    num(r.connected) + (r.failed > 0 ? ` (${num(r.failed)} failed)` : ''),
    num(r.seconds, 2),
    num(r.perSec) + (r.rounds !== undefined ? ` (rounds: ${r.rounds.perSec.map((x) => num(x)).join(', ')})` : ''),
    `${msf(r.setupP50)} / ${msf(r.setupP99)}`,
    `${num(r.serverCpu)}%`,
    num(r.serverCpuPerConnUs) + (r.rounds !== undefined ? ` (${r.rounds.serverCpuPerConnUs.map((x) => num(x)).join(', ')})` : ''),
    `${num(r.loadgenCpu)}%`,
    ratio(r.perSec, raw),
    ratio(r.perSec, sio),
  ]);
  return table(head, out);
}

/**
 * S6: the CPU of a step, µs per second of the step, split into the primary's and the workers'
 * (one process: all of it counts as the "workers'").
 */
function s6Split(r: SweepResult, s: StepResult): { primaryUs: number; workersUs: number } {
  const pc = s.processCpu;
  if (pc === undefined || pc.length === 0 || workersOf(r.variant) === 0) return { primaryUs: 0, workersUs: (s.serverCpu / 100) * 1e6 };
  const primary = pc[0]!;
  const workers = pc.slice(1).reduce((a, b) => a + b, 0);
  return { primaryUs: (primary / 100) * 1e6, workersUs: (workers / 100) * 1e6 };
}

/** S6 per-core figures of a sweep's best step, or of its step at the shared rate (NaN when none). */
export function s6Figures(
  r: SweepResult,
  which: 'best' | 'ref' = 'best',
): {
  cpuPerMsg: number;
  workerUsPerMsg: number;
  msgPerCoreSecond: number;
} {
  const b = which === 'best' ? r.best : (r.ref ?? null);
  if (b === null || b.deliveredPerSec <= 0) return { cpuPerMsg: NaN, workerUsPerMsg: NaN, msgPerCoreSecond: NaN };
  const { workersUs } = s6Split(r, b);
  const total = cpuPerMsg(b);
  return { cpuPerMsg: total, workerUsPerMsg: workersUs / b.deliveredPerSec, msgPerCoreSecond: 1e6 / total };
}

/** The S6 fan-out rows (not the relay-cost ones). */
function s6Main(rows: SweepResult[]): SweepResult[] {
  return rows.filter((r) => r.relay !== true);
}

/** A relay-cost step: the primary's CPU µs per publication, and per publication per worker. */
function relayCost(r: SweepResult, s: StepResult): { primaryCpu: number; usPerPub: number; usPerPubPerWorker: number; workersCpu: number } {
  const pc = s.processCpu ?? [];
  const primaryCpu = pc[0] ?? Number.NaN;
  const pubs = s.deliveredPerSec / Math.max(1, r.clients);
  const usPerPub = ((primaryCpu / 100) * 1e6) / pubs;
  return { primaryCpu, usPerPub, usPerPubPerWorker: usPerPub / Math.max(1, workersOf(r.variant)), workersCpu: pc.slice(1).reduce((a, b) => a + b, 0) };
}

function relayTable(rows: SweepResult[]): string {
  const head = ['Setup', 'Subscribers', 'Publications / s', 'Primary CPU', 'Primary µs / publication', 'Primary µs / publication / worker', 'Workers CPU'];
  const out: string[][] = [];
  for (const r of rows.filter((x) => x.relay === true)) {
    for (const s of r.steps) {
      const c = relayCost(r, s);
      out.push([
        VARIANT_LABEL[r.variant],
        num(r.clients),
        rate(s.deliveredPerSec / Math.max(1, r.clients)) + (s.sustained ? '' : ' (not sustained)'),
        `${num(c.primaryCpu)}%`,
        msf(c.usPerPub),
        msf(c.usPerPubPerWorker),
        `${num(c.workersCpu)}%`,
      ]);
    }
  }
  return table(head, out);
}

/**
 * The primary's CPU per publication relayed, as `baseUs + perWorkerUs × workers`: a least-squares
 * line through the relay rows' steps at their highest rate, one point per worker count (the cost
 * per publication falls as the rate rises, since more publications share each IPC write). The base
 * is what the primary spends whatever the number of workers (the hosted broker's publish, and in
 * the benchmark its own publishing loop); the slope, what each more worker adds (its batch's
 * encoding and IPC write). With one worker count only, all of it counts per worker.
 */
export function relayModel(rows: SweepResult[]): { baseUs: number; perWorkerUs: number; rate: number; workerCounts: number[] } | undefined {
  const points: Array<{ w: number; us: number; rate: number }> = [];
  for (const r of rows.filter((x) => x.relay === true && x.steps.length > 0)) {
    const s = [...r.steps].sort((a, b) => b.rate - a.rate)[0]!;
    const c = relayCost(r, s);
    if (Number.isFinite(c.usPerPub)) points.push({ w: workersOf(r.variant), us: c.usPerPub, rate: s.rate });
  }
  const counts = [...new Set(points.map((p) => p.w))].sort((a, b) => a - b);
  if (counts.length === 0) return undefined;
  const rate = Math.min(...points.map((p) => p.rate));
  if (counts.length === 1) {
    const w = counts[0]!;
    const us = points.reduce((a, p) => a + p.us, 0) / points.length;
    return { baseUs: 0, perWorkerUs: us / w, rate, workerCounts: counts };
  }
  const mw = points.reduce((a, p) => a + p.w, 0) / points.length;
  const mu = points.reduce((a, p) => a + p.us, 0) / points.length;
  const sxy = points.reduce((a, p) => a + (p.w - mw) * (p.us - mu), 0);
  const sxx = points.reduce((a, p) => a + (p.w - mw) ** 2, 0);
  // A negative slope (noise) would let the primary relay to more workers for less: count none per worker.
  const perWorkerUs = Math.max(0, sxy / sxx);
  return { baseUs: Math.max(0, mu - perWorkerUs * mw), perWorkerUs, rate, workerCounts: counts };
}

function s6Table(rows: SweepResult[]): string {
  const head = [
    'Subscribers',
    'Setup',
    'Max rate (pub/s)',
    'Delivered msg/s',
    'p50 / p95 / p99 at max (ms)',
    'p50 / p95 / p99 at ½ max (ms)',
    'CPU primary / workers',
    'Server CPU (sum)',
    'CPU µs / msg (all processes)',
    'Workers µs / msg',
    'Msg/s per core',
    'Others CPU',
    '× 1 process',
    'CPU µs / msg at the shared rate',
    '× 1 worker (CPU / msg, shared rate)',
  ];
  const out = s6Main(rows).map((r) => {
    const b = r.best;
    const h = r.half;
    const one = rowOf(rows, 'gyre', r.clients)?.best?.deliveredPerSec;
    const w1 = rowOf(rows, 'gyre-w1', r.clients);
    const f = s6Figures(r);
    const fr = s6Figures(r, 'ref');
    const pc = b?.processCpu;
    const split = b && pc && workersOf(r.variant) > 0 ? `${num(pc[0])}% / ${pc.slice(1).map((c) => `${num(c)}%`).join(' + ')}` : b ? `— / ${num(b.serverCpu)}%` : '—';
    return [
      clientsCell(r),
      VARIANT_LABEL[r.variant],
      b ? rate(b.rate) : 'none sustained',
      b ? num(b.deliveredPerSec) : '—',
      b ? `${msf(b.p50)} / ${msf(b.p95)} / ${msf(b.p99)}` : '—',
      h ? `${msf(h.p50)} / ${msf(h.p95)} / ${msf(h.p99)}` : '—',
      split,
      b ? `${num(b.serverCpu)}%` : '—',
      msf(f.cpuPerMsg),
      msf(f.workerUsPerMsg),
      num(f.msgPerCoreSecond),
      b ? `${num(b.otherCpu)}%` : '—',
      ratio(b?.deliveredPerSec, one),
      r.ref ? `${msf(fr.cpuPerMsg)} at ${rate(r.ref.rate)} pub/s${r.ref.sustained ? '' : ' (not sustained)'}` : '—',
      w1 !== undefined ? ratio(fr.cpuPerMsg, s6Figures(w1, 'ref').cpuPerMsg) : '—',
    ];
  });
  return table(head, out);
}

/**
 * What the S6 figures of the largest worker count imply for a machine with `cores` cores for
 * Gyre alone: the primary on one core, up to cores − 1 workers, each delivering
 * 1e6 / (workers µs per msg) msg/s on its own core, while the primary spends {@link relayModel}'s
 * base + per-worker cost on each publication. The worker count that delivers most is chosen (past
 * some count, more workers only make the primary the limit).
 */
export function s6Extrapolation(
  rows: SweepResult[],
  n: number,
  cores: number,
): { delivered: number; primaryBound: number; workers: number; bounded: boolean } | undefined {
  const r = s6Main(rows)
    .filter((x) => x.clients === n && workersOf(x.variant) > 0 && x.best !== null)
    .sort((a, b) => workersOf(b.variant) - workersOf(a.variant))[0];
  const relay = relayModel(rows);
  if (r === undefined || relay === undefined) return undefined;
  const f = s6Figures(r);
  if (!Number.isFinite(f.workerUsPerMsg)) return undefined;
  let best: { delivered: number; primaryBound: number; workers: number; bounded: boolean } | undefined;
  for (let workers = 1; workers <= cores - 1; workers++) {
    const byWorkers = (workers * 1e6) / f.workerUsPerMsg;
    // Publications/s one primary core can relay to `workers` workers, × subscribers per publication.
    const primaryBound = (1e6 / (relay.baseUs + relay.perWorkerUs * workers)) * n;
    const delivered = Math.min(byWorkers, primaryBound);
    if (best === undefined || delivered > best.delivered) best = { delivered, primaryBound, workers, bounded: primaryBound <= byWorkers };
  }
  return best;
}

function s5Row(res: S5Result, setup: S5Setup): S5Row | undefined {
  return res.rows.find((r) => r.setup === setup);
}

function s5Table(res: S5Result): string {
  const head = [
    'Setup',
    'Subscribers per node',
    'Publications enter',
    'Max rate (pub/s)',
    'Delivered msg/s',
    'p50 / p95 / p99 at max (ms)',
    'p50 / p95 / p99 at ½ max (ms)',
    'CPU node A / node B',
    'Redis CPU',
    'Gyre CPU µs / msg',
    'Others CPU',
    '× 1 node memory',
    '× 1 node Redis',
  ];
  const mem = s5Row(res, 'memory-1')?.sweep.best?.deliveredPerSec;
  const red = s5Row(res, 'redis-1')?.sweep.best?.deliveredPerSec;
  const out = res.rows.map((r) => {
    const b = r.sweep.best;
    const h = r.sweep.half;
    const cpu = b ? (b.nodeCpu ?? [b.serverCpu]).map((c) => `${num(c)}%`).join(' / ') : '—';
    return [
      S5_LABEL[r.setup],
      r.connected.map((c) => num(c)).join(' + '),
      r.via === 'inproc' ? 'node A, in-process' : "node B's HTTP API",
      b ? rate(b.rate) : 'none sustained',
      b ? num(b.deliveredPerSec) : '—',
      b ? `${msf(b.p50)} / ${msf(b.p95)} / ${msf(b.p99)}` : '—',
      h ? `${msf(h.p50)} / ${msf(h.p95)} / ${msf(h.p99)}` : '—',
      cpu,
      b?.redisCpu !== undefined ? `${num(b.redisCpu)}%` : '—',
      msf(cpuPerMsg(b)),
      b ? `${num(b.otherCpu)}%` : '—',
      ratio(b?.deliveredPerSec, mem),
      ratio(b?.deliveredPerSec, red),
    ];
  });
  return table(head, out);
}

// ---------------------------------------------------------------------------------------------------
// Targets.

export interface TargetCheck {
  target: string;
  measured: string;
  pass: boolean | null;
  /** Met only under a weaker condition than the target's (e.g. fewer connections). */
  qualified?: string;
}

/** The subscriber count the S1 targets are judged at: 5k, or the nearest measured below it. */
export function referenceSubscribers(rows: SweepResult[]): number | undefined {
  const counts = [...new Set(rows.map((r) => r.clients))].sort((a, b) => a - b);
  if (counts.length === 0) return undefined;
  return counts.filter((c) => c <= 5000).pop() ?? counts[0];
}

export function checkTargets(res: ScenarioResults): TargetCheck[] {
  const out: TargetCheck[] = [];
  if (res.s1 !== undefined) {
    const n = referenceSubscribers(res.s1);
    if (n !== undefined) {
      const g = rowOf(res.s1, 'gyre', n);
      const raw = rowOf(res.s1, 'raw', n);
      const sio = rowOf(res.s1, 'sio', n);
      const gd = g?.best?.deliveredPerSec;
      const check = (label: string, other: SweepResult | undefined, min: number) => {
        const od = other?.best?.deliveredPerSec;
        if (gd === undefined || od === undefined) {
          out.push({ target: label, measured: 'not measured', pass: null });
          return;
        }
        out.push({ target: label, measured: `${num(gd)} vs ${num(od)} msg/s = ${(gd / od).toFixed(2)}×`, pass: gd / od >= min });
      };
      check(`S1 at ${num(n)} subscribers: Gyre ≥ 0.9 × raw ws delivered msg/s`, raw, 0.9);
      check(`S1 at ${num(n)} subscribers: Gyre ≥ 1.5 × Socket.IO delivered msg/s`, sio, 1.5);
      // Protobuf clients against JSON clients of the same server, both measured in this run.
      const pd = rowOf(res.s1, 'gyre-pb', n)?.best?.deliveredPerSec;
      const pbLabel = `S1 at ${num(n)} subscribers: protobuf ≥ 1.0 × JSON delivered msg/s`;
      if (gd === undefined || pd === undefined) out.push({ target: pbLabel, measured: 'not measured', pass: null });
      else out.push({ target: pbLabel, measured: `${num(pd)} vs ${num(gd)} msg/s = ${(pd / gd).toFixed(2)}×`, pass: pd / gd >= 1.0 });
      for (const v of ['gyre', 'gyre-http'] as const) {
        const s = rowOf(res.s1, v, n);
        if (s?.half) {
          out.push({
            target: `S1 at ${num(n)} subscribers: ${VARIANT_LABEL[v]} p99 ≤ 20 ms at half its max sustained rate`,
            measured: `p99 ${msf(s.half.p99)} ms at ${rate(s.half.rate)} pub/s`,
            pass: s.half.p99 <= 20,
          });
        } else if (v === 'gyre') {
          out.push({ target: `S1: Gyre p99 ≤ 20 ms at half its max sustained rate`, measured: 'not measured', pass: null });
        }
      }
    }
  }
  if (res.s1 !== undefined) {
    // HTTP API publishing with client.write_delay against in-process publishing, at each N.
    for (const n of [...new Set(res.s1.map((r) => r.clients))].sort((a, b) => a - b)) {
      const inproc = cpuPerMsg(rowOf(res.s1, 'gyre', n)?.best);
      const wd = rowOf(res.s1, 'gyre-http-wd', n);
      if (wd === undefined || !Number.isFinite(inproc)) continue;
      // Judged at equal load: the write-delay server at the in-process row's best rate (its
      // `ref` step), when measured; each at its own max rate alongside.
      const inprocRate = rowOf(res.s1, 'gyre', n)?.best?.rate;
      const batch = rowOf(res.s1, 'gyre-http-batch', n);
      const at = (r: SweepResult | undefined) => cpuPerMsg(r?.ref ?? r?.best);
      const wdCpu = at(wd);
      const batchCpu = at(batch);
      const where = wd.ref ? `at ${rate(wd.ref.rate)} pub/s` : 'each at its max rate';
      out.push({
        target: `S1 at ${num(n)} subscribers: HTTP API with write_delay ${wd.writeDelay ?? ''} ≤ 1.5 × in-process CPU µs / msg`,
        measured:
          `${msf(wdCpu)} vs ${msf(inproc)} µs = ${ratio(wdCpu, inproc)} ${where}` +
          (batch !== undefined ? `; in ${batch.batchMs ?? '?'} ms batches ${msf(batchCpu)} µs = ${ratio(batchCpu, inproc)}` : '') +
          (wd.ref ? `; at each max rate ${msf(cpuPerMsg(wd.best))} vs ${msf(inproc)} µs = ${ratio(cpuPerMsg(wd.best), inproc)}` : '') +
          (inprocRate !== undefined && wd.ref && !wd.ref.sustained ? ' (the write-delay server did not sustain that rate)' : ''),
        pass: Number.isFinite(wdCpu) ? wdCpu / inproc <= 1.5 : false,
        ...(Number.isFinite(wdCpu) && wdCpu / inproc > 1.5 && Number.isFinite(batchCpu) && batchCpu / inproc <= 1.5 && {
          qualified: `in ${batch?.batchMs ?? '?'} ms batches`,
        }),
      });
    }
  }
  if (res.s3 !== undefined) {
    // The Gyre row (one process or with workers) that held the most connections.
    const g = res.s3.filter((r) => r.variant === 'gyre' || workersOf(r.variant) > 0).sort((a, b) => b.connections - a.connections)[0];
    if (g) {
      const capped = g.connections < 50_000;
      const how = g.processes !== undefined ? ` (${VARIANT_LABEL[g.variant]}, RSS summed over ${g.processes} processes)` : '';
      out.push({
        target: 'S3: ≤ 8 KB RSS per idle connection at 50k connections',
        measured: `${num(g.rssPerConn / 1024, 2)} KB at ${num(g.connections)} connections${how}${capped ? ' (50k not reachable here: open-file limit)' : ''}`,
        pass: g.rssPerConn / 1024 <= 8,
        ...(capped && { qualified: `at ${num(g.connections)} connections` }),
      });
    }
  }
  if (res.s6 !== undefined) {
    const main = s6Main(res.s6);
    for (const n of [...new Set(main.map((r) => r.clients))].sort((a, b) => a - b)) {
      const w1 = rowOf(main, 'gyre-w1', n);
      const w2 = rowOf(main, 'gyre-w2', n);
      if (w1 === undefined || w2 === undefined) continue;
      // Judged at the rate shared by both (equal load); at each one's max rate alongside.
      const a = s6Figures(w2, 'ref').cpuPerMsg;
      const b = s6Figures(w1, 'ref').cpuPerMsg;
      const am = s6Figures(w2).cpuPerMsg;
      const bm = s6Figures(w1).cpuPerMsg;
      out.push({
        target: `S6 at ${clientsCell(w2)} subscribers: CPU µs / msg with 2 workers ≤ 1.2 × 1 worker`,
        measured:
          `${msf(a)} vs ${msf(b)} µs = ${ratio(a, b)} at ${w2.ref ? rate(w2.ref.rate) : '?'} pub/s; ` +
          `at each max rate ${msf(am)} vs ${msf(bm)} µs = ${ratio(am, bm)} (delivered ${num(w2.best?.deliveredPerSec)} vs ${num(w1.best?.deliveredPerSec)} msg/s)`,
        pass: Number.isFinite(a) && Number.isFinite(b) ? a / b <= 1.2 : false,
      });
    }
  }
  if (res.s5 !== undefined) {
    // No numeric target: the result is reported as measured.
    const two = s5Row(res.s5, 'redis-2')?.sweep.best?.deliveredPerSec;
    const mem = s5Row(res.s5, 'memory-1')?.sweep.best?.deliveredPerSec;
    const red = s5Row(res.s5, 'redis-1')?.sweep.best?.deliveredPerSec;
    out.push({
      target: `S5 at ${num(res.s5.subscribers)} subscribers: 2 nodes over Redis vs 1 node (reported, no numeric target)`,
      measured:
        two === undefined
          ? 'not measured'
          : `${num(two)} msg/s = ${ratio(two, mem)} 1 node memory (${num(mem)}), ${ratio(two, red)} 1 node Redis (${num(red)})`,
      pass: null,
    });
  }
  if (res.s4 !== undefined) {
    const sio = s4SocketIo(res.s4);
    const noAuth = sio?.variant === 'sio-jwt' ? res.s4.find((r) => r.variant === 'sio') : undefined;
    for (const g of res.s4.filter((r) => r.variant === 'gyre' || workersOf(r.variant) > 0)) {
      if (!sio) break;
      out.push({
        target: `S4: ${VARIANT_LABEL[g.variant]} ≥ 1.5 × ${VARIANT_LABEL[sio.variant]} connect rate`,
        measured:
          `${num(g.perSec)} vs ${num(sio.perSec)} conn/s = ${(g.perSec / sio.perSec).toFixed(2)}× ` +
          `(server CPU ${num(g.serverCpuPerConnUs)} vs ${num(sio.serverCpuPerConnUs)} µs / conn)` +
          (noAuth !== undefined ? `; ${(g.perSec / noAuth.perSec).toFixed(2)}× Socket.IO without authentication (${num(noAuth.perSec)})` : ''),
        pass: g.perSec / sio.perSec >= 1.5,
      });
    }
  }
  return out;
}

/**
 * The Socket.IO row S4 compares with: the one authenticating a JWT as Gyre does ("connect rate with
 * JWT"), or, in results from before it was measured, the one without authentication.
 */
function s4SocketIo(rows: readonly ConnectRow[]): ConnectRow | undefined {
  return rows.find((r) => r.variant === 'sio-jwt') ?? rows.find((r) => r.variant === 'sio');
}

function targetsTable(checks: TargetCheck[]): string {
  return table(
    ['Target', 'Measured', 'Met'],
    checks.map((c) => [
      c.target,
      c.measured,
      c.pass === null ? '—' : c.pass ? (c.qualified !== undefined ? `yes, ${c.qualified} only` : 'yes') : '**no**',
    ]),
  );
}

// ---------------------------------------------------------------------------------------------------
// SVG charts.

/** Short S5 setup names for chart axes. */
const S5_SHORT: Readonly<Record<S5Setup, string>> = {
  'memory-1': '1 node · memory',
  'redis-1': '1 node · Redis',
  'redis-2': '2 nodes · Redis',
  'redis-2-http': '2 nodes · via HTTP API',
};

const COLORS: Readonly<Record<Variant, string>> = {
  gyre: '#2563eb',
  'gyre-http': '#0ea5e9',
  'gyre-http-wd': '#0891b2',
  'gyre-http-batch': '#155e75',
  'gyre-w1': '#4f46e5',
  'gyre-w2': '#9333ea',
  'gyre-w2-none': '#a855f7',
  'gyre-w3': '#c026d3',
  'gyre-pb': '#7c3aed',
  'gyre-http-stream': '#059669',
  'gyre-sse': '#db2777',
  'gyre-mixed': '#92400e',
  raw: '#6b7280',
  sio: '#f59e0b',
  'sio-jwt': '#d97706',
};
const PCT_COLORS = ['#10b981', '#f59e0b', '#dc2626'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceMax(v: number): { max: number; step: number } {
  if (!(v > 0)) return { max: 1, step: 0.2 };
  const raw = v / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
  return { max: Math.ceil(v / step) * step, step };
}

function shortNum(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return v === 0 ? '0' : `${+v.toPrecision(3)}`;
}

interface Frame {
  x: number;
  y: number;
  w: number;
  h: number;
}

function axes(f: Frame, yMax: number, step: number, yLabel: string, title: string): string[] {
  const out: string[] = [];
  out.push(`<text x="${f.x}" y="${f.y - 14}" font-size="15" font-weight="600">${esc(title)}</text>`);
  for (let v = 0; v <= yMax + step / 2; v += step) {
    const y = f.y + f.h - (v / yMax) * f.h;
    out.push(`<line x1="${f.x}" x2="${f.x + f.w}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e5e7eb"/>`);
    out.push(`<text x="${f.x - 6}" y="${(y + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#374151">${shortNum(v)}</text>`);
  }
  out.push(`<line x1="${f.x}" x2="${f.x}" y1="${f.y}" y2="${f.y + f.h}" stroke="#9ca3af"/>`);
  out.push(`<line x1="${f.x}" x2="${f.x + f.w}" y1="${f.y + f.h}" y2="${f.y + f.h}" stroke="#9ca3af"/>`);
  out.push(
    `<text transform="translate(${f.x - 48} ${f.y + f.h / 2}) rotate(-90)" font-size="12" text-anchor="middle" fill="#374151">${esc(yLabel)}</text>`,
  );
  return out;
}

function svgDoc(width: number, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

type LegendItem = { label: string; color: string; dashed?: boolean };

/** Vertical distance between legend rows. */
const LEGEND_ROW = 18;

/** Where each legend item goes: rows of items starting at `x`, a new row where one would pass `maxX`. */
function legendLayout(x: number, items: LegendItem[], maxX: number): Array<{ it: LegendItem; cx: number; row: number }> {
  const out: Array<{ it: LegendItem; cx: number; row: number }> = [];
  let cx = x;
  let row = 0;
  for (const it of items) {
    const w = 40 + it.label.length * 7;
    if (cx > x && cx + w - 12 > maxX) {
      cx = x;
      row++;
    }
    out.push({ it, cx, row });
    cx += w;
  }
  return out;
}

/** Rows the legend takes. */
function legendRows(x: number, items: LegendItem[], maxX: number): number {
  return items.length === 0 ? 1 : legendLayout(x, items, maxX).at(-1)!.row + 1;
}

/** The legend, its first row at `y`, wrapped before `maxX`. */
function legend(x: number, y: number, items: LegendItem[], maxX = Number.POSITIVE_INFINITY): string[] {
  const out: string[] = [];
  for (const { it, cx, row } of legendLayout(x, items, maxX)) {
    const ly = y + row * LEGEND_ROW;
    out.push(
      `<line x1="${cx}" x2="${cx + 22}" y1="${ly}" y2="${ly}" stroke="${it.color}" stroke-width="3"${it.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
    );
    out.push(`<text x="${cx + 28}" y="${ly + 4}" font-size="12">${esc(it.label)}</text>`);
  }
  return out;
}

/** Delivered msgs/s at the max sustained rate vs subscribers, one line per server. */
export function throughputChart(rows: SweepResult[], title: string, xLabel: string): string {
  const W = 760;
  const variants = [...new Set(rows.map((r) => r.variant))];
  const dash = (v: Variant) => v === 'gyre-http' || v === 'gyre-http-wd' || v === 'gyre-http-batch';
  const items = variants.map((v) => ({ label: VARIANT_LABEL[v], color: COLORS[v], dashed: dash(v) }));
  const extraRows = legendRows(80, items, W - 20) - 1;
  const H = 420 + extraRows * LEGEND_ROW;
  const f: Frame = { x: 80, y: 50, w: W - 110, h: 420 - 130 };
  const xs = [...new Set(rows.map((r) => r.clients))].sort((a, b) => a - b);
  const yMaxRaw = Math.max(0, ...rows.map((r) => r.best?.deliveredPerSec ?? 0));
  const { max: yMax, step } = niceMax(yMaxRaw * 1.05);
  const body = axes(f, yMax, step, 'delivered messages / s', title);
  const px = (i: number) => (xs.length === 1 ? f.x + f.w / 2 : f.x + 40 + (i * (f.w - 80)) / (xs.length - 1));
  const py = (v: number) => f.y + f.h - (v / yMax) * f.h;
  xs.forEach((x, i) => {
    body.push(`<text x="${px(i).toFixed(1)}" y="${f.y + f.h + 18}" font-size="12" text-anchor="middle">${num(x)}</text>`);
  });
  body.push(`<text x="${f.x + f.w / 2}" y="${f.y + f.h + 38}" font-size="12" text-anchor="middle" fill="#374151">${esc(xLabel)}</text>`);
  for (const v of variants) {
    const pts: Array<[number, number]> = [];
    xs.forEach((x, i) => {
      const d = rowOf(rows, v, x)?.best?.deliveredPerSec;
      if (d !== undefined) pts.push([px(i), py(d)]);
    });
    const dashed = dash(v) ? ' stroke-dasharray="6 4"' : '';
    if (pts.length > 1) {
      body.push(
        `<polyline fill="none" stroke="${COLORS[v]}" stroke-width="2.5"${dashed} points="${pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ')}"/>`,
      );
    }
    for (const [a, b] of pts) body.push(`<circle cx="${a.toFixed(1)}" cy="${b.toFixed(1)}" r="4" fill="${COLORS[v]}"/>`);
  }
  body.push(...legend(f.x, H - 22 - extraRows * LEGEND_ROW, items, W - 20));
  return svgDoc(W, H, body);
}

/**
 * Grouped bars: one group per label (a `\n` in it starts a second line), one bar per series. The
 * chart widens when the groups' labels need more room than 760 px give them.
 */
export function barChart(
  title: string,
  yLabel: string,
  groups: Array<{ label: string; values: Array<number | undefined> }>,
  series: Array<{ label: string; color: string }>,
): string {
  const longest = Math.max(0, ...groups.flatMap((g) => g.label.split('\n').map((l) => l.length)));
  const W = Math.max(760, Math.ceil(110 + groups.length * (longest * 6.5 + 16)));
  const H = 400;
  const f: Frame = { x: 80, y: 50, w: W - 110, h: H - 120 };
  const all = groups.flatMap((g) => g.values.filter((v): v is number => v !== undefined && Number.isFinite(v)));
  const { max: yMax, step } = niceMax(Math.max(0, ...all) * 1.1);
  const body = axes(f, yMax, step, yLabel, title);
  const gw = f.w / Math.max(1, groups.length);
  const bw = Math.min(40, (gw * 0.75) / Math.max(1, series.length));
  groups.forEach((g, gi) => {
    const gx = f.x + gi * gw + (gw - bw * series.length) / 2;
    g.values.forEach((v, si) => {
      if (v === undefined || !Number.isFinite(v)) return;
      const h = (v / yMax) * f.h;
      const x = gx + si * bw;
      const y = f.y + f.h - h;
      body.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bw - 3).toFixed(1)}" height="${h.toFixed(1)}" fill="${series[si]!.color}"/>`);
      body.push(`<text x="${(x + (bw - 3) / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" font-size="10" text-anchor="middle">${shortNum(v)}</text>`);
    });
    const gx0 = (f.x + gi * gw + gw / 2).toFixed(1);
    g.label.split('\n').forEach((line, li) => {
      body.push(`<text x="${gx0}" y="${f.y + f.h + 18 + li * 14}" font-size="12" text-anchor="middle">${esc(line)}</text>`);
    });
  });
  body.push(...legend(f.x, H - 22, series));
  return svgDoc(W, H, body);
}

/** Latency percentiles per server in S1 at the reference subscriber count. */
export function latencyChart(rows: SweepResult[], n: number, which: 'half' | 'best'): string {
  const variants = [...new Set(rows.filter((r) => r.clients === n).map((r) => r.variant))];
  const groups = variants.map((v) => {
    const s = rowOf(rows, v, n)?.[which];
    return {
      label: `${VARIANT_LABEL[v]}${s ? `\n${rate(s.rate)} pub/s` : ''}`,
      values: s ? [s.p50, s.p95, s.p99] : [undefined, undefined, undefined],
    };
  });
  const what = which === 'half' ? 'at ½ of each max sustained rate' : 'at the max sustained rate';
  return barChart(
    `S1 latency, ${num(n)} subscribers, ${what}`,
    'latency (ms)',
    groups,
    ['p50', 'p95', 'p99'].map((label, i) => ({ label, color: PCT_COLORS[i]! })),
  );
}

export interface Chart {
  file: string;
  title: string;
  svg: string;
}

export function charts(res: Results, prefix = ''): Chart[] {
  const out: Chart[] = [];
  if (res.s1 && res.s1.length > 0) {
    out.push({
      file: `${prefix}s1-throughput.svg`,
      title: 'S1: delivered messages/s at the max sustained rate vs subscribers',
      svg: throughputChart(res.s1, 'S1 fan-out: delivered messages/s at the max sustained rate', 'subscribers of one channel'),
    });
    const n = referenceSubscribers(res.s1);
    if (n !== undefined) {
      out.push({ file: `${prefix}s1-latency-half.svg`, title: `S1: latency percentiles at half the max sustained rate (${num(n)} subscribers)`, svg: latencyChart(res.s1, n, 'half') });
      out.push({ file: `${prefix}s1-latency-max.svg`, title: `S1: latency percentiles at the max sustained rate (${num(n)} subscribers)`, svg: latencyChart(res.s1, n, 'best') });
    }
  }
  if (res.s3 && res.s3.length > 0) {
    const targets = [...new Set(res.s3.map((r) => r.target))].sort((a, b) => a - b);
    const variants = [...new Set(res.s3.map((r) => r.variant))];
    out.push({
      file: `${prefix}s3-memory.svg`,
      title: 'S3: RSS per idle connection',
      svg: barChart(
        'S3 idle memory: RSS per connection after forced GC (KB)',
        'KB per connection',
        targets.map((t) => {
          const conns = res.s3!.filter((r) => r.target === t).map((r) => r.connections);
          return {
            label: `${num(Math.max(...conns))} connections`,
            values: variants.map((v) => {
              const r = res.s3!.find((x) => x.variant === v && x.target === t);
              return r ? r.rssPerConn / 1024 : undefined;
            }),
          };
        }),
        variants.map((v) => ({ label: VARIANT_LABEL[v], color: COLORS[v] })),
      ),
    });
  }
  if (res.s4 && res.s4.length > 0) {
    out.push({
      file: `${prefix}s4-connect.svg`,
      title: 'S4: connections per second to "subscribed"',
      svg: barChart(
        `S4 connect rate: 0 → ${num(res.s4[0]!.clients)} clients subscribed (connections / s)`,
        'connections / s',
        res.s4.map((r) => ({ label: VARIANT_LABEL[r.variant], values: [r.perSec] })),
        [{ label: 'connections / s', color: COLORS.gyre }],
      ),
    });
  }
  if (res.s6 && s6Main(res.s6).length > 0) {
    const rows = s6Main(res.s6);
    const ns = [...new Set(rows.map((r) => r.clients))].sort((a, b) => a - b);
    const variants = [...new Set(rows.map((r) => r.variant))];
    out.push({
      file: `${prefix}s6-workers.svg`,
      title: 'S6: delivered messages/s at the max sustained rate, one process vs worker processes',
      svg: barChart(
        'S6 fan-out with worker processes: delivered messages/s at the max sustained rate',
        'delivered messages / s',
        ns.map((n) => ({
          label: `${num(n)} subscribers`,
          values: variants.map((v) => rowOf(rows, v, n)?.best?.deliveredPerSec),
        })),
        variants.map((v) => ({ label: VARIANT_LABEL[v], color: COLORS[v] })),
      ),
    });
  }
  if (res.s5 && res.s5.rows.length > 0) {
    const rows = res.s5.rows;
    out.push({
      file: `${prefix}s5-cluster.svg`,
      title: 'S5: delivered messages/s at the max sustained rate, one node vs two nodes over Redis',
      svg: barChart(
        `S5: delivered messages/s at the max sustained rate (${num(res.s5.subscribers)} subscribers)`,
        'delivered messages / s',
        rows.map((r) => ({ label: S5_SHORT[r.setup], values: [r.sweep.best?.deliveredPerSec] })),
        [{ label: 'delivered messages / s', color: COLORS.gyre }],
      ),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Text output.

export function scenarioTables(res: ScenarioResults): Array<{ title: string; table: string }> {
  const out: Array<{ title: string; table: string }> = [];
  if (res.s1) out.push({ title: 'S1 fan-out (one channel)', table: sweepTable(res.s1, 'Subscribers') });
  if (res.s2) out.push({ title: 'S2 many channels (own channel + one shared)', table: sweepTable(res.s2, 'Clients') });
  if (res.s3) out.push({ title: 'S3 idle memory (after forced GC)', table: memoryTable(res.s3) });
  if (res.s4) out.push({ title: 'S4 connect rate (to "subscribed")', table: connectTable(res.s4) });
  if (res.s5) out.push({ title: 'S5 fan-out, one node vs two nodes over Redis', table: s5Table(res.s5) });
  if (res.s6) out.push({ title: 'S6 fan-out with worker processes (gyre serve --workers)', table: s6Table(res.s6) });
  if (res.s6?.some((r) => r.relay === true)) out.push({ title: 'S6 relay cost of the primary', table: relayTable(res.s6) });
  return out;
}

export function consoleReport(res: Results): string {
  const parts: string[] = [];
  for (const t of scenarioTables(res)) parts.push(`\n${t.title}\n\n${t.table}\n`);
  const checks = checkTargets(res);
  if (checks.length > 0) parts.push(`\nTargets\n\n${targetsTable(checks)}\n`);
  for (const n of res.notes) parts.push(`note: ${n}`);
  return parts.join('\n');
}

/** A scenario measured in another run than the one the page describes (merged into latest.json). */
function fromOtherRun(res: Results, s: keyof NonNullable<Results['runs']>): boolean {
  const r = res.runs?.[s];
  if (r === undefined) return false;
  const start = Date.parse(res.meta.date);
  const t = Date.parse(r.date);
  return r.command !== res.meta.command || t < start - 1000 || t > start + res.meta.durationSeconds * 1000 + 1000;
}

function mergedNote(res: Results): string {
  const other = (['S1', 'S2', 'S3', 'S4', 'S5', 'S6'] as const).filter((s) => fromOtherRun(res, s));
  return other.map((s) => ` ${s} comes from a later run: \`${res.runs![s]!.command}\` of ${res.runs![s]!.date}.`).join('');
}

function s5Text(res: Results, img: (file: string) => string): string[] {
  const s5 = res.s5;
  const run = res.runs?.S5;
  const lines = [
    `One channel, ${s5 ? num(s5.subscribers) : 'N'} subscribers in total, the S1 rate search and sustain rules (steps of the S1 length,`,
    'the rate doubles until two steps fail, then is bisected; ≥ 99.5% delivered, no disconnects, no backlog',
    'growth, p99 ≤ max(250 ms, N × 40 µs)), in these setups, one after another:',
    '',
    '- **1 node, memory engine**: one Gyre process, as in S1;',
    '- **1 node, Redis engine**: the same with `engine: { type: "redis" }`: every publication goes to Redis',
    '  (the publish Lua script) and comes back over PUB/SUB before the fan-out;',
    '- **2 nodes over Redis**: two Gyre processes on the same Redis and key prefix, half of the subscribers',
    '  on each; publications are injected on node A in-process (`node.publish`), reach node B through',
    "  Redis PUB/SUB, and node A's own subscribers the same way;",
    "- **2 nodes over Redis, via B's HTTP API** (full run only): the same two nodes, publications sent to",
    "  node B's `POST /api/publish` from the orchestrator.",
    '',
    'Reported: the highest sustained rate and the messages delivered per second there (all subscribers,',
    'both nodes), latency percentiles there and at half that rate, the CPU of each node and of the Redis',
    'server (`INFO cpu`; counted as part of the system, not as "others"), the Gyre CPU time (both nodes)',
    'per delivered message, and the delivered rate as a multiple of the one-node rows. Everything — both',
    'nodes, Redis, the load generators — shares the same machine, so two nodes here show the cost of',
    'going through Redis, not the gain of a second machine: on a cluster each node would have its own',
    'cores and the delivered rate would add up per node.',
  ];
  if (run !== undefined && fromOtherRun(res, 'S5')) {
    lines.push('', `Measured in the run of ${run.date} (\`${run.command}\`, ${num(run.seconds)} s).`);
  }
  if (s5 === undefined) {
    lines.push('', '_not run_', '');
    return lines;
  }
  lines.push('', s5Table(s5), img('s5-cluster.svg'));
  if (s5.keysDeleted > 0) lines.push(`(${num(s5.keysDeleted)} Redis keys under \`${s5.prefix}.*\` were deleted after the run.)`, '');
  return lines;
}

function s6Text(res: Results, img: (file: string) => string): string[] {
  const rows = res.s6;
  const run = res.runs?.S6;
  const cores = res.meta.cores;
  const lines = [
    'S1\'s fan-out (one channel, N JSON WebSocket subscribers, publications of the same payload, the same',
    'rate search and sustain rules) on Gyre as one process and as `gyre serve --workers N`: a primary',
    'that hosts the memory engine and N worker processes sharing the port (node:cluster hands each new',
    'connection to the next worker). The primary publishes in-process into the engine it hosts',
    '(`primary.engineHost.publish`), which sends each publication to every worker with subscribers over',
    'IPC, in batches; each worker fans it out to its own subscribers. CPU is summed over the primary',
    'and the workers (/proc), per process in the "CPU primary / workers" column.',
    '',
    `Per-core figures: "Workers µs / msg" is the workers' CPU per delivered message, "Msg/s per core"`,
    '= 10⁶ / (CPU µs / msg, all processes), and the primary\'s cost per publication relayed is measured',
    'apart (below). A process\'s CPU per message falls as its load rises (the publications that',
    'arrive while it is busy go out in one socket write per subscriber), so the last two columns compare',
    'the setups at one rate: half of the 1-worker setup\'s best (the 2-worker target is judged there).',
    '',
    `On this ${cores}-core machine the load generators and the kernel's loopback work share the cores with`,
    'the server, so worker processes beyond the free cores only add context switches: the rows show what',
    'the relay costs, not what a machine with free cores gains. With the server\'s processes on one core',
    'and the load generators on the other (`npm run bench -- --scenario S6 --subscribers 5000 --workers',
    '0,1,2 --pin`, two separate runs on this machine), two workers cost 0.99× and 1.02× the CPU per message',
    'of one worker at the shared rate (0.96× and 0.81× at each one\'s max rate): splitting the subscribers',
    'over workers and relaying to them cost next to nothing there, and the excess in the rows here comes',
    'from the workers sharing both cores with the load generators. In one process the harness\'s publisher shares the event loop with the fan-out: a',
    'fan-out to 20k sockets holds the loop for tens of ms, the publisher falls behind its schedule',
    '("publisher reached only …" in the step log) and a step fails on that; with workers the primary',
    'publishes while the workers fan out, and the publications that queue meanwhile share writes. One',
    'process may hold no more connections than its open-file limit, so "20,000" is measured at that cap',
    'for every setup.',
  ];
  if (run !== undefined && fromOtherRun(res, 'S6')) {
    lines.push('', `Measured in the run of ${run.date} (\`${run.command}\`, ${num(run.seconds)} s).`);
  }
  if (rows === undefined) {
    lines.push('', '_not run_', '');
    return lines;
  }
  lines.push('', s6Table(rows), img('s6-workers.svg'));
  const relay = rows.filter((r) => r.relay === true);
  if (relay.length > 0) {
    lines.push(
      `The primary's relay cost: ${num(relay[0]!.clients)} subscribers (so that the workers' fan-out stays small), fixed publication`,
      'rates, the primary\'s CPU per publication it relays (engine publish, encoding, one IPC write per',
      'worker per batch: the cost per publication falls as the rate rises, since more publications share',
      'a batch):',
      '',
      relayTable(rows),
      '',
    );
  }
  const ns = [...new Set(s6Main(rows).map((r) => r.clients))].sort((a, b) => a - b);
  const ext: string[] = [];
  for (const n of ns) {
    for (const c of [16, 64]) {
      const e = s6Extrapolation(rows, n, c);
      if (e === undefined) continue;
      const pubs = num(e.primaryBound / n);
      ext.push(
        `- ${num(n)} subscribers, ${c} cores for Gyre alone: ≈ ${num(e.delivered / 1e6, 1)} M msg/s with ${e.workers} workers` +
          (e.workers < c - 1
            ? ` (more would only add to the primary's relay cost: it relays ${pubs} publications/s to ${e.workers})`
            : e.bounded
              ? ` (bounded by the primary: ${pubs} publications/s relayed to ${e.workers} workers)`
              : ''),
      );
    }
  }
  const model = relayModel(rows);
  if (ext.length > 0 && model !== undefined) {
    lines.push(
      'Extrapolated from the largest worker count\'s figures at its best rate (each worker delivering',
      '10⁶ / "Workers µs / msg" msg/s on a core of its own) and from the relay cost at the highest rate',
      `measured (${num(model.rate)} publications/s), fitted over the worker counts measured (${model.workerCounts.join(', ')}) as`,
      `${msf(model.baseUs)} µs per publication plus ${msf(model.perWorkerUs)} µs per publication per worker, the primary on a`,
      'core of its own; the worker count that delivers most. No allowance for memory bandwidth, NUMA or',
      'the kernel\'s network scaling; the clients elsewhere.',
      '',
      ...ext,
      '',
    );
  }
  return lines;
}

export function markdown(res: Results, chartFiles: Chart[], chartDir: string): string {
  const m = res.meta;
  const img = (file: string) => {
    const c = chartFiles.find((x) => x.file.endsWith(file));
    return c ? `\n![${c.title}](${chartDir}/${c.file})\n` : '';
  };
  const tables = scenarioTables(res);
  const t = (prefix: string) => tables.find((x) => x.title.startsWith(prefix))?.table ?? '_not run_';
  const s1n = res.s1 ? referenceSubscribers(res.s1) : undefined;
  const lines = [
    '# Benchmarks',
    '',
    `Written by the harness (\`bench/run.ts\`) from the run of ${m.date}; run it again to refresh this page`,
    '(raw results: `bench/results/latest.json`). Every scenario runs Gyre and its peers one after another',
    'on the same machine, in the same run, with the same load generator.',
    '',
    '## How to run',
    '',
    '```sh',
    'npm run bench                         # all six scenarios (≈ 16 min on 2 cores), rewrites this page',
    'npm run bench -- --quick              # everything shrunk, < 2 min (results in bench/results/quick.json)',
    'npm run bench -- --scenario S1,S3     # some scenarios only (bench/results/partial.json)',
    'npm run bench -- --scenario S5        # S5 only: replaces S5 in latest.json and on this page, keeps the others',
    'npm run bench -- --scenario S2 --merge   # same for any scenarios (default sizes, all servers)',
    'npm run bench -- --profile            # + CPU profiles of the server (S1/S2 sweeps, S4) in bench/results/profiles/',
    'npm run bench -- --pin                # the server on CPU 0, the load generators on the others (taskset)',
    'npm run bench -- --scenario S1 --subscribers 5000 --rates 40,80 --servers gyre,raw   # fixed rates, no search',
    'npm run bench -- --scenario S6 --merge   # S6 (gyre serve --workers) only, into latest.json and this page',
    'npm run bench -- --scenario S6 --subscribers 5000 --workers 0,1,2   # S6 setups of your choice (partial.json)',
    'npm run bench -- --scenario S1 --servers gyre --write-delay 5ms --batch-ms 20   # other write_delay / batch window',
    'node --expose-gc --import tsx bench/ab.ts --toggle prometheus   # A/B of one switch on S1 (prometheus, bufferutil), then --render',
    'node --import tsx bench/profile-summary.ts bench/results/profiles/S1-5000-gyre.cpuprofile   # top self time',
    'node --expose-gc --import tsx bench/heap-diff.ts gyre 3000 [--by-owner]   # heap per idle connection, by constructor (or by what holds it)',
    'node --import tsx bench/connect-overhead.ts [--profile F.cpuprofile]   # Gyre\'s own CPU per connect + subscribe, no sockets',
    'node --import tsx bench/jwt-verify.ts [N]   # CPU per HS256 token: Gyre\'s verifier vs jose\'s jwtVerify',
    '```',
    '',
    `This run: \`${m.command}\`.${mergedNote(res)}`,
    '',
    'S5 needs Redis (`GYRE_BENCH_REDIS_URL`, default `redis://127.0.0.1:6379`); its keys live under a',
    'prefix unique to the run (`gyre-bench-<pid>-<random>`) and are deleted at the end.',
    '',
    'Open files: each connection is a file descriptor in the server and in a load generator. The harness',
    'checks the hard limit (`ulimit -Hn`; Node raises its soft limit to it) and, when it is below what a',
    'scenario needs and can be raised, re-runs itself through `bash -c "ulimit -n N && exec …"`. Where it',
    'cannot (no CAP_SYS_RESOURCE), it caps the connection counts and says so. To lift it: run as root',
    '`ulimit -n 200000` (or `prlimit --nofile=200000:200000 --pid $$`) in the shell, or set `nofile` in',
    '`/etc/security/limits.conf`, then `npm run bench`.',
    '',
    '## Machine',
    '',
    `- CPU: ${m.cpuModel}, ${m.cores} cores; memory ${m.memoryGiB.toFixed(0)} GiB; ${m.platform}`,
    `- Node ${m.node}; open-file limit ${num(m.openFileLimit)} per process`,
    ...(m.pinned === true ? ['- `--pin`: the server ran on CPU 0, the load generators and the harness on the other CPUs (`taskset`)'] : []),
    `- Load average (all processes on the machine) at start ${m.loadAverageAtStart.map((x) => x.toFixed(2)).join(' / ')}, at end ${m.loadAverageAtEnd.map((x) => x.toFixed(2)).join(' / ')}`,
    `- Run time ${num(m.durationSeconds / 60, 1)} min; ${m.workers} load-generator processes; payload ${m.payloadBytes} bytes of JSON`,
    '',
    '## Targets',
    '',
    targetsTable(checkTargets(res)),
    '',
    '## S1 fan-out',
    '',
    `One channel, N subscribers, publications of a ${m.payloadBytes}-byte JSON object at increasing rates, in steps of`,
    `${m.stepSeconds} s: the rate doubles until two steps in a row fail (a server that coalesces writes can fail a`,
    'rate and pass twice that, as its batches grow), then is bisected to within 20%. A step is *sustained*',
    'when ≥ 99.5% of the expected deliveries (publications × subscribers) arrive, no client is',
    'disconnected, the publisher keeps ≥ 95% of the rate (and never falls 500 ms behind), the median',
    'latency of the last quarter of the publications is at most max(2 ×, +20 ms) that of the second',
    `quarter — no backlog builds up — and p99 ≤ max(${m.maxP99Ms} ms, N × ${m.maxP99UsPerSubscriber} µs) (one fan-out alone costs a`,
    'write(2) per subscriber). Reported: the highest sustained rate, messages delivered per second,',
    'latency percentiles there and at half that rate, the server process CPU (% of one core) and its',
    'CPU time per delivered message. Gyre publishes in-process (`node.publish`) and, as a second row,',
    'through its HTTP API (`POST /api/publish` with an API key, sent from the orchestrator process over',
    'keep-alive connections); the peers publish in-process. A third Gyre row, "Gyre (protobuf)", is the',
    'same server and the same N subscribers reconnected speaking the protobuf protocol (subprotocol',
    '`centrifuge-protobuf`, binary frames), publishing in-process; the "protobuf ≥ 1.0 × JSON" target',
    'compares it with the in-process JSON row of the same run. Three more Gyre rows, each again the same',
    'server and N subscribers reconnected, publishing in-process, measure the SDK\'s fallback transports',
    '(no target; compare them with the in-process JSON row): "Gyre (HTTP-streaming)", each subscriber a',
    '`POST /connection/http_stream` with its connect command as body, answered with a chunked stream of',
    'JSON replies one per line; "Gyre (SSE)", each a `GET /connection/sse?cf_connect=…` answered with',
    '`text/event-stream` `data: <JSON>` events; and "Gyre (mixed transports)", the N subscribers split',
    'evenly over WebSocket JSON, WebSocket protobuf, HTTP-streaming and SSE (subscriber i on the',
    '(i mod 4)th). A stream subscriber is one HTTP/1.1 response on its own socket; its subscribe command',
    'and its pongs go as `POST /emulation` requests (`{"session", "node", "data"}` from the connect',
    'result) over a few keep-alive connections per load generator. The whole step log is in the JSON.',
    '',
    'Two more Gyre rows measure `client.write_delay` (Centrifugo\'s write batching) on a second server',
    'started with it, the same N JSON WebSocket subscribers reconnected: "Gyre (HTTP API, write_delay …)"',
    'publishes one `POST /api/publish` per publication, as the "Gyre (HTTP API)" row does; "Gyre (HTTP',
    'API, … ms batches, write_delay …)" sends the publications due within each batch window in one',
    '`POST /api/batch` (their payloads carry the time they were due, so waiting for the batch counts as',
    'latency). With a write delay the server joins the messages a connection gets within the delay into',
    'one WebSocket frame (newline-separated JSON, up to `client.max_messages_in_frame`), one write per',
    'socket per delay; the load generators answer the pings (`{}`) they find among them. The target',
    'compares the CPU per delivered message of the per-request row with the in-process JSON row of',
    'the same N at the same rate: one more step of the write-delay server at the in-process row\'s',
    'best rate (and, alongside, each at its own max sustained rate: the CPU per message falls as the',
    'rate rises, since more messages share each write).',
    '',
    t('S1'),
    img('s1-throughput.svg'),
    s1n !== undefined ? img('s1-latency-half.svg') : '',
    s1n !== undefined ? img('s1-latency-max.svg') : '',
    '## S2 many channels',
    '',
    'N clients, each subscribed to its own channel and to one shared channel. Publications go round-robin',
    'over the personal channels; one in every N goes to the shared channel (so about half of the deliveries',
    'come from personal channels and half from the shared one). Same step rules as S1; the rate is in',
    'publications per second.',
    '',
    t('S2'),
    '',
    '## S3 idle memory',
    '',
    'Idle connections (Gyre: connected with a token and subscribed to one channel; Socket.IO: connected',
    'and joined to a room; raw ws: open and in a channel set), measured in the server process after',
    '`global.gc()` (`--expose-gc`): (RSS − RSS before any connection) / connections, same for the V8 heap.',
    'One process may hold no more connections than its open-file limit; "Gyre (N workers)" is',
    '`gyre serve --workers N` (node:cluster hands the connections to the workers in turn, so each holds',
    '1/N of them), its RSS and heap summed over the primary and every worker (each collected first), and',
    'its baseline the sum before any connection: the row that reaches 50k here. The load generators',
    'spread the clients evenly over their processes, each under its own open-file limit, and rotate',
    'source addresses (127.0.x.y, 5,000 clients each) so that no address pair runs out of ephemeral ports.',
    '',
    t('S3'),
    img('s3-memory.svg'),
    '## S4 connect rate',
    '',
    'From 0 to N clients, each to "subscribed", each as its own client library does it: Gyre = WebSocket',
    'handshake + connect with an HS256 JWT and one subscribe, sent in one frame (centrifuge-js sends the',
    'subscribe commands of the subscriptions it already has in its connect frame; earlier runs of this',
    'harness waited for the connect reply first); Socket.IO = WebSocket handshake + the Engine.IO open',
    'packet + Socket.IO connect + joining a room with an acknowledged event (socket.io-client holds',
    'emits until the connect is acknowledged), authenticating nobody; Socket.IO (JWT) = the same with the',
    'client\'s HS256 JWT in its connect packet (`auth: { token }` in socket.io-client), verified in an `io.use`',
    'middleware, and clients without a valid token refused. That middleware verifies with Gyre\'s own verifier,',
    'so that both servers pay the same per token (the usual choice, jose\'s `jwtVerify`, goes through WebCrypto',
    'and cost 115-220 µs of CPU per token on Node 20 here, Gyre\'s verifier 9-23 µs: `bench/jwt-verify.ts`). S4 is the',
    'connect rate with JWT, so its target compares Gyre with that row; the one without authentication is',
    'shown beside it. raw ws = handshake + one join message answered. Tokens are signed before the',
    'clock starts; the load generators keep a fixed number of handshakes in flight. Before the clock starts,',
    '2,000 more clients connect and close (warm-up: a server that has run a while has its connect path compiled;',
    'without it the first of the 10,000 connects, about 2 s of work, run interpreted and the rates moved by',
    '±20% between runs). Every run starts past the source addresses that still hold sockets: binding among',
    'a previous run\'s TIME_WAIT sockets made the load generator search for free ports, up to eight times',
    'its normal CPU per connection. `--pin` puts the server on CPU 0 and the load generators on the other',
    'CPUs (`taskset`), so that the two do not take each other\'s time. Each setup is measured in several',
    'rounds (3 by default, `--rounds N`), the setups taking turns (all of them, then all again), and its row',
    'is the round of median rate, with every round\'s rate and server CPU per connection beside it: on this',
    'shared 2-core virtual machine the same setup has moved by up to 2× from one run to the next, its',
    'server CPU per connection too (the cause is not known; a CPU-bound loop run alone for a minute kept',
    'a steady speed), and the turns make a slow spell fall on every server. Their WebSocket',
    'client is a minimal one of their own (`bench/light-ws.ts`: a fixed key, the answer not checked,',
    'zero-masked frames), the same for every server: with the `ws` client they needed about as much',
    'CPU per connection as the servers and limited the rate (`BENCH_WS_CLIENT=ws` brings it back).',
    '"Gyre (N workers)" rows are `gyre serve --workers N`, their CPU summed over the primary and the',
    'workers; by default node:cluster\'s primary accepts every connection and hands it to a worker',
    '(round robin), and the "NODE_CLUSTER_SCHED_POLICY=none" row lets the workers accept from the',
    'shared socket themselves (Node\'s other scheduling policy, chosen by that environment variable).',
    '',
    t('S4'),
    img('s4-connect.svg'),
    '## S5 two nodes over Redis',
    '',
    ...s5Text(res, img),
    '## S6 fan-out with worker processes',
    '',
    ...s6Text(res, img),
    ...abSections(),
    ...soakSection(),
    '## Method and caveats',
    '',
    '- Servers run as separate processes (`bench/servers/*.ts`), each with a control API on its own port',
    '  (publish N messages at a rate in-process, CPU usage, memory after GC). Load generators',
    '  (`bench/loadgen.ts`) are separate processes holding many WebSocket clients each (a minimal client',
    '  of their own, `bench/light-ws.ts`, no compression; `BENCH_WS_CLIENT=ws` for the `ws` client),',
    '  speaking the Centrifugo JSON or protobuf protocol, Engine.IO v4 / Socket.IO v5 or plain JSON;',
    '  they answer application pings. Source addresses rotate over 127.0.x.y so that connections never',
    '  run out of ephemeral ports. Once subscribed, a client counts frames with a minimal parser of its',
    '  own (the `ws` receiver costs about as much per message as the servers being measured).',
    '  HTTP-streaming and SSE subscribers are Node `http` requests (no agent: one socket each, from the',
    '  same rotating source addresses); the body chunks Node hands over are cut at the last newline, the',
    '  unfinished line carried over to the next chunk, and the whole lines scanned for publications the',
    '  same way (and for pings, `{}` / `data: {}`, answered with `{}` through `POST /emulation`).',
    '- Gyre runs from its compiled build (dist/, what `npm start` runs; the harness rebuilds it when a',
    '  source is newer), not from the TypeScript sources through tsx: tsx names every arrow function kept',
    '  in a field (an own `name` property, 256 bytes of heap each, several per connection), a cost no',
    '  user pays. `GYRE_BENCH_FROM=src` measures the sources instead.',
    '- Latency: the payload carries the time its publication was *due* by the schedule (µs on the host\'s',
    '  monotonic clock, shared by all processes), so a publisher falling behind shows as latency;',
    '  histograms are log-linear with ≤ 1.6% bucket error; percentiles are over every delivered message.',
    '- Everything runs on one machine: the load generators need about as much CPU per message as the',
    '  server, so on 2 cores the *sum* saturates the machine. The server\'s CPU µs per delivered message is',
    '  the comparison that does not depend on who ran out of CPU first.',
    '- The raw ws ceiling frames a publication once and writes the frames published to a channel within',
    '  one event-loop turn as one shared buffer to every member socket: the least work per delivery that',
    '  Node + ws allow, with the same per-turn coalescing Gyre does per connection. (`RAW_WS_IMMEDIATE=1`',
    '  makes it write every publication at once instead, which is far slower under load: a write(2) per',
    '  socket per message.) Socket.IO writes each broadcast to each socket as it is emitted.',
    '- On this machine write(2) on loopback TCP costs ~10 µs; a server process spends most of a fan-out in',
    '  it (see the profiles), so throughput depends mostly on how many frames share a write.',
    '- The machine may be shared with other work. Each step records the CPU used by other processes',
    '  (machine busy time from /proc/stat minus the server, the load generators, the harness and',
    '  interrupt/softirq time; column "Others CPU", % of one core). A step that fails while others used',
    `  more than 30% of a core is repeated after waiting up to 5 s for a quieter machine, within a budget`,
    `  (${m.quick ? 'quick' : 'full'} run: ${num(m.noiseBudgetSeconds)} s; this run spent ${num(m.noiseSpentSeconds)} s on repeats).`,
    '- On a shared 2-core machine the S1/S2 maxima move by tens of percent from run to run (the load',
    '  generators, the server and the kernel\'s loopback work all compete for the same two cores); the',
    '  "CPU µs / msg" column and the per-step log in the JSON are steadier than any single ratio.',
    '- Server CPU includes only the server\'s processes (with workers: the primary and every worker,',
    '  from /proc/<pid>/stat); the kernel\'s loopback TCP work shows as softirq time (in latest.json)',
    '  and is shared by both ends.',
    '',
  ];
  if (res.notes.length > 0) {
    lines.push('## Notes from this run', '');
    for (const n of res.notes) lines.push(`- ${n}`);
    lines.push('');
  }
  return lines.join('\n');
}
