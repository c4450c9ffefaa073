/**
 * A/B runs of S1 (bench/ab.ts): one switch, on (A) and off (B) in turn, and how BENCHMARKS.md shows
 * each switch's last result (`bench/results/ab-<switch>.json`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** Where the last A/B of a switch is kept. */
export function abResultFile(toggle: ToggleName): string {
  return join(RESULTS_DIR, `ab-${toggle}.json`);
}

/** One switch: what A and B are, how to set them in the server's environment, and how to judge them. */
export interface Toggle {
  /** The section's title in BENCHMARKS.md. */
  title: string;
  /** Column labels of A and B. */
  a: string;
  b: string;
  /** Sets the environment the server process inherits for A (true) or B (false). */
  apply(a: boolean): void;
  /** The installed version of what is switched, if that matters (else undefined). */
  version?(): string | undefined;
  /** What the section says before the table. */
  intro(r: AbResult): string[];
  /** What the section says after it, given B ÷ A CPU per message at each rate. */
  verdict(ratios: number[]): string;
}

export const TOGGLES = {
  bufferutil: {
    title: "bufferutil (ws's native helper)",
    a: 'bufferutil',
    b: 'off (WS_NO_BUFFER_UTIL=1)',
    apply(a: boolean) {
      if (a) delete process.env['WS_NO_BUFFER_UTIL'];
      else process.env['WS_NO_BUFFER_UTIL'] = '1';
    },
    intro: (r: AbResult) => [
      `\`bufferutil\`${r.version !== undefined ? ` ${r.version}` : ' (not installed: both columns measure the same code)'} loaded by ws (A) and with \`WS_NO_BUFFER_UTIL=1\` (B: ws then ignores it).`,
      'ws uses bufferutil only to mask frames it sends as a client (≥ 48 bytes) and to unmask frames it',
      "receives as a server (≥ 32 bytes): a server's fan-out sends unmasked frames and receives only",
      'pongs (`{}`), so the fan-out path never calls it.',
    ],
    verdict: (ratios: number[]) =>
      ratios.every((x) => x > 1.1)
        ? 'bufferutil lowered the CPU per message by more than 10% at every rate.'
        : `Without bufferutil the CPU per message was ${ratios.map((x) => `${x.toFixed(2)}×`).join(', ')} of that with it: within the run-to-run noise, so Gyre does not depend on it (ws still uses it where it is installed).`,
  },
  prometheus: {
    title: 'Prometheus metrics: what counting costs',
    a: 'metrics off',
    b: 'on (prometheus.enabled)',
    apply(a: boolean) {
      // bench/servers/gyre.ts turns `prometheus.enabled` on for GYRE_BENCH_PROMETHEUS=1.
      process.env['GYRE_BENCH_PROMETHEUS'] = a ? '0' : '1';
    },
    intro: () => [
      'The server without metrics (A) and with `prometheus.enabled` (B: every delivered message counted',
      'in the hot path, read by prom-client only at a scrape; no scrape during the steps). Target (issue 15):',
      'S1 with metrics on within 5% of S1 with metrics off, CPU per delivered message.',
    ],
    verdict: (ratios: number[]) => {
      const worst = Math.max(...ratios);
      return `With metrics on, the CPU per message was ${ratios.map((x) => `${x.toFixed(3)}×`).join(', ')} of that without: ${worst <= 1.05 ? '**within 5%** at every rate (target met)' : `**more than 5%** at some rate (target not met)`}.`;
    },
  },
} satisfies Record<string, Toggle>;

export type ToggleName = keyof typeof TOGGLES;

export interface AbStep {
  round: number;
  /** A (true) or B (false). */
  a: boolean;
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

export interface AbResult {
  toggle: ToggleName;
  date: string;
  command: string;
  cores: number;
  node: string;
  /** The version of what is switched, where that matters. */
  version?: string;
  subscribers: number;
  stepSeconds: number;
  steps: AbStep[];
}

const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '—');

function rates(r: AbResult): number[] {
  return [...new Set(r.steps.map((s) => s.rate))].sort((a, b) => a - b);
}

/** B ÷ A of the median CPU per message, at each rate. */
function ratios(r: AbResult): number[] {
  return rates(r).map((rate) => {
    const a = median(r.steps.filter((s) => s.rate === rate && s.a).map((s) => s.cpuPerMsgUs));
    const b = median(r.steps.filter((s) => s.rate === rate && !s.a).map((s) => s.cpuPerMsgUs));
    return b / a;
  });
}

/** Per rate: medians over the rounds of A and B, and B ÷ A. */
export function abTable(r: AbResult): string {
  const t: Toggle = TOGGLES[r.toggle];
  const lines = [
    `| Rate (pub/s) | Delivered msg/s, A / B | Server CPU µs / msg, A: ${t.a} | B: ${t.b} | B ÷ A | p99 ms, A / B | Steps sustained, A / B |`,
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const rate of rates(r)) {
    const a = r.steps.filter((s) => s.rate === rate && s.a);
    const b = r.steps.filter((s) => s.rate === rate && !s.a);
    const ca = median(a.map((s) => s.cpuPerMsgUs));
    const cb = median(b.map((s) => s.cpuPerMsgUs));
    lines.push(
      `| ${rate} | ${Math.round(median(a.map((s) => s.deliveredPerSec))).toLocaleString('en-US')} / ${Math.round(median(b.map((s) => s.deliveredPerSec))).toLocaleString('en-US')} ` +
        `| ${f(ca)} (${a.map((s) => f(s.cpuPerMsgUs)).join(', ')}) | ${f(cb)} (${b.map((s) => f(s.cpuPerMsgUs)).join(', ')}) | ${f(cb / ca, 3)}× ` +
        `| ${f(median(a.map((s) => s.p99)), 0)} / ${f(median(b.map((s) => s.p99)), 0)} | ${a.filter((s) => s.sustained).length}/${a.length} / ${b.filter((s) => s.sustained).length}/${b.length} |`,
    );
  }
  return lines.join('\n');
}

/** The A/B's section of BENCHMARKS.md (when it has been run). */
export function abSection(toggle: ToggleName): string[] {
  const file = abResultFile(toggle);
  if (!existsSync(file)) return [];
  const r = JSON.parse(readFileSync(file, 'utf8')) as AbResult;
  const t: Toggle = TOGGLES[toggle];
  const rs = ratios(r);
  return [
    `## ${t.title}`,
    '',
    `S1 with ${r.subscribers.toLocaleString('en-US')} JSON WebSocket subscribers (Gyre, in-process publishing), fixed rates in steps of ${r.stepSeconds} s, A and B alternating`,
    `for ${Math.max(...r.steps.map((s) => s.round))} rounds, so that drift of the machine falls on both (medians, each round in parentheses). ${r.cores} cores,`,
    `Node ${r.node}, ${r.date}: \`${r.command}\`.`,
    ...t.intro(r),
    '',
    abTable(r),
    '',
    ...(rs.length > 0 && rs.every(Number.isFinite) ? [t.verdict(rs), ''] : []),
  ];
}

/** Every A/B section that has a result. */
export function abSections(): string[] {
  return (Object.keys(TOGGLES) as ToggleName[]).flatMap((name) => abSection(name));
}
