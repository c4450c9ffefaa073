/**
 * Socket.IO 4 under test: websocket transport only, no compression, room broadcast. A client joins
 * rooms with the event `join` (an array of room names) and an acknowledgement.
 *   node --expose-gc --import tsx bench/servers/socketio.ts
 *
 * A client that sends a token in its CONNECT packet (`auth: { token }` in socket.io-client) is
 * authenticated by an `io.use` middleware, as Socket.IO applications do, with Gyre's own HS256
 * verifier (from the same build as the Gyre server): both servers then pay the same for the JWT,
 * so that S4's "Socket.IO (JWT)" row compares the servers and not JWT libraries (jose's
 * `jwtVerify`, through WebCrypto, costs several times more per token on Node 20). A bad token is
 * refused with a CONNECT_ERROR. A client without a token is let in (the "Socket.IO" rows), unless
 * the server runs with `--require-token` (the "Socket.IO (JWT)" rows: every client was verified).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { BENCH_SECRET } from '../common.js';
import { gyreModule } from '../gyre-build.js';
import { runControl } from './control.js';

const { TokenVerifier } = await gyreModule<typeof import('../../src/auth/verifier.js')>('auth/verifier.js');
const { defaultConfig } = await gyreModule<typeof import('../../src/config/defaults.js')>('config/defaults.js');
const requireToken = process.argv.includes('--require-token');
const verifier = new TokenVerifier({ ...defaultConfig().client.token, hmac_secret_key: BENCH_SECRET });

const http = createServer();
const io = new Server(http, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
});
io.use((socket, next) => {
  const token: unknown = (socket.handshake.auth as Record<string, unknown>)['token'];
  if (token === undefined) return requireToken ? next(new Error('missing token')) : next();
  if (typeof token !== 'string') return next(new Error('invalid token'));
  verifier.verifyConnectToken(token).then(
    (claims) => {
      (socket.data as { user?: string }).user = claims.user;
      next();
    },
    () => next(new Error('invalid token')),
  );
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
