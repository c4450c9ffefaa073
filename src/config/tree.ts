/** Helpers for raw (unvalidated) configuration trees. */

/** A raw configuration tree in file form (the Centrifugo v6 layout, durations as strings). */
export type ConfigInput = Record<string, unknown>;

/** Is `value` a plain object (not an array, not null)? */
export function isTree(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Merges `layers` left to right into a fresh tree: objects merge key by key, anything else
 * (arrays included) is replaced; `undefined` leaves the lower layer's value in place.
 */
export function deepMerge(...layers: ReadonlyArray<Record<string, unknown> | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const layer of layers) {
    if (layer === undefined) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const current = out[key];
      out[key] = isTree(value) ? deepMerge(isTree(current) ? current : {}, value) : structuredClone(value);
    }
  }
  return out;
}
