/**
 * Compiles a regular expression from the config (`channel_regex`, `audience_regex`, ...). Centrifugo
 * uses Go's RE2 syntax; the common subset is the same in JavaScript, and a leading inline flag group
 * such as `(?i)` or `(?is)` is turned into the matching JavaScript flags. Go's named groups
 * `(?P<name>...)` become JavaScript's `(?<name>...)`, as the token verifier compiles them. Unicode
 * mode is used where the pattern allows it, as Go matches characters and knows `\p{L}`.
 * @throws SyntaxError when the pattern does not compile.
 */
export function compileConfigRegex(goPattern: string): RegExp {
  const pattern = goPattern.replace(/\(\?P</g, '(?<');
  const inline = /^\(\?([ims]+)\)/.exec(pattern);
  const source = inline === null ? pattern : pattern.slice(inline[0].length);
  const flags = inline === null ? '' : [...new Set(inline[1] ?? '')].join('');
  try {
    // Like Go's, on characters rather than UTF-16 units, with Unicode classes (`\p{L}`).
    return new RegExp(source, flags + 'u');
  } catch {
    // Escapes Go accepts but JavaScript's Unicode mode does not (`\-` outside a class, ...).
    return new RegExp(source, flags);
  }
}
