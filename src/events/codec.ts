/** Decoding of incoming `{"event": NAME, "data": ...}` frames and encoding of outgoing ones. */
import { jsonTooDeep, MAX_JSON_DEPTH } from '../protocol/json-depth.js';
import { EventErrorCodes } from './errors.js';

/** A decoded message, or why the frame is not one. */
export type Decoded =
  | { readonly ok: true; readonly event: string; readonly data: unknown }
  | { readonly ok: false; readonly code: string; readonly reason: string };

/**
 * Decodes one text frame: a JSON object with a non-empty string `event` and an optional `data`
 * (any JSON value). Other keys are ignored.
 */
export function decodeEventMessage(text: string): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, code: EventErrorCodes.badJson, reason: `malformed JSON: ${(e as Error).message}` };
  }
  if (jsonTooDeep(text)) {
    return { ok: false, code: EventErrorCodes.badMessage, reason: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return { ok: false, code: EventErrorCodes.badMessage, reason: `expected a JSON object {"event": ..., "data": ...}, got ${got}` };
  }
  const { event, data } = value as { event?: unknown; data?: unknown };
  if (event === undefined) return { ok: false, code: EventErrorCodes.badMessage, reason: 'missing "event"' };
  if (typeof event !== 'string' || event === '') {
    return { ok: false, code: EventErrorCodes.badMessage, reason: '"event" must be a non-empty string' };
  }
  return { ok: true, event, data };
}

/** `{"event":..,"data":..}` (no `data` key when it is undefined). Throws on data JSON cannot hold. */
export function encodeEventMessage(event: string, data: unknown): string {
  return JSON.stringify({ event, data });
}
