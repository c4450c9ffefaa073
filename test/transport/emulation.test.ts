/**
 * Unit tests of the emulation endpoint's body decoder (src/transport/emulation.ts): JSON
 * `{"session","node","data"}` with `data` a string of commands, protobuf EmulationRequest with
 * `Content-Type: application/octet-stream` exactly, and what is refused as malformed; and of the
 * framing of protobuf streams (the delimited payloads as they are).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CommandDecodeError } from '../../src/protocol/codec.js';
import { OutFrame } from '../../src/protocol/frame.js';
import { decodeEmulationBody } from '../../src/transport/emulation.js';
import { VARINT_FRAMING } from '../../src/transport/stream-framing.js';

const OCTETS = 'application/octet-stream';

function field(n: number, value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([Buffer.from([(n << 3) | 2, bytes.length]), bytes]);
}

describe('decodeEmulationBody', () => {
  test('JSON: session, node and the commands text', () => {
    const data = '{"subscribe":{"channel":"a"},"id":2}\n{"publish":{"channel":"a","data":{}},"id":3}';
    const cmds = decodeEmulationBody(Buffer.from(JSON.stringify({ session: 's1', node: 'n1', data })), 'application/json');
    assert.deepEqual({ ...cmds, data: cmds.data.toString() }, { session: 's1', node: 'n1', protocol: 'json', data });
    // Any other content type (or none) is JSON too, as in Centrifugo.
    assert.equal(decodeEmulationBody(Buffer.from('{"session":"s","node":"n","data":"{}"}'), undefined).protocol, 'json');
    assert.equal(decodeEmulationBody(Buffer.from('{"session":"s","node":"n","data":"{}"}'), 'application/octet-stream; x=1').protocol, 'json');
    // Absent node / session are "" (the node is then unknown: 404).
    assert.deepEqual(decodeEmulationBody(Buffer.from('{"data":"{}"}'), undefined).node, '');
  });

  test('protobuf: node 1, session 2, data 3', () => {
    const data = Buffer.from([0x00]);
    const cmds = decodeEmulationBody(Buffer.concat([field(1, 'n1'), field(2, 's1'), field(3, data)]), OCTETS);
    assert.deepEqual({ ...cmds, data: [...cmds.data] }, { node: 'n1', session: 's1', protocol: 'protobuf', data: [0] });
  });

  test('malformed bodies throw CommandDecodeError', () => {
    const bad: Array<[string, string | undefined]> = [
      ['', 'application/json'],
      ['{"session":', undefined],
      ['[1]', undefined],
      ['"text"', undefined],
      ['{"session":1,"node":"n","data":"{}"}', undefined],
      ['{"session":"s","node":["n"],"data":"{}"}', undefined],
      ['{"session":"s","node":"n","data":{"subscribe":{}}}', undefined],
      ['{"session":"s","node":"n"}', undefined],
      ['{"session":"s","node":"n","data":"{}"}', OCTETS],
    ];
    for (const [body, type] of bad) assert.throws(() => decodeEmulationBody(Buffer.from(body), type), CommandDecodeError, `${body} as ${type}`);
    assert.throws(() => decodeEmulationBody(Buffer.from([0xff, 0xfe]), undefined), CommandDecodeError, 'not UTF-8');
    assert.throws(() => decodeEmulationBody(Buffer.from('['.repeat(5000)), undefined), /nested deeper/);
  });
});

test('VARINT_FRAMING writes delimited protobuf payloads as they are', () => {
  const a = new OutFrame(Buffer.from([2, 8, 1]));
  const b = new OutFrame(Buffer.from([0]));
  assert.equal(VARINT_FRAMING.one(a), a.payload);
  assert.deepEqual([...VARINT_FRAMING.many([a, b])], [2, 8, 1, 0]);
});
