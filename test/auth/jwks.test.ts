import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { InvalidTokenError, TokenVerifier, TokenVerifierUnavailableError } from '../../src/auth/index.js';
import { hs, SECRET, tokenConfig } from './helpers.js';
import { closeServer, listen } from '../helpers/wait.js';

interface Keys {
  rsa: { privateKey: CryptoKey; jwk: JWK };
  ec: { privateKey: CryptoKey; jwk: JWK };
}

async function makeKeys(): Promise<Keys> {
  const rsa = await generateKeyPair('RS256');
  const ec = await generateKeyPair('ES256');
  return {
    rsa: { privateKey: rsa.privateKey, jwk: { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' } },
    ec: { privateKey: ec.privateKey, jwk: { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' } },
  };
}

describe('JWKS', () => {
  let server: Server;
  let base = '';
  let keys: Keys;
  const hits = new Map<string, number>();

  before(async () => {
    keys = await makeKeys();
    server = createServer((req, res) => {
      const path = req.url ?? '';
      hits.set(path, (hits.get(path) ?? 0) + 1);
      if (path === '/jwks') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [keys.rsa.jwk, keys.ec.jwk] }));
      } else if (path === '/garbage') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"not":"a jwks"}');
      } else {
        res.writeHead(500);
        res.end('boom');
      }
    });
    await listen(server);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await closeServer(server);
  });

  const verifier = (path: string): TokenVerifier =>
    new TokenVerifier(tokenConfig({ jwks_public_endpoint: `${base}${path}`, hmac_secret_key: SECRET }), null, {
      jwksTimeoutMs: 2000,
    });

  it('selects the key by kid (RSA and EC), fetching the set once', async () => {
    hits.delete('/jwks');
    const v = verifier('/jwks');
    const r = await new SignJWT({ sub: 'r' }).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).sign(keys.rsa.privateKey);
    const e = await new SignJWT({ sub: 'e' }).setProtectedHeader({ alg: 'ES256', kid: 'ec-1' }).sign(keys.ec.privateKey);
    assert.equal((await v.verifyConnectToken(r)).user, 'r');
    assert.equal((await v.verifyConnectToken(e)).user, 'e');
    const s = await new SignJWT({ sub: 's', channel: '$c' })
      .setProtectedHeader({ alg: 'ES256', kid: 'ec-1' })
      .sign(keys.ec.privateKey);
    assert.equal((await v.verifySubscribeToken(s)).channel, '$c');
    assert.equal(hits.get('/jwks'), 1);
  });

  it('a token without kid still resolves when only one key fits its alg', async () => {
    const v = verifier('/jwks');
    const r = await new SignJWT({ sub: 'r' }).setProtectedHeader({ alg: 'RS256' }).sign(keys.rsa.privateKey);
    assert.equal((await v.verifyConnectToken(r)).user, 'r');
  });

  it('rejects an unknown kid, a forged signature and HMAC tokens', async () => {
    const v = verifier('/jwks');
    const unknown = await new SignJWT({ sub: 'x' })
      .setProtectedHeader({ alg: 'RS256', kid: 'nope' })
      .sign(keys.rsa.privateKey);
    await assert.rejects(v.verifyConnectToken(unknown), (e: unknown) => e instanceof InvalidTokenError && /kid/.test(e.reason));

    const other = await generateKeyPair('RS256');
    const forged = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).sign(other.privateKey);
    await assert.rejects(v.verifyConnectToken(forged), (e: unknown) => e instanceof InvalidTokenError && /signature/.test(e.reason));

    // Like Centrifugo, a JWKS endpoint replaces the static keys (the HMAC secret configured here is unused).
    await assert.rejects(v.verifyConnectToken(await hs({ sub: 'x' })), (e: unknown) => e instanceof InvalidTokenError);
  });

  it('an unreachable or broken endpoint is "unavailable", not "invalid"', async () => {
    const r = await new SignJWT({ sub: 'r' }).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).sign(keys.rsa.privateKey);
    for (const path of ['/error', '/garbage']) {
      await assert.rejects(verifier(path).verifyConnectToken(r), (e: unknown) => e instanceof TokenVerifierUnavailableError);
    }
    const closed = createServer();
    await listen(closed);
    const port = (closed.address() as AddressInfo).port;
    await closeServer(closed);
    const v = new TokenVerifier(tokenConfig({ jwks_public_endpoint: `http://127.0.0.1:${port}/jwks` }));
    await assert.rejects(v.verifyConnectToken(r), (e: unknown) => e instanceof TokenVerifierUnavailableError);
  });
});
