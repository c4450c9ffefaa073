/**
 * CPU per HS256 connection token: Gyre's verifier (node:crypto HMAC, synchronous) against jose's
 * `jwtVerify` (WebCrypto) with the secret given as bytes, as a KeyObject and as a CryptoKey imported
 * once. Each is warmed up on 2,000 tokens, then measured on N more (CPU of the whole process, so
 * WebCrypto's thread-pool work counts), in two rounds.
 *   node --import tsx bench/jwt-verify.ts [N]        (default 20000)
 */
import { createSecretKey } from 'node:crypto';
import { jwtVerify } from 'jose';
import { signToken } from '../src/auth/sign.js';
import { TokenVerifier } from '../src/auth/verifier.js';
import { defaultConfig } from '../src/config/defaults.js';

const SECRET = 'bench-secret';
const n = Number(process.argv[2] ?? 20_000);
const WARM = 2_000;
const tokens = await Promise.all(
  Array.from({ length: n + WARM }, (_, i) => signToken({ sub: `u${i}` }, { hmacSecret: SECRET, ttlSeconds: 3600 })),
);
const gyre = new TokenVerifier({ ...defaultConfig().client.token, hmac_secret_key: SECRET });
const bytes = new TextEncoder().encode(SECRET);
const keyObject = createSecretKey(Buffer.from(SECRET));
const cryptoKey = await crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);

async function measure(label: string, verify: (token: string) => Promise<unknown>): Promise<void> {
  for (const t of tokens.slice(0, WARM)) await verify(t);
  const c0 = process.cpuUsage();
  for (const t of tokens.slice(WARM)) await verify(t);
  const c = process.cpuUsage(c0);
  console.log(`${label.padEnd(28)} ${((c.user + c.system) / n).toFixed(1).padStart(7)} µs CPU / token`);
}

for (let round = 1; round <= 2; round++) {
  console.log(`round ${round}, ${n} tokens:`);
  await measure('Gyre TokenVerifier', (t) => gyre.verifyConnectToken(t));
  await measure('jose jwtVerify, bytes', (t) => jwtVerify(t, bytes));
  await measure('jose jwtVerify, KeyObject', (t) => jwtVerify(t, keyObject));
  await measure('jose jwtVerify, CryptoKey', (t) => jwtVerify(t, cryptoKey));
}
