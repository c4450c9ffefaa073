/**
 * The edge of the typed server API: untyped params decoded into typed requests (a wrong type is
 * error 107, absent and null fields are left out, `BoolValue` overrides in either form), batch
 * commands decoded one by one, the shared API key check, and the transport-mode HTTP statuses
 * taken from the code registry.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiKey, keyOfAuthorization } from '../../src/api/api-key.js';
import { decode, decodeBatch, decodeCommand, isBatchMethod } from '../../src/api/decode.js';
import { Errors, ProtocolException, transportStatus } from '../../src/protocol/codes.js';

/** Asserts that `fn` throws the protocol error `code`. */
function throwsCode(fn: () => unknown, code: number, what: string): void {
  assert.throws(fn, (e: unknown) => e instanceof ProtocolException && e.error.code === code, what);
}

describe('decode', () => {
  test('publish: the typed request, absent and null fields left out', () => {
    assert.deepEqual(decode('publish', { channel: 'c', data: { a: 1 }, skip_history: true, tags: { k: 'v' }, idempotency_key: 'k1', delta: false }), {
      channel: 'c',
      data: { a: 1 },
      skip_history: true,
      tags: { k: 'v' },
      idempotency_key: 'k1',
      delta: false,
    });
    assert.deepEqual(decode('publish', { channel: 'c', data: null, b64data: 'eyJhIjoxfQ==', tags: null }), { channel: 'c', b64data: 'eyJhIjoxfQ==' });
    // The meaning (a required channel, a payload) is the executor's to check, not the decoder's.
    assert.deepEqual(decode('publish', {}), { channel: '' });
    assert.deepEqual(decode('publish', null), { channel: '' });
  });

  test('wrong types and non-object params are 107', () => {
    const cases: Array<[Parameters<typeof decode>[0], unknown]> = [
      ['publish', [1]],
      ['publish', 'text'],
      ['publish', { channel: 5 }],
      ['publish', { channel: 'c', skip_history: 'yes' }],
      ['publish', { channel: 'c', tags: { a: 1 } }],
      ['broadcast', { channels: 'c' }],
      ['broadcast', { channels: [1] }],
      ['subscribe', { user: 'u', channel: 'c', recover_since: 'x' }],
      ['subscribe', { user: 'u', channel: 'c', override: { presence: { value: 'yes' } } }],
      ['disconnect', { user: 'u', disconnect: { code: '4000' } }],
      ['disconnect', { user: 'u', whitelist: [1] }],
      ['refresh', { user: 'u', expired: 1 }],
      ['history', { channel: 'c', since: { offset: 'one' } }],
      ['history', { channel: 'c', limit: 1.5 }],
      ['channels', { pattern: 1 }],
      ['rpc', { method: 1 }],
    ];
    for (const [method, params] of cases) throwsCode(() => decode(method, params), Errors.badRequest.code, `${method} ${JSON.stringify(params)}`);
  });

  test('subscribe: positions get their defaults, overrides become BoolValues (plain booleans accepted)', () => {
    assert.deepEqual(
      decode('subscribe', {
        user: 'u',
        channel: 'c',
        client: 'id',
        info: { i: 1 },
        data: 'd',
        recover_since: { offset: 3 },
        override: { presence: true, join_leave: { value: false }, force_recovery: null },
        expire_at: 10,
      }),
      {
        user: 'u',
        channel: 'c',
        client: 'id',
        info: { i: 1 },
        data: 'd',
        recover_since: { offset: 3, epoch: '' },
        override: { presence: { value: true }, join_leave: { value: false } },
        expire_at: 10,
      },
    );
  });

  test('disconnect, refresh, history, channels, info', () => {
    assert.deepEqual(decode('disconnect', { user: 'u', whitelist: ['a'], disconnect: { code: 4000 } }), {
      user: 'u',
      whitelist: ['a'],
      disconnect: { code: 4000, reason: '' },
    });
    assert.deepEqual(decode('refresh', { user: 'u', expired: true, expire_at: 5, info: [1] }), { user: 'u', expired: true, expire_at: 5, info: [1] });
    assert.deepEqual(decode('history', { channel: 'c', limit: -1, since: { epoch: 'e' }, reverse: true }), {
      channel: 'c',
      limit: -1,
      since: { offset: 0, epoch: 'e' },
      reverse: true,
    });
    assert.deepEqual(decode('channels', {}), {});
    assert.deepEqual(decode('channels', { pattern: 'a*' }), { pattern: 'a*' });
    assert.deepEqual(decode('info', { anything: 1 }), {});
  });

  test('batch: the envelope, then each command on its own', () => {
    assert.deepEqual(decodeBatch({ commands: [{ info: {} }], parallel: true }), { commands: [{ info: {} }], parallel: true });
    throwsCode(() => decodeBatch({ commands: {} }), Errors.badRequest.code, 'commands not an array');
    throwsCode(() => decodeBatch({ commands: [], parallel: 'yes' }), Errors.badRequest.code, 'parallel not a boolean');
    assert.deepEqual(decodeCommand({ publish: { channel: 'c', data: 1 } }), { publish: { channel: 'c', data: 1 } });
    // No key naming a method (and `batch` is none inside a batch): an empty command, answered 104 when run.
    assert.deepEqual(decodeCommand({ frobnicate: {} }), {});
    assert.deepEqual(decodeCommand({ batch: { commands: [] } }), {});
    throwsCode(() => decodeCommand({ publish: { channel: 5 } }), Errors.badRequest.code, 'bad params');
    throwsCode(() => decodeCommand('publish'), Errors.badRequest.code, 'not an object');
    assert.equal(isBatchMethod('presence_stats'), true);
    assert.equal(isBatchMethod('batch'), false);
    assert.equal(isBatchMethod('toString'), false);
  });
});

describe('API key', () => {
  test('matches only the configured key; no key configured matches nothing', () => {
    const key = new ApiKey('secret');
    assert.equal(key.configured, true);
    assert.equal(key.matches('secret'), true);
    for (const other of ['Secret', 'secret ', 'secre', '', undefined]) assert.equal(key.matches(other), false, String(other));
    const none = new ApiKey('');
    assert.equal(none.configured, false);
    assert.equal(none.matches(''), false);
    assert.equal(none.matches('secret'), false);
  });

  test('Authorization: apikey <key>', () => {
    assert.equal(keyOfAuthorization('apikey k1'), 'k1');
    assert.equal(keyOfAuthorization('  ApiKey   k1 '), 'k1');
    assert.equal(keyOfAuthorization('Bearer k1'), undefined);
    assert.equal(keyOfAuthorization('apikey'), undefined);
    assert.equal(keyOfAuthorization(undefined), undefined);
    assert.equal(keyOfAuthorization(Buffer.from('apikey k1')), undefined);
  });
});

test('transport error mode: HTTP statuses of the registry codes', () => {
  assert.equal(transportStatus(Errors.internal.code), 500);
  assert.equal(transportStatus(Errors.unknownChannel.code), 404);
  assert.equal(transportStatus(Errors.methodNotFound.code), 404);
  assert.equal(transportStatus(Errors.badRequest.code), 400);
  assert.equal(transportStatus(Errors.notAvailable.code), 400);
  assert.equal(transportStatus(Errors.unrecoverablePosition.code), 416);
  assert.equal(transportStatus(Errors.concurrentPagination.code), 409);
  assert.equal(transportStatus(Errors.limitExceeded.code), 400);
});
