/**
 * What an idle connection costs on a server's V8 heap: heap snapshots of the server process (after
 * GC) before and after connecting N idle subscribed clients, compared by constructor.
 *   node --import tsx bench/heap-diff.ts [gyre|raw|sio] [N] [--top 25]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerKind } from './common.js';
import { LoadGen, ServerProcess, sleep } from './harness.js';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Total self size and count per (constructor or type). */
export function heapByConstructor(file: string): Map<string, { count: number; bytes: number }> {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType]!] ?? '?';
    const name = s.strings[s.nodes[i + iName]!] ?? '?';
    const key = type === 'object' || type === 'closure' || type === 'native' ? `${name}${type === 'closure' ? '()' : ''}` : `(${type})`;
    const e = out.get(key);
    const size = s.nodes[i + iSize]!;
    if (e === undefined) out.set(key, { count: 1, bytes: size });
    else {
      e.count++;
      e.bytes += size;
    }
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
    const before = heapByConstructor(join(dir, 'before.heapsnapshot'));
    const after = heapByConstructor(join(dir, 'after.heapsnapshot'));
    const rows = [...after.entries()]
      .map(([k, a]) => {
        const b = before.get(k) ?? { count: 0, bytes: 0 };
        return { k, count: (a.count - b.count) / c.connected, bytes: (a.bytes - b.bytes) / c.connected };
      })
      .sort((x, y) => y.bytes - x.bytes);
    const total = rows.reduce((s, r) => s + r.bytes, 0);
    process.stdout.write(`${kind}: ${c.connected} idle subscribed connections; heap per connection ${total.toFixed(0)} bytes\n\n`);
    process.stdout.write('| bytes / conn | objects / conn | constructor or type |\n| ---: | ---: | --- |\n');
    for (const r of rows.slice(0, top)) process.stdout.write(`| ${r.bytes.toFixed(0)} | ${r.count.toFixed(2)} | ${r.k} |\n`);
  } finally {
    await lg.close().catch(() => undefined);
    await server.stop();
    await lg.exit();
    rmSync(dir, { recursive: true, force: true });
  }
}
