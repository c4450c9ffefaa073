/** Decoding and encoding of event messages. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageOfPush } from '../../src/events/channels.js';
import { decodeEventMessage, encodeEventMessage } from '../../src/events/codec.js';
import { jsonCodec } from '../../src/protocol/json-codec.js';

test('a well-formed message decodes to its event and data; other keys are ignored', () => {
  assert.deepEqual(decodeEventMessage('{"event":"A","data":{"x":[1]},"extra":true}'), { ok: true, event: 'A', data: { x: [1] } });
  assert.deepEqual(decodeEventMessage('{"event":"A"}'), { ok: true, event: 'A', data: undefined });
  assert.deepEqual(decodeEventMessage('{"event":"A","data":null}'), { ok: true, event: 'A', data: null });
});

test('bad frames decode to a code and a reason', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['{', 'bad_json', /malformed JSON/],
    ['', 'bad_json', /malformed JSON/],
    ['[]', 'bad_message', /got an array/],
    ['true', 'bad_message', /got a boolean/],
    ['{}', 'bad_message', /missing "event"/],
    ['{"event":{}}', 'bad_message', /non-empty string/],
  ];
  for (const [text, code, reason] of cases) {
    const d = decodeEventMessage(text);
    assert.equal(d.ok, false, text);
    if (!d.ok) {
      assert.equal(d.code, code, text);
      assert.match(d.reason, reason, text);
    }
  }
});

test('encoding omits undefined data and round-trips through a publication push', () => {
  assert.equal(encodeEventMessage('A', undefined), '{"event":"A"}');
  const text = encodeEventMessage('NOTIFICATION', { text: 'hi "there"', n: 1 });
  assert.equal(text, '{"event":"NOTIFICATION","data":{"text":"hi \\"there\\"","n":1}}');
  const push = jsonCodec.publicationPush('\u00a7events:user:500', { data: text, offset: 0 }, { kind: 'plain' })!.payload.toString('utf8');
  assert.deepEqual(messageOfPush(push), { event: 'NOTIFICATION', data: { text: 'hi "there"', n: 1 } });
  assert.equal(messageOfPush('{"push":{"channel":"x","pub":{"data":{"nope":1}}}}'), undefined);
  assert.equal(messageOfPush('garbage'), undefined);
  assert.throws(() => encodeEventMessage('A', { big: 1n }), TypeError);
});
