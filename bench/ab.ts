/**
 * A/B of one switch on S1: Gyre, N JSON WebSocket subscribers of one channel, in-process
 * publishing, the same fixed rates with the switch's A and B settings alternating (A, B, A, B…) so
 * that drift of the machine falls on both. The switches (bench/ab-result.ts):
 * - `bufferutil`: ws's optional native helper loaded (A) or ignored with WS_NO_BUFFER_UTIL=1 (B);
 *   needs bufferutil installed (`npm install --no-save bufferutil`), else both halves measure the
 *   same thing, and the script says so;
 * - `prometheus`: metrics off (A) and on (B), the cost of counting (issue 15: within 5%).
 *
 *   node --expose-gc --import tsx bench/ab.ts --toggle prometheus [--subscribers 5000] [--rates 100,200] [--rounds 5] [--step 2]
 *
 * Writes bench/results/ab-<switch>.json; BENCHMARKS.md shows it from there (`npm run bench -- --render`).
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { defaultOptions, runBench } from './bench.js';
import { abResultFile, abTable, TOGGLES, type AbResult, type AbStep, type ToggleName } from './ab-result.js';

const { values } = parseArgs({
  options: {
    toggle: { type: 'string' },
    subscribers: { type: 'string', default: '5000' },
    rates: { type: 'string', default: '100,200,300' },
    rounds: { type: 'string', default: '3' },
    step: { type: 'string', default: '2' },
  },
});
const log = (line: string) => process.stdout.write(line + '\n');
const names = Object.keys(TOGGLES) as ToggleName[];
const toggleName = values.toggle as ToggleName | undefined;
if (toggleName === undefined || !names.includes(toggleName)) {
  log(`usage: node --expose-gc --import tsx bench/ab.ts --toggle ${names.join('|')} [--subscribers N] [--rates R,…] [--rounds N] [--step S]`);
  process.exit(2);
}
const toggle = TOGGLES[toggleName];
const subscribers = Number(values.subscribers);
const rates = values.rates.split(',').map(Number);
const rounds = Number(values.rounds);

let version: string | undefined;
if (toggleName === 'bufferutil') {
  try {
    const req = createRequire(import.meta.url);
    req('bufferutil');
    version = (req('bufferutil/package.json') as { version: string }).version;
  } catch {
    log('bufferutil is not installed: A and B measure the same code (install it to compare)');
  }
}

const steps: AbStep[] = [];
const started = Date.now();
for (let round = 1; round <= rounds; round++) {
  for (const a of [true, false]) {
    toggle.apply(a); // the server process inherits the environment
    log(`round ${round}/${rounds}: ${a ? `A: ${toggle.a}` : `B: ${toggle.b}`}`);
    const opts = defaultOptions(false, 20_000, (l) => log(`  ${l}`));
    opts.scenarios = ['S1'];
    opts.servers = ['gyre'];
    opts.s1 = { subscribers: [subscribers], stepSeconds: Number(values.step), maxSteps: rates.length, resolution: 2, http: false, protobuf: false, streams: false, fixedRates: rates };
    const res = await runBench(opts, `${toggleName} A/B`);
    for (const s of res.s1?.[0]?.steps ?? []) {
      steps.push({
        round,
        a,
        rate: s.rate,
        deliveredPerSec: s.deliveredPerSec,
        serverCpu: s.serverCpu,
        cpuPerMsgUs: s.deliveredPerSec > 0 ? ((s.serverCpu / 100) * 1e6) / s.deliveredPerSec : Number.NaN,
        p50: s.p50,
        p99: s.p99,
        sustained: s.sustained,
        otherCpu: s.otherCpu,
      });
    }
  }
}
const result: AbResult = {
  toggle: toggleName,
  date: new Date(started).toISOString(),
  command: `node --expose-gc --import tsx bench/ab.ts --toggle ${toggleName} --subscribers ${subscribers} --rates ${rates.join(',')} --rounds ${rounds} --step ${values.step}`,
  cores: cpus().length,
  node: process.version,
  ...(version !== undefined && { version }),
  subscribers,
  stepSeconds: Number(values.step),
  steps,
};
writeFileSync(abResultFile(toggleName), JSON.stringify(result, null, 2) + '\n');
log('\n' + abTable(result));
log(`\nwrote ${abResultFile(toggleName)}`);
