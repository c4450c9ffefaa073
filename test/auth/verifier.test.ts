import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import {
  InvalidTokenError,
  TokenExpiredError,
  TokenVerifier,
  type ConnectTokenClaims,
} from '../../src/auth/index.js';
import type { SubscriptionTokenConfig } from '../../src/config/types.js';
import { b64url, hs, hsRaw, nowSec, SECRET, tokenConfig } from './helpers.js';

const hmacVerifier = (over = {}): TokenVerifier => new TokenVerifier(tokenConfig({ hmac_secret_key: SECRET, ...over }));

async function rejectsInvalid(p: Promise<unknown>, reason?: RegExp): Promise<InvalidTokenError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof InvalidTokenError, `expected InvalidTokenError, got ${String(caught)}`);
  if (reason !== undefined) assert.match(caught.reason, reason);
  return caught;
}

async function rejectsExpired(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof TokenExpiredError && !(e instanceof InvalidTokenError));
}

describe('HMAC', () => {
  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    it(`verifies ${alg}`, async () => {
      const exp = nowSec() + 3600;
      const token = await hs({ sub: 'u1', exp }, SECRET, alg);
      const claims = await hmacVerifier().verifyConnectToken(token);
      assert.deepEqual(claims, { user: 'u1', expireAt: exp, channels: [], subs: {} } satisfies ConnectTokenClaims);
    });
  }

  it('rejects a token signed with another secret', async () => {
    await rejectsInvalid(hmacVerifier().verifyConnectToken(await hs({ sub: 'u1' }, 'other')), /bad signature/);
  });

  it('anonymous token: no sub -> empty user, no exp -> no expireAt', async () => {
    const claims = await hmacVerifier().verifyConnectToken(await hs({}));
    assert.equal(claims.user, '');
    assert.equal(claims.expireAt, undefined);
  });

  it('rejects HMAC tokens when no HMAC key is configured', async () => {
    const { publicKey } = await generateKeyPair('RS256');
    const v = new TokenVerifier(tokenConfig({ rsa_public_key: await exportSPKI(publicKey) }));
    await rejectsInvalid(v.verifyConnectToken(await hs({ sub: 'u1' })), /not enabled/);
  });
});

describe('HMAC key rotation', () => {
  const rotation = (validUntil: number): TokenVerifier =>
    new TokenVerifier(
      tokenConfig({
        hmac_secret_key: 'new-secret',
        hmac_previous_secret_key: 'old-secret',
        hmac_previous_secret_key_valid_until: validUntil,
      }),
    );

  it('accepts the current and the previous key (valid_until 0 = no limit)', async () => {
    const v = rotation(0);
    assert.equal((await v.verifyConnectToken(await hs({ sub: 'a' }, 'new-secret'))).user, 'a');
    assert.equal((await v.verifyConnectToken(await hs({ sub: 'b' }, 'old-secret', 'HS512'))).user, 'b');
    await rejectsInvalid(v.verifyConnectToken(await hs({ sub: 'c' }, 'unknown-secret')), /bad signature/);
  });

  it('honours valid_until', async () => {
    const old = await hs({ sub: 'b' }, 'old-secret');
    assert.equal((await rotation(Date.now() + 60_000).verifyConnectToken(old)).user, 'b');
    await rejectsInvalid(rotation(Date.now() - 1).verifyConnectToken(old), /bad signature/);
    assert.equal((await rotation(Date.now() - 1).verifyConnectToken(await hs({ sub: 'a' }, 'new-secret'))).user, 'a');
  });

  it('an expired token signed with the previous key is expired, not invalid', async () => {
    await rejectsExpired(rotation(0).verifyConnectToken(await hs({ sub: 'b', exp: nowSec() - 10 }, 'old-secret')));
  });

  it('uses the injected clock for valid_until', async () => {
    const cfg = tokenConfig({
      hmac_secret_key: 'new-secret',
      hmac_previous_secret_key: 'old-secret',
      hmac_previous_secret_key_valid_until: 1_000_000,
    });
    const old = await hs({ sub: 'b' }, 'old-secret');
    assert.equal((await new TokenVerifier(cfg, null, { now: () => 999_999 }).verifyConnectToken(old)).user, 'b');
    await rejectsInvalid(new TokenVerifier(cfg, null, { now: () => 1_000_000 }).verifyConnectToken(old));
  });
});

describe('RSA and ECDSA', () => {
  it('verifies RS256/RS384/RS512 with an SPKI PEM, rejects another key', async () => {
    // A node KeyObject is not bound to one hash, so one private key signs all three.
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const v = new TokenVerifier(tokenConfig({ rsa_public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString() }));
    for (const alg of ['RS256', 'RS384', 'RS512']) {
      const token = await new SignJWT({ sub: alg }).setProtectedHeader({ alg }).sign(privateKey);
      assert.equal((await v.verifyConnectToken(token)).user, alg);
    }
    const other = await generateKeyPair('RS256');
    const forged = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256' }).sign(other.privateKey);
    await rejectsInvalid(v.verifyConnectToken(forged), /bad signature/);
  });

  it('accepts a PKCS#1 RSA PEM', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const v = new TokenVerifier(tokenConfig({ rsa_public_key: pem }));
    const token = await new SignJWT({ sub: 'p1' }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    assert.equal((await v.verifyConnectToken(token)).user, 'p1');
  });

  it('rejects an HS256 token signed with the RSA public key as secret (alg confusion)', async () => {
    const { publicKey } = await generateKeyPair('RS256');
    const pem = await exportSPKI(publicKey);
    const v = new TokenVerifier(tokenConfig({ rsa_public_key: pem }));
    await rejectsInvalid(v.verifyConnectToken(await hs({ sub: 'x' }, pem)), /not enabled/);
  });

  it('verifies ES256; ES384 is not enabled by a P-256 key', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const v = new TokenVerifier(tokenConfig({ ecdsa_public_key: await exportSPKI(publicKey) }));
    const token = await new SignJWT({ sub: 'e1' }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    assert.equal((await v.verifyConnectToken(token)).user, 'e1');
    const p384 = await generateKeyPair('ES384');
    const t384 = await new SignJWT({ sub: 'e2' }).setProtectedHeader({ alg: 'ES384' }).sign(p384.privateKey);
    await rejectsInvalid(v.verifyConnectToken(t384), /not enabled/);
    const other = await generateKeyPair('ES256');
    const forged = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'ES256' }).sign(other.privateKey);
    await rejectsInvalid(v.verifyConnectToken(forged), /bad signature/);
  });

  it('verifies ES384 and ES512 with keys on their curves', async () => {
    for (const alg of ['ES384', 'ES512']) {
      const { publicKey, privateKey } = await generateKeyPair(alg);
      const v = new TokenVerifier(tokenConfig({ ecdsa_public_key: await exportSPKI(publicKey) }));
      const token = await new SignJWT({ sub: alg }).setProtectedHeader({ alg }).sign(privateKey);
      assert.equal((await v.verifyConnectToken(token)).user, alg);
    }
  });

  it('HMAC, RSA and ECDSA can be configured together', async () => {
    const rsa = await generateKeyPair('RS256');
    const ec = await generateKeyPair('ES256');
    const v = new TokenVerifier(
      tokenConfig({
        hmac_secret_key: SECRET,
        rsa_public_key: await exportSPKI(rsa.publicKey),
        ecdsa_public_key: await exportSPKI(ec.publicKey),
      }),
    );
    assert.equal((await v.verifyConnectToken(await hs({ sub: 'h' }))).user, 'h');
    const r = await new SignJWT({ sub: 'r' }).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey);
    assert.equal((await v.verifyConnectToken(r)).user, 'r');
    const e = await new SignJWT({ sub: 'e' }).setProtectedHeader({ alg: 'ES256' }).sign(ec.privateKey);
    assert.equal((await v.verifyConnectToken(e)).user, 'e');
  });
});

describe('algorithms and malformed tokens', () => {
  it('rejects alg none', async () => {
    const token = `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url('{"sub":"root"}')}.`;
    await rejectsInvalid(hmacVerifier().verifyConnectToken(token), /"none" is not enabled/);
  });

  it('rejects unsupported algorithms and a missing alg', async () => {
    const sig = b64url('x');
    for (const header of ['{"alg":"PS256"}', '{"alg":"HS1"}', '{"typ":"JWT"}', '{"alg":""}', '{"alg":5}']) {
      await rejectsInvalid(hmacVerifier().verifyConnectToken(`${b64url(header)}.${b64url('{}')}.${sig}`));
    }
  });

  it('rejects malformed strings', async () => {
    const good = await hs({ sub: 'u' });
    const [h, p, s] = good.split('.') as [string, string, string];
    const bad = [
      '',
      'abc',
      'a.b.c',
      `${h}.${p}`,
      `${h}.${p}.${s}.extra`,
      `${h}..${s}`,
      `!!!.${p}.${s}`,
      `${b64url('not json')}.${p}.${s}`,
      `${b64url('[1,2]')}.${p}.${s}`,
      `${b64url('42')}.${p}.${s}`,
      `${b64url('null')}.${p}.${s}`,
      `${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.${p}.${s}`,
      `${h}=.${p}.${s}`,
      `${h}.${p}.${s}x`,
      `${h}.${p}x.${s}`,
    ];
    for (const token of bad) await rejectsInvalid(hmacVerifier().verifyConnectToken(token));
  });

  it('rejects a second spelling of the same signature (nonzero unused bits in its last character)', async () => {
    const good = await hs({ sub: 'u' });
    const [h, p, s] = good.split('.') as [string, string, string];
    // An HS256 signature is 32 bytes: 43 characters, the last one carrying 2 unused bits.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(s.at(-1)!);
    const twin = `${s.slice(0, -1)}${alphabet[last ^ 1]}`;
    assert.deepEqual(Buffer.from(twin, 'base64url'), Buffer.from(s, 'base64url'), 'both spellings decode to the same bytes');
    assert.equal((await hmacVerifier().verifyConnectToken(good)).user, 'u');
    await rejectsInvalid(hmacVerifier().verifyConnectToken(`${h}.${p}.${twin}`));
  });

  it('rejects a signed payload that is not a JSON object', async () => {
    for (const payload of ['not json', '[1,2]', '"str"', 'null', '42']) {
      await rejectsInvalid(hmacVerifier().verifyConnectToken(await hsRaw(payload)), /payload/);
    }
  });

  it('rejects the unencoded-payload (b64) header', async () => {
    const token = `${b64url('{"alg":"HS256","b64":false,"crit":["b64"]}')}.${b64url('{}')}.${b64url('x')}`;
    await rejectsInvalid(hmacVerifier().verifyConnectToken(token), /b64/);
  });
});

describe('audience and issuer', () => {
  it('audience: string or array must contain it', async () => {
    const v = hmacVerifier({ audience: 'gyre' });
    assert.equal((await v.verifyConnectToken(await hs({ sub: 'u', aud: 'gyre' }))).user, 'u');
    assert.equal((await v.verifyConnectToken(await hs({ sub: 'u', aud: ['x', 'gyre'] }))).user, 'u');
    await rejectsInvalid(v.verifyConnectToken(await hs({ sub: 'u', aud: 'other' })), /audience/);
    await rejectsInvalid(v.verifyConnectToken(await hs({ sub: 'u' })), /audience/);
    await rejectsInvalid(v.verifyConnectToken(await hs({ sub: 'u', aud: 5 })), /aud/);
  });

  it('audience_regex (Go syntax with named groups)', async () => {
    const v = hmacVerifier({ audience_regex: '^(?P<tenant>[a-z]+)\\.gyre$' });
    assert.equal((await v.verifyConnectToken(await hs({ sub: 'u', aud: 'acme.gyre' }))).user, 'u');
    assert.equal((await v.verifyConnectToken(await hs({ sub: 'u', aud: ['no', 'acme.gyre'] }))).user, 'u');
    await rejectsInvalid(v.verifyConnectToken(await hs({ sub: 'u', aud: 'ACME.gyre' })), /audience/);
    await rejectsInvalid(v.verifyConnectToken(await hs({ sub: 'u' })), /audience/);
  });

  it('issuer and issuer_regex', async () => {
    const v = hmacVerifier({ issuer: 'https://auth.example' });
    assert.equal((await v.verifyConnectToken(await hs({ sub: 'u', iss: 'https://auth.example' }))).user, 'u');
    await rejectsInvalid(v.verifyConnectToken(await hs({ sub: 'u', iss: 'https://evil' })), /issuer/);
    await rejectsInvalid(v.verifyConnectToken(await hs({ sub: 'u' })), /issuer/);
    await rejectsInvalid(v.verifyConnectToken(await hs({ sub: 'u', iss: 1 })), /iss/);

    const r = hmacVerifier({ issuer_regex: '(?i)^https://(auth|sso)\\.example$' });
    assert.equal((await r.verifyConnectToken(await hs({ sub: 'u', iss: 'https://SSO.example' }))).user, 'u');
    await rejectsInvalid(r.verifyConnectToken(await hs({ sub: 'u', iss: 'https://other.example' })), /issuer/);
  });

  it('audience/issuer rules apply to subscription tokens too', async () => {
    const v = hmacVerifier({ audience: 'gyre', issuer: 'me' });
    const ok = await hs({ sub: 'u', channel: '$c', aud: 'gyre', iss: 'me' });
    assert.equal((await v.verifySubscribeToken(ok)).channel, '$c');
    await rejectsInvalid(v.verifySubscribeToken(await hs({ sub: 'u', channel: '$c', aud: 'gyre' })), /issuer/);
  });

  it('rejects exclusive or invalid settings at construction', () => {
    assert.throws(() => hmacVerifier({ audience: 'a', audience_regex: 'a' }), /exclusive/);
    assert.throws(() => hmacVerifier({ issuer: 'a', issuer_regex: 'a' }), /exclusive/);
    assert.throws(() => hmacVerifier({ issuer_regex: '(' }), /issuer_regex/);
  });
});

describe('user_id_claim', () => {
  it('picks the user from the configured claim', async () => {
    const v = hmacVerifier({ user_id_claim: 'user_id' });
    assert.equal((await v.verifyConnectToken(await hs({ sub: 'ignored', user_id: '42' }))).user, '42');
    assert.equal((await v.verifyConnectToken(await hs({ user_id: 42 }))).user, '42');
    assert.equal((await v.verifyConnectToken(await hs({ sub: 'ignored' }))).user, '');
    await rejectsInvalid(v.verifyConnectToken(await hs({ user_id: { id: 1 } })), /user_id/);
    assert.equal((await v.verifySubscribeToken(await hs({ user_id: 'u7', channel: 'c' }))).user, 'u7');
  });

  it('a dotted path reaches a nested claim', async () => {
    const v = hmacVerifier({ user_id_claim: 'user.id' });
    assert.equal((await v.verifyConnectToken(await hs({ user: { id: 'n1' } }))).user, 'n1');
    assert.equal((await v.verifyConnectToken(await hs({ 'user.id': 'flat' }))).user, 'flat');
  });

  it('does not read inherited properties', async () => {
    const v = hmacVerifier({ user_id_claim: 'constructor' });
    assert.equal((await v.verifyConnectToken(await hs({}))).user, '');
  });

  it('sub must be a string', async () => {
    await rejectsInvalid(hmacVerifier().verifyConnectToken(await hs({ sub: 5 })), /sub/);
  });
});

describe('expiry', () => {
  it('exp in the past -> TokenExpiredError (connect and subscribe)', async () => {
    const v = hmacVerifier();
    await rejectsExpired(v.verifyConnectToken(await hs({ sub: 'u', exp: nowSec() - 1 })));
    await rejectsExpired(v.verifySubscribeToken(await hs({ sub: 'u', channel: 'c', exp: nowSec() - 1 })));
  });

  it('nbf in the future -> TokenExpiredError (as Centrifugo)', async () => {
    await rejectsExpired(hmacVerifier().verifyConnectToken(await hs({ sub: 'u', nbf: nowSec() + 60 })));
    assert.equal((await hmacVerifier().verifyConnectToken(await hs({ sub: 'u', nbf: nowSec() - 1 }))).user, 'u');
  });

  it('an invalid token is invalid even when expired', async () => {
    const exp = nowSec() - 10;
    await rejectsInvalid(hmacVerifier().verifyConnectToken(await hs({ sub: 'u', exp }, 'other')), /signature/);
    await rejectsInvalid(hmacVerifier().verifyConnectToken(await hs({ sub: 'u', exp, channel: 'c' })), /channel/);
    await rejectsInvalid(hmacVerifier().verifySubscribeToken(await hs({ sub: 'u', exp })), /channel/);
    await rejectsInvalid(hmacVerifier({ audience: 'a' }).verifyConnectToken(await hs({ exp })), /audience/);
  });

  it('uses the injected clock', async () => {
    const token = await hs({ sub: 'u', exp: 1000 });
    const at = (ms: number): TokenVerifier => new TokenVerifier(tokenConfig({ hmac_secret_key: SECRET }), null, { now: () => ms });
    assert.equal((await at(999_999).verifyConnectToken(token)).expireAt, 1000);
    await rejectsExpired(at(1_000_000).verifyConnectToken(token));
  });

  it('rejects non-numeric time claims', async () => {
    for (const claim of ['exp', 'nbf', 'iat']) {
      await rejectsInvalid(hmacVerifier().verifyConnectToken(await hs({ sub: 'u', [claim]: '123' })), new RegExp(claim));
    }
  });

  it('fractional exp is floored into expireAt', async () => {
    const exp = nowSec() + 100.7;
    assert.equal((await hmacVerifier().verifyConnectToken(await hs({ exp }))).expireAt, Math.floor(exp));
  });
});

describe('expire_at', () => {
  it('overrides exp for the connection lifetime', async () => {
    const expireAt = nowSec() + 7200;
    const claims = await hmacVerifier().verifyConnectToken(await hs({ sub: 'u', exp: nowSec() + 60, expire_at: expireAt }));
    assert.equal(claims.expireAt, expireAt);
  });

  it('0 means the connection never expires, even with exp', async () => {
    const claims = await hmacVerifier().verifyConnectToken(await hs({ sub: 'u', exp: nowSec() + 60, expire_at: 0 }));
    assert.equal(claims.expireAt, undefined);
    assert.equal(Object.hasOwn(claims, 'expireAt'), false);
  });

  it('null is the same as absent: exp is used', async () => {
    const exp = nowSec() + 60;
    assert.equal((await hmacVerifier().verifyConnectToken(await hs({ exp, expire_at: null }))).expireAt, exp);
  });

  it('in the past with a valid exp: the token is valid, expireAt is returned (caller answers 110)', async () => {
    const past = nowSec() - 100;
    const claims = await hmacVerifier().verifyConnectToken(await hs({ sub: 'u', exp: nowSec() + 60, expire_at: past }));
    assert.equal(claims.expireAt, past);
  });

  it('does not save a token whose exp is past', async () => {
    await rejectsExpired(hmacVerifier().verifyConnectToken(await hs({ exp: nowSec() - 1, expire_at: nowSec() + 3600 })));
  });

  it('must be an integer', async () => {
    for (const expire_at of ['123', 1.5, true, {}]) {
      await rejectsInvalid(hmacVerifier().verifyConnectToken(await hs({ expire_at })), /expire_at/);
    }
  });

  it('applies to subscription tokens', async () => {
    const expireAt = nowSec() + 500;
    const v = hmacVerifier();
    assert.equal((await v.verifySubscribeToken(await hs({ channel: 'c', exp: nowSec() + 5, expire_at: expireAt }))).expireAt, expireAt);
    assert.equal((await v.verifySubscribeToken(await hs({ channel: 'c', exp: nowSec() + 5, expire_at: 0 }))).expireAt, undefined);
  });
});

describe('connection token claims', () => {
  it('rejects a non-empty channel claim (a subscription token used to connect)', async () => {
    await rejectsInvalid(hmacVerifier().verifyConnectToken(await hs({ sub: 'u', channel: 'news' })), /channel/);
    await rejectsInvalid(hmacVerifier().verifyConnectToken(await hs({ sub: 'u', channel: 1 })), /channel/);
    assert.equal((await hmacVerifier().verifyConnectToken(await hs({ sub: 'u', channel: '' }))).user, 'u');
  });

  it('info: any JSON value becomes JSON text; b64info is decoded and wins', async () => {
    const v = hmacVerifier();
    assert.equal((await v.verifyConnectToken(await hs({ info: { name: 'Ann', tags: [1, 2] } }))).info, '{"name":"Ann","tags":[1,2]}');
    assert.equal((await v.verifyConnectToken(await hs({ info: 'plain' }))).info, '"plain"');
    assert.equal((await v.verifyConnectToken(await hs({ info: 0 }))).info, '0');
    assert.equal((await v.verifyConnectToken(await hs({ info: null }))).info, undefined);
    const b64info = Buffer.from('{"name":"Bob"}').toString('base64');
    assert.equal((await v.verifyConnectToken(await hs({ b64info }))).info, '{"name":"Bob"}');
    assert.equal((await v.verifyConnectToken(await hs({ info: { a: 1 }, b64info }))).info, '{"name":"Bob"}');
    assert.equal((await v.verifyConnectToken(await hs({ info: { a: 1 }, b64info: '' }))).info, '{"a":1}');
    assert.equal((await v.verifyConnectToken(await hs({ b64info: 'aGk=\n' }))).info, 'hi');
  });

  it('rejects bad b64info', async () => {
    const v = hmacVerifier();
    for (const b64info of ['not base64!', 'aGk', 'aGk=a', 'aGk-', 5]) {
      await rejectsInvalid(v.verifyConnectToken(await hs({ b64info })), /b64info/);
    }
  });

  it('channels must be an array of strings', async () => {
    const v = hmacVerifier();
    assert.deepEqual((await v.verifyConnectToken(await hs({ channels: ['a', 'b:c'] }))).channels, ['a', 'b:c']);
    assert.deepEqual((await v.verifyConnectToken(await hs({ channels: null }))).channels, []);
    for (const channels of ['a', ['a', 1], { a: 1 }, [null]]) {
      await rejectsInvalid(v.verifyConnectToken(await hs({ channels })), /channels/);
    }
  });

  it('subs: info/b64info, data/b64data, override', async () => {
    const claims = await hmacVerifier().verifyConnectToken(
      await hs({
        sub: 'u',
        subs: {
          news: { info: { a: 1 }, data: [1], override: { presence: { value: true }, join_leave: { value: false } } },
          chat: { b64info: Buffer.from('i').toString('base64'), b64data: Buffer.from('d').toString('base64') },
          empty: {},
          nulled: null,
          ov: {
            override: {
              force_push_join_leave: { value: true },
              force_recovery: {},
              force_positioning: null,
              unknown_option: 5,
            },
          },
        },
      }),
    );
    assert.deepEqual(claims.subs, {
      news: { info: '{"a":1}', data: '[1]', override: { presence: true, join_leave: false } },
      chat: { info: 'i', data: 'd' },
      empty: {},
      nulled: {},
      ov: { override: { force_push_join_leave: true, force_recovery: false } },
    });
  });

  it('subs: strict types', async () => {
    const v = hmacVerifier();
    const bad: unknown[] = [
      [],
      'x',
      { c: [] },
      { c: 'x' },
      { c: { b64data: 'bad!' } },
      { c: { b64info: 1 } },
      { c: { override: [] } },
      { c: { override: { presence: true } } },
      { c: { override: { presence: { value: 'yes' } } } },
    ];
    for (const subs of bad) await rejectsInvalid(v.verifyConnectToken(await hs({ subs })), /subs/);
  });

  it('subs: a "__proto__" channel is an own key, not a prototype', async () => {
    const token = await hsRaw('{"subs":{"__proto__":{"info":1}}}');
    const claims = await hmacVerifier().verifyConnectToken(token);
    assert.equal(Object.getPrototypeOf(claims.subs), Object.prototype);
    assert.deepEqual(Object.keys(claims.subs), ['__proto__']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(claims.subs, '__proto__')?.value, { info: '1' });
  });

  it('meta passes through as parsed JSON', async () => {
    const claims = await hmacVerifier().verifyConnectToken(await hs({ meta: { plan: 'pro', n: [1] } }));
    assert.deepEqual(claims.meta, { plan: 'pro', n: [1] });
    assert.equal((await hmacVerifier().verifyConnectToken(await hs({ meta: null }))).meta, undefined);
  });

  it('other registered claims are type-checked', async () => {
    await rejectsInvalid(hmacVerifier().verifyConnectToken(await hs({ jti: 1 })), /jti/);
    assert.equal((await hmacVerifier().verifyConnectToken(await hs({ sub: 'u', jti: 'id', iat: nowSec() }))).user, 'u');
  });
});

describe('subscription tokens', () => {
  it('returns the typed claims', async () => {
    const exp = nowSec() + 60;
    const claims = await hmacVerifier().verifySubscribeToken(
      await hs({
        sub: 'u1',
        channel: '$private',
        client: 'client-id',
        exp,
        info: { role: 'admin' },
        b64data: Buffer.from('{"x":1}').toString('base64'),
        override: { force_recovery: { value: true } },
      }),
    );
    assert.deepEqual(claims, {
      user: 'u1',
      channel: '$private',
      client: 'client-id',
      expireAt: exp,
      info: '{"role":"admin"}',
      data: '{"x":1}',
      override: { force_recovery: true },
    });
  });

  it('requires a non-empty channel claim', async () => {
    const v = hmacVerifier();
    await rejectsInvalid(v.verifySubscribeToken(await hs({ sub: 'u' })), /channel/);
    await rejectsInvalid(v.verifySubscribeToken(await hs({ sub: 'u', channel: '' })), /channel/);
    await rejectsInvalid(v.verifySubscribeToken(await hs({ sub: 'u', channel: ['a'] })), /channel/);
  });

  it('type-checks client, data, b64data and override', async () => {
    const v = hmacVerifier();
    await rejectsInvalid(v.verifySubscribeToken(await hs({ channel: 'c', client: 1 })), /client/);
    await rejectsInvalid(v.verifySubscribeToken(await hs({ channel: 'c', b64data: '%%' })), /b64data/);
    await rejectsInvalid(v.verifySubscribeToken(await hs({ channel: 'c', override: { join_leave: false } })), /override/);
    const claims = await v.verifySubscribeToken(await hs({ channel: 'c', client: '', data: 'text' }));
    assert.deepEqual(claims, { user: '', channel: 'c', data: '"text"' });
  });

  it('uses client.subscription_token when enabled', async () => {
    const sub: SubscriptionTokenConfig = { ...tokenConfig({ hmac_secret_key: 'sub-secret' }), enabled: true };
    const v = new TokenVerifier(tokenConfig({ hmac_secret_key: SECRET }), sub);
    assert.equal((await v.verifySubscribeToken(await hs({ channel: 'c' }, 'sub-secret'))).channel, 'c');
    await rejectsInvalid(v.verifySubscribeToken(await hs({ channel: 'c' }, SECRET)), /signature/);
    assert.equal((await v.verifyConnectToken(await hs({ sub: 'u' }, SECRET))).user, 'u');
    await rejectsInvalid(v.verifyConnectToken(await hs({ sub: 'u' }, 'sub-secret')), /signature/);
  });

  it('falls back to client.token when subscription_token is disabled', async () => {
    const sub: SubscriptionTokenConfig = { ...tokenConfig({ hmac_secret_key: 'sub-secret' }), enabled: false };
    const v = new TokenVerifier(tokenConfig({ hmac_secret_key: SECRET }), sub);
    assert.equal((await v.verifySubscribeToken(await hs({ channel: 'c' }, SECRET))).channel, 'c');
    await rejectsInvalid(v.verifySubscribeToken(await hs({ channel: 'c' }, 'sub-secret')), /signature/);
  });
});

describe('configuration errors', () => {
  it('rejects unparsable, private, wrong-type and small keys', async () => {
    assert.throws(() => new TokenVerifier(tokenConfig({ rsa_public_key: 'garbage' })), /rsa_public_key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaPrivatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => new TokenVerifier(tokenConfig({ rsa_public_key: rsaPrivatePem })), /private key/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecPem = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    assert.throws(() => new TokenVerifier(tokenConfig({ rsa_public_key: ecPem })), /expected an RSA key/);
    const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    assert.throws(() => new TokenVerifier(tokenConfig({ ecdsa_public_key: rsaPem })), /EC key/);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const smallPem = small.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    assert.throws(() => new TokenVerifier(tokenConfig({ rsa_public_key: smallPem })), /2048/);
  });

  it('rejects bad JWKS endpoints', () => {
    assert.throws(() => new TokenVerifier(tokenConfig({ jwks_public_endpoint: 'not a url' })), /jwks_public_endpoint/);
    assert.throws(() => new TokenVerifier(tokenConfig({ jwks_public_endpoint: 'ftp://x/jwks' })), /http/);
    assert.throws(
      () => new TokenVerifier(tokenConfig({ jwks_public_endpoint: 'https://x/{{tenant}}/jwks' })),
      /templated/,
    );
  });

  it('with no key configured every token is invalid', async () => {
    const v = new TokenVerifier(tokenConfig());
    await rejectsInvalid(v.verifyConnectToken(await hs({ sub: 'u' })), /not enabled/);
  });
});

describe('HMAC fast path (node:crypto)', () => {
  const verifier = () => new TokenVerifier(tokenConfig({ hmac_secret_key: SECRET }));

  it('rejects a "crit" header, a tampered signature, non-canonical base64url and extra segments', async () => {
    const good = await hs({ sub: '1' });
    const [h, p, sig] = good.split('.') as [string, string, string];
    const critHeader = b64url(JSON.stringify({ alg: 'HS256', crit: ['exp'] }));
    const bad = [
      `${critHeader}.${p}.${sig}`,
      `${h}.${p}.${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`,
      `${h}.${p}.${sig}=`,
      `${h}.${p}+.${sig}`,
      `${h}.${p}.${sig}.x`,
      `${h}.${p}`,
    ];
    for (const token of bad) {
      await assert.rejects(verifier().verifyConnectToken(token), InvalidTokenError, token);
    }
    assert.equal((await verifier().verifyConnectToken(good)).user, '1');
  });
});
