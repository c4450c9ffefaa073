/**
 * Admin tokens: what the login hands the admin UI, and what every other admin endpoint asks for.
 * An HS256 JWT signed with `admin.secret`, for the audience "gyre-admin" only (a client connection
 * token, even one signed with the same key, is not an admin token), valid for {@link ADMIN_TOKEN_TTL_S}.
 */
import type { IncomingMessage } from 'node:http';
import { jwtVerify, SignJWT } from 'jose';

/** How long an admin token is valid (seconds): a working day and then some. */
export const ADMIN_TOKEN_TTL_S = 12 * 3600;

const AUDIENCE = 'gyre-admin';
const SUBJECT = 'admin';

/** Issues and checks admin tokens with one secret. */
export class AdminTokens {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  /** A new admin token. */
  issue(): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(SUBJECT)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${ADMIN_TOKEN_TTL_S}s`)
      .sign(this.key);
  }

  /** True when `token` is an admin token of this secret that has not expired. */
  async valid(token: string): Promise<boolean> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], audience: AUDIENCE, subject: SUBJECT });
      return payload.exp !== undefined;
    } catch {
      return false;
    }
  }
}

/**
 * The admin token of a request: `Authorization: token <t>` (as Centrifugo's admin UI sends it), else
 * the `token` query parameter; undefined when there is none.
 */
export function adminTokenOf(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined && header !== '') {
    const parts = header.trim().split(/\s+/);
    return parts.length === 2 && parts[0]!.toLowerCase() === 'token' ? parts[1] : undefined;
  }
  const q = url.searchParams.get('token');
  return q === null || q === '' ? undefined : q;
}
