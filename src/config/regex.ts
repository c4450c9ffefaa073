/**
 * Compiles a regular expression from the config (`channel_regex`, `audience_regex`, ...). Centrifugo
 * uses Go's RE2 syntax; the common subset is the same in JavaScript, and a leading inline flag group
 * such as `(?i)` or `(?is)` is turned into the matching JavaScript flags. Go's named groups
 * `(?P<name>...)` become JavaScript's `(?<name>...)`, as the token verifier compiles them.
 * @throws SyntaxError when the pattern does not compile.
 */
export function compileConfigRegex(goPattern: string): RegExp {
  const pattern = goPattern.replace(/\(\?P</g, '(?<');
  const inline = /^\(\?([ims]+)\)/.exec(pattern);
  if (inline === null) return new RegExp(pattern);
  const flags = [...new Set(inline[1] ?? '')].join('');
  return new RegExp(pattern.slice(inline[0].length), flags);
}
