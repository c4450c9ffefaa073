/**
 * The simple event protocol, end to end: "send a message to the user with id 500".
 *
 *   npm run example:events
 *
 * A Gyre server with the event endpoint; a CONNECT listener binds each connection to the user id it
 * carries (a real app verifies a token and takes the id from it); then the application sends a
 * NOTIFICATION to user 500, which reaches both of that user's connections ("browser tabs") and not
 * user 501's. No Redis hash tables, no queue, no polling process: `sendToUser` publishes through
 * the engine's broker, so the same code reaches the user's connections on every node when the
 * engine is Redis or NATS (try `GYRE_ENGINE_TYPE=redis npm run example:events` with a local Redis).
 *
 * Environment: PORT (default 8079, 0 = any free port).
 */
import WebSocket from 'ws';
import { createLogger, EventError, GyreServer, loadConfig } from 'gyre';

/** What clients send (event name → data). */
interface In {
  CONNECT: { user_id: number };
}

/** What the server sends. */
interface Out {
  CONNECTED: { user_id: number };
  NOTIFICATION: { title: string; body: string };
}

const { config } = loadConfig({
  overrides: {
    http_server: { address: '127.0.0.1', port: Number(process.env['PORT'] ?? 8079) },
    log: { level: 'warn' },
    events: { enabled: true },
  },
});
const server = new GyreServer({ config, log: createLogger(config.log) });
const events = server.events.typed<In, Out>();

// The listener of CONNECT messages: bind the connection to its user.
events.on('CONNECT', async (api, message) => {
  const userId = message.data?.user_id;
  if (!Number.isInteger(userId)) throw new EventError('bad_request', 'CONNECT needs an integer user_id');
  await api.bindUser(message.connectionId, userId);
  api.sendMessage(message.connectionId, 'CONNECTED', { user_id: userId });
});

// Lifecycle hooks.
events.hook('connection_open', (_api, e) => console.log(`server: connection ${e.connectionId.slice(0, 8)} open (Sec-WebSocket-Key ${e.secWebSocketKey})`));
events.hook('connection_closed', (_api, e) => console.log(`server: connection ${e.connectionId.slice(0, 8)} of user ${e.userId ?? '-'} closed (${e.code})`));
events.hook('start_server', (_api, e) => console.log(`server: event endpoint on ws://${e.host || '0.0.0.0'}:${e.port}${e.path}`));

/** The application's side: anywhere in its code, a message for a user. */
function notifyUser(userId: number, title: string, body: string): Promise<void> {
  return events.sendToUser(userId, 'NOTIFICATION', { title, body });
}

/** A client (a browser tab) logged in as `userId`; collects the notifications it gets. */
async function tab(url: string, name: string, userId: number): Promise<{ ws: WebSocket; got: string[] }> {
  const ws = new WebSocket(url);
  const got: string[] = [];
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const connected = new Promise<void>((resolve) => {
    ws.on('message', (raw: Buffer) => {
      const msg = JSON.parse(raw.toString()) as { event: string; data: unknown };
      if (msg.event === 'CONNECTED') return resolve();
      console.log(`${name} (user ${userId}) got ${raw.toString()}`);
      if (msg.event === 'NOTIFICATION') got.push((msg.data as Out['NOTIFICATION']).title);
    });
  });
  ws.send(JSON.stringify({ event: 'CONNECT', data: { user_id: userId } }));
  await connected;
  return { ws, got };
}

const port = await server.listen().catch((e: unknown) => {
  if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
  console.error(`port ${config.http_server.port} is already taken: stop what listens there, or run with PORT=0 (any free port)`);
  process.exit(1);
});
const url = `ws://127.0.0.1:${port}${config.events.handler_prefix}`;
const tabs = [await tab(url, 'tab 1', 500), await tab(url, 'tab 2', 500), await tab(url, 'tab 3', 501)];

await notifyUser(500, 'Order shipped', 'Your order #123 is on its way');

// A broadcast after it is a marker: once every tab has it, the notification has arrived where it should.
const marker = Promise.all(tabs.map(({ ws }) => new Promise<void>((resolve) => ws.on('message', (raw: Buffer) => raw.includes('"MARKER"') && resolve()))));
await server.events.broadcast('MARKER', null);
await marker;

const ok = tabs[0]!.got.length === 1 && tabs[1]!.got.length === 1 && tabs[2]!.got.length === 0;
console.log(ok ? 'user 500 got it on both tabs, user 501 did not' : 'UNEXPECTED: ' + JSON.stringify(tabs.map((t) => t.got)));
await Promise.all(tabs.map(({ ws }) => new Promise((resolve) => ws.once('close', resolve).close(1000))));
await server.shutdown();
process.exit(ok ? 0 : 1);
