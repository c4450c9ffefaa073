/**
 * Reading a `/metrics` answer in the Prometheus text format: its samples (name, labels, value) and
 * the declared type of each metric, with lookups by name and labels.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { withTimeout } from './wait.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class Scrape {
  constructor(
    readonly text: string,
    readonly samples: readonly Sample[],
    /** `# TYPE` of each metric family. */
    readonly types: ReadonlyMap<string, string>,
  ) {}

  /** The value of the sample with exactly these labels; undefined when there is none. */
  get(name: string, labels: Record<string, string> = {}): number | undefined {
    const keys = Object.keys(labels);
    const found = this.samples.filter(
      (s) => s.name === name && Object.keys(s.labels).length === keys.length && keys.every((k) => s.labels[k] === labels[k]),
    );
    assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)}: ${found.length} samples`);
    return found[0]?.value;
  }

  /** The value of the sample with exactly these labels; fails when there is none. */
  value(name: string, labels: Record<string, string> = {}): number {
    const v = this.get(name, labels);
    assert.ok(v !== undefined, `no sample ${name}${JSON.stringify(labels)} in:\n${this.lines(name).join('\n')}`);
    return v;
  }

  /** The sum of the samples of `name` whose labels include `labels`. */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((n, s) => n + s.value, 0);
  }

  /** The text lines of a metric (for assertion messages). */
  lines(name: string): string[] {
    return this.text.split('\n').filter((l) => l.startsWith(name));
  }
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the text format (every sample line must parse). */
export function parseMetrics(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (m !== null) types.set(m[1]!, m[2]!);
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m !== null, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const raw = m[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : /^nan$/i.test(raw) ? NaN : Number(raw);
    assert.ok(!Number.isNaN(value) || /^nan$/i.test(raw), `not a value: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return new Scrape(text, samples, types);
}

/** An HTTP GET on a fresh connection (no keep-alive): status, content type and body. */
export function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const answer = new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  return withTimeout(answer, undefined, `GET ${url}`, 'no answer');
}

/** Scrapes `url` (on a fresh connection): asserts a 200 in the text format and parses it. */
export async function scrape(url: string): Promise<Scrape> {
  const res = await get(url);
  assert.equal(res.status, 200, res.body);
  assert.match(res.type, /^text\/plain; version=0\.0\.4/);
  return parseMetrics(res.body);
}
