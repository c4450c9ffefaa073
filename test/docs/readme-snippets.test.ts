/**
 * Every ```ts block of README.md compiles on its own against the package (`gyre` resolves to
 * src/index.ts) with the project's strict settings: each block is written to a file of its own and
 * the lot is typechecked with `tsc`. A block whose first line is `// file: PATH.ts` is written to
 * that path, so another block may import it (`./PATH.js`), as a reader's files would.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface Snippet {
  line: number;
  file: string;
  code: string;
}

/** The ```ts blocks of a Markdown text, with the line each starts at. */
export function tsBlocks(markdown: string): Array<{ line: number; code: string }> {
  const out: Array<{ line: number; code: string }> = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```ts') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]!.trim() !== '```') end++;
    out.push({ line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return out;
}

test('README.md: every ts block compiles on its own against the package', () => {
  const blocks = tsBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  assert.ok(blocks.length >= 10, `only ${blocks.length} ts blocks found in README.md`);
  const snippets: Snippet[] = blocks.map((b, i) => {
    const named = /^\/\/ file: (\S+\.ts)\s*$/.exec(b.code.split('\n')[0] ?? '');
    return { line: b.line, file: named?.[1] ?? `snippet-${String(i + 1).padStart(2, '0')}.ts`, code: b.code };
  });
  const dir = join(ROOT, `.readme-snippets-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  try {
    for (const s of snippets) {
      const path = join(dir, s.file);
      mkdirSync(dirname(path), { recursive: true });
      // `export {}` makes a block without imports a module too (top-level await, own scope).
      writeFileSync(path, `${s.code}\nexport {};\n`);
    }
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../tsconfig.json',
        compilerOptions: { noEmit: true, rootDir: '..', noUnusedLocals: false, noUnusedParameters: false, paths: { gyre: ['../src/index.ts'] } },
        include: ['./**/*.ts'],
      }),
    );
    const run = spawnSync(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json')], { cwd: ROOT, encoding: 'utf8' });
    // Each error line names a snippet file: say which README line that block starts at.
    const errors = (run.stdout + run.stderr)
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const s = snippets.find((x) => l.includes(x.file));
        return s === undefined ? l : `README.md block at line ${s.line}: ${l}`;
      });
    assert.equal(run.status, 0, `README ts blocks do not compile:\n${errors.join('\n')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
