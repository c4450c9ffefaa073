/** Small facts about an incoming HTTP request and WebSocket message, shared by every edge. */
import type { IncomingMessage } from 'node:http';
import type WebSocket from 'ws';

/** The path of a request's URL, without its query string. */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** A WebSocket message (as `ws` hands it over) as UTF-8 text. */
export function rawToString(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** A WebSocket message (as `ws` hands it over) as one Buffer. */
export function rawToBuffer(data: WebSocket.RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return data;
}
