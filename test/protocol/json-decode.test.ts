/**
 * Unit tests of the JSON-protocol decoder (src/protocol/json-decode.ts): a command of every method,
 * several commands in one frame, pongs, commands with no known method, and bad input of every kind
 * (malformed JSON, non-objects, bad ids, a missing id, wrong field types, JSON nested deeper than
 * MAX_JSON_DEPTH) with the entry kind or the CommandDecodeError reason the decoder documents.
 *
 * What the client makes of the entries (a CommandDecodeError closes with 3501, `invalid` is answered
 * with error 107, `unknown` with 104) is src/node/client.ts and is covered by the integration tests.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CommandDecodeError, decodeCommandObject, decodeFrame, type DecodedEntry } from '../../src/protocol/json-decode.js';
import { jsonTooDeep, MAX_JSON_DEPTH } from '../../src/protocol/json-depth.js';

/** The entries of a frame, with undefined fields left out (as they are on the wire). */
function decode(text: string): unknown[] {
  return decodeFrame(text).map((e) => JSON.parse(JSON.stringify(e)) as unknown);
}

/** The one command of a frame of one line. */
function command(obj: unknown): unknown {
  const entries = decode(JSON.stringify(obj));
  assert.equal(entries.length, 1);
  const e = entries[0] as { kind: string; command?: unknown };
  assert.equal(e.kind, 'command', `not a command: ${JSON.stringify(e)}`);
  return e.command;
}

/** Asserts that decoding `text` throws a CommandDecodeError whose reason is `reason`. */
function refused(text: string, reason: string | RegExp): void {
  assert.throws(
    () => decodeFrame(text),
    (e: unknown) => {
      assert.ok(e instanceof CommandDecodeError, `expected a CommandDecodeError, got ${String(e)}`);
      assert.equal(e.name, 'CommandDecodeError');
      if (typeof reason === 'string') assert.equal(e.reason, reason);
      else assert.match(e.reason, reason);
      assert.equal(e.message, e.reason);
      return true;
    },
  );
}

/** `refused` for a command given as an object. */
function refusedCommand(obj: unknown, reason: string | RegExp): void {
  refused(JSON.stringify(obj), reason);
}

/** JSON nesting `depth` arrays around 0, e.g. depth 2: `[[0]]`. */
function nested(depth: number): string {
  return '['.repeat(depth) + '0' + ']'.repeat(depth);
}

describe('commands of every method', () => {
  test('connect with every field', () => {
    assert.deepEqual(
      command({
        id: 1,
        connect: {
          token: 'jwt',
          data: { hello: ['world'] },
          subs: { news: { recover: true, epoch: 'e1', offset: 5 }, chat: {} },
          name: 'js',
          version: '5.0',
          headers: { 'x-a': 'b' },
        },
      }),
      {
        id: 1,
        method: 'connect',
        params: {
          token: 'jwt',
          data: { hello: ['world'] },
          subs: { news: { recover: true, epoch: 'e1', offset: 5 }, chat: {} },
          name: 'js',
          version: '5.0',
          headers: { 'x-a': 'b' },
        },
      },
    );
  });

  test('connect with no fields, and with null fields', () => {
    assert.deepEqual(command({ id: 1, connect: {} }), { id: 1, method: 'connect', params: {} });
    assert.deepEqual(command({ id: 1, connect: { token: null, subs: null, name: null, headers: null } }), {
      id: 1,
      method: 'connect',
      params: {},
    });
  });

  test('subscribe with every field', () => {
    assert.deepEqual(
      command({
        id: 2,
        subscribe: {
          channel: 'news',
          token: 't',
          recover: true,
          epoch: 'ep',
          offset: 10,
          data: 'd',
          positioned: true,
          recoverable: false,
          join_leave: true,
          delta: 'fossil',
        },
      }),
      {
        id: 2,
        method: 'subscribe',
        params: {
          channel: 'news',
          token: 't',
          recover: true,
          epoch: 'ep',
          offset: 10,
          data: 'd',
          positioned: true,
          recoverable: false,
          join_leave: true,
          delta: 'fossil',
        },
      },
    );
  });

  test('a missing channel decodes as the empty string (refused later as a bad channel)', () => {
    assert.deepEqual(command({ id: 2, subscribe: {} }), { id: 2, method: 'subscribe', params: { channel: '' } });
    assert.deepEqual(command({ id: 3, publish: { data: 1 } }), { id: 3, method: 'publish', params: { channel: '', data: 1 } });
  });

  test('unsubscribe, presence, presence_stats: the channel only', () => {
    for (const method of ['unsubscribe', 'presence', 'presence_stats']) {
      assert.deepEqual(command({ id: 4, [method]: { channel: 'c', extra: 1 } }), { id: 4, method, params: { channel: 'c' } });
    }
  });

  test('publish keeps data as parsed JSON of any type', () => {
    for (const data of [{ a: [1, { b: null }] }, 'text', 42, true, null, [1, 2]]) {
      assert.deepEqual(command({ id: 5, publish: { channel: 'c', data } }), {
        id: 5,
        method: 'publish',
        params: { channel: 'c', data },
      });
    }
  });

  test('history with limit, since and reverse', () => {
    assert.deepEqual(command({ id: 6, history: { channel: 'c', limit: -1, since: { offset: 3, epoch: 'e' }, reverse: true } }), {
      id: 6,
      method: 'history',
      params: { channel: 'c', limit: -1, since: { offset: 3, epoch: 'e' }, reverse: true },
    });
    assert.deepEqual(command({ id: 6, history: { channel: 'c' } }), { id: 6, method: 'history', params: { channel: 'c' } });
  });

  test('ping, send, rpc, refresh, sub_refresh', () => {
    assert.deepEqual(command({ id: 7, ping: {} }), { id: 7, method: 'ping', params: {} });
    assert.deepEqual(command({ send: { data: { x: 1 } } }), { id: 0, method: 'send', params: { data: { x: 1 } } });
    assert.deepEqual(command({ id: 8, rpc: { method: 'sum', data: [1, 2] } }), { id: 8, method: 'rpc', params: { method: 'sum', data: [1, 2] } });
    assert.deepEqual(command({ id: 8, rpc: {} }), { id: 8, method: 'rpc', params: {} });
    assert.deepEqual(command({ id: 9, refresh: { token: 'new' } }), { id: 9, method: 'refresh', params: { token: 'new' } });
    assert.deepEqual(command({ id: 9, refresh: {} }), { id: 9, method: 'refresh', params: { token: '' } });
    assert.deepEqual(command({ id: 10, sub_refresh: { channel: 'c', token: 't' } }), {
      id: 10,
      method: 'sub_refresh',
      params: { channel: 'c', token: 't' },
    });
    assert.deepEqual(command({ id: 10, sub_refresh: {} }), { id: 10, method: 'sub_refresh', params: { channel: '', token: '' } });
  });

  test('unknown fields are ignored', () => {
    assert.deepEqual(command({ id: 1, ping: { whatever: 1 }, other: 'x' }), { id: 1, method: 'ping', params: {} });
  });

  test('the largest uint32 id is accepted', () => {
    assert.deepEqual(command({ id: 0xffffffff, ping: {} }), { id: 0xffffffff, method: 'ping', params: {} });
  });

  test('a method set to null counts as absent', () => {
    assert.deepEqual(decode('{"id":3,"connect":null}'), [{ kind: 'unknown', id: 3 }]);
    assert.deepEqual(decode('{"id":3,"connect":null,"ping":{}}'), [{ kind: 'command', command: { id: 3, method: 'ping', params: {} } }]);
  });

  test('with several methods in one command, the first in protocol order is taken', () => {
    const c = command({ id: 1, publish: { channel: 'c', data: 1 }, connect: {} }) as { method: string };
    assert.equal(c.method, 'connect');
  });
});

describe('frames', () => {
  test('several commands separated by newlines, in order, blank lines and CR/LF tolerated', () => {
    const frame = '{"id":1,"connect":{}}\n\n{"id":2,"subscribe":{"channel":"a"}}\r\n   \n{"id":3,"publish":{"channel":"a","data":1}}\n';
    const entries = decodeFrame(frame);
    assert.deepEqual(
      entries.map((e) => (e.kind === 'command' ? [e.command.id, e.command.method] : e.kind)),
      [
        [1, 'connect'],
        [2, 'subscribe'],
        [3, 'publish'],
      ],
    );
  });

  test('pong entries ({} and a zero / null id) and commands with no known method', () => {
    assert.deepEqual(decode('{}\n{"id":0}\n{"id":null}\n{"id":5}\n{"id":6,"nope":{}}'), [
      { kind: 'pong' },
      { kind: 'pong' },
      { kind: 'pong' },
      { kind: 'unknown', id: 5 },
      { kind: 'unknown', id: 6 },
    ]);
  });

  test('commands, pongs and unknown methods mixed in one frame keep their order', () => {
    const entries: DecodedEntry[] = decodeFrame('{"id":1,"ping":{}}\n{}\n{"id":2,"frobnicate":{}}\n{"send":{"data":1}}');
    assert.deepEqual(
      entries.map((e) => e.kind),
      ['command', 'pong', 'unknown', 'command'],
    );
  });

  test('an empty frame, or one of blank lines only, is refused', () => {
    refused('', 'empty frame');
    refused('\n \n\r\n', 'empty frame');
  });

  test('one bad line refuses the whole frame, even after good commands', () => {
    refused('{"id":1,"ping":{}}\n{"id":2,"ping":', 'malformed JSON');
    refused('{"id":1,"ping":{}}\n{"id":2,"subscribe":{"channel":5}}', 'subscribe.channel must be a string');
  });
});

describe('bad input', () => {
  test('malformed JSON', () => {
    for (const text of ['{', '{"id":1,}', 'nope', "{'id':1}", '{"id":1}{"id":2}', '{"id":1} x']) refused(text, 'malformed JSON');
  });

  test('a value that is not a JSON object', () => {
    for (const text of ['[]', '[{"id":1,"ping":{}}]', '1', '"ping"', 'null', 'true']) refused(text, 'command must be a JSON object');
    assert.throws(() => decodeCommandObject(undefined), CommandDecodeError);
  });

  test('an id that is not a uint32', () => {
    for (const id of [-1, 1.5, 0x100000000, '1', true, {}, []]) refusedCommand({ id, ping: {} }, 'id must be a uint32');
    // Even without a method.
    refusedCommand({ id: -1 }, 'id must be a uint32');
  });

  test('a command without id (only send may have none)', () => {
    refusedCommand({ connect: {} }, 'connect command without id');
    refusedCommand({ id: 0, subscribe: { channel: 'c' } }, 'subscribe command without id');
    refusedCommand({ id: null, publish: { channel: 'c', data: 1 } }, 'publish command without id');
    for (const method of ['unsubscribe', 'presence', 'presence_stats', 'history', 'ping', 'rpc', 'refresh', 'sub_refresh']) {
      refusedCommand({ [method]: {} }, `${method} command without id`);
    }
    // send with an id is fine too.
    assert.deepEqual(command({ id: 4, send: {} }), { id: 4, method: 'send', params: {} });
  });

  test('method params that are not an object', () => {
    refusedCommand({ id: 1, connect: 'x' }, 'connect must be an object');
    refusedCommand({ id: 1, subscribe: [] }, 'subscribe must be an object');
    refusedCommand({ id: 1, publish: 1 }, 'publish must be an object');
    refusedCommand({ id: 1, ping: true }, 'ping must be an object');
    refusedCommand({ send: 'data' }, 'send must be an object');
  });

  test('wrong types for string, boolean and integer fields', () => {
    const cases: Array<[unknown, string]> = [
      [{ id: 1, subscribe: { channel: 5 } }, 'subscribe.channel must be a string'],
      [{ id: 1, subscribe: { channel: 'c', token: 1 } }, 'subscribe.token must be a string'],
      [{ id: 1, subscribe: { channel: 'c', recover: 'yes' } }, 'subscribe.recover must be a boolean'],
      [{ id: 1, subscribe: { channel: 'c', offset: -1 } }, 'subscribe.offset must be a non-negative integer'],
      [{ id: 1, subscribe: { channel: 'c', offset: 1.5 } }, 'subscribe.offset must be a non-negative integer'],
      [{ id: 1, subscribe: { channel: 'c', offset: '5' } }, 'subscribe.offset must be a non-negative integer'],
      [{ id: 1, subscribe: { channel: 'c', delta: true } }, 'subscribe.delta must be a string'],
      [{ id: 1, subscribe: { channel: 'c', join_leave: 1 } }, 'subscribe.join_leave must be a boolean'],
      [{ id: 1, publish: { channel: ['c'], data: 1 } }, 'publish.channel must be a string'],
      [{ id: 1, presence: { channel: {} } }, 'presence.channel must be a string'],
      [{ id: 1, history: { channel: 'c', limit: 1.5 } }, 'history.limit must be an integer'],
      [{ id: 1, history: { channel: 'c', limit: '10' } }, 'history.limit must be an integer'],
      [{ id: 1, history: { channel: 'c', reverse: 'no' } }, 'history.reverse must be a boolean'],
      [{ id: 1, history: { channel: 'c', since: 3 } }, 'history.since must be an object'],
      [{ id: 1, history: { channel: 'c', since: { offset: -3 } } }, 'history.since.offset must be a non-negative integer'],
      [{ id: 1, history: { channel: 'c', since: { epoch: 1 } } }, 'history.since.epoch must be a string'],
      [{ id: 1, rpc: { method: 1 } }, 'rpc.method must be a string'],
      [{ id: 1, refresh: { token: false } }, 'refresh.token must be a string'],
      [{ id: 1, sub_refresh: { channel: 'c', token: 1 } }, 'sub_refresh.token must be a string'],
      [{ id: 1, connect: { token: 1 } }, 'connect.token must be a string'],
      [{ id: 1, connect: { name: {} } }, 'connect.name must be a string'],
      [{ id: 1, connect: { subs: [] } }, 'connect.subs must be an object'],
      [{ id: 1, connect: { subs: { news: true } } }, 'connect.subs.news must be an object'],
      [{ id: 1, connect: { subs: { news: { offset: -1 } } } }, 'connect.subs.offset must be a non-negative integer'],
      [{ id: 1, connect: { subs: { news: { recover: 'y' } } } }, 'connect.subs.recover must be a boolean'],
      [{ id: 1, connect: { headers: 'x' } }, 'connect.headers must be an object'],
      [{ id: 1, connect: { headers: { 'x-a': 1 } } }, 'connect.headers.x-a must be a string'],
    ];
    for (const [obj, reason] of cases) refusedCommand(obj, reason);
  });
});

describe('JSON nested too deep', () => {
  test(`JSON nested exactly ${MAX_JSON_DEPTH} levels decodes`, () => {
    // The command object is level 1, params level 2, data the rest.
    const data = nested(MAX_JSON_DEPTH - 2);
    const entries = decodeFrame(`{"id":1,"publish":{"channel":"c","data":${data}}}`);
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.kind, 'command');
  });

  test('one level more, with an id: an invalid entry for that id (answered 107), the rest of the frame decodes', () => {
    const data = nested(MAX_JSON_DEPTH - 1);
    const frame = `{"id":1,"ping":{}}\n{"id":7,"publish":{"channel":"c","data":${data}}}\n{"id":2,"ping":{}}`;
    assert.deepEqual(decode(frame), [
      { kind: 'command', command: { id: 1, method: 'ping', params: {} } },
      { kind: 'invalid', id: 7, reason: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` },
      { kind: 'command', command: { id: 2, method: 'ping', params: {} } },
    ]);
  });

  test('too deep is decided before the command is looked at: bad fields are not reported', () => {
    const data = nested(MAX_JSON_DEPTH);
    assert.deepEqual(decode(`{"id":9,"subscribe":{"channel":5,"data":${data}}}`), [
      { kind: 'invalid', id: 9, reason: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` },
    ]);
  });

  test('too deep without an id, or not an object, refuses the frame', () => {
    const data = nested(MAX_JSON_DEPTH);
    refused(`{"publish":{"channel":"c","data":${data}}}`, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    refused(`{"id":0,"publish":{"channel":"c","data":${data}}}`, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    refused(nested(MAX_JSON_DEPTH + 1), `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    // A bad id is still a bad id.
    refused(`{"id":-4,"publish":{"channel":"c","data":${data}}}`, 'id must be a uint32');
  });

  test('very deep JSON (100 000 levels) is refused without running out of stack', () => {
    const deep = nested(100_000);
    assert.deepEqual(decode(`{"id":3,"publish":{"data":${deep}}}`), [
      { kind: 'invalid', id: 3, reason: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` },
    ]);
  });

  test('brackets inside strings do not count as nesting', () => {
    const text = '['.repeat(5000) + '{' + '\\"[' + '\\\\';
    const entries = decodeFrame(JSON.stringify({ id: 1, publish: { channel: 'c', data: text } }));
    assert.equal(entries[0]!.kind, 'command');
    const cmd = (entries[0] as { command: { params: { data: unknown } } }).command;
    assert.equal(cmd.params.data, text);
  });

  test('jsonTooDeep counts arrays and objects, skips strings and escapes', () => {
    assert.equal(jsonTooDeep(nested(MAX_JSON_DEPTH)), false);
    assert.equal(jsonTooDeep(nested(MAX_JSON_DEPTH + 1)), true);
    assert.equal(jsonTooDeep('{"a":'.repeat(3) + '1' + '}'.repeat(3), 2), true);
    assert.equal(jsonTooDeep('{"a":'.repeat(2) + '1' + '}'.repeat(2), 2), false);
    // Siblings do not add up: depth is nesting, not count.
    assert.equal(jsonTooDeep('[' + '[],'.repeat(10) + '[]]', 2), false);
    // An escaped quote does not end the string: the brackets after it are still inside it.
    assert.equal(jsonTooDeep('["\\"[[[[[[", 1]', 2), false);
    assert.equal(jsonTooDeep('["\\\\", [[[1]]]]', 2), true);
  });
});
