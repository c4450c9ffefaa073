/** The `expires` / `ttl` fields of connect, refresh, subscribe and sub_refresh results. */

/** `{expires: true, ttl}` for an expiry in seconds since epoch, or nothing when it never expires. */
export function expiryFields(expireAt: number, nowMs = Date.now()): { expires?: true; ttl?: number } {
  if (expireAt <= 0) return {};
  return { expires: true, ttl: Math.max(0, expireAt - Math.floor(nowMs / 1000)) };
}
