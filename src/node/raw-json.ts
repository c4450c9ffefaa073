/** Conversions between values (from handlers, tokens, the API) and the payloads kept inside Gyre. */
import { Errors, ProtocolException } from '../protocol/codes.js';
import { valueToPayload } from '../protocol/payload.js';
import type { Payload, RawJson } from '../protocol/types.js';

/** Serializes a JSON value (compact, so it never breaks `\n` framing); undefined is a bad request. */
export function toRawJson(value: unknown): RawJson {
  if (value === undefined) throw new ProtocolException(Errors.badRequest);
  if (value instanceof Uint8Array) {
    const p = valueToPayload(value);
    if (typeof p !== 'string') throw new ProtocolException(Errors.badRequest);
    return p;
  }
  return JSON.stringify(value);
}

/**
 * A value as a payload: JSON values as compact JSON text, bytes (a protobuf client's, a handler's
 * Buffer) as they are unless they hold JSON text; undefined is a bad request.
 */
export function toPayload(value: unknown): Payload {
  if (value === undefined) throw new ProtocolException(Errors.badRequest);
  return valueToPayload(value);
}

/** Decodes base64 `b64data`: JSON text when the bytes hold JSON, else the bytes (binary data). */
export function b64ToPayload(b64: string): Payload {
  return valueToPayload(Buffer.from(b64, 'base64'));
}
