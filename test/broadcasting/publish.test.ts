/**
 * `publish(topics, messages)`: what counts as a topic and a message, in what order they are sent,
 * and the typed errors (BroadcastError) for everything that cannot be sent.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AbstractBroadcast,
  BroadcastError,
  NullBroadcast,
  type BroadcastMessage,
  type Topics,
  type Messages,
} from '../../src/broadcasting/index.js';

/** Records what reaches `send`. */
class Recording extends AbstractBroadcast {
  calls: Array<{ topics: string[]; data: unknown[]; json: string[] }> = [];
  fail: Error | undefined;

  protected async send(topics: readonly string[], messages: readonly BroadcastMessage[]): Promise<void> {
    if (this.fail !== undefined) throw this.fail;
    this.calls.push({ topics: [...topics], data: messages.map((m) => m.data), json: messages.map((m) => m.json) });
  }
}

/** The seed's topic class. */
class Order {
  constructor(readonly orderUuid: string) {}
  toString(): string {
    return `order.${this.orderUuid}`;
  }
}

async function sent(topics: Topics, messages: Messages): Promise<{ topics: string[]; data: unknown[]; json: string[] }> {
  const r = new Recording({ connection: 'rec', driver: 'recording' });
  await r.publish(topics, messages);
  assert.equal(r.calls.length, 1);
  return r.calls[0]!;
}

async function refused(topics: unknown, messages: unknown): Promise<BroadcastError> {
  const r = new Recording({ connection: 'rec', driver: 'recording' });
  const e = await r.publish(topics as Topics, messages as Messages).then(
    () => assert.fail('expected a rejection'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof BroadcastError, `expected a BroadcastError, got ${String(e)}`);
  assert.equal(r.calls.length, 0, 'nothing is sent when an argument is refused');
  return e;
}

describe('topics', () => {
  test('a string', async () => {
    assert.deepEqual((await sent('order.1', 'x')).topics, ['order.1']);
  });

  test('a Stringable object, like the seed\'s Order topic', async () => {
    assert.deepEqual((await sent(new Order('a1'), 'x')).topics, ['order.a1']);
  });

  test('iterables: an array, a Set, a generator, mixed with Stringables; duplicates removed, order kept', async () => {
    assert.deepEqual((await sent(['b', new Order('1'), 'a', 'b'], 'x')).topics, ['b', 'order.1', 'a']);
    assert.deepEqual((await sent(new Set(['s1', 's2']), 'x')).topics, ['s1', 's2']);
    function* gen(): Generator<Order> {
      yield new Order('g1');
      yield new Order('g2');
    }
    assert.deepEqual((await sent(gen(), 'x')).topics, ['order.g1', 'order.g2']);
  });

  test('refused: no topic, an empty name, a plain object, null', async () => {
    assert.match((await refused([], 'x')).message, /no topic given/);
    assert.match((await refused('', 'x')).message, /must not be empty/);
    assert.match((await refused({ a: 1 }, 'x')).message, /string or an object with its own toString\(\), got Object/);
    assert.match((await refused([null], 'x')).message, /got null/);
  });
});

describe('messages', () => {
  test('a string is sent as a JSON string', async () => {
    const m = await sent('t', 'hello');
    assert.deepEqual(m.data, ['hello']);
    assert.deepEqual(m.json, ['"hello"']);
    // A string holding JSON text is still a string.
    assert.deepEqual((await sent('t', '{"a":1}')).data, ['{"a":1}']);
  });

  test('bytes are serialized JSON text, sent as the value they encode', async () => {
    assert.deepEqual((await sent('t', Buffer.from('{"status":"purchased"}'))).data, [{ status: 'purchased' }]);
    assert.deepEqual((await sent('t', new TextEncoder().encode('[1, 2]'))).data, [[1, 2]]);
    assert.deepEqual((await sent('t', new TextEncoder().encode('"s"').buffer)).data, ['s']);
    assert.deepEqual((await sent('t', Buffer.from(' {"a" : 1} '))).json, ['{"a":1}']);
  });

  test('JSON values: objects, numbers, booleans, null; toJSON() applies', async () => {
    const at = new Date('2024-01-02T03:04:05Z');
    const m = await sent('t', { status: 'purchased', at, nested: [1, { x: null }] });
    assert.deepEqual(m.data, [{ status: 'purchased', at: '2024-01-02T03:04:05.000Z', nested: [1, { x: null }] }]);
    assert.deepEqual((await sent('t', 42)).data, [42]);
    assert.deepEqual((await sent('t', false)).data, [false]);
    assert.deepEqual((await sent('t', null)).data, [null]);
  });

  test('an array (or any iterable) is a list of messages, in order; wrap a JSON array to send it as one', async () => {
    assert.deepEqual((await sent('t', ['a', { b: 1 }, Buffer.from('2')])).data, ['a', { b: 1 }, 2]);
    assert.deepEqual((await sent('t', [[1, 2, 3]])).data, [[1, 2, 3]]);
    function* gen(): Generator<number> {
      yield 1;
      yield 2;
    }
    assert.deepEqual((await sent('t', gen())).data, [1, 2]);
    assert.deepEqual((await sent('t', new Set(['x', 'y']))).data, ['x', 'y']);
  });

  test('refused: no message, undefined, a function, a symbol, NaN, a bigint, a cycle, bytes that are not JSON', async () => {
    assert.match((await refused('t', [])).message, /no message given/);
    assert.match((await refused('t', undefined)).message, /bad message: a value of type undefined is not JSON/);
    assert.match((await refused('t', () => 1)).message, /type function/);
    assert.match((await refused('t', Symbol('s'))).message, /type symbol/);
    assert.match((await refused('t', NaN)).message, /NaN is not a JSON value/);
    assert.match((await refused('t', { n: 1n })).message, /not serializable to JSON/);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    assert.match((await refused('t', cyclic)).message, /not serializable to JSON/);
    assert.match((await refused('t', Buffer.from('{nope'))).message, /bytes are not valid JSON text/);
    assert.match((await refused('t', Buffer.from([0xff, 0xfe]))).message, /not valid UTF-8/);
    assert.match((await refused('t', ['ok', undefined])).message, /bad message #1/);
  });
});

describe('errors', () => {
  test('a refused argument names the topic, driver and connection', async () => {
    const e = await refused(['order.1'], undefined);
    assert.equal(e.name, 'BroadcastError');
    assert.equal(e.topic, 'order.1');
    assert.deepEqual(e.topics, ['order.1']);
    assert.equal(e.driver, 'recording');
    assert.equal(e.connection, 'rec');
    assert.ok(e.cause instanceof TypeError);
    assert.match(e.message, /^broadcast to "order.1" failed \(connection "rec", driver "recording"\): bad message/);
  });

  test('a failure in the driver is wrapped, keeping the cause', async () => {
    const r = new Recording({ connection: 'c', driver: 'd' });
    const cause = new Error('backend down');
    r.fail = cause;
    const e = await r.publish([new Order('1'), 'b'], 'x').then(
      () => assert.fail('expected a rejection'),
      (err: unknown) => err,
    );
    assert.ok(e instanceof BroadcastError);
    assert.equal(e.cause, cause);
    assert.equal(e.topic, 'order.1');
    assert.deepEqual(e.topics, ['order.1', 'b']);
    assert.equal(e.temporary, false);
    assert.match(e.message, /broadcast to "order.1", "b" failed \(connection "c", driver "d"\): backend down/);
  });

  test('outside a manager, the driver is the class name and the connection the driver', async () => {
    const n = new NullBroadcast();
    assert.equal(n.driver, 'NullBroadcast');
    assert.equal(n.connection, 'NullBroadcast');
    await n.publish('t', { a: 1 });
    await assert.rejects(n.publish('t', undefined as unknown as Messages), (e: BroadcastError) => e.driver === 'NullBroadcast');
  });
});
