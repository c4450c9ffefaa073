/**
 * Bad input on the event endpoint: every malformed message is answered with an `error` event
 * giving the reason, writes exactly one log line, and leaves the sender and everyone else served;
 * an oversized frame closes only its connection with 1009.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { EventError } from '../../src/events/errors.js';
import type { MessageHandlerExceptionEvent } from '../../src/events/types.js';
import type { LogLine } from '../helpers/gyre.js';
import { assertServed, connectionIdOf, echoListeners, startEvents, type EventSocket, type EventsGyre } from './helpers.js';

const SIZE_LIMIT = 1024;

let gyre: EventsGyre;
/** A connection that must keep working after every bad input. */
let witness: EventSocket;
const exceptions: MessageHandlerExceptionEvent[] = [];
let releaseGate: () => void = () => {};

before(async () => {
  gyre = await startEvents(
    { events: { message_size_limit: SIZE_LIMIT } },
    {
      setup(events) {
        echoListeners(events);
        events.on('THROW', () => {
          throw new TypeError('secret internals');
        });
        events.on('REJECT', async () => {
          await Promise.resolve();
          throw new Error('async failure');
        });
        events.on('DENY', () => {
          throw new EventError('unauthorized', 'bad token');
        });
        events.on('BLOCK', () => new Promise<void>((resolve) => (releaseGate = resolve)));
        events.hook('message_handler_exception', (_s, e) => void exceptions.push(e));
      },
    },
  );
  witness = await gyre.socket();
  await assertServed(witness);
});
after(() => gyre.close());

/** Log lines written since `mark` about `connection`. */
function linesOf(mark: number, connection: string): LogLine[] {
  return gyre.logs.slice(mark).filter((l) => l['connection'] === connection);
}

/**
 * Sends `payload` on a fresh socket and expects an `error` event with `code` (and a reason
 * matching `reason`), one log line `msg`, and both that socket and the witness still served.
 */
async function expectError(
  payload: string | Buffer,
  code: string,
  reason: RegExp,
  msg: string,
  opts: { binary?: boolean; event?: string } = {},
): Promise<void> {
  const s = await gyre.socket();
  const id = await connectionIdOf(s);
  const mark = gyre.logs.length;
  s.sendRaw(payload, opts.binary === true);
  const err = await s.nextEvent('error');
  const data = err.data as { code: string; reason: string; event?: string };
  assert.equal(data.code, code, JSON.stringify(data));
  assert.match(data.reason, reason);
  assert.equal(data.event, opts.event);
  const lines = linesOf(mark, id);
  assert.equal(lines.length, 1, JSON.stringify(lines));
  assert.equal(lines[0]!.msg, msg);
  await assertServed(s);
  await assertServed(witness);
}

test('malformed JSON → error bad_json', async () => {
  await expectError('{"event": "ECHO", ', 'bad_json', /^malformed JSON: /, 'events: bad message');
  await expectError('not json at all', 'bad_json', /^malformed JSON: /, 'events: bad message');
});

test('JSON that is not an object → error bad_message', async () => {
  await expectError('[1,2]', 'bad_message', /got an array/, 'events: bad message');
  await expectError('42', 'bad_message', /got a number/, 'events: bad message');
  await expectError('"ECHO"', 'bad_message', /got a string/, 'events: bad message');
  await expectError('null', 'bad_message', /got null/, 'events: bad message');
});

test('a missing, non-string or empty event → error bad_message', async () => {
  await expectError('{"data": {}}', 'bad_message', /missing "event"/, 'events: bad message');
  await expectError('{"event": 7, "data": {}}', 'bad_message', /"event" must be a non-empty string/, 'events: bad message');
  await expectError('{"event": "", "data": {}}', 'bad_message', /"event" must be a non-empty string/, 'events: bad message');
  await expectError('{"event": null}', 'bad_message', /"event" must be a non-empty string/, 'events: bad message');
});

test('a binary frame → error bad_message', async () => {
  await expectError(Buffer.from('{"event":"ECHO"}'), 'bad_message', /binary frames/, 'events: bad message', { binary: true });
});

test('an event without listener → error unknown_event naming it', async () => {
  await expectError('{"event": "NOPE", "data": {}}', 'unknown_event', /no listener for event "NOPE"/, 'events: no listener for the event', {
    event: 'NOPE',
  });
});

test('a listener that throws → the exception hook and error internal, without the error text', async () => {
  exceptions.length = 0;
  await expectError('{"event": "THROW", "data": {"a": 1}}', 'internal', /^the listener of event "THROW" failed$/, 'events: listener failed', {
    event: 'THROW',
  });
  assert.equal(exceptions.length, 1);
  assert.equal(exceptions[0]!.message.event, 'THROW');
  assert.ok(exceptions[0]!.error instanceof TypeError);
  const line = [...gyre.logs].reverse().find((l) => l.msg === 'events: listener failed');
  assert.equal(line?.level, 50);
  assert.match(JSON.stringify(line), /secret internals/); // the log has it, the client does not
});

test('an async listener that rejects is handled the same way', async () => {
  exceptions.length = 0;
  await expectError('{"event": "REJECT"}', 'internal', /REJECT/, 'events: listener failed', { event: 'REJECT' });
  assert.equal(exceptions.length, 1);
});

test('an EventError sends its own code and reason', async () => {
  exceptions.length = 0;
  await expectError('{"event": "DENY"}', 'unauthorized', /^bad token$/, 'events: listener rejected the message', { event: 'DENY' });
  assert.equal(exceptions.length, 1);
});

test('an oversized frame closes that connection with 1009; everyone else is served', async () => {
  const s = await gyre.socket();
  const id = await connectionIdOf(s);
  const mark = gyre.logs.length;
  s.emit('ECHO', { pad: 'x'.repeat(SIZE_LIMIT) });
  assert.equal((await s.closed).code, 1009);
  const lines = linesOf(mark, id);
  assert.equal(lines.length, 1, JSON.stringify(lines));
  assert.equal(lines[0]!.msg, 'events: message too big, closing with 1009');
  await assertServed(witness);
  // A frame just under the limit is fine.
  const ok = await gyre.socket();
  ok.sendRaw(JSON.stringify({ event: 'ECHO', data: 'y'.repeat(SIZE_LIMIT - 40) }));
  assert.equal((await ok.nextEvent('ECHOED')).data, 'y'.repeat(SIZE_LIMIT - 40));
});

test('a connection piling up messages behind a blocked listener is closed with 3013', async () => {
  const s = await gyre.socket();
  const id = await connectionIdOf(s);
  const mark = gyre.logs.length;
  s.emit('BLOCK');
  const burst = Array.from({ length: 1100 }, () => JSON.stringify({ event: 'ECHO', data: 1 }));
  for (const frame of burst) s.sendRaw(frame);
  assert.deepEqual(await s.closed, { code: 3013, reason: 'too many requests' });
  releaseGate();
  const lines = linesOf(mark, id);
  assert.equal(lines.length, 1, JSON.stringify(lines));
  assert.equal(lines[0]!.msg, 'events: too many messages waiting for their listeners, closing');
  await assertServed(witness);
});

test('the witness is still open', () => {
  assert.equal(witness.ws.readyState, WebSocket.OPEN);
});
