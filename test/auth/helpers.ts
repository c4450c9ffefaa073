import { CompactSign, SignJWT } from 'jose';
import { defaultConfig } from '../../src/config/defaults.js';
import type { TokenConfig } from '../../src/config/types.js';

/** The default (unused) TokenConfig, then `over`. */
export function tokenConfig(over: Partial<TokenConfig> = {}): TokenConfig {
  return { ...defaultConfig().client.token, ...over };
}

export const SECRET = 'secret-key-for-tests';
export const nowSec = (): number => Math.floor(Date.now() / 1000);

/** Signs claims with HMAC (no defaults added). */
export function hs(
  claims: Record<string, unknown>,
  secret = SECRET,
  alg: 'HS256' | 'HS384' | 'HS512' = 'HS256',
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

/** Signs an arbitrary payload text with HS256 (for payloads that are not JWT claims sets). */
export function hsRaw(payload: string, secret = SECRET): Promise<string> {
  return new CompactSign(new TextEncoder().encode(payload))
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));
}

export function b64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
