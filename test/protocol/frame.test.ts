/**
 * Unit tests of OutFrame and batchBytes (src/protocol/frame.ts): the payload and its size, the
 * unmasked WebSocket text frame built once (with the 7-bit, 16-bit and 64-bit length forms), and
 * the batch buffer shared by connections that queued the same frames.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OutFrame, batchBytes } from '../../src/protocol/frame.js';

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
