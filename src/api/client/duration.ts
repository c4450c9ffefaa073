/** Time-span options of the API clients and drivers: milliseconds or a duration string. */
import { parseDuration } from '../../config/duration.js';

/** The default timeout of one attempt of a call (HTTP and gRPC clients), in ms. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** A time span: milliseconds, or a duration string like `"5s"`, `"500ms"`. */
export type Duration = number | string;

/** A duration option in milliseconds (`fallback` when absent); throws a TypeError naming the option on a bad value. */
export function toMillis(value: Duration | undefined, fallback: number, name = 'timeout'): number {
  if (value === undefined) return fallback;
  let ms: number;
  try {
    ms = typeof value === 'number' ? value : parseDuration(value);
  } catch (e) {
    throw new TypeError(`${name}: ${(e as Error).message}`);
  }
  if (!Number.isFinite(ms) || ms < 0) throw new TypeError(`${name} must be a non-negative duration, got ${JSON.stringify(value)}`);
  return ms;
}
