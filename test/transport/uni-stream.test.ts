/**
 * Unit tests of the shared pieces of the HTTP streams (src/transport/stream-framing.ts,
 * stream-writer.ts, and the connect request decoder of uni-stream.ts) over a fake response that
 * the tests back up and drain at will: framing built once per frame and per sequence of frames,
 * the pushes of one turn in one write, the queue bound counting what the response holds
 * (onOverflow once), a backed-up response resumed on drain in order, flushAll and stop; the
 * connect request decoder.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import { CommandDecodeError } from '../../src/protocol/codec.js';
import { OutFrame } from '../../src/protocol/frame.js';
import { Framing } from '../../src/transport/stream-framing.js';
import { StreamWriter } from '../../src/transport/stream-writer.js';
import { decodeConnectRequest } from '../../src/transport/uni-stream.js';
import { once } from '../helpers/wait.js';

/** A ServerResponse as far as the writer reads it: writes recorded, backed up and drained on demand. */
class FakeResponse extends EventEmitter {
  readonly writes: string[] = [];
  writableLength = 0;
  writableNeedDrain = false;
  destroyed = false;
  writableEnded = false;

  write(chunk: Buffer): boolean {
    this.writes.push(chunk.toString('utf8'));
    this.emit('write', chunk);
    return !this.writableNeedDrain;
  }

  /** The peer took everything. */
  drain(): void {
    this.writableLength = 0;
    this.writableNeedDrain = false;
    this.emit('drain');
  }

  asResponse(): ServerResponse {
    return this as unknown as ServerResponse;
  }
}

function writer(res: FakeResponse, maxQueued = 1 << 20, framing = new Framing('', '\n')) {
  const calls = { overflow: 0, stall: 0 };
  const w = new StreamWriter(
    res.asResponse(),
    { framing, maxQueued, writeTimeout: 0 },
    { writerOverflowed: () => calls.overflow++, writerStalled: () => calls.stall++ },
  );
  return { w, calls };
}

describe('Framing', () => {
  test('frames once per frame and once per sequence of frames', () => {
    const sse = new Framing('data: ', '\n\n');
    const a = new OutFrame('{"a":1}');
    const b = new OutFrame('{"b":2}');
    assert.equal(sse.one(a).toString(), 'data: {"a":1}\n\n');
    assert.equal(sse.one(a), sse.one(a), 'the same bytes for every subscriber');
    const batch = sse.many([a, b]);
    assert.equal(batch.toString(), 'data: {"a":1}\n\ndata: {"b":2}\n\n');
    assert.equal(sse.many([a, b]), batch, 'the same batch bytes for the same frames');
    assert.notEqual(sse.many([a, b, a]), batch);
  });
});

describe('StreamWriter', () => {
  test('the frames of one turn leave in one write, in order', async () => {
    const res = new FakeResponse();
    const { w } = writer(res);
    const written = once<Buffer>(res, 'write', 'the coalesced write');
    for (const n of [1, 2, 3]) w.enqueue(new OutFrame(`{"n":${n}}`));
    assert.equal(res.writes.length, 0, 'nothing before the end of the turn');
    assert.equal((await written).toString(), '{"n":1}\n{"n":2}\n{"n":3}\n');
  });

  test('the bound counts what the response still holds: overflow once, nothing queued after', () => {
    const res = new FakeResponse();
    res.writableLength = 90;
    const { w, calls } = writer(res, 100);
    assert.equal(w.enqueue(new OutFrame('123456789')), true);
    assert.equal(w.enqueue(new OutFrame('12')), false);
    assert.equal(calls.overflow, 1);
    assert.equal(w.enqueue(new OutFrame('1')), false, 'stopped');
    assert.equal(calls.overflow, 1);
  });

  test('a backed-up response: frames wait, then leave on drain in order', async () => {
    const res = new FakeResponse();
    res.writableNeedDrain = true;
    const { w, calls } = writer(res);
    w.enqueue(new OutFrame('{"n":1}'));
    const sentinel = new FakeResponse();
    const { w: other } = writer(sentinel);
    const flushed = once(sentinel, 'write', 'the sentinel writer, flushed in the same turn');
    other.enqueue(new OutFrame('{}'));
    await flushed;
    assert.equal(res.writes.length, 0, 'nothing written to a backed-up response');
    w.enqueue(new OutFrame('{"n":2}'));
    res.drain();
    assert.deepEqual(res.writes, ['{"n":1}\n{"n":2}\n']);
    assert.equal(calls.stall, 0);
  });

  test('flushAll writes at once and stops; stop drops what waits', () => {
    const res = new FakeResponse();
    const { w } = writer(res);
    w.enqueue(new OutFrame('{"a":1}'));
    w.flushAll();
    assert.deepEqual(res.writes, ['{"a":1}\n']);
    assert.equal(w.enqueue(new OutFrame('{}')), false);
    const res2 = new FakeResponse();
    const { w: w2 } = writer(res2);
    w2.enqueue(new OutFrame('{"a":1}'));
    w2.stop();
    w2.flushAll();
    assert.deepEqual(res2.writes, []);
  });
});

describe('connect requests', () => {
  test('a bare ConnectRequest object; empty is {}; anything else is a CommandDecodeError', () => {
    assert.equal(decodeConnectRequest(Buffer.from('')).token, undefined);
    assert.equal(decodeConnectRequest(Buffer.from('{"token":"t","name":"n"}')).token, 't');
    for (const bad of ['{"token":', '[]', '"x"', '{"token":1}', '['.repeat(2000) + ']'.repeat(2000)]) {
      assert.throws(() => decodeConnectRequest(Buffer.from(bad)), CommandDecodeError, bad.slice(0, 20));
    }
  });
});
