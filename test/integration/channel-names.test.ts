/**
 * Channel names as Centrifugo checks them: a client may name a non-ASCII channel only in a namespace
 * whose `channel_regex` allows it (the regex alone decides there); the server API takes any valid
 * UTF-8 name of a known namespace; `channel.max_length` counts bytes.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { once, startGyre, until, type TestGyre } from '../helpers/gyre.js';

let gyre: TestGyre;
before(async () => {
  gyre = await startGyre({
    channel: {
      max_length: 32,
      namespaces: [{ name: 'intl', channel_regex: '^[\\p{L}0-9-]+$', allow_subscribe_for_client: true }],
    },
  });
});
after(() => gyre.close());

test('a namespace whose channel_regex allows letters of any script: the SDK subscribes and receives', async () => {
  const c = gyre.client({ token: await gyre.token('u1') });
  const got: unknown[] = [];
  const sub = c.newSubscription('intl:café-日本');
  sub.on('publication', (ctx) => got.push(ctx.data));
  const subscribed = once(sub, 'subscribed');
  sub.subscribe();
  c.connect();
  await subscribed;
  assert.deepEqual(await gyre.api('publish', { channel: 'intl:café-日本', data: { hello: 'wörld' } }), { result: {} });
  await until(() => got.length === 1, 'the publication on the non-ASCII channel');
  assert.deepEqual(got, [{ hello: 'wörld' }]);
  c.disconnect();
});

test('what the regex refuses, and names over max_length bytes, are 107 for clients', async () => {
  const s = await gyre.raw();
  await s.connect(await gyre.token('u2'));
  s.sendJson({ id: 2, subscribe: { channel: 'intl:a b' } });
  assert.deepEqual((await s.reply(2))['error'], { code: 107, message: 'bad request' });
  // 5 + 14 × 2 = 33 bytes, 19 characters: over a max_length of 32.
  s.sendJson({ id: 3, subscribe: { channel: 'intl:' + 'é'.repeat(14) } });
  assert.deepEqual((await s.reply(3))['error'], { code: 107, message: 'bad request' });
  s.sendJson({ id: 4, subscribe: { channel: 'intl:' + 'é'.repeat(13) } });
  assert.ok((await s.reply(4))['subscribe'] !== undefined);
  // Without a channel_regex, client-named channels are ASCII.
  s.sendJson({ id: 5, subscribe: { channel: 'café' } });
  assert.deepEqual((await s.reply(5))['error'], { code: 107, message: 'bad request' });
});

test('the server API takes any valid UTF-8 name, and refuses lone surrogates and reserved names', async () => {
  for (const channel of ['café', 'x'.repeat(100)]) {
    const res = await gyre.api('publish', { channel, data: {} });
    assert.equal(res['error'], undefined, `${channel}: ${JSON.stringify(res)}`);
  }
  assert.equal(((await gyre.api('publish', { channel: 'bad-\uD800', data: {} }))['error'] as { code: number }).code, 107);
  assert.equal(((await gyre.api('publish', { channel: '\u00a7events:broadcast', data: {} }))['error'] as { code: number }).code, 107);
});
