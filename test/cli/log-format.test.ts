/**
 * How `gyre serve` logs to stdout: readable lines on a terminal (a pseudo-terminal made by
 * util-linux `script`), JSON lines through a pipe; `log.format` forces either. A log file is JSON.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { deadline, exitOf, preview } from '../helpers/wait.js';
import { cleanEnv, tempDir } from './run-cli.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = fileURLToPath(import.meta.resolve('tsx'));
const SCRIPT = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0 ? 'script' : undefined;

/** Runs `gyre serve` with `log` settings until it says it listens; returns its stdout. */
async function firstLines(log: Record<string, unknown>, terminal: boolean): Promise<string> {
  const dir = tempDir();
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ client: { insecure: true }, http_server: { port: 0, address: '127.0.0.1' }, log }));
  const command = [process.execPath, '--import', TSX, MAIN, 'serve'];
  const child = terminal
    ? spawn(SCRIPT!, ['-qec', command.map((a) => `'${a}'`).join(' '), '/dev/null'], { cwd: dir, env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(command[0]!, command.slice(1), { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let upToListening = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await deadline<void>(30_000, () => `gyre serve did not say it listens (stdout: ${preview(out)})`, (resolve) => {
      const check = () => {
        if (!/listening[^\n]*\n/.test(out)) return; // the whole line
        upToListening = out.slice(0, out.search(/listening[^\n]*\n/)).concat(/listening[^\n]*\n/.exec(out)![0]);
        resolve();
      };
      child.stdout!.on('data', check);
      check();
    });
  } finally {
    // On the terminal, Ctrl-C (gyre runs in a session of its own under `script`, out of reach of
    // our signals, and ignores the hangup of a closed terminal: it reopens its logs on SIGHUP).
    if (terminal) child.stdin!.write('\x03');
    else child.kill('SIGTERM');
    await exitOf(child, { timeoutMs: 30_000, what: 'gyre serve to stop' }).catch(() => child.kill('SIGKILL'));
  }
  return upToListening;
}

const isJsonLines = (text: string) =>
  text
    .trim()
    .split(/\r?\n/)
    .every((l) => {
      try {
        return typeof (JSON.parse(l) as { msg?: unknown }).msg === 'string';
      } catch {
        return false;
      }
    });

test('through a pipe: JSON lines (format auto), readable lines with format "pretty"', async () => {
  assert.ok(isJsonLines(await firstLines({}, false)));
  const pretty = await firstLines({ format: 'pretty' }, false);
  assert.ok(!isJsonLines(pretty));
  assert.match(pretty, /INFO.*Gyre .* listening/);
  assert.doesNotMatch(pretty, /\x1b\[/, 'colors through a pipe');
});

test('on a terminal: readable colored lines (format auto), JSON with format "json"', { skip: SCRIPT === undefined && 'util-linux `script` is not installed' }, async () => {
  const auto = await firstLines({}, true);
  assert.match(auto, /INFO.*Gyre .* listening/);
  assert.match(auto, /\x1b\[/, 'no colors on a terminal');
  assert.ok(isJsonLines(await firstLines({ format: 'json' }, true)));
});

test('log.format accepts auto, json, pretty only', async () => {
  const { validateConfig } = await import('../../src/config/validate.js');
  assert.equal(validateConfig({}).config.log.format, 'auto');
  assert.throws(() => validateConfig({ log: { format: 'fancy' } }), /log\.format: expected one of "auto", "json", "pretty"/);
});
