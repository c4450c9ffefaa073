/**
 * Unit tests of the protobuf codec (src/protocol/protobuf-codec.ts, protobuf-decode.ts, protobuf-encode.ts,
 * protobuf-wire.ts)
 * against two independent encoders and decoders: the real `centrifuge` SDK's protobuf codec (reached
 * through a client instance: the SDK does not export it) and protobufjs reflection over
 * proto/client.proto.
 *
 * Decoding: a command of every method decodes exactly as its JSON twin does through the JSON decoder
 * (json-decode.ts), the bytes the SDK and proto/client.proto produce for it are the same, proto3
 * defaults, payloads, several commands in a frame, pongs, unknown methods and fields, missing ids,
 * every kind of malformed input with its CommandDecodeError reason, and mutated and truncated frames
 * that must never throw anything else; the EmulationRequest of the bidirectional emulation.
 * Encoding: every reply and push kind, decoded back with proto/client.proto and the SDK, including
 * the publication forms, the presence map, history, errors with `temporary`, unsubscribe and
 * disconnect pushes, the Connect push's own field numbers, uint64 offsets above 2^32, and the exact
 * bytes of small messages (empty fields omitted).
 */
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { Centrifuge } from 'centrifuge/build/protobuf';
import { CommandDecodeError, type DecodedEntry } from '../../src/protocol/codec.js';
import { decodeFrame } from '../../src/protocol/json-decode.js';
import type { PushMsg, ReplyMsg } from '../../src/protocol/messages.js';
import { protobufCodec, uniProtobufCodec } from '../../src/protocol/protobuf-codec.js';
import { decodeEmulationRequest } from '../../src/protocol/protobuf-decode.js';
import type { ClientInfo, ConnectCommandParams, Publication } from '../../src/protocol/types.js';

// ------------------------------------------------------------------------------------------ helpers

const root = new protobuf.Root().loadSync(fileURLToPath(new URL('../../proto/client.proto', import.meta.url)), { keepCase: true });
const type = (name: string): protobuf.Type => root.lookupType(`centrifugal.centrifuge.protocol.${name}`);
const CommandT = type('Command');
const ReplyT = type('Reply');
const PushT = type('Push');
const ConnectRequestT = type('ConnectRequest');
const EmulationRequestT = type('EmulationRequest');

/** The SDK's own protobuf codec (a private member of its client; constructing one opens nothing). */
interface SdkCodec {
  name(): string;
  encodeCommands(commands: object[]): Uint8Array;
  decodeReplies(data: Uint8Array): Array<Record<string, unknown>>;
}
const sdk = (new Centrifuge('ws://127.0.0.1:9/connection/websocket') as unknown as { _codec: SdkCodec })._codec;

/** Commands as the SDK encodes them: one frame, each varint-length-delimited. */
function sdkFrame(...commands: object[]): Buffer {
  return Buffer.from(sdk.encodeCommands(commands));
}

/** Commands encoded with protobufjs reflection over proto/client.proto. */
function protoFrame(...commands: object[]): Buffer {
  const w = protobuf.Writer.create();
  for (const c of commands) CommandT.encodeDelimited(CommandT.fromObject(c), w);
  return Buffer.from(w.finish());
}

/** The entries of a frame, with undefined fields left out (as the JSON decoder's tests compare them). */
function plain(entries: DecodedEntry[]): unknown[] {
  return entries.map((e) => JSON.parse(JSON.stringify(e)) as unknown);
}

/** The one command of a frame. */
function command(frame: Buffer): unknown {
  const entries = protobufCodec.decode(frame);
  assert.equal(entries.length, 1);
  const e = entries[0]!;
  assert.equal(e.kind, 'command', `not a command: ${JSON.stringify(e)}`);
  return (e as { command: unknown }).command;
}

/** Asserts that decoding `frame` throws a CommandDecodeError whose reason matches. */
function refused(
  frame: Buffer | number[],
  reason: string | RegExp,
  decode: (b: Buffer) => unknown = (b) => protobufCodec.decode(b),
): void {
  assert.throws(
    () => decode(Buffer.from(frame)),
    (e: unknown) => {
      assert.ok(e instanceof CommandDecodeError, `expected a CommandDecodeError, got ${String(e)}`);
      if (typeof reason === 'string') assert.equal(e.reason, reason);
      else assert.match(e.reason, reason);
      return true;
    },
  );
}

/** A varint's bytes (for numbers up to 2^53, or a bigint up to 2^64). */
function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const tag = (field: number, wireType: number): number[] => varint((field << 3) | wireType);
const len = (field: number, body: number[]): number[] => [...tag(field, 2), ...varint(body.length), ...body];
const str = (field: number, s: string): number[] => len(field, [...Buffer.from(s)]);
const num = (field: number, n: number | bigint): number[] => [...tag(field, 0), ...varint(n)];
/** A message body preceded by its length. */
const delimited = (body: number[]): number[] => [...varint(body.length), ...body];
/** A frame of commands given as their bodies. */
const frameOf = (...bodies: number[][]): Buffer => Buffer.from(bodies.flatMap((b) => [...varint(b.length), ...b]));

/** The JSON twin of a protobuf command: `data` values as JSON, as the JSON protocol carries them. */
function toProto(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toProto);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === 'data' ? Buffer.from(JSON.stringify(v)) : toProto(v);
  return out;
}

/** Decodes one delimited Reply with proto/client.proto, checking it fills the frame exactly. */
function reply(frame: { payload: Buffer }): Record<string, unknown> {
  const reader = protobuf.Reader.create(frame.payload);
  const msg = ReplyT.decodeDelimited(reader);
  assert.equal(reader.pos, frame.payload.length, 'one message fills the frame');
  return ReplyT.toObject(msg, { longs: Number }) as Record<string, unknown>;
}

/** The `push` of a Reply decoded with proto/client.proto (and checked to hold nothing else). */
function push(frame: { payload: Buffer }): Record<string, unknown> {
  const r = reply(frame);
  assert.deepEqual(Object.keys(r), ['push']);
  return r['push'] as Record<string, unknown>;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const info = { user: 'u1', client: 'c1', connInfo: '{"name":"Ann"}', chanInfo: '{"role":"admin"}' };
const infoOut = { user: 'u1', client: 'c1', conn_info: bytes('{"name":"Ann"}'), chan_info: bytes('{"role":"admin"}') };
const BIG = 2 ** 40 + 7; // an offset above 2^32
const MAX = Number.MAX_SAFE_INTEGER;

// ------------------------------------------------------------------------------------------ decoding

/** Commands of every method with every field set to a non-default value (proto3 cannot send defaults). */
const EVERY_METHOD: readonly object[] = [
  {
    id: 1,
    connect: {
      token: 'jwt',
      data: { hello: ['world'] },
      subs: { news: { recover: true, epoch: 'e1', offset: BIG }, chat: { epoch: 'e2' } },
      name: 'js',
      version: '5.8.0',
      headers: { 'x-a': 'b', 'x-c': 'd' },
    },
  },
  {
    id: 2,
    subscribe: {
      channel: 'news',
      token: 't',
      recover: true,
      epoch: 'ep',
      offset: MAX,
      data: 'd',
      positioned: true,
      recoverable: true,
      join_leave: true,
      delta: 'fossil',
    },
  },
  { id: 3, unsubscribe: { channel: 'news' } },
  { id: 4, publish: { channel: 'news', data: { text: 'hi ✓', n: [1, 2] } } },
  { id: 5, presence: { channel: 'news' } },
  { id: 6, presence_stats: { channel: 'news' } },
  { id: 7, history: { channel: 'news', limit: 10, since: { offset: BIG, epoch: 'ep' }, reverse: true } },
  { id: 8, history: { channel: 'news', limit: -1 } },
  { id: 9, ping: {} },
  { send: { data: 42 } },
  { id: 10, send: { data: [true, null] } },
  { id: 11, rpc: { method: 'sum', data: { a: 1 } } },
  { id: 12, refresh: { token: 'new' } },
  { id: 0xffffffff, sub_refresh: { channel: 'news', token: 'st' } },
];

describe('decoding: commands of every method', () => {
  test('each decodes exactly as its JSON twin does through the JSON decoder', () => {
    for (const cmd of EVERY_METHOD) {
      const json = decodeFrame(JSON.stringify(cmd));
      assert.deepStrictEqual(protobufCodec.decode(sdkFrame(toProto(cmd) as object)), json, JSON.stringify(cmd));
    }
  });

  test('the SDK and proto/client.proto encode each to the same bytes (the schema matches the SDK)', () => {
    for (const cmd of EVERY_METHOD) {
      const proto = toProto(cmd) as object;
      assert.deepEqual(protoFrame(proto), sdkFrame(proto), JSON.stringify(cmd));
    }
  });

  test('connect: every field, in the shape the JSON decoder gives', () => {
    assert.deepStrictEqual(command(sdkFrame(toProto(EVERY_METHOD[0]) as object)), {
      id: 1,
      method: 'connect',
      params: {
        token: 'jwt',
        data: { hello: ['world'] },
        subs: { news: { recover: true, epoch: 'e1', offset: BIG }, chat: { recover: undefined, epoch: 'e2', offset: undefined } },
        name: 'js',
        version: '5.8.0',
        headers: { 'x-a': 'b', 'x-c': 'd' },
      },
    });
  });

  test('proto3 defaults (false, 0, empty) decode as absent; channel and refresh tokens as ""', () => {
    assert.deepEqual(plain(protobufCodec.decode(sdkFrame({ id: 1, subscribe: {} }))), [
      { kind: 'command', command: { id: 1, method: 'subscribe', params: { channel: '' } } },
    ]);
    // Zero values written out explicitly decode like absent ones.
    const explicit = frameOf([
      ...num(1, 2),
      ...len(5, [...str(1, ''), ...str(2, ''), ...num(3, 0), ...num(7, 0), ...len(8, []), ...num(9, 0), ...str(12, '')]),
    ]);
    assert.deepEqual(plain(protobufCodec.decode(explicit)), [{ kind: 'command', command: { id: 2, method: 'subscribe', params: { channel: '' } } }]);
    assert.deepStrictEqual(command(sdkFrame({ id: 3, refresh: {} })), { id: 3, method: 'refresh', params: { token: '' } });
    assert.deepStrictEqual(command(sdkFrame({ id: 4, sub_refresh: {} })), { id: 4, method: 'sub_refresh', params: { channel: '', token: '' } });
    assert.deepStrictEqual(command(sdkFrame({ id: 5, history: { channel: 'h', since: {} } })), {
      id: 5,
      method: 'history',
      params: { channel: 'h', limit: undefined, since: { offset: undefined, epoch: undefined }, reverse: undefined },
    });
    assert.deepStrictEqual(command(sdkFrame({ id: 6, connect: {} })), {
      id: 6,
      method: 'connect',
      params: { token: undefined, data: undefined, subs: undefined, name: undefined, version: undefined, headers: undefined },
    });
    assert.deepStrictEqual(command(sdkFrame({ id: 7, rpc: {} })), { id: 7, method: 'rpc', params: { method: undefined, data: undefined } });
  });

  test('payloads: JSON bytes as their value, other bytes as a Buffer, empty bytes as absent', () => {
    const data = (d: Buffer): unknown =>
      (command(sdkFrame({ id: 1, publish: { channel: 'c', data: d } })) as { params: { data: unknown } }).params.data;
    assert.deepEqual(data(bytes('{"a":[1,"x"]}')), { a: [1, 'x'] });
    assert.equal(data(bytes('"text"')), 'text');
    assert.equal(data(bytes('null')), null);
    const binary = Buffer.from([0xff, 0x00, 0x01, 0x80]);
    const got = data(binary);
    assert.ok(Buffer.isBuffer(got), 'non-JSON bytes stay bytes');
    assert.deepEqual(got, binary);
    assert.equal(data(Buffer.alloc(0)), undefined);
    // The value does not share memory with the frame (the frame buffer may be reused).
    const frame = sdkFrame({ id: 1, publish: { channel: 'c', data: binary } });
    const decoded = (command(frame) as { params: { data: Buffer } }).params.data;
    frame.fill(0);
    assert.deepEqual(decoded, binary);
  });

  test('uint64 offsets up to 2^53-1 decode exactly', () => {
    for (const offset of [1, 2 ** 32 - 1, 2 ** 32, BIG, MAX]) {
      const c = command(sdkFrame({ id: 1, subscribe: { channel: 'c', offset } })) as { params: { offset: number } };
      assert.equal(c.params.offset, offset);
      const h = command(frameOf([...num(1, 1), ...len(10, len(8, num(1, offset)))])) as { params: { since: { offset: number } } };
      assert.equal(h.params.since.offset, offset);
    }
  });

  test('a map key "__proto__" is an own key, not a prototype', () => {
    const c = command(sdkFrame({ id: 1, connect: { headers: { ['__proto__']: 'x', a: 'b' } } })) as ConnectParamsCommand;
    assert.equal(Object.getPrototypeOf(c.params.headers), Object.prototype);
    assert.deepEqual(Object.keys(c.params.headers ?? {}), ['__proto__', 'a']);
    assert.equal(Object.getOwnPropertyDescriptor(c.params.headers, '__proto__')?.value, 'x');
  });
});

type ConnectParamsCommand = { params: ConnectCommandParams };

describe('decoding: frames', () => {
  test('several commands in one frame, in order, with a pong among them', () => {
    const frame = sdkFrame({ id: 1, connect: { token: 't' } }, {}, { id: 2, subscribe: { channel: 'a' } }, { send: { data: Buffer.from('1') } });
    assert.deepEqual(plain(protobufCodec.decode(frame)), [
      { kind: 'command', command: { id: 1, method: 'connect', params: { token: 't' } } },
      { kind: 'pong' },
      { kind: 'command', command: { id: 2, method: 'subscribe', params: { channel: 'a' } } },
      { kind: 'command', command: { id: 0, method: 'send', params: { data: 1 } } },
    ]);
  });

  test('an empty command is a pong: the single byte 0x00, as the SDK sends it', () => {
    const frame = sdkFrame({});
    assert.deepEqual([...frame], [0x00]);
    assert.deepEqual(protobufCodec.decode(frame), [{ kind: 'pong' }]);
    assert.deepEqual(protobufCodec.decode(Buffer.from([0, 0])), [{ kind: 'pong' }, { kind: 'pong' }]);
  });

  test('a command with an id and no known request is unknown; without an id it is a pong', () => {
    assert.deepEqual(protobufCodec.decode(sdkFrame({ id: 7 })), [{ kind: 'unknown', id: 7 }]);
    assert.deepEqual(protobufCodec.decode(frameOf([...num(1, 8), ...str(40, 'future method')])), [{ kind: 'unknown', id: 8 }]);
    assert.deepEqual(protobufCodec.decode(frameOf(str(40, 'future method'))), [{ kind: 'pong' }]);
  });

  test('unknown fields of every wire type are skipped, in commands and in requests', () => {
    const unknown = [
      ...num(20, 2n ** 64n - 1n),
      ...tag(21, 1), 1, 2, 3, 4, 5, 6, 7, 8,
      ...str(22, 'skip me'),
      ...tag(23, 5), 1, 2, 3, 4,
    ];
    const frame = frameOf([...unknown, ...num(1, 3), ...len(6, [...unknown, ...str(1, 'ch'), ...unknown]), ...unknown]);
    assert.deepEqual(plain(protobufCodec.decode(frame)), [{ kind: 'command', command: { id: 3, method: 'unsubscribe', params: { channel: 'ch' } } }]);
    // Reserved v1 fields (method 2, params 3) are unknown too.
    assert.deepEqual(protobufCodec.decode(frameOf([...num(1, 4), ...num(2, 1), ...len(3, [1, 2])])), [{ kind: 'unknown', id: 4 }]);
  });

  test('newer SDK fields (subscribe tf / flag / type, connect flag) are skipped', () => {
    const frame = sdkFrame(
      { id: 1, connect: { token: 't', flag: 5 } },
      { id: 2, subscribe: { channel: 'c', flag: 1, type: 1, tf: { op: 'and', nodes: [{ key: 'k', cmp: 'eq', val: 'v' }] } } },
    );
    assert.deepEqual(plain(protobufCodec.decode(frame)), [
      { kind: 'command', command: { id: 1, method: 'connect', params: { token: 't' } } },
      { kind: 'command', command: { id: 2, method: 'subscribe', params: { channel: 'c' } } },
    ]);
  });

  test('the first request in field-number order wins, whatever the order on the wire', () => {
    const frame = frameOf([...num(1, 5), ...len(7, str(1, 'pub')), ...len(5, str(1, 'sub'))]);
    assert.deepEqual(plain(protobufCodec.decode(frame)), [{ kind: 'command', command: { id: 5, method: 'subscribe', params: { channel: 'sub' } } }]);
  });

  test('a request repeated on the wire is merged, as protobuf merges messages; the id last seen wins', () => {
    const frame = frameOf([...num(1, 1), ...len(5, [...str(1, 'a'), ...num(3, 1)]), ...len(5, [...str(1, 'b'), ...str(6, 'ep')]), ...num(1, 6)]);
    assert.deepEqual(plain(protobufCodec.decode(frame)), [
      { kind: 'command', command: { id: 6, method: 'subscribe', params: { channel: 'b', recover: true, epoch: 'ep' } } },
    ]);
  });

  test('every method but send needs an id', () => {
    for (const cmd of EVERY_METHOD) {
      const method = Object.keys(cmd).find((k) => k !== 'id')!;
      const withoutId = { [method]: (toProto(cmd) as Record<string, unknown>)[method] };
      if (method === 'send') {
        assert.equal(protobufCodec.decode(sdkFrame(withoutId))[0]!.kind, 'command');
      } else {
        refused(sdkFrame(withoutId), `${method} command without id`);
        refused(sdkFrame({ id: 0, ...withoutId }), `${method} command without id`);
      }
    }
  });
});

describe('decoding: malformed input is a CommandDecodeError', () => {
  test('an empty frame', () => {
    refused([], 'empty frame');
  });

  test('a truncated varint: the command length, the id, a tag', () => {
    refused([0x80], 'command: length: truncated varint');
    refused([0x02, 0x08, 0x80], 'command id: truncated varint');
    refused([0x01, 0x80], 'command: tag: truncated varint');
    // A varint may not run past the end of its message into the next one.
    refused([0x02, 0x08, 0x80, 0x01, 0x00], 'command id: truncated varint');
  });

  test('a length past the end of the frame, or of the enclosing message', () => {
    refused([0x05, 0x08, 0x01], 'command: length 5 past the end (2 bytes left)');
    refused([0x03, 0x08, 0x01], 'command: length 3 past the end (2 bytes left)');
    refused(frameOf([...num(1, 1), ...len(5, [...tag(1, 2), 10])]), 'subscribe.channel: length 10 past the end (0 bytes left)');
    // The subscribe message is 3 bytes; its channel claims 5, which the command still holds after it.
    refused(
      frameOf([...num(1, 1), ...tag(5, 2), 3, ...tag(1, 2), 5, 0x61, 0x62, 0x63, 0x64, 0x65]),
      'subscribe.channel: length 5 past the end (1 bytes left)',
    );
    refused([...varint(2 ** 40), 0], /^command: length 1099511627776 past the end/);
  });

  test('a field with the wrong wire type for its number', () => {
    refused(frameOf(str(1, 'x')), 'command id: wire type length-delimited, expected varint');
    refused(frameOf([...num(1, 1), ...num(5, 1)]), 'subscribe: wire type varint, expected length-delimited');
    refused(frameOf([...num(1, 1), ...len(5, num(1, 1))]), 'subscribe.channel: wire type varint, expected length-delimited');
    refused(frameOf([...num(1, 1), ...len(5, str(3, 'yes'))]), 'subscribe.recover: wire type length-delimited, expected varint');
    refused(frameOf([...num(1, 1), ...len(5, [...tag(7, 1), 0, 0, 0, 0, 0, 0, 0, 0])]), 'subscribe.offset: wire type fixed64, expected varint');
    refused(frameOf([...num(1, 1), ...len(13, [...tag(1, 5), 0, 0, 0, 0])]), 'rpc.data: wire type fixed32, expected length-delimited');
    refused(frameOf([...num(1, 1), ...len(4, len(3, num(1, 1)))]), 'connect.subs key: wire type varint, expected length-delimited');
  });

  test('invalid wire types, groups, field number 0', () => {
    refused(frameOf([...tag(1, 7), 1]), 'command: field 1 has the invalid wire type 7');
    refused(frameOf([...tag(9, 6), 1]), 'command: field 9 has the invalid wire type 6');
    refused(frameOf([...tag(30, 3), ...tag(30, 4)]), 'command: field 30 uses the group wire type 3, not supported');
    refused(frameOf([...num(1, 1), ...len(6, [...tag(2, 4)])]), 'unsubscribe: field 2 uses the group wire type 4, not supported');
    refused(frameOf([0x00, 0x00]), 'command: field number 0');
    refused(frameOf([...varint(2 ** 35)]), 'command: tag out of range');
  });

  test('truncated fixed-width values of unknown fields', () => {
    refused(frameOf([...tag(20, 1), 1, 2, 3]), 'command: truncated fixed64 value');
    refused(frameOf([...tag(20, 5), 1, 2, 3]), 'command: truncated fixed32 value');
  });

  test('varints that are too long or overflow 64 bits', () => {
    const ff9 = new Array<number>(9).fill(0xff);
    refused(frameOf([...tag(1, 0), ...ff9, 0xff, 0x01]), 'command id: varint longer than 10 bytes');
    refused(frameOf([...tag(1, 0), ...ff9, 0x02]), 'command id: varint overflows 64 bits');
  });

  test('numbers out of their range: an id above uint32, an offset above 2^53-1, a limit out of int32', () => {
    refused(frameOf(num(1, 2 ** 32)), 'command id exceeds uint32');
    refused(frameOf([...num(1, 1), ...len(5, num(7, 2 ** 53))]), 'subscribe.offset exceeds 2^53-1');
    const subOffset = len(2, num(7, 2n ** 64n - 1n));
    refused(frameOf([...num(1, 1), ...len(4, len(3, [...str(1, 'ch'), ...subOffset]))]), 'connect.subs.offset exceeds 2^53-1');
    refused(frameOf([...num(1, 1), ...len(10, len(8, num(1, 2 ** 60)))]), 'history.since.offset exceeds 2^53-1');
    refused(frameOf([...num(1, 1), ...len(10, num(7, 2 ** 31))]), 'history.limit out of int32 range');
    refused(frameOf([...num(1, 1), ...len(10, num(7, 2n ** 64n - 2n ** 31n - 1n))]), 'history.limit out of int32 range');
    // The extremes that are in range decode.
    const h = command(frameOf([...num(1, 1), ...len(10, num(7, 2n ** 64n - 2n ** 31n))])) as { params: { limit: number } };
    assert.equal(h.params.limit, -(2 ** 31));
  });

  test('strings that are not valid UTF-8, anywhere', () => {
    const bad = [0x61, 0xff, 0xfe];
    refused(frameOf([...num(1, 1), ...len(5, len(1, bad))]), 'subscribe.channel is not valid UTF-8');
    refused(frameOf([...num(1, 1), ...len(4, len(6, [...len(1, bad), ...str(2, 'v')]))]), 'connect.headers key is not valid UTF-8');
    refused(frameOf([...num(1, 1), ...len(13, len(2, [0xed, 0xa0, 0x80]))]), 'rpc.method is not valid UTF-8'); // a UTF-16 surrogate
    refused(frameOf([...num(1, 1), ...len(5, len(1, [0xc0, 0xaf]))]), 'subscribe.channel is not valid UTF-8'); // overlong '/'
  });

  test('malformed nested messages: a map entry, since', () => {
    refused(frameOf([...num(1, 1), ...len(4, len(3, [...str(1, 'ch'), ...tag(2, 2), 9]))]), 'connect.subs value: length 9 past the end (0 bytes left)');
    refused(frameOf([...num(1, 1), ...len(10, len(8, [...tag(2, 2)]))]), 'history.since.epoch: length: truncated varint');
  });

  test('mutated and truncated frames never throw anything but a CommandDecodeError, and never hang', () => {
    const valid = sdkFrame(...EVERY_METHOD.map((c) => toProto(c) as object));
    for (let end = 0; end < valid.length; end++) {
      try {
        protobufCodec.decode(valid.subarray(0, end));
      } catch (e) {
        assert.ok(e instanceof CommandDecodeError, `truncated at ${end}: ${String(e)}`);
      }
    }
    let seed = 42;
    const rand = (n: number): number => {
      // mulberry32: deterministic, so a failure reproduces.
      seed = (seed + 0x6d2b79f5) | 0;
      let t = seed;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (((t ^ (t >>> 14)) >>> 0) % n);
    };
    let decoded = 0;
    for (let i = 0; i < 3000; i++) {
      const m = Buffer.from(valid);
      for (let k = 1 + rand(4); k > 0; k--) m[rand(m.length)] = rand(256);
      try {
        protobufCodec.decode(m);
        decoded++;
      } catch (e) {
        assert.ok(e instanceof CommandDecodeError, `mutation ${i}: ${String(e)}`);
      }
    }
    assert.ok(decoded > 0, 'some mutations still decode');
  });
});

describe('decodeConnectRequest (a bare ConnectRequest)', () => {
  test('every field, as the JSON decoder gives them', () => {
    const body = Buffer.from(
      ConnectRequestT.encode(
        ConnectRequestT.fromObject({
          token: 'jwt',
          data: bytes('{"a":1}'),
          subs: { news: { recover: true, epoch: 'e', offset: BIG } },
          name: 'uni',
          version: '1',
          headers: { h: 'v' },
        }),
      ).finish(),
    );
    assert.deepStrictEqual(protobufCodec.decodeConnectRequest(body), {
      token: 'jwt',
      data: { a: 1 },
      subs: { news: { recover: true, epoch: 'e', offset: BIG } },
      name: 'uni',
      version: '1',
      headers: { h: 'v' },
    });
  });

  test('an empty body is a connect request with nothing set', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(protobufCodec.decodeConnectRequest(Buffer.alloc(0)))), {});
  });

  test('malformed bodies are refused', () => {
    const decode = (b: Buffer): unknown => protobufCodec.decodeConnectRequest(b);
    refused([...tag(1, 0), 1], 'connect.token: wire type varint, expected length-delimited', decode);
    refused([...tag(1, 2), 4, 0x61], 'connect.token: length 4 past the end (1 bytes left)', decode);
    refused([...len(1, [0xff])], 'connect.token is not valid UTF-8', decode);
    // A delimited message is not a bare one: its length byte reads as a tag.
    refused([0x02, ...str(1, 'x')], 'connect: field number 0', decode);
  });
});

describe('decodeEmulationRequest (the body of an emulation POST)', () => {
  test('every field; data is the commands, as given', () => {
    const data = frameOf([...num(1, 1), ...len(11, [])]);
    const body = Buffer.from(EmulationRequestT.encode(EmulationRequestT.fromObject({ node: 'n1', session: 's-1', data })).finish());
    const req = decodeEmulationRequest(body);
    assert.deepStrictEqual({ ...req, data: Buffer.from(req.data) }, { node: 'n1', session: 's-1', data });
    assert.deepEqual(plain(protobufCodec.decode(req.data)), [{ kind: 'command', command: { id: 1, method: 'ping', params: {} } }]);
  });

  test('absent fields are proto3 defaults: "" and empty bytes', () => {
    const req = decodeEmulationRequest(Buffer.alloc(0));
    assert.equal(req.node, '');
    assert.equal(req.session, '');
    assert.ok(Buffer.isBuffer(req.data));
    assert.equal(req.data.length, 0);
  });

  test('unknown fields of every wire type are skipped', () => {
    const body = Buffer.from([
      ...num(9, 7),
      ...str(1, 'n'),
      ...tag(10, 1), 1, 2, 3, 4, 5, 6, 7, 8,
      ...str(2, 's'),
      ...tag(11, 5), 1, 2, 3, 4,
      ...len(12, [1, 2, 3]),
      ...len(3, [0x00]),
    ]);
    const req = decodeEmulationRequest(body);
    assert.deepStrictEqual({ ...req, data: Buffer.from(req.data) }, { node: 'n', session: 's', data: Buffer.from([0x00]) });
  });

  test('truncated bodies are refused', () => {
    refused([...tag(1, 2)], 'emulation.node: length: truncated varint', decodeEmulationRequest);
    refused([...tag(2, 2), 5, 0x61], 'emulation.session: length 5 past the end (1 bytes left)', decodeEmulationRequest);
    refused([...tag(3, 2), 3, 0x00], 'emulation.data: length 3 past the end (1 bytes left)', decodeEmulationRequest);
    refused([0x80], 'emulation: tag: truncated varint', decodeEmulationRequest);
    refused([...tag(9, 1), 1, 2], 'emulation: truncated fixed64 value', decodeEmulationRequest);
    const full = Buffer.from(EmulationRequestT.encode(EmulationRequestT.fromObject({ node: 'n', session: 's', data: Buffer.from([0, 0]) })).finish());
    // Cut anywhere but between fields (after 3 and 6 bytes), a field is truncated.
    for (let end = 1; end < full.length; end++) {
      if (end === 3 || end === 6) continue;
      assert.throws(() => decodeEmulationRequest(full.subarray(0, end)), CommandDecodeError, `truncated at ${end}`);
    }
  });

  test('a wrong wire type, an invalid wire type or a string that is not UTF-8 is refused', () => {
    refused([...num(1, 1)], 'emulation.node: wire type varint, expected length-delimited', decodeEmulationRequest);
    refused([...tag(2, 5), 0, 0, 0, 0], 'emulation.session: wire type fixed32, expected length-delimited', decodeEmulationRequest);
    refused([...num(3, 1)], 'emulation.data: wire type varint, expected length-delimited', decodeEmulationRequest);
    refused([...tag(1, 7), 1], 'emulation: field 1 has the invalid wire type 7', decodeEmulationRequest);
    refused([...len(1, [0xff])], 'emulation.node is not valid UTF-8', decodeEmulationRequest);
  });
});

// ------------------------------------------------------------------------------------------ encoding

const pub: Publication = { data: '{"text":"hi"}', offset: BIG, info, tags: { k1: 'v1', k2: 'v2' } };
const pubOut = { data: bytes('{"text":"hi"}'), offset: BIG, info: infoOut, tags: { k1: 'v1', k2: 'v2' } };

describe('encoding: replies', () => {
  test('the ping is the empty Reply, delimited: one 0x00 byte', () => {
    assert.deepEqual([...protobufCodec.ping.payload], [0]);
    assert.equal(protobufCodec.ping.binary, true);
    assert.deepEqual(reply(protobufCodec.ping), {});
    assert.equal(sdk.decodeReplies(protobufCodec.ping.payload).length, 1);
  });

  test('an error, with and without temporary', () => {
    assert.deepEqual(reply(protobufCodec.reply({ id: 3, kind: 'error', error: { code: 100, message: 'internal server error', temporary: true } })), {
      id: 3,
      error: { code: 100, message: 'internal server error', temporary: true },
    });
    const f = protobufCodec.reply({ id: 4, kind: 'error', error: { code: 103, message: 'x' } });
    assert.deepEqual(reply(f), { id: 4, error: { code: 103, message: 'x' } });
    assert.deepEqual([...f.payload], delimited([...num(1, 4), ...len(2, [...num(1, 103), ...str(2, 'x')])]));
  });

  test('connect: every field, the subs map, time as int64', () => {
    const time = 1_750_000_000_123;
    const frame = protobufCodec.reply({
      id: 1,
      kind: 'connect',
      result: {
        client: 'cid',
        version: '0.1.0',
        expires: true,
        ttl: 60,
        data: '{"welcome":true}',
        subs: [
          ['a', { recoverable: true, epoch: 'e', offset: BIG, positioned: true }],
          ['b', {}],
        ],
        ping: 25,
        pong: true,
        session: 's',
        node: 'n',
        time,
      },
    });
    assert.deepEqual(reply(frame), {
      id: 1,
      connect: {
        client: 'cid',
        version: '0.1.0',
        expires: true,
        ttl: 60,
        data: bytes('{"welcome":true}'),
        subs: { a: { recoverable: true, epoch: 'e', offset: BIG, positioned: true }, b: {} },
        ping: 25,
        pong: true,
        session: 's',
        node: 'n',
        time,
      },
    });
    const [viaSdk] = sdk.decodeReplies(frame.payload) as Array<{ connect: { time: { toNumber(): number }; subs: Record<string, unknown> } }>;
    assert.equal(viaSdk!.connect.time.toNumber(), time);
    assert.deepEqual(Object.keys(viaSdk!.connect.subs), ['a', 'b']);
  });

  test('subscribe: every field; recovered publications carry their full data even in delta mode', () => {
    const plainPub: Publication = { data: '{"n":1}', offset: 5 };
    const binaryPub: Publication = { data: Uint8Array.from([0xff, 0x01]), offset: 6 };
    const frame = protobufCodec.reply({
      id: 2,
      kind: 'subscribe',
      result: {
        expires: true,
        ttl: 30,
        recoverable: true,
        epoch: 'ep',
        publications: [plainPub, binaryPub],
        recovered: true,
        offset: BIG,
        positioned: true,
        data: '{"sub":1}',
        was_recovering: true,
        delta: true,
      },
    });
    assert.deepEqual(reply(frame), {
      id: 2,
      subscribe: {
        expires: true,
        ttl: 30,
        recoverable: true,
        epoch: 'ep',
        publications: [
          { data: bytes('{"n":1}'), offset: 5 },
          { data: Buffer.from([0xff, 0x01]), offset: 6 },
        ],
        recovered: true,
        offset: BIG,
        positioned: true,
        data: bytes('{"sub":1}'),
        was_recovering: true,
        delta: true,
      },
    });
  });

  test('empty results are present as empty messages; empty fields are omitted', () => {
    for (const [kind, field] of [['unsubscribe', 7], ['publish', 8], ['ping', 12]] as const) {
      const f = protobufCodec.reply({ id: 9, kind });
      assert.deepEqual([...f.payload], [4, ...num(1, 9), ...len(field, [])]);
      assert.deepEqual(reply(f), { id: 9, [kind]: {} });
    }
    const emptySub = protobufCodec.reply({ id: 1, kind: 'subscribe', result: { expires: false, ttl: 0, epoch: '', publications: [] } });
    assert.deepEqual([...emptySub.payload], [4, 8, 1, 0x32, 0]);
    assert.deepEqual([...protobufCodec.reply({ id: 1, kind: 'rpc' }).payload], [4, 8, 1, 0x6a, 0]);
    assert.deepEqual(reply(protobufCodec.reply({ id: 1, kind: 'presence_stats', numClients: 0, numUsers: 0 })), { id: 1, presence_stats: {} });
  });

  test('presence: a map of client id to ClientInfo', () => {
    const presence = new Map<string, ClientInfo>([
      ['c1', info],
      ['c2', { user: '', client: 'c2' }],
    ]);
    assert.deepEqual(reply(protobufCodec.reply({ id: 5, kind: 'presence', presence })), {
      id: 5,
      presence: { presence: { c1: infoOut, c2: { client: 'c2' } } },
    });
    assert.deepEqual(reply(protobufCodec.reply({ id: 5, kind: 'presence', presence: new Map() })), { id: 5, presence: {} });
  });

  test('presence_stats, rpc, refresh, sub_refresh', () => {
    assert.deepEqual(reply(protobufCodec.reply({ id: 6, kind: 'presence_stats', numClients: 3, numUsers: 2 })), {
      id: 6,
      presence_stats: { num_clients: 3, num_users: 2 },
    });
    assert.deepEqual(reply(protobufCodec.reply({ id: 7, kind: 'rpc', data: '{"sum":3}' })), { id: 7, rpc: { data: bytes('{"sum":3}') } });
    assert.deepEqual(reply(protobufCodec.reply({ id: 7, kind: 'rpc', data: Uint8Array.from([0, 1, 2]) })), { id: 7, rpc: { data: Buffer.from([0, 1, 2]) } });
    assert.deepEqual(reply(protobufCodec.reply({ id: 8, kind: 'refresh', result: { client: 'c', version: 'v', expires: true, ttl: 120 } })), {
      id: 8,
      refresh: { client: 'c', version: 'v', expires: true, ttl: 120 },
    });
    assert.deepEqual(reply(protobufCodec.reply({ id: 9, kind: 'sub_refresh', result: { expires: true, ttl: 10 } })), {
      id: 9,
      sub_refresh: { expires: true, ttl: 10 },
    });
  });

  test('history: publications, epoch and offset (uint64 above 2^32 and up to 2^53-1)', () => {
    for (const offset of [BIG, MAX]) {
      const msg: ReplyMsg = { id: 10, kind: 'history', result: { publications: [pub, { data: '1', offset }], epoch: 'ep', offset } };
      assert.deepEqual(reply(protobufCodec.reply(msg)), {
        id: 10,
        history: { publications: [pubOut, { data: bytes('1'), offset }], epoch: 'ep', offset },
      });
    }
    assert.deepEqual(reply(protobufCodec.reply({ id: 10, kind: 'history', result: { publications: [], epoch: '', offset: 0 } })), { id: 10, history: {} });
  });
});

describe('encoding: pushes', () => {
  test('publication forms: plain and full carry the data, patch carries the patch with delta', () => {
    const patch = Uint8Array.from([0x80, 0x00, 0xff, 0x0a]); // not UTF-8: protobuf carries it anyway
    assert.deepEqual(push(protobufCodec.publicationPush('news', pub, { kind: 'plain' })!), { channel: 'news', pub: pubOut });
    assert.deepEqual(push(protobufCodec.publicationPush('news', pub, { kind: 'full' })!), { channel: 'news', pub: pubOut });
    assert.deepEqual(push(protobufCodec.publicationPush('news', pub, { kind: 'patch', patch })!), {
      channel: 'news',
      pub: { ...pubOut, data: Buffer.from(patch), delta: true },
    });
    // The same bytes through push().
    for (const form of [{ kind: 'plain' }, { kind: 'full' }, { kind: 'patch', patch }] as const) {
      const viaPush = protobufCodec.push({ kind: 'pub', channel: 'news', pub, form });
      assert.deepEqual(viaPush.payload, protobufCodec.publicationPush('news', pub, form)!.payload);
    }
  });

  test('a publication push: exact bytes, offset 0 and empty tags omitted, binary data as is', () => {
    const f = protobufCodec.publicationPush('c', { data: '{}', offset: 0, tags: {} }, { kind: 'plain' })!;
    const body = len(4, [...str(2, 'c'), ...len(4, str(4, '{}'))]);
    assert.deepEqual([...f.payload], [...varint(body.length), ...body]);
    assert.equal(f.binary, true);
    const binary: Publication = { data: Uint8Array.from([1, 2, 3]), offset: 1 };
    assert.deepEqual(push(protobufCodec.publicationPush('c', binary, { kind: 'plain' })!), { channel: 'c', pub: { data: Buffer.from([1, 2, 3]), offset: 1 } });
  });

  test('strings and JSON payloads go out as valid UTF-8, a lone surrogate as U+FFFD (as Buffer.from writes it)', () => {
    const f = protobufCodec.publicationPush('ch\ud800', { data: '"é✓\udc00"', offset: 0, tags: { 'k\ud800': 'v' } }, { kind: 'plain' })!;
    const p = push(f);
    assert.deepEqual(p, { channel: 'ch\ufffd', pub: { data: Buffer.from('"é✓\ufffd"'), tags: { 'k\ufffd': 'v' } } });
    assert.ok(isUtf8(f.payload));
  });

  test('the SDK decodes a publication push with an offset above 2^32', () => {
    const [r] = sdk.decodeReplies(protobufCodec.publicationPush('news', pub, { kind: 'plain' })!.payload) as Array<{
      push: {
        channel: string;
        pub: { data: Uint8Array; offset: { toNumber(): number }; info: { user: string; conn_info: Uint8Array }; tags: object };
      };
    }>;
    assert.equal(r!.push.channel, 'news');
    assert.equal(Buffer.from(r!.push.pub.data).toString(), '{"text":"hi"}');
    assert.equal(r!.push.pub.offset.toNumber(), BIG);
    assert.equal(r!.push.pub.info.user, 'u1');
    assert.equal(Buffer.from(r!.push.pub.info.conn_info).toString(), '{"name":"Ann"}');
    assert.deepEqual({ ...r!.push.pub.tags }, { k1: 'v1', k2: 'v2' });
  });

  test('join and leave', () => {
    assert.deepEqual(push(protobufCodec.push({ kind: 'join', channel: 'c', info })), { channel: 'c', join: { info: infoOut } });
    assert.deepEqual(push(protobufCodec.push({ kind: 'leave', channel: 'c', info })), { channel: 'c', leave: { info: infoOut } });
  });

  test('unsubscribe: code 2, reason 3; disconnect: code 1, reason 2', () => {
    const unsub = protobufCodec.push({ kind: 'unsubscribe', channel: 'c', reason: { code: 2500, reason: 'insufficient state' } });
    assert.deepEqual(push(unsub), { channel: 'c', unsubscribe: { code: 2500, reason: 'insufficient state' } });
    const unsubBody = len(4, [...str(2, 'c'), ...len(7, [...num(2, 2500), ...str(3, 'insufficient state')])]);
    assert.deepEqual([...unsub.payload], [...varint(unsubBody.length), ...unsubBody]);
    const dc = protobufCodec.push({ kind: 'disconnect', reason: { code: 3001, reason: 'shutdown' } });
    assert.deepEqual(push(dc), { disconnect: { code: 3001, reason: 'shutdown' } });
    const dcBody = len(4, len(11, [...num(1, 3001), ...str(2, 'shutdown')]));
    assert.deepEqual([...dc.payload], [...varint(dcBody.length), ...dcBody]);
  });

  test('message, subscribe, refresh', () => {
    assert.deepEqual(push(protobufCodec.push({ kind: 'message', data: '"hello"' })), { message: { data: bytes('"hello"') } });
    assert.deepEqual(
      push(
        protobufCodec.push({
          kind: 'subscribe',
          channel: 'c',
          result: { recoverable: true, epoch: 'e', offset: BIG, positioned: true, data: '{"x":1}' },
        }),
      ),
      { channel: 'c', subscribe: { recoverable: true, epoch: 'e', offset: BIG, positioned: true, data: bytes('{"x":1}') } },
    );
    assert.deepEqual(push(protobufCodec.push({ kind: 'refresh', expires: true, ttl: 300 })), { refresh: { expires: true, ttl: 300 } });
    assert.deepEqual(push(protobufCodec.push({ kind: 'refresh', expires: false, ttl: 0 })), { refresh: {} });
  });

  test('connect push: the Connect message, with its own field numbers (data 3, subs 4, expires 5, ttl 6)', () => {
    const f = protobufCodec.push({
      kind: 'connect',
      result: {
        client: 'c', version: 'v', expires: true, ttl: 9, data: '1',
        subs: [['s', { recoverable: true }]], ping: 25, session: 'x', node: 'n', time: 5,
      },
    });
    assert.deepEqual(push(f), {
      connect: {
        client: 'c', version: 'v', expires: true, ttl: 9, data: bytes('1'),
        subs: { s: { recoverable: true } }, ping: 25, session: 'x', node: 'n', time: 5,
      },
    });
    const connectBody = [
      ...str(1, 'c'), ...str(2, 'v'), ...str(3, '1'), ...len(4, [...str(1, 's'), ...len(2, num(3, 1))]),
      ...num(5, 1), ...num(6, 9), ...num(7, 25), ...str(9, 'x'), ...str(10, 'n'), ...num(11, 5),
    ];
    const body = len(4, len(10, connectBody));
    assert.deepEqual([...f.payload], [...varint(body.length), ...body]);
  });

  test('uniProtobufCodec sends bare Push messages, delimited', () => {
    assert.equal(uniProtobufCodec.name, 'protobuf');
    assert.notEqual(uniProtobufCodec.index, protobufCodec.index);
    const f = uniProtobufCodec.publicationPush('news', pub, { kind: 'plain' })!;
    const reader = protobuf.Reader.create(f.payload);
    assert.deepEqual(PushT.toObject(PushT.decodeDelimited(reader), { longs: Number }), { channel: 'news', pub: pubOut });
    assert.equal(reader.pos, f.payload.length);
    const j = uniProtobufCodec.push({ kind: 'join', channel: 'c', info });
    assert.deepEqual(PushT.toObject(PushT.decodeDelimited(j.payload), { longs: Number }), { channel: 'c', join: { info: infoOut } });
    assert.deepEqual([...uniProtobufCodec.ping.payload], [0]);
  });
});

describe('the codec', () => {
  test('is named protobuf, index 1', () => {
    assert.equal(protobufCodec.name, 'protobuf');
    assert.equal(protobufCodec.index, 1);
    assert.equal(sdk.name(), 'protobuf');
  });

  test('a push message of every kind round-trips through the SDK decoder', () => {
    const pushes: PushMsg[] = [
      { kind: 'pub', channel: 'c', pub, form: { kind: 'plain' } },
      { kind: 'join', channel: 'c', info },
      { kind: 'leave', channel: 'c', info },
      { kind: 'unsubscribe', channel: 'c', reason: { code: 2000, reason: 'server unsubscribe' } },
      { kind: 'message', data: '{}' },
      { kind: 'subscribe', channel: 'c', result: { epoch: 'e' } },
      { kind: 'connect', result: { client: 'c', version: 'v' } },
      { kind: 'disconnect', reason: { code: 3503, reason: 'force disconnect' } },
      { kind: 'refresh', expires: true, ttl: 1 },
    ];
    const all = Buffer.concat(pushes.map((m) => protobufCodec.push(m).payload));
    const replies = sdk.decodeReplies(all) as Array<{ push: Record<string, unknown> }>;
    assert.deepEqual(
      replies.map((r) => Object.keys(r.push).filter((k) => k !== 'channel')),
      pushes.map((m) => [m.kind]),
    );
    assert.equal((replies[3]!.push['unsubscribe'] as { code: number }).code, 2000);
    assert.equal((replies[7]!.push['disconnect'] as { reason: string }).reason, 'force disconnect');
  });
});
