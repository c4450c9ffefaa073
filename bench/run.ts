/**
 * The benchmark command line:
 *   node --expose-gc --import tsx bench/run.ts [--quick] [--scenario S1,S2,S3,S4,S5,S6] [--servers gyre,raw,sio]
 *                                              [--profile] [--no-http] [--no-protobuf] [--no-streams] [--no-markdown] [--merge]
 *                                              [--subscribers N,…] [--rates R,…] [--workers 0,1,2] [--write-delay 20ms|none] [--batch-ms MS]
 * A full run of all scenarios writes bench/results/latest.json, the charts and BENCHMARKS.md; `--quick`
 * writes bench/results/quick.json (+ quick-*.svg); a run of some scenarios writes partial.json.
 * `--merge` (implied by `--scenario S5` alone) instead replaces those scenarios in latest.json, keeping
 * the others, and re-renders the charts and BENCHMARKS.md; it needs the default sizes and servers.
 * `--render` only re-renders the charts and BENCHMARKS.md from bench/results/latest.json.
 * S5 uses Redis at GYRE_BENCH_REDIS_URL (default redis://127.0.0.1:6379).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ServerKind } from './common.js';
import { ALL_SCENARIOS, ALL_SERVERS, consoleReport, defaultOptions, mergeResults, runBench, writeResults } from './bench.js';
import { BENCH_DIR, REPO_DIR } from './harness.js';
import { enablePinning } from './cpu-pinning.js';
import type { Results } from './report.js';
import type { ScenarioName } from './scenarios.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    scenario: { type: 'string' },
    servers: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'no-http': { type: 'boolean', default: false },
    'no-protobuf': { type: 'boolean', default: false },
    'no-streams': { type: 'boolean', default: false },
    'no-markdown': { type: 'boolean', default: false },
    subscribers: { type: 'string' },
    workers: { type: 'string' },
    'write-delay': { type: 'string' },
    'batch-ms': { type: 'string' },
    rates: { type: 'string' },
    payload: { type: 'string' },
    render: { type: 'boolean', default: false },
    merge: { type: 'boolean', default: false },
    pin: { type: 'boolean', default: process.env['GYRE_BENCH_PIN'] === '1' },
    rounds: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    'usage: npm run bench -- [--quick] [--scenario S1,S2,S3,S4,S5,S6] [--servers gyre,raw,sio] [--profile] [--no-http] [--no-protobuf] [--no-streams] [--no-markdown] [--merge] [--subscribers 1000,5000] [--rates 10,20] [--payload BYTES] [--workers 0,1,2] [--write-delay 20ms|none] [--batch-ms 10] [--pin] [--rounds 3] [--render]\n' +
      '  --subscribers / --rates: S1 and S6 sizes (--rates: exactly these rates, no search); --workers: the S4 and S6 setups\n' +
      '  (0 = one process, N = gyre serve --workers N); --pin: the server on CPU 0, the load generators on the other CPUs; --rounds N: S4 rounds (median reported); --write-delay / --batch-ms: the S1 rows publishing through the\n' +
      '  HTTP API on a server with client.write_delay (none: leave them out), one request each and in batches of that many ms;\n' +
      '  --no-http / --no-protobuf: leave out the S1 rows of Gyre publishing through its HTTP API / to protobuf clients;\n' +
      '  --no-streams: leave out the S1 rows of Gyre publishing to HTTP-streaming, SSE and mixed-transport clients;\n' +
      '  --merge: put the scenarios of this run into bench/results/latest.json (others kept) and re-render BENCHMARKS.md;\n' +
      '           implied by --scenario S5 alone. S5 needs Redis: GYRE_BENCH_REDIS_URL (default redis://127.0.0.1:6379).\n',
  );
  process.exit(0);
}

const log = (line: string) => process.stdout.write(line + '\n');

function list<T extends string>(raw: string | undefined, allowed: readonly T[], what: string): T[] {
  if (raw === undefined) return [...allowed];
  const out = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const s of out) if (!allowed.includes(s as T)) throw new Error(`unknown ${what} "${s}" (expected ${allowed.join(', ')})`);
  return out as T[];
}

const resultsDir = join(BENCH_DIR, 'results');
if (values.render) {
  // Re-render the charts and BENCHMARKS.md from bench/results/latest.json without running anything.
  const res = JSON.parse(readFileSync(join(resultsDir, 'latest.json'), 'utf8')) as Results;
  const written = writeResults(res, { dir: resultsDir, name: 'latest', chartPrefix: '', markdownFile: join(REPO_DIR, 'BENCHMARKS.md') });
  log(consoleReport(res));
  log(`re-rendered:\n${written.map((p) => `  ${p}`).join('\n')}`);
  process.exit(0);
}

const scenarios = list<ScenarioName>(values.scenario?.toUpperCase(), ALL_SCENARIOS, 'scenario');
const servers = list<ServerKind>(values.servers, ALL_SERVERS, 'server');

// ---------------------------------------------------------------------------------------------------
// Open files: every connection is a descriptor in the server and in a load generator. Node raises its
// soft limit to the hard one by itself, so the hard limit is what counts.

function hardLimit(): number {
  const r = spawnSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' });
  const v = r.stdout.trim();
  return v === 'unlimited' ? 1 << 20 : Number(v) || 1024;
}

const probe = defaultOptions(values.quick, 1 << 20, log);
const needed = Math.max(...probe.s3.counts, ...probe.s1.subscribers, probe.s2.clients, probe.s4.clients, probe.s5.subscribers, ...probe.s6.subscribers) + 1024;
let limit = hardLimit();
if (limit < needed && process.env['GYRE_BENCH_NOFILE'] === undefined) {
  const can = spawnSync('bash', ['-c', `ulimit -n ${needed}`]).status === 0;
  if (can) {
    log(`raising the open-file limit ${limit} → ${needed} (re-running through bash)`);
    const r = spawnSync(
      'bash',
      ['-c', `ulimit -n ${needed} && exec "$0" "$@"`, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
      { stdio: 'inherit', env: { ...process.env, GYRE_BENCH_NOFILE: String(needed) } },
    );
    process.exit(r.status ?? 1);
  }
  log(
    `open-file limit is ${limit} and cannot be raised here (needs root with CAP_SYS_RESOURCE): connection counts above ` +
      `${limit - 512} per process are capped. To measure 50k connections: \`ulimit -n 200000\` (as root) ` +
      `or \`prlimit --nofile=200000:200000 --pid $$\`, then npm run bench.`,
  );
}
limit = hardLimit();

// ---------------------------------------------------------------------------------------------------

const opts = defaultOptions(values.quick, limit, log);
opts.scenarios = scenarios;
opts.servers = servers;
if (values['no-http']) opts.s1.http = false;
if (values['no-protobuf']) opts.s1.protobuf = false;
if (values['no-streams']) opts.s1.streams = false;
if (values.subscribers !== undefined) opts.s1.subscribers = opts.s6.subscribers = values.subscribers.split(',').map(Number);
if (values.rates !== undefined) opts.s1.fixedRates = opts.s6.fixedRates = values.rates.split(',').map(Number);
if (values.workers !== undefined) {
  opts.s6.workers = values.workers.split(',').map(Number);
  if (opts.s6.relay !== undefined) delete opts.s6.relay.workers; // the relay rows follow --workers too
  // S4: the one-process row always, plus a row per N > 0 (and no scheduling-policy variant).
  opts.s4.workers = opts.s6.workers.filter((w) => w > 0);
  opts.s4.schedNone = false;
}
if (values['write-delay'] !== undefined) opts.s1.writeDelay = values['write-delay'] === 'none' ? '' : values['write-delay'];
if (values['batch-ms'] !== undefined) opts.s1.httpBatchMs = Number(values['batch-ms']);
if (values.payload !== undefined) opts.payloadSize = Number(values.payload);
if (values.rounds !== undefined) {
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number ≥ 1, not "${values.rounds}"`);
  opts.s4.rounds = rounds;
}
if (values.pin) enablePinning();
if (values.profile) {
  opts.profileDir = join(resultsDir, 'profiles');
  rmSync(opts.profileDir, { recursive: true, force: true });
  mkdirSync(opts.profileDir, { recursive: true });
}

const defaultSizes =
  !values.quick &&
  values.subscribers === undefined &&
  values.rates === undefined &&
  values.payload === undefined &&
  values.workers === undefined &&
  values['write-delay'] === undefined &&
  values['batch-ms'] === undefined;
const full = defaultSizes && scenarios.length === ALL_SCENARIOS.length && servers.length === ALL_SERVERS.length;
const s5Only = scenarios.length === 1 && scenarios[0] === 'S5';
const latestFile = join(resultsDir, 'latest.json');
let merge = !full && (values.merge || s5Only);
if (merge) {
  const why = !defaultSizes
    ? '--quick / --subscribers / --rates / --payload change what is measured'
    : !s5Only && servers.length !== ALL_SERVERS.length
      ? '--servers leaves rows out'
      : !existsSync(latestFile)
        ? `${latestFile} does not exist yet (run the full benchmark first)`
        : undefined;
  if (why !== undefined) {
    log(`not merging into latest.json: ${why}; the results go to partial.json`);
    merge = false;
  }
}
const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
log(
  `Gyre benchmarks (${values.quick ? 'quick' : 'full'}): ${scenarios.join(', ')} on ${servers.join(', ')}; open-file limit ${limit}` +
    (merge ? '; results merged into bench/results/latest.json' : ''),
);

let stopping = false;
process.on('SIGINT', () => {
  if (stopping) process.exit(130);
  stopping = true;
  log('interrupted: stopping (children exit with this process)');
  process.exit(130);
});

const res = await runBench(opts, command);
// Read latest.json only now: another run may have rewritten it meanwhile.
const out = merge ? mergeResults(JSON.parse(readFileSync(latestFile, 'utf8')) as Results, res, scenarios) : res;
const written = writeResults(out, {
  dir: resultsDir,
  name: values.quick ? 'quick' : full || merge ? 'latest' : 'partial',
  chartPrefix: values.quick ? 'quick-' : full || merge ? '' : 'partial-',
  ...((full || merge) && !values['no-markdown'] && { markdownFile: join(REPO_DIR, 'BENCHMARKS.md') }),
});
log(consoleReport(res));
log(`\nfinished in ${(res.meta.durationSeconds / 60).toFixed(1)} min; wrote:\n${written.map((p) => `  ${p}`).join('\n')}`);
if (opts.profileDir !== undefined) {
  log(`CPU profiles of the servers: ${opts.profileDir}/<scenario>/ (summary: node --import tsx bench/profile-summary.ts FILES)`);
}
