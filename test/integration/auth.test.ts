/**
 * Connection and subscription token authentication end to end: a real Gyre server, the real
 * `centrifuge` client and raw WebSockets. HMAC (HS256/384/512), RSA, ECDSA and JWKS keys,
 * audience/issuer (exact and regex), HMAC key rotation, `user_id_claim`, token `info`, a separate
 * subscription token key, anonymous connections, `expire_at`, and invalid tokens (3500, terminal).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Centrifuge, Options as CentrifugeOptions, Subscription } from 'centrifuge';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { SECRET, once, startGyre, until, type TestGyre } from '../helpers/gyre.js';
import { closeServer, listen, sleep, waitFor } from '../helpers/wait.js';

type Json = Record<string, any>;

const nowSec = (): number => Math.floor(Date.now() / 1000);

/** Signs `claims` with `key` and `alg` (`iat` now, `exp` in an hour unless given). */
function sign(
  claims: Record<string, unknown>,
  key: CryptoKey | KeyObject | Uint8Array,
  alg: string,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({ iat: nowSec(), exp: nowSec() + 3600, ...claims })
    .setProtectedHeader({ alg, typ: 'JWT', ...header })
    .sign(key);
}

const hmac = (secret: string): Uint8Array => new TextEncoder().encode(secret);

/** How a real client's connect attempt ended. */
type Outcome = { connected: true; client: string } | { connected: false; code: number; reason: string };

/** Connects a real client and waits for `connected` or a terminal `disconnected`. */
function connectReal(gyre: TestGyre, opts: Partial<CentrifugeOptions>): Promise<{ client: Centrifuge; outcome: Outcome }> {
  const client = gyre.client(opts);
  return waitFor('connected or disconnected from a real client', (resolve) => {
    client.once('connected', (ctx) => resolve({ client, outcome: { connected: true, client: ctx.client } }));
    client.once('disconnected', (ctx) => resolve({ client, outcome: { connected: false, code: ctx.code, reason: ctx.reason } }));
    client.connect();
  });
}

/** Subscribes `client` to `channel` and returns the channel's presence entries (server API). */
async function presenceSeenBy(gyre: TestGyre, client: Centrifuge, channel: string): Promise<Json[]> {
  const sub = client.newSubscription(channel);
  const subscribed = once(sub, 'subscribed');
  sub.subscribe();
  await subscribed;
  const res = (await gyre.api('presence', { channel })) as Json;
  client.removeSubscription(sub);
  return Object.values(res['result']['presence']) as Json[];
}

/** The user a real client connected with (as presence reports it), or its terminal close code. */
async function userOf(gyre: TestGyre, token: string, channel: string): Promise<string | number> {
  const { client, outcome } = await connectReal(gyre, { token });
  if (!outcome.connected) return outcome.code;
  const presence = await presenceSeenBy(gyre, client, channel);
  client.disconnect();
  assert.equal(presence.length, 1);
  return presence[0]!['user'] as string;
}

/** Sends a raw connect with `token` and returns the reply, or the close frame if the socket closes. */
async function rawConnect(gyre: TestGyre, token?: string): Promise<Json> {
  const raw = await gyre.raw();
  raw.sendJson({ id: 1, connect: token === undefined ? {} : { token } });
  return Promise.race([raw.reply(1).catch(() => raw.closed.then((c) => ({ closed: c }))), raw.closed.then((c) => ({ closed: c }))]);
}

describe('HMAC, RSA and ECDSA connection tokens', () => {
  let gyre: TestGyre;
  // node:crypto KeyObjects: one RSA key signs RS256, RS384 and RS512 alike.
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let ec: { privateKey: CryptoKey; publicKey: CryptoKey };

  before(async () => {
    ec = await generateKeyPair('ES256');
    gyre = await startGyre({
      client: {
        token: {
          hmac_secret_key: SECRET,
          rsa_public_key: rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string,
          ecdsa_public_key: await exportSPKI(ec.publicKey),
        },
      },
    });
  });
  after(() => gyre.close());

  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    test(`${alg} token: the real client connects as the token's user`, async () => {
      const token = await sign({ sub: `user-${alg}` }, hmac(SECRET), alg);
      assert.equal(await userOf(gyre, token, `who-${alg}`), `user-${alg}`);
    });
  }

  test('RS256 / RS384 / RS512 tokens (rsa_public_key) connect; another RSA key is 3500', async () => {
    for (const alg of ['RS256', 'RS384', 'RS512']) {
      assert.equal(await userOf(gyre, await sign({ sub: `rsa-${alg}` }, rsa.privateKey, alg), `who-${alg}`), `rsa-${alg}`);
    }
    assert.equal(await userOf(gyre, await sign({ sub: 'rsa-user' }, otherRsa.privateKey, 'RS256'), 'who-rsa'), 3500);
  });

  test('ES256 token (ecdsa_public_key) connects; ES384 is not enabled for a P-256 key', async () => {
    assert.equal(await userOf(gyre, await sign({ sub: 'ec-user' }, ec.privateKey, 'ES256'), 'who-ec'), 'ec-user');
    const p384 = await generateKeyPair('ES384');
    assert.equal((await rawConnect(gyre, await sign({ sub: 'ec-user' }, p384.privateKey, 'ES384')))['closed']?.code, 3500);
  });

  test('a token with alg "none" or a tampered payload is 3500', async () => {
    const good = await sign({ sub: 'victim' }, hmac(SECRET), 'HS256');
    const [h, , s] = good.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'admin' })).toString('base64url')}.${s}`;
    assert.equal((await rawConnect(gyre, forged))['closed']?.code, 3500);
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"admin"}').toString('base64url')}.`;
    assert.equal((await rawConnect(gyre, none))['closed']?.code, 3500);
  });

  test('connection token info shows in presence (API and client presence)', async () => {
    const token = await sign({ sub: 'info-user', info: { name: 'Ann', role: 'admin' } }, hmac(SECRET), 'HS256');
    const { client, outcome } = await connectReal(gyre, { token });
    assert.equal(outcome.connected, true);
    // As the client itself sees it (presence command of the real client).
    const own = client.newSubscription('info-presence');
    const ownSubscribed = once(own, 'subscribed');
    own.subscribe();
    await ownSubscribed;
    const seen = Object.values((await own.presence()).clients);
    assert.deepEqual(seen.map((c) => [c.user, c.connInfo]), [['info-user', { name: 'Ann', role: 'admin' }]]);

    const sub = client.newSubscription('info-presence-api');
    const subscribed = once(sub, 'subscribed');
    sub.subscribe();
    await subscribed;
    const res = (await gyre.api('presence', { channel: 'info-presence-api' })) as Json;
    assert.deepEqual(Object.values(res['result']['presence']), [
      { client: (outcome as { client: string }).client, user: 'info-user', conn_info: { name: 'Ann', role: 'admin' } },
    ]);
    client.disconnect();

    // b64info is decoded into the same place.
    const b64 = await sign({ sub: 'b64-user', b64info: Buffer.from('{"x":1}').toString('base64') }, hmac(SECRET), 'HS256');
    const r = await connectReal(gyre, { token: b64 });
    const seenB64 = await presenceSeenBy(gyre, r.client, 'info-presence-b64');
    assert.deepEqual(seenB64.map((c) => c['conn_info']), [{ x: 1 }]);
    r.client.disconnect();
  });

  test('a connection token carrying a "channel" claim (a subscription token) is 3500', async () => {
    const token = await sign({ sub: 'u', channel: 'news' }, hmac(SECRET), 'HS256');
    assert.equal((await rawConnect(gyre, token))['closed']?.code, 3500);
  });

  test('a token whose claims have wrong types is 3500', async () => {
    for (const claims of [{ sub: 42 }, { sub: 'u', exp: 'tomorrow' }, { sub: 'u', channels: 'news' }, { sub: 'u', expire_at: 1.5 }]) {
      const token = await new SignJWT(claims as Record<string, unknown>).setProtectedHeader({ alg: 'HS256' }).sign(hmac(SECRET));
      assert.equal((await rawConnect(gyre, token))['closed']?.code, 3500, JSON.stringify(claims));
    }
  });

  test('an expired token answers 109; the real client fetches a new one with getToken', async () => {
    const expired = await sign({ sub: 'late', exp: nowSec() - 10 }, hmac(SECRET), 'HS256');
    const reply = await rawConnect(gyre, expired);
    assert.equal(reply['error']?.['code'], 109);

    let calls = 0;
    const { client, outcome } = await connectReal(gyre, {
      token: expired,
      getToken: async () => {
        calls++;
        return sign({ sub: 'late' }, hmac(SECRET), 'HS256');
      },
    });
    assert.equal(outcome.connected, true);
    assert.equal(calls, 1);
    client.disconnect();
  });

  test('expire_at in the past with a valid exp: error 110, the real client stops', async () => {
    const token = await sign({ sub: 'gone', expire_at: nowSec() - 5 }, hmac(SECRET), 'HS256');
    const reply = await rawConnect(gyre, token);
    assert.deepEqual(reply['error'], { code: 110, message: 'expired' });
    const { client, outcome } = await connectReal(gyre, { token });
    assert.deepEqual(outcome, { connected: false, code: 110, reason: 'expired' });
    assert.equal(client.state, 'disconnected');
    // expire_at in the future (exp absent) is a connection that expires then.
    const future = await sign({ sub: 'soon', exp: undefined, expire_at: nowSec() + 600 }, hmac(SECRET), 'HS256');
    const ok = await rawConnect(gyre, future);
    assert.equal(ok['connect']?.['expires'], true);
    assert.ok(ok['connect']['ttl'] > 500 && ok['connect']['ttl'] <= 600, `ttl ${ok['connect']['ttl']}`);
  });

  test('an invalid token closes with 3500 and the real client does not reconnect', async () => {
    const before = gyre.logs.filter((l) => l.msg === 'invalid connection token').length;
    const { client, outcome } = await connectReal(gyre, { token: 'not-a-jwt' });
    assert.deepEqual(outcome, { connected: false, code: 3500, reason: 'invalid token' });
    assert.equal(client.state, 'disconnected');
    // Longer than the client's maxReconnectDelay (300 ms): no second attempt was made (a sleep on
    // purpose: it proves something does not happen).
    await sleep(600);
    assert.equal(client.state, 'disconnected');
    assert.equal(gyre.logs.filter((l) => l.msg === 'invalid connection token').length, before + 1);

    const badSig = await sign({ sub: 'u' }, hmac('some-other-secret'), 'HS256');
    const raw = await rawConnect(gyre, badSig);
    assert.deepEqual(raw['closed'], { code: 3500, reason: 'invalid token' });
  });
});

describe('JWKS endpoint', () => {
  let jwks: Server;
  let jwksUrl = '';
  let serveKeys = true;
  let key: { privateKey: CryptoKey; jwk: JWK };
  let gyre: TestGyre;

  before(async () => {
    const pair = await generateKeyPair('RS256');
    key = { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' } };
    jwks = createServer((_req, res) => {
      if (!serveKeys) {
        res.writeHead(503);
        res.end('down');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [key.jwk] }));
    });
    await listen(jwks);
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    gyre = await startGyre({ client: { token: { jwks_public_endpoint: jwksUrl } } });
  });
  after(async () => {
    await gyre.close();
    await closeServer(jwks);
  });

  test('a token signed by a JWKS key (by kid) connects as its user', async () => {
    const token = await sign({ sub: 'jwks-user' }, key.privateKey, 'RS256', { kid: 'k1' });
    assert.equal(await userOf(gyre, token, 'who-jwks'), 'jwks-user');
  });

  test('an unknown kid or an HMAC token is 3500', async () => {
    const other = await generateKeyPair('RS256');
    const unknownKid = await sign({ sub: 'u' }, other.privateKey, 'RS256', { kid: 'k2' });
    assert.equal((await rawConnect(gyre, unknownKid))['closed']?.code, 3500);
    // With a JWKS endpoint, HMAC tokens are not accepted (even though a secret is configured in the base).
    const hs = await sign({ sub: 'u' }, hmac(SECRET), 'HS256');
    assert.equal((await rawConnect(gyre, hs))['closed']?.code, 3500);
  });

  test('JWKS endpoint down: error 100 (temporary), not an invalid token', async () => {
    // A fresh server has not cached the key set yet.
    serveKeys = false;
    const g = await startGyre({ client: { token: { jwks_public_endpoint: jwksUrl } } });
    try {
      const token = await sign({ sub: 'u' }, key.privateKey, 'RS256', { kid: 'k1' });
      const reply = await rawConnect(g, token);
      assert.deepEqual(reply['error'], { code: 100, message: 'internal server error', temporary: true });
      // Once the endpoint is back, the same token works.
      serveKeys = true;
      const again = await rawConnect(g, token);
      assert.equal(typeof again['connect']?.['client'], 'string');
    } finally {
      serveKeys = true;
      await g.close();
    }
  });
});

describe('audience and issuer', () => {
  test('exact audience and issuer', async () => {
    const g = await startGyre({ client: { token: { audience: 'gyre-aud', issuer: 'gyre-iss' } } });
    try {
      const s = (claims: Record<string, unknown>) => sign({ sub: 'aud-user', ...claims }, hmac(SECRET), 'HS256');
      assert.equal(await userOf(g, await s({ aud: 'gyre-aud', iss: 'gyre-iss' }), 'aud-1'), 'aud-user');
      assert.equal(await userOf(g, await s({ aud: ['other', 'gyre-aud'], iss: 'gyre-iss' }), 'aud-2'), 'aud-user');
      assert.equal((await rawConnect(g, await s({ aud: 'other', iss: 'gyre-iss' })))['closed']?.code, 3500);
      assert.equal((await rawConnect(g, await s({ iss: 'gyre-iss' })))['closed']?.code, 3500);
      assert.equal((await rawConnect(g, await s({ aud: 'gyre-aud', iss: 'evil' })))['closed']?.code, 3500);
      assert.equal((await rawConnect(g, await s({ aud: 'gyre-aud' })))['closed']?.code, 3500);
    } finally {
      await g.close();
    }
  });

  test('audience_regex and issuer_regex (Go named groups accepted)', async () => {
    const g = await startGyre({
      client: { token: { audience_regex: '^app-[a-z]+$', issuer_regex: '^https://(?P<tenant>[a-z]+)\\.example\\.com$' } },
    });
    try {
      const s = (claims: Record<string, unknown>) => sign({ sub: 're-user', ...claims }, hmac(SECRET), 'HS256');
      assert.equal(await userOf(g, await s({ aud: 'app-web', iss: 'https://acme.example.com' }), 're-1'), 're-user');
      assert.equal((await rawConnect(g, await s({ aud: 'app-42', iss: 'https://acme.example.com' })))['closed']?.code, 3500);
      assert.equal((await rawConnect(g, await s({ aud: 'app-web', iss: 'https://acme.example.org' })))['closed']?.code, 3500);
      assert.equal((await rawConnect(g, await s({ aud: 'app-web' })))['closed']?.code, 3500);
    } finally {
      await g.close();
    }
  });
});

describe('HMAC key rotation and user_id_claim', () => {
  test('hmac_previous_secret_key: tokens of the old and the new key both connect', async () => {
    const g = await startGyre({ client: { token: { hmac_secret_key: 'new-secret', hmac_previous_secret_key: 'old-secret' } } });
    try {
      assert.equal(await userOf(g, await sign({ sub: 'new' }, hmac('new-secret'), 'HS256'), 'rot-1'), 'new');
      assert.equal(await userOf(g, await sign({ sub: 'old' }, hmac('old-secret'), 'HS512'), 'rot-2'), 'old');
      assert.equal((await rawConnect(g, await sign({ sub: 'x' }, hmac('unrelated'), 'HS256')))['closed']?.code, 3500);
    } finally {
      await g.close();
    }
  });

  test('hmac_previous_secret_key_valid_until in the past: the old key is refused', async () => {
    const g = await startGyre({
      client: {
        token: {
          hmac_secret_key: 'new-secret',
          hmac_previous_secret_key: 'old-secret',
          hmac_previous_secret_key_valid_until: nowSec() - 60,
        },
      },
    });
    try {
      assert.equal((await rawConnect(g, await sign({ sub: 'old' }, hmac('old-secret'), 'HS256')))['closed']?.code, 3500);
      assert.equal(await userOf(g, await sign({ sub: 'new' }, hmac('new-secret'), 'HS256'), 'rot-3'), 'new');
    } finally {
      await g.close();
    }
  });

  test('user_id_claim takes the user from another claim', async () => {
    const g = await startGyre({ client: { token: { user_id_claim: 'user_id' } } });
    try {
      assert.equal(await userOf(g, await sign({ user_id: 'from-claim', sub: 'ignored' }, hmac(SECRET), 'HS256'), 'uid-1'), 'from-claim');
    } finally {
      await g.close();
    }
  });
});

describe('subscription tokens with their own key', () => {
  const SUB_SECRET = 'subscription-secret';
  let gyre: TestGyre;
  before(async () => {
    gyre = await startGyre({ client: { subscription_token: { enabled: true, hmac_secret_key: SUB_SECRET } } });
  });
  after(() => gyre.close());

  /** Subscribes to `channel` with `token`; resolves with 'subscribed' or the unsubscribe code. */
  function subscribeWith(client: Centrifuge, channel: string, token: string): Promise<{ sub: Subscription; result: 'subscribed' | number }> {
    const sub = client.newSubscription(channel, { token });
    return waitFor(`subscribed or unsubscribed on "${channel}"`, (resolve) => {
      sub.once('subscribed', () => resolve({ sub, result: 'subscribed' }));
      sub.once('unsubscribed', (ctx) => resolve({ sub, result: ctx.code }));
      sub.subscribe();
    });
  }

  test('a private channel accepts a token of the subscription key, not of the connection key', async () => {
    const { client, outcome } = await connectReal(gyre, { token: await gyre.token('sub-user') });
    assert.equal(outcome.connected, true);

    const good = await sign({ sub: 'sub-user', channel: '$secret', info: { seat: 7 } }, hmac(SUB_SECRET), 'HS256');
    const ok = await subscribeWith(client, '$secret', good);
    assert.equal(ok.result, 'subscribed');
    const presence = (await gyre.api('presence', { channel: '$secret' })) as Json;
    assert.deepEqual(
      Object.values(presence['result']['presence']).map((c: any) => [c.user, c.chan_info]),
      [['sub-user', { seat: 7 }]],
    );

    const withConnKey = await sign({ sub: 'sub-user', channel: '$other' }, hmac(SECRET), 'HS256');
    assert.equal((await subscribeWith(client, '$other', withConnKey)).result, 103);

    client.disconnect();
  });

  test('a subscription token for another user or channel closes the connection with 3500', async () => {
    // Like Centrifugo: a token that does not match the subscription is an invalid token.
    const raw = await gyre.raw();
    await raw.connect(await gyre.token('sub-user'));
    const otherUser = await sign({ sub: 'someone-else', channel: '$mine' }, hmac(SUB_SECRET), 'HS256');
    raw.sendJson({ id: 2, subscribe: { channel: '$mine', token: otherUser } });
    assert.deepEqual(await raw.closed, { code: 3500, reason: 'invalid token' });

    const { client, outcome } = await connectReal(gyre, { token: await gyre.token('sub-user') });
    assert.equal(outcome.connected, true);
    const disconnected = once<{ code: number }>(client, 'disconnected');
    const otherChannel = await sign({ sub: 'sub-user', channel: '$a' }, hmac(SUB_SECRET), 'HS256');
    client.newSubscription('$b', { token: otherChannel }).subscribe();
    assert.equal((await disconnected).code, 3500);
    assert.equal(client.state, 'disconnected');
  });

  test('a private channel without a token is refused (103)', async () => {
    const raw = await gyre.raw();
    await raw.connect(await gyre.token('no-token'));
    raw.sendJson({ id: 2, subscribe: { channel: '$closed' } });
    assert.deepEqual((await raw.reply(2))['error'], { code: 103, message: 'permission denied' });
  });

  test('a connection token signed with the subscription key is 3500', async () => {
    const token = await sign({ sub: 'u' }, hmac(SUB_SECRET), 'HS256');
    assert.equal((await rawConnect(gyre, token))['closed']?.code, 3500);
  });
});

describe('anonymous connections', () => {
  test('an anonymous token ("sub": "") connects unless disallow_anonymous_connection_tokens', async () => {
    const g = await startGyre();
    const strict = await startGyre({ client: { disallow_anonymous_connection_tokens: true } });
    try {
      const anon = await sign({ sub: '' }, hmac(SECRET), 'HS256');
      assert.equal(await userOf(g, anon, 'anon-1'), '');
      const { client, outcome } = await connectReal(strict, { token: anon });
      assert.deepEqual(outcome, { connected: false, code: 3500, reason: 'invalid token' });
      assert.equal(client.state, 'disconnected');
      // A named user still connects.
      assert.equal(await userOf(strict, await sign({ sub: 'named' }, hmac(SECRET), 'HS256'), 'anon-2'), 'named');
    } finally {
      await g.close();
      await strict.close();
    }
  });

  test('no token: 3501 unless allow_anonymous_connect_without_token', async () => {
    const g = await startGyre();
    const open = await startGyre({ client: { allow_anonymous_connect_without_token: true } });
    try {
      const { client, outcome } = await connectReal(g, {});
      assert.equal(outcome.connected, false);
      assert.equal((outcome as { code: number }).code, 3501);
      assert.equal(client.state, 'disconnected');

      const r = await connectReal(open, {});
      assert.equal(r.outcome.connected, true);
      const seen = await presenceSeenBy(open, r.client, 'anon-open');
      assert.deepEqual(seen.map((c) => c['user']), ['']);
      r.client.disconnect();
      // A token is still checked when given.
      assert.equal((await rawConnect(open, 'garbage'))['closed']?.code, 3500);
    } finally {
      await g.close();
      await open.close();
    }
  });
});

describe('raw protocol around tokens', () => {
  let gyre: TestGyre;
  before(async () => {
    gyre = await startGyre();
  });
  after(() => gyre.close());

  test('the connect reply of a valid token carries client, version and no expiry without exp', async () => {
    const token = await new SignJWT({ sub: 'plain' }).setProtectedHeader({ alg: 'HS256' }).sign(hmac(SECRET));
    const reply = await rawConnect(gyre, token);
    const connect = reply['connect'] as Json;
    assert.equal(typeof connect['client'], 'string');
    assert.equal(typeof connect['version'], 'string');
    assert.equal(connect['expires'], undefined);
    assert.equal(connect['ttl'], undefined);
  });

  test('a token with exp: the connect reply says it expires, with the ttl', async () => {
    const reply = await rawConnect(gyre, await gyre.token('ttl-user', {}, 120));
    assert.equal(reply['connect']['expires'], true);
    assert.ok(reply['connect']['ttl'] > 100 && reply['connect']['ttl'] <= 120, `ttl ${reply['connect']['ttl']}`);
  });

  test('a token granting channels subscribes the connection server-side', async () => {
    const raw = await gyre.raw();
    const reply = (await raw.connect(await gyre.token('chan-user', { channels: ['granted-1', 'granted-2'] }))) as Json;
    assert.deepEqual(Object.keys(reply['connect']['subs']).sort(), ['granted-1', 'granted-2']);
    await until(async () => ((await gyre.api('presence_stats', { channel: 'granted-1' })) as Json)['result']['num_clients'] === 1);
  });
});
