/**
 * Encoding of replies and pushes in the JSON protocol. Raw JSON payloads ({@link RawJson}) are
 * spliced in as they are; everything else goes through `JSON.stringify`. Each function returns
 * one JSON object as text (no trailing newline); the writer joins several with `\n`.
 */
import type { ProtocolError, Disconnect } from './codes.js';
import type { ClientInfo, Publication, RawJson } from './types.js';

const q = JSON.stringify;

/** `{"user":..,"client":..,"conn_info":..,"chan_info":..}`. */
export function encodeClientInfo(info: ClientInfo): string {
  let s = `{"user":${q(info.user)},"client":${q(info.client)}`;
  if (info.connInfo !== undefined) s += `,"conn_info":${info.connInfo}`;
  if (info.chanInfo !== undefined) s += `,"chan_info":${info.chanInfo}`;
  return s + '}';
}

/**
 * A publication object. `data` is the payload to embed (the publication's own data, or for fossil
 * delta mode a JSON string holding the patch or the full payload); `delta` marks a patch.
 */
export function encodePublication(pub: Publication, data: RawJson = pub.data, delta = false): string {
  let s = `{"data":${data}`;
  if (pub.info !== undefined) s += `,"info":${encodeClientInfo(pub.info)}`;
  if (pub.offset > 0) s += `,"offset":${pub.offset}`;
  if (pub.tags !== undefined && Object.keys(pub.tags).length > 0) s += `,"tags":${q(pub.tags)}`;
  if (delta) s += ',"delta":true';
  return s + '}';
}

/** `{"push":{"channel":..,"<kind>":<body>}}`. */
export function encodePush(channel: string, kind: string, body: string): string {
  return `{"push":{"channel":${q(channel)},"${kind}":${body}}}`;
}

/** `{"push":{"channel":..,"pub":{...}}}` — built once per channel on the fan-out path. */
export function encodePublicationPush(channel: string, pub: Publication, data?: RawJson, delta = false): string {
  return encodePush(channel, 'pub', encodePublication(pub, data, delta));
}

/** A reply carrying a result: `{"id":N,"<field>":<result>}`. */
export function encodeResult(id: number, field: string, result: string): string {
  return `{"id":${id},"${field}":${result}}`;
}

/** A reply carrying an error. */
export function encodeError(id: number, error: ProtocolError): string {
  const temporary = error.temporary === true ? ',"temporary":true' : '';
  return `{"id":${id},"error":{"code":${error.code},"message":${q(error.message)}${temporary}}}`;
}

/** `{"code":..,"reason":..}` for unsubscribe and disconnect pushes. */
export function encodeCodeReason(d: Disconnect): string {
  return `{"code":${d.code},"reason":${q(d.reason)}}`;
}

/**
 * Serializes a plain JSON object, splicing raw JSON values for the keys listed in `raw`.
 * Keys whose value is `undefined` are omitted.
 */
export function encodeObject(fields: Record<string, unknown>, raw: ReadonlySet<string> = NO_RAW): string {
  let s = '{';
  let first = true;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    s += (first ? '' : ',') + q(k) + ':' + (raw.has(k) ? (v as string) : q(v));
    first = false;
  }
  return s + '}';
}

const NO_RAW: ReadonlySet<string> = new Set();

/** The ping frame: an empty reply. */
export const PING = '{}';
