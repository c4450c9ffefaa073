import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { addressNumber, ADDRESS_COUNT, sourceAddress } from '../../bench/common.js';
import { firstUnusedAddress } from '../../bench/harness.js';

test('sourceAddress and addressNumber are inverse over the whole range', () => {
  for (const n of [0, 1, 249, 250, 251, 12_345, ADDRESS_COUNT - 1]) {
    const [a, b, third, last] = sourceAddress(n).split('.').map(Number);
    assert.equal(a, 127);
    assert.equal(b, 0);
    assert.ok(last! >= 2 && last! <= 251, `last octet of ${sourceAddress(n)}`);
    assert.equal(addressNumber(third!, last!), n);
  }
  assert.equal(sourceAddress(ADDRESS_COUNT), sourceAddress(0), 'the numbers wrap around');
});

test('a run starts past a source address that still holds a socket', { skip: process.platform !== 'linux' && 'needs /proc/net/tcp' }, async () => {
  const n = 30_000;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, sourceAddress(n), resolve);
  });
  try {
    const first = firstUnusedAddress();
    assert.ok(first > n, `firstUnusedAddress() = ${first} while ${sourceAddress(n)} (number ${n}) has a listening socket`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
