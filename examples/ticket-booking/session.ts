/**
 * Sessions in a signed cookie: `booking_session=<user>.<HMAC-SHA256 of the user>`. No session
 * store; the signature is what a forged cookie lacks. The same cookie reaches the app's HTTP routes
 * and Gyre's connect handler (browsers send it with the WebSocket upgrade of the same origin).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'booking_session';

/** The cookies of a `Cookie` header, by name. */
export function parseCookies(header: string | readonly string[] | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  const text = typeof header === 'string' ? header : header === undefined ? '' : header.join('; ');
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    try {
      if (!cookies.has(name)) cookies.set(name, decodeURIComponent(value));
    } catch {
      // a malformed escape: not one of ours
    }
  }
  return cookies;
}

export class Sessions {
  private readonly secret: Buffer;

  /** @param secret the signing key (default: random, so a restart signs everyone out) */
  constructor(secret?: string) {
    this.secret = secret !== undefined && secret !== '' ? Buffer.from(secret) : randomBytes(32);
  }

  private sign(userId: string): string {
    return createHmac('sha256', this.secret).update(userId).digest('base64url');
  }

  /** The `Set-Cookie` value that signs `userId` in. */
  cookieFor(userId: string): string {
    const value = encodeURIComponent(`${userId}.${this.sign(userId)}`);
    return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${7 * 86_400}`;
  }

  /** The `Set-Cookie` value that signs out. */
  clearCookie(): string {
    return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
  }

  /** The signed-in user of a `Cookie` header, or undefined (no cookie, or a bad signature). */
  userOf(cookieHeader: string | readonly string[] | undefined): string | undefined {
    const value = parseCookies(cookieHeader).get(SESSION_COOKIE);
    if (value === undefined) return undefined;
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const userId = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1));
    const expected = Buffer.from(this.sign(userId));
    return given.length === expected.length && timingSafeEqual(given, expected) ? userId : undefined;
  }
}
