/**
 * The "done when" path through the real `centrifuge` client: connect with a token,
 * subscribe with recovery, receive what `POST /api/publish` published, lose the connection, and
 * recover the publications missed meanwhile.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { PublicationContext, SubscribedContext } from 'centrifuge';
import { once, startGyre, until, type TestGyre } from '../helpers/gyre.js';

let gyre: TestGyre;
before(async () => {
  gyre = await startGyre();
});
after(() => gyre.close());

test('publish via HTTP API reaches a subscriber; missed publications are recovered after reconnect', async () => {
  const client = gyre.client({ token: await gyre.token('42') });
  const sub = client.newSubscription('news');
  const received: unknown[] = [];
  sub.on('publication', (ctx: PublicationContext) => received.push(ctx.data));
  const subscribed = once<SubscribedContext>(sub, 'subscribed');
  sub.subscribe();
  client.connect();
  const first = await subscribed;
  assert.equal(first.recoverable, true);

  const res = await gyre.api('publish', { channel: 'news', data: { n: 1 } });
  assert.ok(typeof (res['result'] as { offset: number }).offset === 'number');
  await until(() => received.length === 1);
  assert.deepEqual(received, [{ n: 1 }]);

  client.disconnect();
  await gyre.api('publish', { channel: 'news', data: { n: 2 } });
  await gyre.api('publish', { channel: 'news', data: { n: 3 } });

  const resubscribed = once<SubscribedContext>(sub, 'subscribed');
  client.connect();
  const ctx = await resubscribed;
  assert.equal(ctx.wasRecovering, true);
  assert.equal(ctx.recovered, true);
  await until(() => received.length === 3);
  assert.deepEqual(received, [{ n: 1 }, { n: 2 }, { n: 3 }]);
});
