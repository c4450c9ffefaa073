/**
 * Typed reading of server API parameters (a wrong type is error 107) and the glob patterns of the
 * `channels` method.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { asParams, bool, boolValue, int, obj, reqStr, str, strList, strMap } from '../../src/api/params.js';
import { ProtocolException } from '../../src/protocol/codes.js';

/** Asserts that `fn` throws the protocol error 107 "bad request". */
function badRequest(fn: () => unknown, what: string): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof ProtocolException && e.error.code === 107 && e.error.message === 'bad request',
    what,
  );
}

describe('server API params', () => {
  test('asParams: objects pass, null/undefined are empty, anything else is 107', () => {
    const p = { a: 1 };
    assert.equal(asParams(p), p);
    assert.deepEqual(asParams(undefined), {});
    assert.deepEqual(asParams(null), {});
    for (const v of [[], [1], 'x', 0, true]) badRequest(() => asParams(v), JSON.stringify(v));
  });

  test('str / reqStr', () => {
    assert.equal(str({ k: 'v' }, 'k'), 'v');
    assert.equal(str({}, 'k'), '');
    assert.equal(str({ k: null }, 'k'), '');
    for (const v of [1, true, {}, ['v']]) badRequest(() => str({ k: v }, 'k'), JSON.stringify(v));
    assert.equal(reqStr({ k: 'v' }, 'k'), 'v');
    badRequest(() => reqStr({}, 'k'), 'missing');
    badRequest(() => reqStr({ k: '' }, 'k'), 'empty');
  });

  test('bool', () => {
    assert.equal(bool({ k: true }, 'k'), true);
    assert.equal(bool({ k: false }, 'k'), false);
    assert.equal(bool({}, 'k'), false);
    for (const v of ['true', 1, 0, {}]) badRequest(() => bool({ k: v }, 'k'), JSON.stringify(v));
  });

  test('int', () => {
    assert.equal(int({ k: 5 }, 'k'), 5);
    assert.equal(int({ k: -1 }, 'k'), -1);
    assert.equal(int({}, 'k'), undefined);
    assert.equal(int({ k: null }, 'k'), undefined);
    for (const v of ['5', 1.5, Number.NaN, true, {}]) badRequest(() => int({ k: v }, 'k'), String(v));
  });

  test('obj', () => {
    assert.deepEqual(obj({ k: { a: 1 } }, 'k'), { a: 1 });
    assert.equal(obj({}, 'k'), undefined);
    for (const v of ['x', 1, [1]]) badRequest(() => obj({ k: v }, 'k'), JSON.stringify(v));
  });

  test('strList', () => {
    assert.deepEqual(strList({ k: ['a', 'b'] }, 'k'), ['a', 'b']);
    assert.deepEqual(strList({}, 'k'), []);
    for (const v of ['a', ['a', 1], [null], {}]) badRequest(() => strList({ k: v }, 'k'), JSON.stringify(v));
  });

  test('strMap', () => {
    assert.deepEqual(strMap({ k: { a: 'x' } }, 'k'), { a: 'x' });
    assert.equal(strMap({}, 'k'), undefined);
    for (const v of [{ a: 1 }, { a: null }, ['x'], 'x']) badRequest(() => strMap({ k: v }, 'k'), JSON.stringify(v));
  });

  test('boolValue: {"value": bool} or a plain boolean', () => {
    assert.equal(boolValue({ k: { value: true } }, 'k'), true);
    assert.equal(boolValue({ k: { value: false } }, 'k'), false);
    assert.equal(boolValue({ k: true }, 'k'), true);
    assert.equal(boolValue({}, 'k'), undefined);
    for (const v of [{}, { value: 'yes' }, 'true', 1]) badRequest(() => boolValue({ k: v }, 'k'), JSON.stringify(v));
  });
});
