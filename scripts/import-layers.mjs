#!/usr/bin/env node
/**
 * Gyre's import rules, checked over src/: every module imports only from its own layer or from
 * layers below it (the order in LAYERS), and no modules import each other in a cycle (type-only
 * imports count too). Run it directly (`node scripts/import-layers.mjs`, exits 1 on a violation);
 * test/architecture/layers.test.ts runs it as part of `npm test`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Layers from the bottom up. A module's layer is its directory under src/ (or its file name for
 * the modules at the top of src/). Within one layer any import is allowed (cycles aside).
 */
export const LAYERS = [
  ['version.ts'],
  ['protocol'],
  ['config'],
  ['log.ts', 'http'],
  ['metrics'],
  ['auth'],
  ['engine'],
  ['handlers'],
  ['node'],
  ['proxy'],
  ['transport'],
  ['api'],
  ['broadcasting'],
  ['events'],
  ['admin'],
  ['server.ts', 'gyre.ts', 'index.ts'],
  ['workers'],
  ['cli'],
];

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Drops comments, so that an import quoted in a comment is not taken for one. */
function withoutComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

/** The relative imports of every module under `srcDir`: module → modules it imports (paths relative to srcDir). */
export function importGraph(srcDir) {
  const graph = new Map();
  for (const file of sourceFiles(srcDir)) {
    const from = relative(srcDir, file);
    const targets = new Set();
    for (const m of withoutComments(readFileSync(file, 'utf8')).matchAll(SPECIFIER)) {
      targets.add(normalize(join(dirname(from), m[1])).replace(/\.js$/, '.ts'));
    }
    graph.set(from, [...targets].sort());
  }
  return graph;
}

/** The layer index of a module (its path relative to src/), or -1 when no layer lists it. */
export function layerOf(module) {
  const top = module.split('/')[0];
  return LAYERS.findIndex((names) => names.includes(top));
}

/** Imports from a lower layer to a higher one, and modules no layer lists. */
export function layerViolations(graph) {
  const out = [];
  for (const [from, targets] of graph) {
    const own = layerOf(from);
    if (own === -1) out.push(`${from}: in no layer (add its directory to LAYERS in scripts/import-layers.mjs)`);
    for (const to of targets) {
      if (!graph.has(to)) out.push(`${from} imports ${to}, which does not exist`);
      else if (layerOf(to) > own) out.push(`${from} (${LAYERS[own]}) imports ${to} (${LAYERS[layerOf(to)]}), a higher layer`);
    }
  }
  return out;
}

/** Every import cycle, as the modules in it (Tarjan's strongly connected components). */
export function importCycles(graph) {
  let index = 0;
  const stack = [];
  const state = new Map();
  const cycles = [];
  const visit = (v) => {
    const s = { index, low: index, onStack: true };
    index++;
    state.set(v, s);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      const t = state.get(w);
      if (t === undefined) {
        visit(w);
        s.low = Math.min(s.low, state.get(w).low);
      } else if (t.onStack) {
        s.low = Math.min(s.low, t.index);
      }
    }
    if (s.low === s.index) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        state.get(w).onStack = false;
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!state.has(v)) visit(v);
  return cycles;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
  const graph = importGraph(src);
  const problems = [...layerViolations(graph), ...importCycles(graph).map((c) => `import cycle: ${c.join(' <-> ')}`)];
  for (const p of problems) console.error(p);
  console.log(`import layers: ${graph.size} modules, ${[...graph.values()].reduce((n, t) => n + t.length, 0)} imports, ${problems.length} problems`);
  process.exit(problems.length === 0 ? 0 : 1);
}
