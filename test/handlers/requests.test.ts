/**
 * Request and response objects on their own: the connection fields every request carries, the
 * per-type fields, headers (case-insensitive), immutable attributes, the one-answer rule of
 * respond / error / disconnect, and the response classes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ConnectRequest,
  ConnectResponse,
  PublishRequest,
  PublishResponse,
  RefreshRequest,
  RefreshResponse,
  REQUEST_TYPES,
  RequestType,
  RPCRequest,
  RPCResponse,
  SubRefreshRequest,
  SubRefreshResponse,
  SubscribeRequest,
  SubscribeResponse,
} from '../../src/index.js';
import { expireAtSeconds } from '../../src/handlers/responses.js';
import { captureLogger, context, requests, WARN } from './helpers.js';

describe('request types', () => {
  test('RequestType names the six types, sub_refresh spelled one way', () => {
    assert.deepEqual(
      { ...RequestType },
      { Connect: 'connect', Refresh: 'refresh', Subscribe: 'subscribe', Publish: 'publish', RPC: 'rpc', SubRefresh: 'sub_refresh' },
    );
    assert.deepEqual([...REQUEST_TYPES], ['connect', 'refresh', 'subscribe', 'publish', 'rpc', 'sub_refresh']);
  });

  test('each request class has its type', () => {
    const { log } = captureLogger();
    assert.ok(requests.connect(log) instanceof ConnectRequest);
    assert.equal(requests.connect(log).type, 'connect');
    assert.ok(requests.refresh(log) instanceof RefreshRequest);
    assert.equal(requests.refresh(log).type, 'refresh');
    assert.ok(requests.subscribe(log) instanceof SubscribeRequest);
    assert.equal(requests.subscribe(log).type, 'subscribe');
    assert.ok(requests.publish(log) instanceof PublishRequest);
    assert.equal(requests.publish(log).type, 'publish');
    assert.ok(requests.rpc(log) instanceof RPCRequest);
    assert.equal(requests.rpc(log).type, 'rpc');
    assert.ok(requests.sub_refresh(log) instanceof SubRefreshRequest);
    assert.equal(requests.sub_refresh(log).type, 'sub_refresh');
  });
});

describe('request fields', () => {
  test('connection fields come from the context', () => {
    const { log } = captureLogger();
    const r = requests.publish(log);
    assert.equal(r.client, 'client-1');
    assert.equal(r.transport, 'websocket');
    assert.equal(r.protocol, 'json');
    assert.equal(r.encoding, 'json');
    assert.equal(r.user, 'u1');
    assert.deepEqual(r.meta, { tenant: 't1' });
    assert.equal(r.headers['x-custom'], 'abc');
  });

  test('per-type fields', () => {
    const { log } = captureLogger();
    const c = requests.connect(log);
    assert.deepEqual([c.data, c.name, c.version, c.channels], [{ a: 1 }, 'js', '1.2.3', ['ch1']]);
    const s = requests.subscribe(log, 'room');
    assert.deepEqual([s.channel, s.token, s.data], ['room', 'tok', { s: 1 }]);
    const p = requests.publish(log, 'chat', { text: 'x' });
    assert.deepEqual([p.channel, p.data], ['chat', { text: 'x' }]);
    const r = requests.rpc(log, 'm', [1]);
    assert.deepEqual([r.method, r.data], ['m', [1]]);
    assert.equal(requests.sub_refresh(log, 'ch').channel, 'ch');
  });

  test('getHeader is case-insensitive and always returns a list', () => {
    const { log } = captureLogger();
    const r = requests.rpc(log);
    assert.deepEqual(r.getHeader('X-Custom'), ['abc']);
    assert.deepEqual(r.getHeader('x-CUSTOM'), ['abc']);
    assert.deepEqual(r.getHeader('X-Multi'), ['1', '2']);
    assert.deepEqual(r.getHeader('X-Absent'), []);
  });
});

describe('attributes', () => {
  test('withAttribute returns a copy of the same class; the original does not see the attribute', () => {
    const { log } = captureLogger();
    const original = requests.connect(log);
    const copy = original.withAttribute('userId', '42');
    assert.notEqual(copy, original);
    assert.ok(copy instanceof ConnectRequest);
    assert.equal(copy.type, 'connect');
    assert.equal(copy.getAttribute('userId'), '42');
    assert.equal(original.getAttribute('userId'), undefined);
    assert.equal(original.getAttributes().size, 0);
    // The copy keeps every field.
    assert.deepEqual([copy.data, copy.name, copy.version, copy.channels, copy.client], [{ a: 1 }, 'js', '1.2.3', ['ch1'], 'client-1']);
  });

  test('chained copies accumulate; a later value of the same name wins only in the later copy', () => {
    const { log } = captureLogger();
    const a = requests.rpc(log).withAttribute('x', 1);
    const b = a.withAttribute('y', 2);
    const c = b.withAttribute('x', 3);
    assert.deepEqual([...a.getAttributes()], [['x', 1]]);
    assert.deepEqual([...b.getAttributes()], [['x', 1], ['y', 2]]);
    assert.deepEqual([...c.getAttributes()], [['x', 3], ['y', 2]]);
    assert.equal(a.getAttribute('x'), 1);
  });

  test('getAttribute returns the fallback when absent, the value (even falsy) when present', () => {
    const { log } = captureLogger();
    const r = requests.rpc(log);
    assert.equal(r.getAttribute('missing'), undefined);
    assert.equal(r.getAttribute('missing', 'dflt'), 'dflt');
    const z = r.withAttribute('zero', 0).withAttribute('empty', '');
    assert.equal(z.getAttribute('zero', 99), 0);
    assert.equal(z.getAttribute('empty', 'dflt'), '');
  });

  test('a copy shares the answer with the original', async () => {
    const { log } = captureLogger();
    const original = requests.rpc(log);
    const copy = original.withAttribute('k', 'v');
    assert.equal(original.answered, false);
    copy.respond(new RPCResponse({ data: 1 }));
    assert.equal(original.answered, true);
    assert.equal(copy.answered, true);
    const outcome = await original.slot.answered;
    assert.equal(outcome.kind, 'respond');
  });
});

describe('answers', () => {
  test('respond / error / disconnect', async () => {
    const { log } = captureLogger();
    const a = requests.rpc(log);
    const response = new RPCResponse({ data: 'pong' });
    a.respond(response);
    assert.deepEqual(await a.slot.answered, { kind: 'respond', response });

    const b = requests.rpc(log);
    b.error(404, 'not found');
    assert.deepEqual(await b.slot.answered, { kind: 'error', error: { code: 404, message: 'not found' } });

    const c = requests.rpc(log);
    c.error(500, 'busy', true);
    assert.deepEqual(await c.slot.answered, { kind: 'error', error: { code: 500, message: 'busy', temporary: true } });

    const d = requests.connect(log);
    d.disconnect(4501, 'Connection is not allowed.');
    assert.deepEqual(await d.slot.answered, { kind: 'disconnect', disconnect: { code: 4501, reason: 'Connection is not allowed.' } });
  });

  test('a disconnect reason is cut to 123 bytes without splitting a character', async () => {
    const { log } = captureLogger();
    const a = requests.connect(log);
    a.disconnect(4000, 'x'.repeat(200));
    const oa = await a.slot.answered;
    assert.equal(oa.kind === 'disconnect' && oa.disconnect.reason, 'x'.repeat(123));

    const b = requests.connect(log);
    b.disconnect(4000, 'é'.repeat(100)); // 2 bytes each: 61 whole characters fit
    const ob = await b.slot.answered;
    assert.ok(ob.kind === 'disconnect');
    assert.equal(ob.disconnect.reason, 'é'.repeat(61));
    assert.ok(Buffer.byteLength(ob.disconnect.reason) <= 123);
  });

  test('the second answer is ignored with a warning', async () => {
    const { log, lines } = captureLogger();
    const r = requests.publish(log);
    r.respond(new PublishResponse());
    r.error(400, 'late');
    r.disconnect(4000, 'later');
    const outcome = await r.slot.answered;
    assert.equal(outcome.kind, 'respond');
    const warns = lines.filter((l) => l.level === WARN && /answered twice/.test(l.msg));
    assert.equal(warns.length, 2);
    assert.equal(warns[0]!['type'], 'publish');
    assert.equal(warns[0]!['client'], 'client-1');
    assert.equal(warns[0]!['first'], 'respond');
    assert.equal(warns[0]!['second'], 'error');
    assert.equal(warns[1]!['second'], 'disconnect');
  });
});

describe('responses', () => {
  test('each response keeps its fields', () => {
    const exp = new Date('2030-01-01T00:00:00Z');
    assert.deepEqual(new ConnectResponse({ user: '42', expireAt: exp, info: { a: 1 }, meta: { m: 1 } }).fields, {
      user: '42',
      expireAt: exp,
      info: { a: 1 },
      meta: { m: 1 },
    });
    assert.deepEqual(new RefreshResponse().fields, {});
    assert.deepEqual(new RefreshResponse({ expired: true }).fields, { expired: true });
    assert.deepEqual(new SubscribeResponse({ override: { presence: false } }).fields, { override: { presence: false } });
    assert.deepEqual(new PublishResponse({ skipHistory: true, tags: { a: 'b' } }).fields, { skipHistory: true, tags: { a: 'b' } });
    assert.deepEqual(new RPCResponse().fields, {});
    assert.deepEqual(new SubRefreshResponse({ expireAt: 5 }).fields, { expireAt: 5 });
  });

  test('expireAt: seconds (fractions dropped), a Date, or nothing', () => {
    assert.equal(expireAtSeconds(undefined), 0);
    assert.equal(expireAtSeconds(1_900_000_000), 1_900_000_000);
    assert.equal(expireAtSeconds(1_900_000_000.9), 1_900_000_000);
    assert.equal(expireAtSeconds(new Date(1_900_000_000_500)), 1_900_000_000);
  });
});

test('context() in the helper matches what requests expose', () => {
  // Guard for the helpers: the context fields are all readable through a request.
  const { log } = captureLogger();
  const ctx = context({ user: 'z', meta: null });
  const r = requests.refresh(log, ctx);
  assert.equal(r.user, 'z');
  assert.equal(r.meta, null);
});
