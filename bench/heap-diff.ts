/**
 * What an idle connection costs on a server's V8 heap: heap snapshots of the server process (after
 * GC) before and after connecting N idle subscribed clients, compared by constructor.
 *   node --import tsx bench/heap-diff.ts [gyre|raw|sio] [N] [--top 25] [--by-owner]
 * `--by-owner` groups by what holds each object instead (its first retainer and that one's, e.g.
 * `(array) <- Map.table <- ClientSubscriptions.byChannel`): where the bytes of a connection hang.
 * GYRE_KEEP_HEAP=1 keeps the two snapshots (their directory is printed) for Chrome's DevTools.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerKind } from './common.js';
import { LoadGen, ServerProcess, sleep } from './harness.js';

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

type Totals = Map<string, { count: number; bytes: number }>;

function add(out: Totals, key: string, size: number): void {
  const e = out.get(key);
  if (e === undefined) out.set(key, { count: 1, bytes: size });
  else {
    e.count++;
    e.bytes += size;
  }
}

/**
 * Total self size and count per holder path: each object keyed by its label, its first retainer
 * (through a strong edge) with the edge's name, and that retainer's own.
 */
export function heapByOwner(file: string): Totals {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const { node_fields: nf, edge_fields: ef } = s.snapshot.meta;
  const nodeTypes = s.snapshot.meta.node_types[0];
  const edgeTypes = s.snapshot.meta.edge_types[0];
  const w = nf.length;
  const ew = ef.length;
  const [iType, iName, iSize, iEdges] = [nf.indexOf('type'), nf.indexOf('name'), nf.indexOf('self_size'), nf.indexOf('edge_count')];
  const [eType, eName, eTo] = [ef.indexOf('type'), ef.indexOf('name_or_index'), ef.indexOf('to_node')];
  const count = s.nodes.length / w;
  const owner = new Int32Array(count).fill(-1);
  const via: string[] = new Array<string>(count);
  const label = (i: number): string => {
    const type = nodeTypes[s.nodes[i * w + iType]!] ?? '?';
    const name = s.strings[s.nodes[i * w + iName]!] ?? '?';
    return type === 'object' || type === 'native' ? name : type === 'closure' ? `${name}()` : `(${type})`;
  };
  let e = 0;
  for (let i = 0; i < count; i++) {
    const edges = s.nodes[i * w + iEdges]!;
    for (let k = 0; k < edges; k++, e += ew) {
      const type = edgeTypes[s.edges[e + eType]!];
      if (type === 'weak' || type === 'shortcut') continue;
      const to = s.edges[e + eTo]! / w;
      if (owner[to] !== -1) continue;
      owner[to] = i;
      via[to] = type === 'element' || type === 'hidden' ? `[${type}]` : String(s.strings[s.edges[e + eName]!]);
    }
  }
  const out: Totals = new Map();
  for (let i = 0; i < count; i++) {
    const o = owner[i]!;
    const g = o >= 0 ? owner[o]! : -1;
    const key = `${label(i)} <- ${o >= 0 ? `${label(o)}.${via[i]}` : '?'} <- ${g >= 0 ? `${label(g)}.${via[o]}` : '?'}`;
    add(out, key, s.nodes[i * w + iSize]!);
  }
  return out;
}

/** Total self size and count per (constructor or type). */
export function heapByConstructor(file: string): Totals {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const out: Totals = new Map();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]!] ?? '?';
    const name = s.strings[s.nodes[i + iName]!] ?? '?';
    const key = type === 'object' || type === 'closure' || type === 'native' ? `${name}${type === 'closure' ? '()' : ''}` : `(${type})`;
    add(out, key, s.nodes[i + iSize]!);
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const t = args.indexOf('--top');
  const top = t >= 0 ? Number(args[t + 1]) : 25;
  const pos = args.filter((a, i) => !a.startsWith('--') && (t < 0 || i !== t + 1));
  const kind = (pos[0] ?? 'gyre') as ServerKind;
  const n = Number(pos[1] ?? 2000);
  const dir = mkdtempSync(join(tmpdir(), 'gyre-heap-'));
  const lg = new LoadGen(2, 15_000);
  const server = await ServerProcess.start(kind, (l) => process.stderr.write(l + '\n'));
  try {
    lg.newSession(n);
    await sleep(500);
    await server.heapSnapshot(join(dir, 'before.heapsnapshot'));
    const c = await lg.connect(kind, server.port, 0, n, { kind: 'single', channel: 'idle' }, 128);
    await sleep(1000);
    await server.heapSnapshot(join(dir, 'after.heapsnapshot'));
    const group = args.includes('--by-owner') ? heapByOwner : heapByConstructor;
    const before = group(join(dir, 'before.heapsnapshot'));
    const after = group(join(dir, 'after.heapsnapshot'));
    const rows = [...after.entries()]
      .map(([k, a]) => {
        const b = before.get(k) ?? { count: 0, bytes: 0 };
        return { k, count: (a.count - b.count) / c.connected, bytes: (a.bytes - b.bytes) / c.connected };
      })
      .sort((x, y) => y.bytes - x.bytes);
    const total = rows.reduce((s, r) => s + r.bytes, 0);
    process.stdout.write(`${kind}: ${c.connected} idle subscribed connections; heap per connection ${total.toFixed(0)} bytes\n\n`);
    process.stdout.write(`| bytes / conn | objects / conn | ${group === heapByOwner ? 'object <- held by <- held by' : 'constructor or type'} |\n| ---: | ---: | --- |\n`);
    for (const r of rows.slice(0, top)) process.stdout.write(`| ${r.bytes.toFixed(0)} | ${r.count.toFixed(2)} | ${r.k} |\n`);
  } finally {
    await lg.close().catch(() => undefined);
    await server.stop();
    await lg.exit();
    if (process.env['GYRE_KEEP_HEAP'] === '1') process.stderr.write(`snapshots kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
