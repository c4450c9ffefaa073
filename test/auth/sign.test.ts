import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { signToken, TokenExpiredError, TokenVerifier } from '../../src/auth/index.js';
import { nowSec, SECRET, tokenConfig } from './helpers.js';

describe('signToken', () => {
  it('signs tokens the verifier accepts, with each HMAC alg', async () => {
    const v = new TokenVerifier(tokenConfig({ hmac_secret_key: SECRET }));
    for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
      const token = await signToken({ sub: 'u1', info: { a: 1 } }, { hmacSecret: SECRET, alg, ttlSeconds: 60 });
      assert.equal(decodeProtectedHeader(token).alg, alg);
      const claims = await v.verifyConnectToken(token);
      assert.equal(claims.user, 'u1');
      assert.equal(claims.info, '{"a":1}');
      assert.ok(claims.expireAt !== undefined && Math.abs(claims.expireAt - (nowSec() + 60)) <= 1);
    }
  });

  it('defaults to HS256, sets iat, leaves exp alone without ttl', async () => {
    const token = await signToken({ sub: 'u', exp: 12345678901 }, { hmacSecret: SECRET });
    assert.equal(decodeProtectedHeader(token).alg, 'HS256');
    const payload = decodeJwt(token);
    assert.equal(payload.exp, 12345678901);
    assert.ok(typeof payload.iat === 'number' && Math.abs(payload.iat - nowSec()) <= 1);
    assert.equal(decodeJwt(await signToken({ iat: 5 }, { hmacSecret: SECRET, ttlSeconds: 0 })).iat, 5);
    assert.equal(decodeJwt(await signToken({}, { hmacSecret: SECRET })).exp, undefined);
  });

  it('a negative ttl makes an expired token', async () => {
    const v = new TokenVerifier(tokenConfig({ hmac_secret_key: SECRET }));
    const token = await signToken({ sub: 'u' }, { hmacSecret: SECRET, ttlSeconds: -10 });
    await assert.rejects(v.verifyConnectToken(token), TokenExpiredError);
  });

  it('refuses an empty secret', async () => {
    await assert.rejects(signToken({}, { hmacSecret: '' }), /empty HMAC secret/);
  });
});
