/** Writing the small JSON answers of Gyre's HTTP edges. */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { endWithStatus } from './upgrade.js';

/** Writes a JSON response (nothing when headers were sent already). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answers `{"error": message}` and closes the connection after it, leaving the request body unread. */
export function refuse(res: ServerResponse, status: number, message: string): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
  sendJson(res, status, { error: message });
}

/**
 * Answers a request that failed before any handler saw it (Node's `clientError`): 408 when it did
 * not arrive within `http_server.read_header_timeout` / `read_timeout`, 400 when it is not HTTP.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  endWithStatus(socket, err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400);
}
