/**
 * Unit tests of OutFrame and batchBytes (src/protocol/frame.ts): the payload and its size, the
 * unmasked WebSocket text frame built once (with the 7-bit, 16-bit and 64-bit length forms), and
 * the batch buffer shared by connections that queued the same frames, and messages joined into
 * frames (`join`: newline-separated JSON, varint-delimited protobuf back to back, at most `join` a frame).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OutFrame, batchBytes, framesBytes, joinedPayloads } from '../../src/protocol/frame.js';

describe('OutFrame', () => {
  test('the payload is the UTF-8 text; size counts its bytes', () => {
    const f = new OutFrame('{"t":"é✓"}');
    assert.equal(f.payload.toString('utf8'), '{"t":"é✓"}');
    assert.equal(f.size, 13); // 8 ASCII bytes, é 2, ✓ 3
    assert.equal(f.size, f.payload.length);
  });

  test('framed is an unmasked final text frame around the payload, built once', () => {
    const f = new OutFrame('hello');
    const framed = f.framed;
    assert.deepEqual([...framed], [0x81, 5, ...Buffer.from('hello')]);
    assert.strictEqual(f.framed, framed, 'the same buffer every time');
  });

  test('payload lengths 125, 126 and 65 536 use the 7-bit, 16-bit and 64-bit length forms', () => {
    const f125 = new OutFrame('a'.repeat(125)).framed;
    assert.deepEqual([f125[0], f125[1], f125.length], [0x81, 125, 127]);
    const f126 = new OutFrame('a'.repeat(126)).framed;
    assert.deepEqual([f126[0], f126[1], f126.readUInt16BE(2), f126.length], [0x81, 126, 126, 130]);
    const big = new OutFrame('a'.repeat(65_536)).framed;
    assert.deepEqual([big[0], big[1], Number(big.readBigUInt64BE(2)), big.length], [0x81, 127, 65_536, 65_546]);
  });

  test('an empty payload is a two-byte frame', () => {
    const f = new OutFrame('');
    assert.equal(f.size, 0);
    assert.deepEqual([...f.framed], [0x81, 0]);
  });
});

describe('batchBytes', () => {
  test('the frames one after the other, in queue order', () => {
    const a = new OutFrame('a');
    const b = new OutFrame('bb');
    assert.deepEqual(batchBytes([a, b]), Buffer.concat([a.framed, b.framed]));
    assert.deepEqual(batchBytes([b, a]), Buffer.concat([b.framed, a.framed]));
  });

  test('the same sequence of frame objects gets the same buffer (built once, shared)', () => {
    const a = new OutFrame('a');
    const b = new OutFrame('b');
    const first = batchBytes([a, b]);
    assert.strictEqual(batchBytes([a, b]), first);
    // Another queue array with the same frames: still shared.
    const queue = [a, b];
    assert.strictEqual(batchBytes(queue), first);
  });

  test('a different sequence starting with the same frame is rebuilt, never served stale', () => {
    const a = new OutFrame('a');
    const b = new OutFrame('b');
    const c = new OutFrame('c');
    const ab = batchBytes([a, b]);
    const abc = batchBytes([a, b, c]);
    assert.notStrictEqual(abc, ab);
    assert.deepEqual(abc, Buffer.concat([a.framed, b.framed, c.framed]));
    // A frame with the same text is another frame object: not the cached sequence.
    const ac = batchBytes([a, new OutFrame('b')]);
    assert.notStrictEqual(ac, abc);
    assert.deepEqual(ac, ab);
    assert.deepEqual(batchBytes([a]), a.framed);
  });

  test('changing the queue array afterwards does not change the cached sequence', () => {
    const a = new OutFrame('a');
    const b = new OutFrame('b');
    const c = new OutFrame('c');
    const queue = [a, b];
    const ab = batchBytes(queue);
    queue[1] = c;
    const ac = batchBytes(queue);
    assert.notStrictEqual(ac, ab);
    assert.deepEqual(ac, Buffer.concat([a.framed, c.framed]));
    assert.deepEqual(ab, Buffer.concat([a.framed, b.framed]));
  });
});

/** The WebSocket frames of `bytes` (unmasked, payloads under 126 bytes): opcode and payload of each. */
function parseFrames(bytes: Buffer): Array<{ opcode: number; payload: string }> {
  const out: Array<{ opcode: number; payload: string }> = [];
  let pos = 0;
  while (pos < bytes.length) {
    const opcode = bytes[pos]! & 0x0f;
    assert.equal(bytes[pos]! & 0x80, 0x80, 'FIN set');
    const len = bytes[pos + 1]!;
    assert.ok(len < 126, 'short test payloads');
    out.push({ opcode, payload: bytes.subarray(pos + 2, pos + 2 + len).toString('latin1') });
    pos += 2 + len;
  }
  return out;
}

describe('joined messages (join > 1)', () => {
  test('JSON messages newline-separated in text frames of at most `join` messages, in order', () => {
    const frames = ['{"a":1}', '{"b":2}', '{"c":3}', '{"d":4}', '{"e":5}'].map((t) => new OutFrame(t));
    assert.deepEqual(parseFrames(batchBytes(frames, 2)), [
      { opcode: 1, payload: '{"a":1}\n{"b":2}' },
      { opcode: 1, payload: '{"c":3}\n{"d":4}' },
      { opcode: 1, payload: '{"e":5}' },
    ]);
    assert.deepEqual(parseFrames(batchBytes(frames, Number.POSITIVE_INFINITY)), [
      { opcode: 1, payload: '{"a":1}\n{"b":2}\n{"c":3}\n{"d":4}\n{"e":5}' },
    ]);
  });

  test('protobuf messages back to back in one binary frame', () => {
    const a = new OutFrame(Buffer.from([2, 0x08, 0x01]));
    const b = new OutFrame(Buffer.from([1, 0x10]));
    const frames = parseFrames(batchBytes([a, b], 16));
    assert.deepEqual(frames, [{ opcode: 2, payload: Buffer.from([2, 0x08, 0x01, 1, 0x10]).toString('latin1') }]);
  });

  test('join 0 or 1: a frame per message, as batchBytes without join', () => {
    const frames = [new OutFrame('x'), new OutFrame('y')];
    const separate = Buffer.concat(frames.map((f) => f.framed));
    assert.deepEqual(framesBytes(frames, 2, 0), separate);
    assert.deepEqual(framesBytes(frames, 2, 1), separate);
  });

  test('cached per sequence and join: the same queue with another join is rebuilt', () => {
    const a = new OutFrame('a');
    const b = new OutFrame('b');
    const joined = batchBytes([a, b], 16);
    assert.strictEqual(batchBytes([a, b], 16), joined, 'shared while the sequence and join are the same');
    const separate = batchBytes([a, b], 0);
    assert.notStrictEqual(separate, joined);
    assert.deepEqual(separate, Buffer.concat([a.framed, b.framed]));
    assert.deepEqual(parseFrames(batchBytes([a, b], 16)), [{ opcode: 1, payload: 'a\nb' }]);
  });

  test('framesBytes joins only the first `count` frames; joinedPayloads gives the joined payloads', () => {
    const frames = ['1', '2', '3'].map((t) => new OutFrame(t));
    assert.deepEqual(parseFrames(framesBytes(frames, 2, 16)), [{ opcode: 1, payload: '1\n2' }]);
    const payloads: string[] = [];
    joinedPayloads(frames, 3, 2, (p, binary) => payloads.push(`${binary ? 'b' : 't'}:${p.toString()}`));
    assert.deepEqual(payloads, ['t:1\n2', 't:3']);
  });
});
