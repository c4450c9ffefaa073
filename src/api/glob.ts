/**
 * Glob patterns of the `channels` API method: `*` matches any run of characters, `?` exactly one.
 *
 * Matching never backtracks: the pattern is cut at its stars into pieces of fixed length, the first
 * piece must start the name and the last end it, and each piece in between is placed at its
 * leftmost fit after the previous one (leftmost leaves the most room for what follows, so a later
 * failure can never be repaired by moving an earlier piece). Pieces without `?` are found with
 * `indexOf`; the work per name is bounded by its length times the pattern's.
 */

/** A compiled pattern: true when a channel name matches it. */
export type GlobMatcher = (name: string) => boolean;

/** A piece between stars, as code points; `ANY` stands for `?`. */
type Piece = readonly number[];
const ANY = -1;

export function compileGlob(pattern: string): GlobMatcher {
  const parts = pattern.split('*');
  if (!pattern.includes('?')) return literalMatcher(parts);
  const pieces: Piece[] = parts.map((p) => Array.from(p, (ch) => (ch === '?' ? ANY : ch.codePointAt(0)!)));
  return (name) => matchPieces(pieces, Array.from(name, (ch) => ch.codePointAt(0)!));
}

/** Pieces without `?`: plain string search. */
function literalMatcher(parts: readonly string[]): GlobMatcher {
  if (parts.length === 1) {
    const exact = parts[0]!;
    return (name) => name === exact;
  }
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((p) => p !== '');
  const minLength = parts.reduce((n, p) => n + p.length, 0);
  return (name) => {
    if (name.length < minLength || !name.startsWith(first) || !name.endsWith(last)) return false;
    let at = first.length;
    const end = name.length - last.length;
    for (const piece of middle) {
      const found = name.indexOf(piece, at);
      if (found < 0 || found + piece.length > end) return false;
      at = found + piece.length;
    }
    return true;
  };
}

/** Pieces with `?`, over code points (so that `?` is one character, whatever its size). */
function matchPieces(pieces: readonly Piece[], name: readonly number[]): boolean {
  const first = pieces[0]!;
  if (pieces.length === 1) return name.length === first.length && fitsAt(first, name, 0);
  const last = pieces[pieces.length - 1]!;
  const end = name.length - last.length;
  if (end < first.length || !fitsAt(first, name, 0) || !fitsAt(last, name, end)) return false;
  let at = first.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i]!;
    let pos = at;
    while (pos + piece.length <= end && !fitsAt(piece, name, pos)) pos++;
    if (pos + piece.length > end) return false;
    at = pos + piece.length;
  }
  return true;
}

function fitsAt(piece: Piece, name: readonly number[], pos: number): boolean {
  for (let i = 0; i < piece.length; i++) {
    const p = piece[i]!;
    if (p !== ANY && p !== name[pos + i]) return false;
  }
  return true;
}

/** The longest pattern the `channels` method accepts (longer ones are a bad request, 107). */
export const MAX_PATTERN_LENGTH = 512;
