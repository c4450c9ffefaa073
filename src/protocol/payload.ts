/**
 * Payloads (`data` of publications, replies and pushes). Inside Gyre a payload is either compact
 * JSON text ({@link RawJson}: what JSON clients, the HTTP API and handlers produce) or bytes that are
 * not JSON (a `Uint8Array`: what protobuf clients or `b64data` may carry). Bytes that hold JSON are
 * turned into JSON text when they enter, so the two forms never overlap.
 */
import { jsonTooDeep } from './json-depth.js';
import type { Payload, RawJson } from './types.js';

export type { Payload };

/**
 * The value a handler sees for payload bytes: the parsed JSON value when the bytes hold JSON text
 * (nested no deeper than the JSON depth limit), otherwise the bytes themselves (as a Buffer).
 */
export function bytesToValue(bytes: Uint8Array): unknown {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length === 0) return Buffer.alloc(0);
  const text = buf.toString('utf8');
  if (!jsonTooDeep(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // not JSON: kept as bytes
    }
  }
  return Buffer.from(buf);
}

/**
 * A handler's or decoder's value as a payload: bytes stay bytes unless they hold JSON (then compact
 * JSON text); anything else is serialized as JSON. `undefined` has no payload form: callers check.
 */
export function valueToPayload(value: unknown): Payload {
  if (value instanceof Uint8Array) {
    const v = bytesToValue(value);
    return v instanceof Uint8Array ? v : JSON.stringify(v);
  }
  return JSON.stringify(value);
}

/**
 * The payload as a JSON value's text for the JSON protocol: JSON text as it is; bytes, which JSON
 * cannot carry, as a JSON string holding their base64.
 */
export function payloadJson(p: Payload): RawJson {
  return typeof p === 'string' ? p : JSON.stringify(Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('base64'));
}
