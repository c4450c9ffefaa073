/**
 * Slows password guessing at the admin login: each address gets {@link FREE_FAILURES} wrong
 * passwords, then is locked out for 1 s, doubling with each further failure up to
 * {@link MAX_LOCK_MS}; a right password clears its record. Records are forgotten
 * {@link FORGET_MS} after their last failure, and at most {@link MAX_ADDRESSES} are kept (the
 * oldest go first), so a flood of addresses cannot grow memory.
 */

/** Wrong passwords an address may send before it is locked out. */
export const FREE_FAILURES = 5;
/** The longest lock-out (ms). */
export const MAX_LOCK_MS = 5 * 60_000;
/** How long after its last failure an address's record is kept (ms). */
export const FORGET_MS = 15 * 60_000;
/** The most addresses remembered at once. */
export const MAX_ADDRESSES = 10_000;

interface Failures {
  count: number;
  last: number;
  lockedUntil: number;
}

export class LoginThrottle {
  private readonly failures = new Map<string, Failures>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Milliseconds `address` must still wait before it may try again; 0 when it may try now. */
  waitMs(address: string): number {
    const f = this.record(address);
    return f === undefined ? 0 : Math.max(0, f.lockedUntil - this.now());
  }

  /** Records a wrong password from `address`; returns how long it is locked out now (ms, 0 = not). */
  failed(address: string): number {
    const now = this.now();
    let f = this.record(address);
    if (f === undefined) {
      if (this.failures.size >= MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
      f = { count: 0, last: now, lockedUntil: 0 };
    }
    // Re-inserted, so the map's order stays oldest-failure first.
    this.failures.delete(address);
    this.failures.set(address, f);
    f.count++;
    f.last = now;
    if (f.count >= FREE_FAILURES) f.lockedUntil = now + Math.min(MAX_LOCK_MS, 1000 * 2 ** (f.count - FREE_FAILURES));
    return Math.max(0, f.lockedUntil - now);
  }

  /** Clears the record of `address` after a right password. */
  succeeded(address: string): void {
    this.failures.delete(address);
  }

  /** Number of addresses remembered. */
  get size(): number {
    return this.failures.size;
  }

  private record(address: string): Failures | undefined {
    const f = this.failures.get(address);
    if (f !== undefined && this.now() - f.last > FORGET_MS && f.lockedUntil <= this.now()) {
      this.failures.delete(address);
      return undefined;
    }
    return f;
  }
}
