/** Protocol pings: a connection that does not answer is dropped; one that does stays. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { assertServed, connectionIdOf, echoListeners, startEvents, until, type EventsGyre } from './helpers.js';

let gyre: EventsGyre;
before(async () => {
  gyre = await startEvents({ events: { ping_interval: '500ms' } }, { setup: echoListeners });
});
after(() => gyre.close());

test('a connection that does not answer pings is dropped, one that does is kept', async () => {
  const answering = await gyre.socket();
  const silent = await gyre.socket({ autoPong: false });
  const id = await connectionIdOf(silent);
  let pings = 0;
  answering.ws.on('ping', () => pings++);
  assert.equal((await silent.closed).code, 1006);
  const lines = gyre.logs.filter((l) => l['connection'] === id);
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['events: no pong to the last ping, dropping the connection'],
  );
  await until(() => pings >= 1); // the kept one is pinged too, and answers
  await assertServed(answering);
});
