/**
 * The nesting limit of JSON accepted from clients, API callers and proxy backends. JSON.parse
 * handles any depth, but JSON.stringify (and any other recursive walk) runs out of stack a few
 * thousand levels down: deeper input is refused up front as a bad request.
 */

/** The deepest nesting of arrays and objects accepted. */
export const MAX_JSON_DEPTH = 1024;

/** True when `text` (JSON, or something close to it) nests arrays and objects deeper than `max`. */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  // Every level needs an opening bracket: shorter texts cannot be too deep.
  if (text.length <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}
