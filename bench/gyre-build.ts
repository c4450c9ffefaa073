/**
 * Which Gyre the benchmarks measure: the compiled build in dist/ (what `npm start` runs), kept
 * current by {@link ensureGyreBuild}, or the sources through tsx with GYRE_BENCH_FROM=src. tsx's
 * transform names every arrow function kept in a field (esbuild's keepNames: an own `name`
 * property, 256 bytes of heap each), which a user's server never pays. GYRE_BENCH_DIST=DIR measures
 * another build instead (used as is, never rebuilt): to compare two versions, copy an earlier
 * commit's dist/ to a folder inside the repository (so that node_modules/ resolves from it, e.g.
 * `.bench-base/`) and alternate runs with and without the variable.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO_DIR = dirname(dirname(fileURLToPath(import.meta.url)));

/** "dist" (default) or "src". */
export function gyreSource(): 'dist' | 'src' {
  return process.env['GYRE_BENCH_FROM'] === 'src' ? 'src' : 'dist';
}

/** Imports a Gyre module by its path under src/ written with `.js` (e.g. `server.js`). */
export function gyreModule<T>(path: string): Promise<T> {
  const other = process.env['GYRE_BENCH_DIST'];
  const file =
    other !== undefined && other !== ''
      ? join(resolve(REPO_DIR, other), path)
      : gyreSource() === 'src'
        ? join(REPO_DIR, 'src', path.replace(/\.js$/, '.ts'))
        : join(REPO_DIR, 'dist', path);
  return import(pathToFileURL(file).href) as Promise<T>;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function isStale(): boolean {
  try {
    return statSync(join(REPO_DIR, 'dist', 'server.js')).mtimeMs < newestMtime(join(REPO_DIR, 'src'));
  } catch {
    return true;
  }
}

let checked = false;

/**
 * Rebuilds dist/ (`tsc -p tsconfig.build.json`, a few seconds) when a source is newer than it; one
 * process builds at a time (a lock directory), the others wait for it and find it current.
 */
export function ensureGyreBuild(log: (line: string) => void): void {
  if (checked || gyreSource() === 'src' || (process.env['GYRE_BENCH_DIST'] ?? '') !== '') return;
  const lock = join(REPO_DIR, '.bench-build.lock');
  const deadline = Date.now() + 120_000;
  while (isStale()) {
    try {
      mkdirSync(lock);
    } catch {
      if (Date.now() > deadline) throw new Error(`dist/ is older than src/ and ${lock} has been held for 2 min (remove it if no build runs)`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      continue;
    }
    try {
      if (!isStale()) break;
      log('  dist/ is older than src/: building it (tsc -p tsconfig.build.json)');
      execFileSync(process.execPath, [join(REPO_DIR, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
        cwd: REPO_DIR,
        stdio: ['ignore', 'inherit', 'inherit'],
      });
    } finally {
      rmdirSync(lock);
    }
  }
  checked = true;
}
