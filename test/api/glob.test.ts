/**
 * Glob patterns of the `channels` API method: the matcher agrees with a plain dynamic-programming
 * reference on seeded random patterns and names, and never backtracks on patterns built to blow up
 * a backtracking matcher.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileGlob } from '../../src/api/glob.js';

/** Reference matcher: classic DP over code points, obviously correct, quadratic. */
function reference(pattern: string, name: string): boolean {
  const p = Array.from(pattern);
  const s = Array.from(name);
  let row = new Array<boolean>(s.length + 1).fill(false);
  row[0] = true;
  for (const pc of p) {
    const next = new Array<boolean>(s.length + 1).fill(false);
    if (pc === '*') {
      next[0] = row[0]!;
      for (let j = 1; j <= s.length; j++) next[j] = row[j]! || next[j - 1]!;
    } else {
      for (let j = 1; j <= s.length; j++) next[j] = row[j - 1]! && (pc === '?' || pc === s[j - 1]);
    }
    row = next;
  }
  return row[s.length]!;
}

/** A small seeded PRNG (mulberry32): the same cases on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('channels glob patterns', () => {
  test('* matches any run, ? one character, the whole name must match', () => {
    const news = compileGlob('news:*');
    assert.equal(news('news:'), true);
    assert.equal(news('news:sport'), true);
    assert.equal(news('xnews:sport'), false);
    const chat = compileGlob('chat-?');
    assert.equal(chat('chat-1'), true);
    assert.equal(chat('chat-12'), false);
    assert.equal(chat('chat-'), false);
    assert.equal(compileGlob('news')('news'), true);
    assert.equal(compileGlob('news')('news2'), false);
    assert.equal(compileGlob('news')('old-news'), false);
    assert.equal(compileGlob('a*a')('a'), false, 'first and last pieces may not overlap');
    assert.equal(compileGlob('*')(''), true);
  });

  test('regex metacharacters are literal', () => {
    assert.equal(compileGlob('a.b+(c)[d]$^|{e}\\')('a.b+(c)[d]$^|{e}\\'), true);
    assert.equal(compileGlob('a.b+(c)[d]$^|{e}\\')('axb+(c)[d]$^|{e}\\'), false);
    assert.equal(compileGlob('v1.*')('v1x2'), false);
    assert.equal(compileGlob('v1.*')('v1.2'), true);
  });

  test('? is one character, also outside the BMP', () => {
    assert.equal(compileGlob('room-?')('room-😀'), true);
    assert.equal(compileGlob('room-?')('room-é'), true);
    assert.equal(compileGlob('?-*')('😀-x'), true);
  });

  test('agrees with a reference matcher on 20,000 seeded random cases', () => {
    const rnd = prng(20261206);
    const alphabet = ['a', 'b', 'c', ':'];
    const pick = (chars: string[], n: number) => Array.from({ length: n }, () => chars[Math.floor(rnd() * chars.length)]).join('');
    for (let i = 0; i < 20_000; i++) {
      const pattern = pick([...alphabet, '*', '?'], Math.floor(rnd() * 8));
      const name = pick(alphabet, Math.floor(rnd() * 10));
      assert.equal(compileGlob(pattern)(name), reference(pattern, name), `pattern ${JSON.stringify(pattern)}, name ${JSON.stringify(name)}`);
    }
  });

  test('patterns that make a backtracking matcher explode are matched at once', () => {
    const name = 'a'.repeat(255);
    // With a backtracking regex each extra "*a" multiplies the work; here it is one pass.
    for (const pattern of ['*a*a*a*a*a*a*a*a*a*a*a*ab', '*a?a*a?a*a?a*a?a*a?a*ab', `${'*a'.repeat(200)}*b`]) {
      assert.equal(compileGlob(pattern)(name), false, pattern);
      assert.equal(compileGlob(pattern)(name + 'b'), true, pattern);
    }
  });
});
