/** The event endpoint on a host HTTP server, through GyreServer.attach(). */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createGyre } from '../../src/index.js';
import { EventSocket, assertServed, echoListeners } from './helpers.js';
import { closeServer, listen } from '../helpers/wait.js';

test('attach() serves the event endpoint next to the Centrifugo one on the host server', async () => {
  const host = createServer((_req, res) => res.end('host app'));
  await listen(host);
  const port = (host.address() as AddressInfo).port;
  const gyre = createGyre({ config: { log: { level: 'none' }, events: { enabled: true } } });
  const started: number[] = [];
  echoListeners(gyre.server.events);
  gyre.server.events.hook('start_server', (_s, e) => void started.push(e.port));
  await gyre.server.attach(host);
  try {
    assert.deepEqual(started, [port]);
    const s = await EventSocket.open(`ws://127.0.0.1:${port}/connection/events`);
    await assertServed(s);
    s.ws.terminate();
    const centrifugo = await EventSocket.open(`ws://127.0.0.1:${port}/connection/websocket`);
    centrifugo.ws.terminate();
  } finally {
    await gyre.server.shutdown();
    host.closeAllConnections();
    await closeServer(host);
  }
});
