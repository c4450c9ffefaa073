/** Running the `gyre` command line as a real child process (through tsx), for the CLI tests. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { deadline, preview } from '../helpers/wait.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** How long a CLI run may take (a process started through tsx: seconds on a loaded machine). */
export const RUN_WAIT_MS = 30_000;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh empty directory to run the CLI in, removed after the test file. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gyre-cli-'));
  dirs.push(dir);
  return dir;
}

/** The environment without config variables, so only the files under test count. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CENTRIFUGO|GYRE)_/.test(k)) env[k] = v;
  return env;
}

/** Starts `gyre ARGS` in `cwd`. */
export function gyre(args: string[], cwd: string): ChildProcessByStdio<null, Readable, Readable> {
  assert.ok(existsSync(fileURLToPath(TSX)), `tsx loader not found at ${TSX}`);
  return spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs the CLI to completion; kills it and rejects when it has not finished within RUN_WAIT_MS. */
export function run(args: string[], cwd = tempDir()): Promise<Run> {
  const child = gyre(args, cwd);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return deadline<Run>(
    RUN_WAIT_MS,
    () => {
      child.kill('SIGKILL');
      return `run: "gyre ${args.join(' ')}" did not finish within ${RUN_WAIT_MS} ms (stdout: ${preview(stdout)}; stderr: ${preview(stderr)})`;
    },
    (resolve) => void child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
}
