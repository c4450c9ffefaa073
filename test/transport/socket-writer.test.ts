/**
 * Unit tests of SocketWriter (src/transport/socket-writer.ts) over a fake `ws` WebSocket and TCP
 * socket (test/helpers/fake-socket.ts) that the tests back up and drain at will: frames of one turn
 * coalesced into one write, maxQueued counting queued and in-flight bytes (onOverflow once), the
 * write timeout of a backed-up socket (onStall), drain resuming in order a chunk at a time, stop(),
 * flushAll(), the permessage-deflate path through `ws.send`, and the write delay (frames of several
 * turns in one write, on the shared timer) with messages joined into frames.
 *
 * No test sleeps or measures time: writes are waited for with bounded waits, "nothing was written"
 * is checked after a sentinel writer queued later in the same turn has been flushed, and the
 * "no stall" cases run the stall timer on mocked timers.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { OutFrame } from '../../src/protocol/frame.js';
import type { SocketWriterSettings } from '../../src/transport/queued-writer.js';
import { SocketWriter } from '../../src/transport/socket-writer.js';
import { FakeWebSocket, type FakeTcpSocket, type FakeWebSocketOptions } from '../helpers/fake-socket.js';
import { once, until, withTimeout } from '../helpers/wait.js';

/** A frame whose payload is `n` bytes of `ch`. */
function sized(n: number, ch = 'x'): OutFrame {
  return new OutFrame(ch.repeat(n));
}

interface Harness {
  ws: FakeWebSocket;
  writer: SocketWriter;
  calls: { overflow: number; stall: number };
  /** Resolves at the first onStall. */
  stalled: Promise<void>;
}

function harness(opts: Partial<SocketWriterSettings> & FakeWebSocketOptions = {}): Harness {
  const ws = new FakeWebSocket(opts);
  const calls = { overflow: 0, stall: 0 };
  let onStalled: () => void = () => {};
  const stalled = new Promise<void>((resolve) => (onStalled = resolve));
  const writer = new SocketWriter(
    ws.asWebSocket(),
    {
      maxQueued: opts.maxQueued ?? 1 << 20,
      writeTimeout: opts.writeTimeout ?? 0,
      ...(opts.writeDelay !== undefined && { writeDelay: opts.writeDelay }),
      ...(opts.joinMessages !== undefined && { joinMessages: opts.joinMessages }),
    },
    {
      writerOverflowed: () => calls.overflow++,
      writerStalled: () => {
        calls.stall++;
        onStalled();
      },
    },
  );
  return { ws, writer, calls, stalled };
}

/** The next write on `socket` (bounded). */
function nextWrite(socket: FakeTcpSocket, what: string): Promise<Buffer> {
  return once<Buffer>(socket, 'write', what);
}

/**
 * Waits until the flush turn has run: a sentinel writer queues a frame now and its write is
 * awaited. Writers scheduled before it (in this turn) have been flushed by then.
 */
async function flushTurn(): Promise<void> {
  const { ws, writer } = harness();
  const written = nextWrite(ws.socket, 'the sentinel writer to be flushed');
  assert.equal(writer.enqueue(new OutFrame('"sentinel"')), true);
  await written;
}

/** One event-loop turn, for the tests on mocked timers (the flush runs in a setImmediate queued earlier). */
function immediate(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function concatFramed(...frames: OutFrame[]): Buffer {
  return Buffer.concat(frames.map((f) => f.framed));
}

describe('coalescing (no permessage-deflate: frames go to the TCP socket)', () => {
  test('frames queued in one turn leave in one socket write, in order, after the turn', async () => {
    const { ws, writer } = harness();
    const frames = [new OutFrame('{"a":1}'), new OutFrame('{"b":2}'), new OutFrame('{"c":3}')];
    const written = nextWrite(ws.socket, 'the coalesced write');
    for (const f of frames) assert.equal(writer.enqueue(f), true);
    assert.equal(ws.socket.writes.length, 0, 'nothing is written before the turn ends');
    const bytes = await written;
    await flushTurn();
    assert.equal(ws.socket.writes.length, 1);
    assert.deepEqual(bytes, concatFramed(...frames));
    // Three unmasked text frames: FIN + opcode 1, then the 7-byte payload length.
    assert.deepEqual([bytes[0], bytes[1], bytes[9], bytes[10], bytes[18], bytes[19]], [0x81, 7, 0x81, 7, 0x81, 7]);
    assert.equal(bytes.subarray(2, 9).toString(), '{"a":1}');
    assert.equal(bytes.length, 27);
    assert.equal(ws.sends.length, 0, 'ws.send is not used without permessage-deflate');
  });

  test('a lone frame is written as its pre-built frame buffer', async () => {
    const { ws, writer } = harness();
    const f = new OutFrame('{"only":true}');
    const written = nextWrite(ws.socket, 'the write of the lone frame');
    writer.enqueue(f);
    assert.strictEqual(await written, f.framed);
  });

  test('connections that queued the same frames in one turn write the same buffer (built once)', async () => {
    const a = harness();
    const b = harness();
    const frames = [new OutFrame('{"n":1}'), new OutFrame('{"n":2}')];
    const writtenA = nextWrite(a.ws.socket, 'write of connection A');
    const writtenB = nextWrite(b.ws.socket, 'write of connection B');
    for (const f of frames) {
      a.writer.enqueue(f);
      b.writer.enqueue(f);
    }
    const [bytesA, bytesB] = await Promise.all([writtenA, writtenB]);
    assert.strictEqual(bytesA, bytesB);
    assert.deepEqual(bytesA, concatFramed(...frames));
  });

  test('frames queued in a later turn leave in a later write', async () => {
    const { ws, writer } = harness();
    const first = nextWrite(ws.socket, 'first write');
    writer.enqueue(new OutFrame('1'));
    writer.enqueue(new OutFrame('2'));
    await first;
    const second = nextWrite(ws.socket, 'second write');
    const f3 = new OutFrame('3');
    writer.enqueue(f3);
    assert.strictEqual(await second, f3.framed);
    assert.equal(ws.socket.writes.length, 2);
    assert.deepEqual(ws.socket.written, concatFramed(new OutFrame('1'), new OutFrame('2'), f3));
  });

  test('frames queued for a socket that is no longer open are dropped at the flush', async () => {
    const { ws, writer } = harness();
    ws.readyState = 2; // CLOSING
    assert.equal(writer.enqueue(new OutFrame('lost-1')), true);
    assert.equal(writer.enqueue(new OutFrame('lost-2')), true);
    await flushTurn();
    assert.equal(ws.socket.writes.length, 0);
    // The dropped frames are gone for good: they do not come out with a later write.
    ws.readyState = 1;
    const later = new OutFrame('later');
    const written = nextWrite(ws.socket, 'write after reopening');
    writer.enqueue(later);
    assert.strictEqual(await written, later.framed);
  });
});

describe('maxQueued', () => {
  test('queued bytes up to maxQueued are taken; one byte more calls onOverflow once and stops the writer', async () => {
    const { ws, writer, calls } = harness({ maxQueued: 100 });
    assert.equal(writer.enqueue(sized(60)), true);
    assert.equal(writer.enqueue(sized(40)), true, 'exactly maxQueued is allowed');
    assert.equal(calls.overflow, 0);
    assert.equal(writer.enqueue(sized(1)), false);
    assert.equal(calls.overflow, 1);
    // Stopped: more frames are refused, onOverflow is not called again.
    assert.equal(writer.enqueue(sized(1)), false);
    assert.equal(writer.enqueue(sized(500)), false);
    assert.equal(calls.overflow, 1);
    assert.equal(calls.stall, 0);
    // What was queued is dropped, not written.
    await flushTurn();
    assert.equal(ws.socket.writes.length, 0);
  });

  test('queue bytes are payload bytes: a multi-byte character counts for its UTF-8 length', () => {
    const { writer, calls } = harness({ maxQueued: 10 });
    const f = new OutFrame('ééééé'); // 10 bytes
    assert.equal(f.size, 10);
    assert.equal(writer.enqueue(f), true);
    assert.equal(writer.enqueue(new OutFrame('é')), false);
    assert.equal(calls.overflow, 1);
  });

  test('bytes the TCP socket still holds count against maxQueued', async () => {
    const { ws, writer, calls } = harness({ maxQueued: 120 });
    const f1 = sized(50);
    const written = nextWrite(ws.socket, 'write of the first frame');
    writer.enqueue(f1);
    await written;
    // The socket holds the whole first frame (52 bytes with its header): 52 + 50 fits, 52 + 100 does not.
    assert.equal(ws.socket.writableLength, f1.framed.length);
    assert.equal(writer.enqueue(sized(50)), true);
    assert.equal(writer.enqueue(sized(50)), false);
    assert.equal(calls.overflow, 1);
  });

  test('once the socket has passed its bytes on, they no longer count', async () => {
    const { ws, writer, calls } = harness({ maxQueued: 120 });
    const written = nextWrite(ws.socket, 'write of the first frame');
    writer.enqueue(sized(100));
    await written;
    assert.equal(writer.enqueue(sized(50)), false, '102 in the socket + 50 > 120');
    assert.equal(calls.overflow, 1);

    const other = harness({ maxQueued: 120 });
    const first = nextWrite(other.ws.socket, 'write of the first frame');
    other.writer.enqueue(sized(100));
    await first;
    other.ws.socket.drain();
    assert.equal(other.writer.enqueue(sized(50)), true);
    assert.equal(other.calls.overflow, 0);
  });

  test('frames held back by a backed-up socket count too: the overflow stops the wait', async () => {
    const { ws, writer, calls } = harness({ maxQueued: 100 });
    ws.socket.backUp();
    assert.equal(writer.enqueue(sized(40)), true);
    await flushTurn();
    assert.equal(ws.socket.drainListeners, 1, 'waiting for drain');
    assert.equal(writer.enqueue(sized(40)), true);
    assert.equal(writer.enqueue(sized(40)), false);
    assert.equal(calls.overflow, 1);
    assert.equal(ws.socket.drainListeners, 0, 'no longer waiting for drain');
    ws.socket.drain();
    assert.equal(ws.socket.writes.length, 0);
  });
});

describe('a backed-up socket and drain', () => {
  test('frames wait while the socket is backed up and leave in order, in one write, when it drains', async () => {
    const { ws, writer } = harness();
    ws.socket.backUp();
    const a = new OutFrame('"a"');
    const b = new OutFrame('"b"');
    const c = new OutFrame('"c"');
    writer.enqueue(a);
    writer.enqueue(b);
    await flushTurn();
    assert.equal(ws.socket.writes.length, 0);
    assert.equal(ws.socket.drainListeners, 1);
    // Queued while waiting: no flush of its own, it waits with the others.
    assert.equal(writer.enqueue(c), true);
    await flushTurn();
    assert.equal(ws.socket.writes.length, 0);
    ws.socket.drain();
    assert.equal(ws.socket.writes.length, 1);
    assert.deepEqual(ws.socket.writes[0], concatFramed(a, b, c));
    assert.equal(ws.socket.drainListeners, 0);
    // Back to normal: the next frame is flushed at the end of its turn.
    const d = new OutFrame('"d"');
    const written = nextWrite(ws.socket, 'write after the drain');
    writer.enqueue(d);
    assert.strictEqual(await written, d.framed);
  });

  test('after a drain, frames leave 64 KiB at a time and wait again when the socket backs up again', async () => {
    const { ws, writer } = harness();
    ws.socket.backUp();
    const frames = [sized(30_000, 'a'), sized(30_000, 'b'), sized(30_000, 'c'), sized(10, 'd')];
    for (const f of frames) writer.enqueue(f);
    await flushTurn();
    assert.equal(ws.socket.writes.length, 0);
    ws.socket.backUpOnWrite = true;
    ws.socket.drain();
    // 30 000 + 30 000 fit in 64 KiB, the third does not: one chunk, then the socket is backed up.
    assert.equal(ws.socket.writes.length, 1);
    assert.deepEqual(ws.socket.writes[0], concatFramed(frames[0]!, frames[1]!));
    assert.equal(ws.socket.drainListeners, 1);
    ws.socket.drain();
    assert.equal(ws.socket.writes.length, 2);
    assert.deepEqual(ws.socket.writes[1], concatFramed(frames[2]!, frames[3]!));
    assert.deepEqual(ws.socket.written, concatFramed(...frames));
  });

  test('a socket that keeps taking data gets every chunk in one go after the drain', async () => {
    const { ws, writer } = harness();
    ws.socket.backUp();
    const frames = [sized(40_000, 'a'), sized(40_000, 'b'), sized(40_000, 'c')];
    for (const f of frames) writer.enqueue(f);
    await flushTurn();
    ws.socket.drain();
    assert.equal(ws.socket.writes.length, 3);
    for (let i = 0; i < 3; i++) assert.deepEqual(ws.socket.writes[i], frames[i]!.framed, `chunk ${i}`);
    assert.equal(ws.socket.drainListeners, 0);
  });

  test('a frame bigger than a chunk still leaves whole', async () => {
    const { ws, writer } = harness();
    ws.socket.backUp();
    const big = sized(70_000, 'B');
    const small = sized(10, 's');
    writer.enqueue(big);
    writer.enqueue(small);
    await flushTurn();
    ws.socket.drain();
    assert.equal(ws.socket.writes.length, 2);
    assert.deepEqual(ws.socket.writes[0], big.framed);
    assert.deepEqual(ws.socket.writes[1], small.framed);
  });

  test('a drain after the socket closed drops what waits', async () => {
    const { ws, writer, calls } = harness();
    ws.socket.backUp();
    writer.enqueue(sized(10));
    await flushTurn();
    ws.readyState = 3;
    ws.socket.drain();
    assert.equal(ws.socket.writes.length, 0);
    assert.equal(ws.socket.drainListeners, 0);
    assert.equal(calls.overflow + calls.stall, 0);
  });
});

describe('writeTimeout', () => {
  test('a backed-up socket that does not drain within writeTimeout: onStall once, and the writer stops', async () => {
    const { ws, writer, calls, stalled } = harness({ writeTimeout: 5 });
    ws.socket.backUp();
    assert.equal(writer.enqueue(sized(10)), true);
    await withTimeout(stalled, 'onStall to be called', 'socket-writer stall test');
    assert.equal(calls.stall, 1);
    assert.equal(calls.overflow, 0);
    assert.equal(ws.socket.drainListeners, 0);
    assert.equal(writer.enqueue(sized(10)), false);
    // A late drain writes nothing: what waited was dropped.
    ws.socket.drain();
    assert.equal(ws.socket.writes.length, 0);
    assert.equal(calls.stall, 1);
  });

  test('progress within writeTimeout cancels the stall; a new wait gets a new timer', async (t: TestContext) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { ws, writer, calls } = harness({ writeTimeout: 1000 });
    ws.socket.backUp();
    writer.enqueue(sized(10, 'a'));
    await immediate();
    assert.equal(ws.socket.drainListeners, 1, 'waiting for drain');
    t.mock.timers.tick(999);
    assert.equal(calls.stall, 0);
    ws.socket.drain();
    assert.equal(ws.socket.writes.length, 1);
    t.mock.timers.tick(10_000);
    assert.equal(calls.stall, 0, 'the timer of the finished wait was cleared');

    // Backed up again: a new wait of its own, which stalls after a whole writeTimeout.
    ws.socket.backUp();
    assert.equal(writer.enqueue(sized(10, 'b')), true);
    await immediate();
    assert.equal(ws.socket.drainListeners, 1);
    t.mock.timers.tick(999);
    assert.equal(calls.stall, 0);
    t.mock.timers.tick(1);
    assert.equal(calls.stall, 1);
    assert.equal(writer.enqueue(sized(10, 'c')), false);
  });

  test('writeTimeout 0: a backed-up socket may wait for as long as it takes', async (t: TestContext) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { ws, writer, calls } = harness({ writeTimeout: 0 });
    ws.socket.backUp();
    const f = sized(10);
    writer.enqueue(f);
    await immediate();
    assert.equal(ws.socket.drainListeners, 1);
    t.mock.timers.tick(24 * 3600 * 1000);
    assert.equal(calls.stall, 0);
    ws.socket.drain();
    assert.deepEqual(ws.socket.writes, [f.framed]);
  });
});

describe('stop() and flushAll()', () => {
  test('stop() drops what is queued and refuses later frames, calling neither callback', async () => {
    const { ws, writer, calls } = harness();
    writer.enqueue(sized(10, 'a'));
    writer.enqueue(sized(10, 'b'));
    writer.stop();
    assert.equal(writer.enqueue(sized(10, 'c')), false);
    await flushTurn();
    assert.equal(ws.socket.writes.length, 0);
    assert.deepEqual(calls, { overflow: 0, stall: 0 });
    writer.stop(); // idempotent
    assert.deepEqual(calls, { overflow: 0, stall: 0 });
  });

  test('stop() while waiting for drain removes the listener and cancels the stall timer', async (t: TestContext) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { ws, writer, calls } = harness({ writeTimeout: 1000 });
    ws.socket.backUp();
    writer.enqueue(sized(10));
    await immediate();
    assert.equal(ws.socket.drainListeners, 1);
    writer.stop();
    assert.equal(ws.socket.drainListeners, 0);
    t.mock.timers.tick(5000);
    assert.equal(calls.stall, 0);
    ws.socket.drain();
    assert.equal(ws.socket.writes.length, 0);
  });

  test('flushAll() writes everything queued at once, without waiting for the turn, then stops', async () => {
    const { ws, writer } = harness();
    const frames = [new OutFrame('"1"'), new OutFrame('"2"'), new OutFrame('"3"')];
    for (const f of frames) writer.enqueue(f);
    writer.flushAll();
    assert.equal(ws.socket.writes.length, 1);
    assert.deepEqual(ws.socket.writes[0], concatFramed(...frames));
    assert.equal(writer.enqueue(new OutFrame('"4"')), false);
    await flushTurn();
    assert.equal(ws.socket.writes.length, 1, 'the scheduled flush writes nothing more');
  });

  test('flushAll() writes what waits for a backed-up socket too, and stops waiting', async () => {
    const { ws, writer, calls } = harness({ writeTimeout: 60_000 });
    ws.socket.backUp();
    const a = new OutFrame('"a"');
    const b = new OutFrame('"b"');
    writer.enqueue(a);
    await flushTurn();
    writer.enqueue(b);
    assert.equal(ws.socket.writes.length, 0);
    writer.flushAll();
    assert.deepEqual(ws.socket.writes, [concatFramed(a, b)]);
    assert.equal(ws.socket.drainListeners, 0);
    ws.socket.drain();
    assert.equal(ws.socket.writes.length, 1);
    assert.equal(calls.stall, 0);
  });

  test('flushAll() on a socket that is not open, with nothing queued, or after stop() writes nothing', () => {
    const closing = harness();
    closing.ws.readyState = 2;
    closing.writer.enqueue(sized(10));
    closing.writer.flushAll();
    assert.equal(closing.ws.socket.writes.length, 0);
    assert.equal(closing.writer.enqueue(sized(10)), false);

    const empty = harness();
    empty.writer.flushAll();
    assert.equal(empty.ws.socket.writes.length, 0);
    assert.equal(empty.writer.enqueue(sized(10)), false, 'stopped even with nothing to write');

    const stopped = harness();
    stopped.writer.enqueue(sized(10));
    stopped.writer.stop();
    stopped.writer.flushAll();
    assert.equal(stopped.ws.socket.writes.length, 0);
  });
});

describe('permessage-deflate: frames go through ws.send', () => {
  test('each frame is one ws.send of its payload as text; only the last of a flush has a callback', async () => {
    const { ws, writer } = harness({ extensions: 'permessage-deflate' });
    const frames = [new OutFrame('{"a":1}'), new OutFrame('{"b":2}'), new OutFrame('{"c":3}')];
    for (const f of frames) writer.enqueue(f);
    await until(() => ws.sends.length === 3, 'three ws.send calls');
    for (let i = 0; i < 3; i++) {
      assert.strictEqual(ws.sends[i]!.data, frames[i]!.payload, `send ${i} is the frame's payload`);
      assert.deepEqual(ws.sends[i]!.options, { binary: false });
    }
    assert.deepEqual(
      ws.sends.map((s) => typeof s.cb),
      ['undefined', 'undefined', 'function'],
    );
    assert.equal(ws.socket.writes.length, 0, 'nothing goes to the TCP socket directly');
  });

  test('with a send unconfirmed and ws holding a high-water mark of bytes, frames wait for the confirmation', async () => {
    const { ws, writer } = harness({ extensions: 'permessage-deflate' });
    writer.enqueue(new OutFrame('"first"'));
    await until(() => ws.sends.length === 1, 'the first ws.send');
    ws.bufferedAmount = ws.socket.writableHighWaterMark;
    const second = new OutFrame('"second"');
    const third = new OutFrame('"third"');
    writer.enqueue(second);
    await flushTurn();
    writer.enqueue(third);
    await flushTurn();
    assert.equal(ws.sends.length, 1, 'held back');
    // The first send reached the kernel: what waits leaves, in order.
    ws.bufferedAmount = 0;
    assert.equal(ws.confirm(), 1);
    assert.deepEqual(ws.sentTexts, ['"first"', '"second"', '"third"']);
  });

  test('below the high-water mark, or with every send confirmed, frames do not wait', async () => {
    const { ws, writer } = harness({ extensions: 'permessage-deflate' });
    writer.enqueue(new OutFrame('1'));
    await until(() => ws.sends.length === 1, 'the first ws.send');
    ws.bufferedAmount = ws.socket.writableHighWaterMark - 1;
    writer.enqueue(new OutFrame('2'));
    await until(() => ws.sends.length === 2, 'the second ws.send (below the high-water mark)');
    ws.confirm();
    ws.bufferedAmount = 10 * ws.socket.writableHighWaterMark;
    const third = new OutFrame('3');
    writer.enqueue(third);
    await until(() => ws.sends.length === 3, 'the third ws.send (every send confirmed)');
    assert.strictEqual(ws.sends[2]!.data, third.payload);
  });

  test('ws.bufferedAmount counts against maxQueued', () => {
    const { ws, writer, calls } = harness({ extensions: 'permessage-deflate', maxQueued: 100 });
    ws.bufferedAmount = 90;
    assert.equal(writer.enqueue(sized(10)), true);
    assert.equal(writer.enqueue(sized(1)), false);
    assert.equal(calls.overflow, 1);
  });

  test('a backed-up deflate connection that gets no confirmation within writeTimeout stalls', async () => {
    const { ws, writer, calls, stalled } = harness({ extensions: 'permessage-deflate', writeTimeout: 5 });
    writer.enqueue(new OutFrame('"1"'));
    await until(() => ws.sends.length === 1, 'the first ws.send');
    ws.bufferedAmount = ws.socket.writableHighWaterMark;
    writer.enqueue(new OutFrame('"2"'));
    await withTimeout(stalled, 'onStall to be called', 'socket-writer deflate stall test');
    assert.equal(calls.stall, 1);
    assert.equal(writer.enqueue(new OutFrame('"3"')), false);
    // A late confirmation sends nothing more.
    ws.confirm();
    assert.deepEqual(ws.sentTexts, ['"1"']);
  });

  test('without a TCP socket the high-water mark is 64 KiB', async () => {
    const { ws, writer } = harness({ noSocket: true });
    writer.enqueue(new OutFrame('1'));
    await until(() => ws.sends.length === 1, 'the first ws.send');
    ws.bufferedAmount = 64 * 1024 - 1;
    writer.enqueue(new OutFrame('2'));
    await until(() => ws.sends.length === 2, 'the second ws.send (below 64 KiB)');
    ws.bufferedAmount = 64 * 1024;
    writer.enqueue(new OutFrame('3'));
    await flushTurn();
    assert.equal(ws.sends.length, 2, 'held back at 64 KiB');
    ws.confirm();
    assert.deepEqual(ws.sentTexts, ['1', '2', '3']);
  });
});

describe('writeDelay and joinMessages (client.write_delay, client.max_messages_in_frame)', () => {
  // Each test uses a delay of its own: the delay's shared timer is not shared with another test.
  test('frames queued in several turns within the delay leave in one write when the shared timer fires', async (t: TestContext) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const a = harness({ writeDelay: 40 });
    const b = harness({ writeDelay: 40 });
    const frames = [new OutFrame('{"n":1}'), new OutFrame('{"n":2}')];
    a.writer.enqueue(frames[0]!);
    b.writer.enqueue(frames[0]!);
    await immediate();
    a.writer.enqueue(frames[1]!);
    b.writer.enqueue(frames[1]!);
    await immediate();
    assert.equal(a.ws.socket.writes.length + b.ws.socket.writes.length, 0, 'nothing written before the delay');
    t.mock.timers.tick(40);
    assert.equal(a.ws.socket.writes.length, 1, 'one write');
    assert.deepEqual(a.ws.socket.written, concatFramed(...frames), 'a frame per message without joinMessages');
    assert.strictEqual(b.ws.socket.writes[0], a.ws.socket.writes[0], 'the same bytes for both connections (built once)');
    // A frame queued after the flush waits for the next tick.
    a.writer.enqueue(new OutFrame('{"n":3}'));
    await immediate();
    assert.equal(a.ws.socket.writes.length, 1);
    t.mock.timers.tick(40);
    assert.equal(a.ws.socket.writes.length, 2);
  });

  test('joinMessages: messages newline-joined in frames of at most that many', async (t: TestContext) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { ws, writer } = harness({ writeDelay: 41, joinMessages: 2 });
    for (const text of ['{"a":1}', '{"b":2}', '{"c":3}']) writer.enqueue(new OutFrame(text));
    t.mock.timers.tick(41);
    assert.equal(ws.socket.writes.length, 1, 'one write');
    assert.deepEqual(ws.socket.written, Buffer.concat([new OutFrame('{"a":1}\n{"b":2}').framed, new OutFrame('{"c":3}').framed]));
  });

  test('permessage-deflate: one ws.send per joined message, the callback on the last', async (t: TestContext) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { ws, writer } = harness({ extensions: 'permessage-deflate', writeDelay: 42, joinMessages: 2 });
    for (const text of ['"a"', '"b"', '"c"']) writer.enqueue(new OutFrame(text));
    t.mock.timers.tick(42);
    assert.deepEqual(ws.sentTexts, ['"a"\n"b"', '"c"']);
    assert.deepEqual(
      ws.sends.map((s) => typeof s.cb),
      ['undefined', 'function'],
    );
  });

  test('flushAll() before the delay writes what waits at once, joined; the tick then writes nothing', async (t: TestContext) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { ws, writer } = harness({ writeDelay: 43, joinMessages: 16 });
    writer.enqueue(new OutFrame('"x"'));
    writer.enqueue(new OutFrame('"y"'));
    writer.flushAll();
    assert.deepEqual(ws.socket.written, new OutFrame('"x"\n"y"').framed);
    t.mock.timers.tick(43);
    assert.equal(ws.socket.writes.length, 1);
  });
});
