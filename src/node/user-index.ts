/**
 * The connections of each user. Most users hold one connection, so a user's entry is the connection
 * itself until a second one arrives, and only then a set: one map entry per user instead of a map
 * entry plus a Set (about 100 bytes and a rehashing insert on every connect).
 */
export class UserIndex<T> {
  private readonly byUser = new Map<string, T | Set<T>>();

  /** Distinct users with at least one connection. */
  get size(): number {
    return this.byUser.size;
  }

  add(user: string, item: T): void {
    const entry = this.byUser.get(user);
    if (entry === undefined) this.byUser.set(user, item);
    else if (entry instanceof Set) entry.add(item);
    else if (entry !== item) this.byUser.set(user, new Set([entry, item]));
  }

  delete(user: string, item: T): void {
    const entry = this.byUser.get(user);
    if (entry === undefined) return;
    if (entry instanceof Set) {
      entry.delete(item);
      if (entry.size === 1) this.byUser.set(user, entry.values().next().value as T);
      else if (entry.size === 0) this.byUser.delete(user);
    } else if (entry === item) {
      this.byUser.delete(user);
    }
  }

  /** How many connections `user` holds. */
  count(user: string): number {
    const entry = this.byUser.get(user);
    return entry === undefined ? 0 : entry instanceof Set ? entry.size : 1;
  }

  /** The connections of `user` (a new array). */
  of(user: string): T[] {
    const entry = this.byUser.get(user);
    return entry === undefined ? [] : entry instanceof Set ? [...entry] : [entry];
  }
}
