/**
 * A/B of `bufferutil` (ws's optional native helper for masking and unmasking frames) on S1: Gyre,
 * N JSON WebSocket subscribers of one channel, in-process publishing, the same fixed rates with
 * bufferutil loaded (A) and with WS_NO_BUFFER_UTIL=1 (B: ws ignores it), alternating A, B, A, B…
 * so that drift of the machine falls on both. Needs bufferutil installed (`npm install --no-save
 * bufferutil` is enough); without it both halves measure the same thing, and the script says so.
 *   node --expose-gc --import tsx bench/bufferutil-ab.ts [--subscribers 5000] [--rates 100,200,300] [--rounds 3]
 * Writes bench/results/bufferutil.json; BENCHMARKS.md shows it from there (`npm run bench -- --render`).
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { defaultOptions, runBench } from './bench.js';
import { BUFFERUTIL_RESULT_FILE, type BufferutilResult, type BufferutilStep } from './bufferutil-result.js';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '5000' },
    rates: { type: 'string', default: '100,200,300' },
    rounds: { type: 'string', default: '3' },
    step: { type: 'string', default: '2' },
  },
});
const subscribers = Number(values.subscribers);
const rates = values.rates.split(',').map(Number);
const rounds = Number(values.rounds);
const log = (line: string) => process.stdout.write(line + '\n');

let version: string | undefined;
try {
  const req = createRequire(import.meta.url);
  req('bufferutil');
  version = (req('bufferutil/package.json') as { version: string }).version;
} catch {
  log('bufferutil is not installed: A and B measure the same code (install it to compare)');
}

const steps: BufferutilStep[] = [];
const started = Date.now();
for (let round = 1; round <= rounds; round++) {
  for (const loaded of [true, false]) {
    if (loaded) delete process.env['WS_NO_BUFFER_UTIL'];
    else process.env['WS_NO_BUFFER_UTIL'] = '1'; // the server process inherits it
    log(`round ${round}/${rounds}: bufferutil ${loaded ? 'loaded' : 'off (WS_NO_BUFFER_UTIL=1)'}`);
    const opts = defaultOptions(false, 20_000, (l) => log(`  ${l}`));
    opts.scenarios = ['S1'];
    opts.servers = ['gyre'];
    opts.s1 = { subscribers: [subscribers], stepSeconds: Number(values.step), maxSteps: rates.length, resolution: 2, http: false, protobuf: false, streams: false, fixedRates: rates };
    const res = await runBench(opts, 'bufferutil A/B');
    for (const s of res.s1?.[0]?.steps ?? []) {
      steps.push({
        round,
        bufferutil: loaded,
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
delete process.env['WS_NO_BUFFER_UTIL'];
const result: BufferutilResult = {
  date: new Date(started).toISOString(),
  command: `node --expose-gc --import tsx bench/bufferutil-ab.ts --subscribers ${subscribers} --rates ${rates.join(',')} --rounds ${rounds}`,
  cores: cpus().length,
  node: process.version,
  ...(version !== undefined && { version }),
  subscribers,
  stepSeconds: Number(values.step),
  steps,
};
writeFileSync(BUFFERUTIL_RESULT_FILE, JSON.stringify(result, null, 2) + '\n');
const { bufferutilTable } = await import('./bufferutil-result.js');
log('\n' + bufferutilTable(result));
log(`\nwrote ${BUFFERUTIL_RESULT_FILE}`);
