/**
 * Answering on a raw socket, before any HTTP response object exists: refusing an upgrade
 * (WebSocket) and answering a request Node could not parse. A bare status line, then the socket is
 * closed. One helper for every endpoint.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** Answers an upgrade request with `status` (e.g. 403, 404, 503) and closes the socket. */
export function refuseUpgrade(socket: Duplex, status: number): void {
  endWithStatus(socket, status);
}

/** Writes a bodiless `status` answer on a raw socket and closes it (destroys it when it cannot be written). */
export function endWithStatus(socket: Duplex, status: number): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = STATUS_CODES[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
