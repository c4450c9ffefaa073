/**
 * The hub's own cost per delivered message, without socket syscalls: one channel, 5,000 subscribers
 * with in-memory writers, 400 publications, each flushed in its own turn (like the real writer).
 *   node --import tsx bench/hub-overhead.ts
 */
import { Hub } from '../src/node/hub.js';
import type { OutFrame } from '../src/protocol/frame.js';
import { jsonCodec } from '../src/protocol/json-codec.js';
import { scheduleFlush } from '../src/transport/flush-scheduler.js';
const N = 5000;
const hub = new Hub();
let writes = 0;
/** Queues like SocketWriter, counts a write instead of making one. */
class FakeWriter { q: OutFrame[] = []; s = false; flush() { this.s = false; if (this.q.length) { writes++; this.q.length = 0; } } enqueue(f: OutFrame) { this.q.push(f); if (!this.s) { this.s = true; scheduleFlush(this); } return true; } }
for (let i = 0; i < N; i++) {
  const w = new FakeWriter();
  hub.add('ch', { clientId: 'c' + i, codec: jsonCodec, send: (f: OutFrame) => w.enqueue(f), pushJoinLeave: false, delta: false, deltaPrimed: false, pending: null });
}
const data = JSON.stringify({ ts: 1, payload: 'x'.repeat(80) });
for (let round = 0; round < 50; round++) { hub.publish('ch', { data, offset: 0 }, false); await new Promise(r => setImmediate(r)); }
const t0 = process.cpuUsage();
const R = 400;
for (let round = 0; round < R; round++) { hub.publish('ch', { data, offset: 0 }, false); await new Promise(r => setImmediate(r)); }
const c = process.cpuUsage(t0);
console.log(`per delivered message (no syscall): ${((c.user + c.system) / (R * N) * 1000).toFixed(1)} ns`);
