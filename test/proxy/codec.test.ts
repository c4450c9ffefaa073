/**
 * The proxy protocol's messages both ways: backend results into handler fields (JSON and b64
 * payloads, server-side subscriptions, BoolValue overrides, int64 as strings), handler fields into
 * results, and JSON form ↔ protobuf form.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as codec from '../../src/proxy/codec.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');

test('results into handler fields', () => {
  assert.deepEqual(
    codec.connectFields({
      user: '42',
      expire_at: '1900000000',
      b64info: b64({ name: 'x' }),
      data: { hello: 1 },
      channels: ['a'],
      subs: { b: { b64data: b64([1]), info: { r: 1 }, override: { presence: { value: true }, join_leave: false } } },
      meta: { tier: 'gold' },
    }),
    {
      user: '42',
      expireAt: 1_900_000_000,
      info: { name: 'x' },
      data: { hello: 1 },
      channels: ['a'],
      subscriptions: { b: { info: { r: 1 }, data: [1], override: { presence: true, join_leave: false } } },
      meta: { tier: 'gold' },
    },
  );
  assert.deepEqual(codec.connectFields({}), { user: '' });
  assert.deepEqual(codec.refreshFields({ expired: true }), { expired: true });
  assert.deepEqual(codec.subscribeFields({ expire_at: 5, override: { force_recovery: { value: false } } }), {
    expireAt: 5,
    override: { force_recovery: false },
  });
  assert.deepEqual(codec.publishFields({ b64data: b64('x'), skip_history: true, tags: { t: '1' } }), { data: 'x', skipHistory: true, tags: { t: '1' } });
  assert.deepEqual(codec.rpcFields({ data: null }), {});
  assert.deepEqual(codec.subRefreshFields({ expire_at: 7, info: 'i' }), { expireAt: 7, info: 'i' });
  for (const bad of [{ user: 1 }, { channels: 'a' }, { expire_at: 'soon' }, { b64data: Buffer.from([0xff, 0xfe]).toString('base64') }]) {
    assert.throws(() => codec.connectFields(bad), codec.BadProxyResponse, JSON.stringify(bad));
  }
});

test('handler fields into results (JSON, or b64 in binary mode)', () => {
  const f = { user: 'u', expireAt: new Date(2_000_000_000_000), info: { a: 1 }, subscriptions: { c: { data: 2, override: { presence: true } } } };
  assert.deepEqual(codec.connectResult(f, false), {
    user: 'u',
    expire_at: 2_000_000_000,
    info: { a: 1 },
    subs: { c: { data: 2, override: { presence: { value: true } } } },
  });
  assert.deepEqual(codec.publishResult({ data: { x: 1 }, skipHistory: true }, true), { b64data: b64({ x: 1 }), skip_history: true });
  assert.deepEqual(codec.rpcResult({ data: Buffer.from([1, 2]) }, false), { b64data: 'AQI=' });
  assert.deepEqual(codec.refreshResult({}, false), {});
});

test('requests carry meta only with include_connection_meta, data as b64data in binary mode', () => {
  const ctx = { client: 'c', transport: 'websocket', protocol: 'json' as const, encoding: 'json' as const, headers: {}, user: 'u', meta: { m: 1 } };
  assert.deepEqual(codec.rpcRequest(ctx, 'm', { p: 1 }, { binary: false, includeMeta: false }), {
    client: 'c',
    transport: 'websocket',
    protocol: 'json',
    encoding: 'json',
    user: 'u',
    method: 'm',
    data: { p: 1 },
  });
  const r = codec.subscribeRequest(ctx, 'ch', '', { p: 1 }, { binary: true, includeMeta: true });
  assert.deepEqual([r['b64data'], r['meta'], 'data' in r, 'token' in r], [b64({ p: 1 }), { m: 1 }, false, false]);
  assert.deepEqual(codec.connectRequest(ctx, undefined, '', '', [], { binary: false, includeMeta: true }), {
    client: 'c',
    transport: 'websocket',
    protocol: 'json',
    encoding: 'json',
  });
});

test('JSON form ↔ protobuf form', () => {
  const proto = codec.toProto({ user: 'u', data: { a: 1 }, meta: 'm', result: { info: [1], subs: { c: { data: true } } } });
  assert.ok(Buffer.isBuffer(proto['data']));
  assert.equal((proto['data'] as Buffer).toString(), '{"a":1}');
  assert.equal(((proto['result'] as Record<string, unknown>)['info'] as Buffer).toString(), '[1]');
  assert.deepEqual(codec.fromProto(proto), { user: 'u', data: { a: 1 }, meta: 'm', result: { info: [1], subs: { c: { data: true } } } });
  // Empty bytes are absent; bytes that are not JSON stay bytes.
  const decoded = codec.fromProto({ data: Buffer.alloc(0), info: Buffer.from([0xff]) });
  assert.equal('data' in decoded, false);
  assert.ok(Buffer.isBuffer(decoded['info']));
});
