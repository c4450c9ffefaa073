/**
 * The one close routine: a handler answering with a close code WebSocket cannot carry (here 5000)
 * still closes the connection (with 3004 "internal server error") instead of throwing and leaving
 * it hanging; a long reason arrives cut to 123 bytes on a character boundary.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Handlers } from '../../src/handlers/index.js';
import { startGyre, type TestGyre } from '../helpers/gyre.js';

let gyre: TestGyre;
before(async () => {
  const handlers = new Handlers().service('rpc', (req) => {
    if (req.method === 'bad-code') req.disconnect(5000, 'not a close code');
    else req.disconnect(4000, 'ü'.repeat(100));
  });
  gyre = await startGyre({}, undefined, { handlers });
});
after(() => gyre.close());

async function rpcClose(method: string): Promise<{ code: number; reason: string }> {
  const s = await gyre.raw();
  await s.connect(await gyre.token('u'));
  s.sendJson({ id: 2, rpc: { method, data: {} } });
  return s.closed;
}

test('a close code WebSocket cannot carry closes with 3004, and the node keeps serving', async () => {
  assert.deepEqual(await rpcClose('bad-code'), { code: 3004, reason: 'not a close code' });
  assert.equal(gyre.server.node.clientCount, 0);
  assert.deepEqual(gyre.logs.filter((l) => l.level >= 50), []);
  const s = await gyre.raw();
  await s.connect(await gyre.token('v'));
  s.sendJson({ id: 2, ping: {} });
  assert.deepEqual(await s.reply(2), { id: 2, ping: {} });
});

test('a 200-byte reason arrives cut to whole characters within 123 bytes', async () => {
  assert.deepEqual(await rpcClose('long'), { code: 4000, reason: 'ü'.repeat(61) });
});
