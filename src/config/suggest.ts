/** Unknown-key suggestions: the nearest known sibling key (Levenshtein). Keys Centrifugo v6 moved: config/legacy.ts. */

/** Edit distance between two strings (insertions, deletions, substitutions). */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * The candidate closest to `key` if it is a plausible typo: within an edit distance of a third of
 * the key's length (at least 2), or containing / contained in the key (e.g. `hmac_secret` for
 * `hmac_secret_key`).
 */
export function nearest(key: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(key.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = levenshtein(key, candidate);
    const contained = Math.min(key.length, candidate.length) >= 4 && (candidate.includes(key) || key.includes(candidate));
    if ((d <= limit || contained) && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
