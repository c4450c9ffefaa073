/** Conversions between JSON values and the raw JSON text kept inside Gyre. */
import { Errors, ProtocolException } from '../protocol/codes.js';
import type { RawJson } from '../protocol/types.js';

/** Serializes a JSON value (compact, so it never breaks `\n` framing); undefined is a bad request. */
export function toRawJson(value: unknown): RawJson {
  if (value === undefined) throw new ProtocolException(Errors.badRequest);
  return JSON.stringify(value);
}

/** Decodes base64 `b64data` into raw JSON; the JSON protocol can only carry JSON payloads. */
export function b64ToRawJson(b64: string): RawJson {
  const text = Buffer.from(b64, 'base64').toString('utf8');
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    throw new ProtocolException(Errors.badRequest);
  }
}
