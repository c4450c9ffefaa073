/**
 * Summarizes V8 CPU profiles (`--cpu-prof`): the functions with the most self time, as a share of
 * the busy (non-idle) time.
 *   node --import tsx bench/profile-summary.ts bench/results/profiles/*.cpuprofile [--top 30]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { REPO_DIR } from './harness.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileLine {
  name: string;
  location: string;
  selfMs: number;
  /** Share of busy time (everything except idle). */
  share: number;
}

export function summarize(files: string[], top = 30): { busyMs: number; idleMs: number; gcMs: number; lines: ProfileLine[] } {
  const self = new Map<string, { name: string; location: string; us: number }>();
  let idle = 0;
  let busy = 0;
  let gc = 0;
  for (const file of files) {
    const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    for (let i = 0; i < p.samples.length; i++) {
      const node = byId.get(p.samples[i]!);
      const dt = p.timeDeltas[i] ?? 0;
      if (node === undefined) continue;
      const f = node.callFrame;
      if (f.functionName === '(idle)') {
        idle += dt;
        continue;
      }
      busy += dt;
      if (f.functionName === '(garbage collector)') gc += dt;
      let url = f.url.replace(/^file:\/\//, '');
      if (url.startsWith('/')) url = relative(REPO_DIR, url);
      const location = url === '' ? '' : `${url}:${f.lineNumber + 1}`;
      const name = f.functionName === '' ? '(anonymous)' : f.functionName;
      const key = `${name} ${location}`;
      const e = self.get(key);
      if (e === undefined) self.set(key, { name, location, us: dt });
      else e.us += dt;
    }
  }
  const lines = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ name: e.name, location: e.location, selfMs: e.us / 1000, share: busy > 0 ? e.us / busy : 0 }));
  return { busyMs: busy / 1000, idleMs: idle / 1000, gcMs: gc / 1000, lines };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const t = args.indexOf('--top');
  const top = t >= 0 ? Number(args[t + 1]) : 30;
  const files = args.filter((a, i) => a !== '--top' && (t < 0 || i !== t + 1));
  if (files.length === 0) {
    process.stderr.write('usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile... [--top N]\n');
    process.exit(2);
  }
  const s = summarize(files, top);
  process.stdout.write(
    `busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms, GC ${s.gcMs.toFixed(0)} ms (${((s.gcMs / s.busyMs) * 100).toFixed(1)}% of busy)\n\n`,
  );
  process.stdout.write('| self % of busy | self ms | function | location |\n| ---: | ---: | --- | --- |\n');
  for (const l of s.lines) {
    process.stdout.write(`| ${(l.share * 100).toFixed(1)}% | ${l.selfMs.toFixed(0)} | ${l.name} | ${l.location} |\n`);
  }
}
