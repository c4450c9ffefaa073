/**
 * The wire format of channel events between nodes (Redis PUB/SUB and streams, NATS subjects).
 *
 * One text message per event, decoded once per node:
 * - publication: `p<offset>:<epoch>:<header>\n<data>`; `<data>` is the payload's raw JSON text,
 *   passed through untouched, or for a binary payload its base64; `<header>` is "" or a JSON object
 *   with `i` (client info), `t` (tags), `x: 1` (deliver as delta) and `b: 1` (binary payload). The offset and epoch are written by whoever assigns them (the Redis
 *   Lua script), so a publisher only builds the body `<header>\n<data>`.
 * - join: `j<client info JSON>`; leave: `l<client info JSON>`.
 *
 * Client info JSON: `{"u": user, "c": client, "i": connInfo, "h": chanInfo}` where connInfo and
 * chanInfo are the raw JSON texts carried as JSON strings, so they come back byte for byte.
 */
import type { ClientInfo, Payload, Publication, StreamPosition } from '../protocol/types.js';

/** A decoded channel event. */
export type WireEvent =
  | { kind: 'pub'; pub: Publication; position: StreamPosition; useDelta: boolean }
  | { kind: 'join' | 'leave'; info: ClientInfo };

interface InfoJson {
  u: string;
  c: string;
  i?: string;
  h?: string;
}

interface HeaderJson {
  i?: InfoJson;
  t?: Record<string, string>;
  x?: 1;
  b?: 1;
}

function infoJson(info: ClientInfo): InfoJson {
  const out: InfoJson = { u: info.user, c: info.client };
  if (info.connInfo !== undefined) out.i = info.connInfo;
  if (info.chanInfo !== undefined) out.h = info.chanInfo;
  return out;
}

function infoFrom(j: InfoJson): ClientInfo {
  const info: ClientInfo = { user: String(j.u ?? ''), client: String(j.c ?? '') };
  if (typeof j.i === 'string') info.connInfo = j.i;
  if (typeof j.h === 'string') info.chanInfo = j.h;
  return info;
}

/** Encodes client info (also the value of a Redis presence entry). */
export function encodeInfo(info: ClientInfo): string {
  return JSON.stringify(infoJson(info));
}

/** Decodes {@link encodeInfo}'s output. */
export function decodeInfo(text: string): ClientInfo {
  return infoFrom(JSON.parse(text) as InfoJson);
}

/** The body of a publication message: header line and raw data. */
export function encodePublicationBody(
  data: Payload,
  info: ClientInfo | undefined,
  tags: Readonly<Record<string, string>> | undefined,
  useDelta: boolean,
): string {
  const binary = typeof data !== 'string';
  const text = binary ? Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') : data;
  if (info === undefined && tags === undefined && !useDelta && !binary) return '\n' + text;
  const header: HeaderJson = {};
  if (info !== undefined) header.i = infoJson(info);
  if (tags !== undefined) header.t = { ...tags };
  if (useDelta) header.x = 1;
  if (binary) header.b = 1;
  return JSON.stringify(header) + '\n' + text;
}

/** A whole publication message (where no one else assigns offset and epoch, e.g. NATS). */
export function encodePublication(position: StreamPosition, body: string): string {
  return `p${position.offset}:${position.epoch}:${body}`;
}

export function encodeJoinLeave(kind: 'join' | 'leave', info: ClientInfo): string {
  return (kind === 'join' ? 'j' : 'l') + encodeInfo(info);
}

/** Decodes a channel event; null for anything malformed (logged by the caller). */
export function decodeEvent(msg: string): WireEvent | null {
  try {
    const kind = msg.charCodeAt(0);
    if (kind === 0x70 /* p */) return decodePublicationMessage(msg);
    if (kind === 0x6a /* j */) return { kind: 'join', info: decodeInfo(msg.slice(1)) };
    if (kind === 0x6c /* l */) return { kind: 'leave', info: decodeInfo(msg.slice(1)) };
  } catch {
    return null;
  }
  return null;
}

function decodePublicationMessage(msg: string): WireEvent | null {
  const c1 = msg.indexOf(':', 1);
  if (c1 < 0) return null;
  const c2 = msg.indexOf(':', c1 + 1);
  if (c2 < 0) return null;
  const nl = msg.indexOf('\n', c2 + 1);
  if (nl < 0) return null;
  const offset = Number(msg.slice(1, c1));
  if (!Number.isSafeInteger(offset) || offset < 0) return null;
  const epoch = msg.slice(c1 + 1, c2);
  const pub: Publication = { data: msg.slice(nl + 1), offset };
  let useDelta = false;
  if (nl > c2 + 1) {
    const header = JSON.parse(msg.slice(c2 + 1, nl)) as HeaderJson;
    if (header.i !== undefined) pub.info = infoFrom(header.i);
    if (header.t !== undefined) pub.tags = header.t;
    useDelta = header.x === 1;
    if (header.b === 1) pub.data = Buffer.from(pub.data as string, 'base64');
  }
  return { kind: 'pub', pub, position: { offset, epoch }, useDelta };
}

/** Decodes a publication message (history entries); null when it is not one. */
export function decodePublication(msg: string): Publication | null {
  const ev = decodeEvent(msg);
  return ev !== null && ev.kind === 'pub' ? ev.pub : null;
}
