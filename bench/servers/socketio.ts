/**
 * Socket.IO 4 under test: websocket transport only, no compression, room broadcast. A client joins
 * rooms with the event `join` (an array of room names) and an acknowledgement.
 *   node --expose-gc --import tsx bench/servers/socketio.ts
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { runControl } from './control.js';

const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
});
io.on('connection', (socket) => {
  socket.on('join', (rooms: unknown, ack: unknown) => {
    if (Array.isArray(rooms)) void socket.join(rooms.filter((r): r is string => typeof r === 'string'));
    if (typeof ack === 'function') (ack as (v: string) => void)('ok');
  });
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));

await runControl(
  {
    publish(channel, payload) {
      io.to(channel).emit('pub', payload);
    },
    connections: () => io.engine.clientsCount,
    stop: async () => {
      io.disconnectSockets(true);
      await io.close();
    },
  },
  (http.address() as AddressInfo).port,
);
