/**
 * The load generator's hand-written protobuf pieces (bench/protobuf-client.ts) against protobufjs
 * reflection over proto/client.proto: the connect and subscribe frames decode as the Commands they
 * mean, and the Replies protobufjs encodes (results, errors, pushes, pings) read back with their ids
 * and errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import {
  PROTOBUF_PONG,
  protobufConnectFrame,
  protobufSubscribeFrame,
  readReplies,
} from '../../bench/protobuf-client.js';

const root = new protobuf.Root().loadSync(fileURLToPath(new URL('../../proto/client.proto', import.meta.url)), { keepCase: true });
const CommandT = root.lookupType('centrifugal.centrifuge.protocol.Command');
const ReplyT = root.lookupType('centrifugal.centrifuge.protocol.Reply');

/** Every delimited Command of a frame, as plain objects. */
function commands(frame: Buffer): unknown[] {
  const r = protobuf.Reader.create(frame);
  const out: unknown[] = [];
  while (r.pos < r.len) out.push(CommandT.toObject(CommandT.decodeDelimited(r)));
  return out;
}

function replies(...objs: object[]): Buffer {
  const w = protobuf.Writer.create();
  for (const o of objs) ReplyT.encodeDelimited(ReplyT.fromObject(o), w);
  return Buffer.from(w.finish());
}

test('protobuf connect frame: one delimited Command with id and token', () => {
  const token = 'eyJhbGciOiJIUzI1NiJ9.' + 'x'.repeat(200); // a length needing a two-byte varint
  assert.deepEqual(commands(protobufConnectFrame(1, token)), [{ id: 1, connect: { token } }]);
  // An empty token leaves the (present, empty) ConnectRequest.
  assert.deepEqual(commands(protobufConnectFrame(7, '')), [{ id: 7, connect: {} }]);
});

test('protobuf subscribe frame: one delimited Command per channel, consecutive ids', () => {
  assert.deepEqual(commands(protobufSubscribeFrame(2, ['bench'])), [{ id: 2, subscribe: { channel: 'bench' } }]);
  assert.deepEqual(commands(protobufSubscribeFrame(200, ['u17', 'all', 'ñ:é'])), [
    { id: 200, subscribe: { channel: 'u17' } },
    { id: 201, subscribe: { channel: 'all' } },
    { id: 202, subscribe: { channel: 'ñ:é' } },
  ]);
});

test('protobuf pong: an empty Command', () => {
  assert.deepEqual([...PROTOBUF_PONG], [0]);
  assert.deepEqual(commands(PROTOBUF_PONG), [{}]);
});

test('readReplies: ids, errors, pushes and pings of a frame', () => {
  const frame = replies(
    { id: 1, connect: { client: 'c1', version: '0.0.0', ping: 25, pong: true } },
    { id: 2, subscribe: {} },
    { id: 3, error: { code: 103, message: 'permission denied', temporary: true } },
    { push: { channel: 'bench', pub: { data: Buffer.from('{"ts":1,"seq":2,"p":""}'), offset: 5 } } },
    {},
    { id: 300, error: { code: 0, message: '' } },
  );
  assert.deepEqual(readReplies(frame), [
    { id: 1, empty: false },
    { id: 2, empty: false },
    { id: 3, empty: false, error: { code: 103, message: 'permission denied' } },
    { id: 0, empty: false },
    { id: 0, empty: true },
    // An Error present but all-default still means an error.
    { id: 300, empty: false, error: { code: 0, message: '' } },
  ]);
  assert.deepEqual(readReplies(Buffer.from([0])), [{ id: 0, empty: true }]);
  assert.deepEqual(readReplies(Buffer.alloc(0)), []);
});

test('readReplies: a truncated frame throws', () => {
  const frame = replies({ id: 1, connect: { client: 'c1' } });
  assert.throws(() => readReplies(frame.subarray(0, frame.length - 1)), /truncated/);
  assert.throws(() => readReplies(Buffer.from([0x80])), /truncated/);
});
