// The layout's import rules hold: no module imports from a higher layer, no import cycles.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as check from '../../scripts/import-layers.mjs';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

test('src/ imports only from its own layer or the layers below', () => {
  const graph = check.importGraph(SRC);
  assert.ok(graph.size > 100, `expected the whole of src/, found ${graph.size} modules`);
  assert.deepEqual(check.layerViolations(graph), []);
});

test('src/ has no import cycles', () => {
  assert.deepEqual(check.importCycles(check.importGraph(SRC)), []);
});

/** A throwaway src/ tree with the given files (path → contents). */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gyre-layers-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

test('the check catches an upward import, a cycle and an import of a missing module', (t) => {
  const dir = tree({
    'node/a.ts': "import { b } from '../transport/b.js';\nexport const a = 1;\n",
    'transport/b.ts': "import type { c } from './c.js';\nexport const b = 2;\n",
    'transport/c.ts': "export { b } from './b.js';\nimport './gone.js';\n// import { x } from '../cli/x.js' (a comment, not an import)\n",
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const graph = check.importGraph(dir);
  const violations = check.layerViolations(graph);
  assert.equal(violations.length, 2, violations.join('\n'));
  assert.match(violations.join('\n'), /node\/a\.ts \(node\) imports transport\/b\.ts \(transport\), a higher layer/);
  assert.match(violations.join('\n'), /transport\/c\.ts imports transport\/gone\.ts, which does not exist/);
  assert.deepEqual(check.importCycles(graph), [['transport/b.ts', 'transport/c.ts']]);
});

test('a directory no layer lists is reported', (t) => {
  const dir = tree({ 'misc/x.ts': 'export const x = 1;\n' });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(check.layerViolations(check.importGraph(dir)), [
    'misc/x.ts: in no layer (add its directory to LAYERS in scripts/import-layers.mjs)',
  ]);
});
