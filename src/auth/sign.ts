/**
 * Signing of HMAC tokens, for `gyre gentoken` and tests.
 */
import { SignJWT } from 'jose';

/** Options of {@link signToken}. */
export interface SignTokenOptions {
  /** The HMAC secret (`client.token.hmac_secret_key`); must not be empty. */
  hmacSecret: string;
  /** Default HS256. */
  alg?: 'HS256' | 'HS384' | 'HS512';
  /**
   * Lifetime: sets `exp` to now + ttlSeconds (a negative value makes an already expired token).
   * Absent or 0: `exp` is left as given in `claims` (none when absent).
   */
  ttlSeconds?: number;
}

/**
 * Signs `claims` as a compact JWT with an HMAC secret. `iat` is set to now unless present in
 * `claims`; see {@link SignTokenOptions.ttlSeconds} for `exp`.
 */
export async function signToken(claims: Record<string, unknown>, opts: SignTokenOptions): Promise<string> {
  if (opts.hmacSecret === '') throw new Error('signToken: empty HMAC secret');
  const alg = opts.alg ?? 'HS256';
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = { ...claims };
  if (!Object.hasOwn(payload, 'iat')) payload['iat'] = now;
  const ttl = opts.ttlSeconds;
  if (ttl !== undefined && ttl !== 0) {
    if (!Number.isFinite(ttl)) throw new Error('signToken: ttlSeconds must be a finite number');
    payload['exp'] = now + Math.trunc(ttl);
  }
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(opts.hmacSecret));
}
