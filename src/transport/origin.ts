/**
 * The `client.allowed_origins` check for browser connections. Patterns may hold `*` wildcards
 * (`https://*.example.com`). With no patterns only same-origin requests (or requests without an
 * Origin header, which browsers always send) are accepted, unless the node is insecure.
 */
import type { IncomingMessage } from 'node:http';

export class OriginCheck {
  private readonly patterns: RegExp[];

  constructor(
    allowed: readonly string[],
    private readonly insecure: boolean,
  ) {
    this.patterns = allowed.map(
      (p) => new RegExp('^' + p.toLowerCase().split('*').map(escapeRegex).join('.*') + '$'),
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

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
