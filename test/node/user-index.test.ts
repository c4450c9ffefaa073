import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserIndex } from '../../src/node/user-index.js';

test('a user with one connection, then two, then one again, then none', () => {
  const index = new UserIndex<{ id: string }>();
  const a = { id: 'a' };
  const b = { id: 'b' };
  index.add('u', a);
  assert.equal(index.count('u'), 1);
  assert.deepEqual(index.of('u'), [a]);
  index.add('u', a); // the same connection twice counts once
  assert.equal(index.count('u'), 1);
  index.add('u', b);
  assert.equal(index.count('u'), 2);
  assert.deepEqual(index.of('u'), [a, b]);
  assert.equal(index.size, 1);
  index.delete('u', a);
  assert.deepEqual(index.of('u'), [b]);
  index.add('u', a);
  assert.deepEqual(index.of('u'), [b, a]);
  index.delete('u', a);
  index.delete('u', b);
  assert.equal(index.count('u'), 0);
  assert.deepEqual(index.of('u'), []);
  assert.equal(index.size, 0);
});

test('deleting a connection the user does not hold changes nothing', () => {
  const index = new UserIndex<{ id: string }>();
  const a = { id: 'a' };
  index.add('u', a);
  index.delete('u', { id: 'other' });
  index.delete('nobody', a);
  assert.deepEqual(index.of('u'), [a]);
  assert.equal(index.size, 1);
});

test('users are counted apart; the anonymous user "" is one user', () => {
  const index = new UserIndex<number>();
  for (let i = 0; i < 5; i++) index.add(`u${i}`, i);
  index.add('', 10);
  index.add('', 11);
  assert.equal(index.size, 6);
  assert.equal(index.count(''), 2);
  assert.equal(index.count('u3'), 1);
});
