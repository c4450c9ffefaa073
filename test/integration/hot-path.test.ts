/**
 * The publish → fan-out path: one encoded frame shared by all subscribers of a channel, one socket
 * write per connection per event-loop turn, and a bounded outgoing queue that closes slow clients.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { ClientSubscription } from '../../src/node/subscription.js';
import type { OutFrame } from '../../src/protocol/frame.js';
import { startGyre, until, type RawSocket, type TestGyre } from '../helpers/gyre.js';

let gyre: TestGyre;
before(async () => {
  gyre = await startGyre({ client: { queue_max_size: 65536 } });
});
after(() => gyre.close());

async function subscriber(channel: string): Promise<RawSocket> {
  const s = await gyre.raw();
  await s.connect(await gyre.token('u1'));
  s.sendJson({ id: 2, subscribe: { channel } });
  const reply = await s.reply(2);
  assert.ok(reply['subscribe'] !== undefined, JSON.stringify(reply));
  return s;
}

test('a publication is encoded once and the same frame goes to every subscriber', async () => {
  const subs = await Promise.all([subscriber('fan'), subscriber('fan'), subscriber('fan')]);
  const seen: OutFrame[] = [];
  const original = ClientSubscription.prototype.send;
  ClientSubscription.prototype.send = function (this: ClientSubscription, frame: OutFrame) {
    if (this.channel === 'fan') seen.push(frame);
    return original.call(this, frame);
  };
  try {
    await gyre.server.node.publish('fan', '{"x":1}');
  } finally {
    ClientSubscription.prototype.send = original;
  }
  assert.equal(seen.length, 3);
  assert.ok(seen.every((f) => f === seen[0]), 'all subscribers share one frame');
  for (const s of subs) {
    const push = await s.next((m) => m['push'] !== undefined);
    assert.deepEqual(push, { push: { channel: 'fan', pub: { data: { x: 1 }, offset: 1 } } });
  }
});

test('publications within one event-loop turn leave in one socket write per connection', async () => {
  const s = await subscriber('burst');
  const serverClient = [...gyre.server.node.clientsOf('u1')].find((c) => c.subscriptions.has('burst'));
  assert.ok(serverClient);
  const socket = (serverClient.transport as unknown as { writer: { socket: Socket } }).writer.socket;
  let writes = 0;
  const write = socket.write.bind(socket);
  socket.write = ((...args: Parameters<Socket['write']>) => {
    writes++;
    return write(...args);
  }) as Socket['write'];
  const node = gyre.server.node;
  await Promise.all(Array.from({ length: 10 }, (_, i) => node.publish('burst', JSON.stringify({ i }))));
  const got: number[] = [];
  while (got.length < 10) {
    const m = await s.next((x) => x['push'] !== undefined);
    got.push(((m['push'] as { pub: { data: { i: number } } }).pub.data).i);
  }
  socket.write = write;
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(writes, 1);
});

test('a client that stops reading is closed as slow (3008) and the others keep receiving', async () => {
  const slow = await subscriber('firehose');
  const healthy = await subscriber('firehose');
  const slowId = [...gyre.server.node.clientsOf('u1')].find((c) => c.subscriptions.has('firehose'))?.id;
  assert.ok(slowId);
  (slow.ws as unknown as { _socket: Socket })._socket.pause();
  const big = JSON.stringify({ blob: 'x'.repeat(8192) });
  const node = gyre.server.node;
  let sent = 0;
  // Publish until the server gives up on the paused client; bounded so a regression fails instead of hanging.
  while (node.client(slowId) !== undefined && sent < 5000) {
    await node.publish('firehose', big);
    sent++;
    // Let the healthy client read: only the paused one may fall behind.
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(node.client(slowId), undefined, 'slow client was dropped');
  assert.equal(healthy.ws.readyState, healthy.ws.OPEN, 'the reading client is still connected');
  assert.ok(gyre.logs.some((l) => l['client'] === slowId && /slow/.test(l.msg)));
  await node.publish('firehose', '{"after":true}');
  await until(() => healthy.messages.some((m) => JSON.stringify(m).includes('"after":true')));
});

test('subscribers that queued the same frames in one turn share one written buffer', async () => {
  await subscriber('shared');
  await subscriber('shared');
  const sockets = [...gyre.server.node.clientsOf('u1')]
    .filter((c) => c.subscriptions.has('shared'))
    .map((c) => (c.transport as unknown as { writer: { socket: Socket } }).writer.socket);
  assert.equal(sockets.length, 2);
  const written: unknown[][] = [[], []];
  const originals = sockets.map((s) => s.write.bind(s));
  sockets.forEach((s, i) => {
    s.write = ((chunk: unknown, ...rest: unknown[]) => {
      written[i]!.push(chunk);
      return (originals[i] as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as Socket['write'];
  });
  const node = gyre.server.node;
  await Promise.all(Array.from({ length: 5 }, (_, i) => node.publish('shared', JSON.stringify({ i }))));
  await until(() => written[0]!.length === 1 && written[1]!.length === 1);
  sockets.forEach((s, i) => (s.write = originals[i]!));
  assert.ok(Buffer.isBuffer(written[0]![0]));
  assert.equal(written[0]![0], written[1]![0], 'the same Buffer object');
});
