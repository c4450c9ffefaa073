/**
 * The `client.allowed_origins` check for browser connections. Patterns may hold `*` wildcards
 * (`https://*.example.com`). With no patterns only same-origin requests (or requests without an
 * Origin header, which browsers always send) are accepted, unless the node is insecure.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log.js';

/** A refused origin is logged at most once per this many ms. */
const LOG_EVERY_MS = 60_000;
/** Origins remembered for that; beyond, the memory starts over. */
const MAX_REMEMBERED = 1000;

export class OriginCheck {
  private readonly patterns: RegExp[];
  private readonly loggedAt = new Map<string, number>();

  constructor(
    allowed: readonly string[],
    private readonly insecure: boolean,
  ) {
    this.patterns = allowed.map(
      (p) => new RegExp('^' + p.toLowerCase().split('*').map(escapeRegex).join('.*') + '$'),
    );
  }

  /** Logs a refused origin, at most once a minute per origin. */
  logRefused(origin: string, log: Logger, transport: string): void {
    const now = Date.now();
    const last = this.loggedAt.get(origin);
    if (last !== undefined && now - last < LOG_EVERY_MS) return;
    if (this.loggedAt.size >= MAX_REMEMBERED) this.loggedAt.clear();
    this.loggedAt.set(origin, now);
    log.warn(
      { transport, origin },
      `origin ${JSON.stringify(origin)} is not allowed: refused with 403; to accept pages from it, add it to client.allowed_origins ` +
        `(e.g. "allowed_origins": [${JSON.stringify(origin)}]; patterns like "https://*.example.com" work)`,
    );
  }

  /** True when the request's Origin may connect. */
  allows(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined || origin === '') return true;
    const o = origin.toLowerCase();
    if (this.patterns.length > 0) return this.patterns.some((re) => re.test(o));
    if (this.insecure) return true;
    try {
      return new URL(o).host === (req.headers.host ?? '').toLowerCase();
    } catch {
      return false;
    }
  }
}

/**
 * Checks a request's Origin; a refused one is logged (warn, once a minute per origin) naming
 * `client.allowed_origins`, the key that would let it in. Returns whether it may connect.
 */
export function checkOrigin(check: OriginCheck, req: IncomingMessage, log: Logger, transport: string): boolean {
  if (check.allows(req)) return true;
  check.logRefused(req.headers.origin ?? '', log, transport);
  return false;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
