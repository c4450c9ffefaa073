/** Where `bench/bufferutil-ab.ts` leaves its last result, and how BENCHMARKS.md shows it. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BUFFERUTIL_RESULT_FILE = join(dirname(fileURLToPath(import.meta.url)), 'results', 'bufferutil.json');

export interface BufferutilStep {
  round: number;
  /** bufferutil loaded by ws (A), or WS_NO_BUFFER_UTIL=1 (B). */
  bufferutil: boolean;
  rate: number;
  deliveredPerSec: number;
  /** Server CPU, % of one core. */
  serverCpu: number;
  cpuPerMsgUs: number;
  p50: number;
  p99: number;
  sustained: boolean;
  otherCpu: number;
}

export interface BufferutilResult {
  date: string;
  command: string;
  cores: number;
  node: string;
  /** bufferutil's version; absent when it was not installed (A = B). */
  version?: string;
  subscribers: number;
  stepSeconds: number;
  steps: BufferutilStep[];
}

const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '—');

/** Per rate: medians over the rounds of A and B, and B / A. */
export function bufferutilTable(r: BufferutilResult): string {
  const rates = [...new Set(r.steps.map((s) => s.rate))].sort((a, b) => a - b);
  const lines = [
    '| Rate (pub/s) | Delivered msg/s, bufferutil / off | Server CPU µs / msg, bufferutil | off (WS_NO_BUFFER_UTIL=1) | off ÷ bufferutil | p99 ms, bufferutil / off | Steps sustained, bufferutil / off |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const rate of rates) {
    const a = r.steps.filter((s) => s.rate === rate && s.bufferutil);
    const b = r.steps.filter((s) => s.rate === rate && !s.bufferutil);
    const ca = median(a.map((s) => s.cpuPerMsgUs));
    const cb = median(b.map((s) => s.cpuPerMsgUs));
    lines.push(
      `| ${rate} | ${Math.round(median(a.map((s) => s.deliveredPerSec))).toLocaleString('en-US')} / ${Math.round(median(b.map((s) => s.deliveredPerSec))).toLocaleString('en-US')} ` +
        `| ${f(ca)} (${a.map((s) => f(s.cpuPerMsgUs)).join(', ')}) | ${f(cb)} (${b.map((s) => f(s.cpuPerMsgUs)).join(', ')}) | ${f(cb / ca)}× ` +
        `| ${f(median(a.map((s) => s.p99)), 0)} / ${f(median(b.map((s) => s.p99)), 0)} | ${a.filter((s) => s.sustained).length}/${a.length} / ${b.filter((s) => s.sustained).length}/${b.length} |`,
    );
  }
  return lines.join('\n');
}

/** The "bufferutil" section of BENCHMARKS.md (when the A/B has been run). */
export function bufferutilSection(): string[] {
  if (!existsSync(BUFFERUTIL_RESULT_FILE)) return [];
  const r = JSON.parse(readFileSync(BUFFERUTIL_RESULT_FILE, 'utf8')) as BufferutilResult;
  return [
    '## bufferutil (ws\'s native helper)',
    '',
    `S1 with ${r.subscribers.toLocaleString('en-US')} JSON WebSocket subscribers (Gyre, in-process publishing), fixed rates in steps of ${r.stepSeconds} s, with`,
    `\`bufferutil\`${r.version !== undefined ? ` ${r.version}` : ' (not installed: both columns measure the same code)'} loaded by ws and with \`WS_NO_BUFFER_UTIL=1\` (ws then ignores it), alternating, ${Math.max(...r.steps.map((s) => s.round))} rounds`,
    `(medians, each round in parentheses). ${r.cores} cores, Node ${r.node}, ${r.date}: \`${r.command}\`.`,
    'ws uses bufferutil only to mask frames it sends as a client (≥ 48 bytes) and to unmask frames it',
    'receives as a server (≥ 32 bytes): a server\'s fan-out sends unmasked frames and receives only',
    'pongs (`{}`), so the fan-out path never calls it.',
    '',
    bufferutilTable(r),
    '',
    ...verdict(r),
  ];
}

/** Whether bufferutil made a difference beyond ±10% of CPU per message at any rate. */
function verdict(r: BufferutilResult): string[] {
  const rates = [...new Set(r.steps.map((s) => s.rate))];
  const ratios = rates.map((rate) => {
    const a = median(r.steps.filter((s) => s.rate === rate && s.bufferutil).map((s) => s.cpuPerMsgUs));
    const b = median(r.steps.filter((s) => s.rate === rate && !s.bufferutil).map((s) => s.cpuPerMsgUs));
    return b / a;
  });
  if (ratios.length === 0 || !ratios.every(Number.isFinite)) return [];
  const helps = ratios.every((x) => x > 1.1);
  return [
    helps
      ? 'bufferutil lowered the CPU per message by more than 10% at every rate.'
      : `Without bufferutil the CPU per message was ${ratios.map((x) => `${x.toFixed(2)}×`).join(', ')} of that with it: within the run-to-run noise, so Gyre does not depend on it (ws still uses it where it is installed).`,
    '',
  ];
}
