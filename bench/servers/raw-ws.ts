/**
 * The raw `ws` ceiling: no protocol at all. A client joins channels with one text message
 * `{"join":["a","b"]}` (answered `ok`); a publication is serialized once, framed once with
 * `Sender.frame` and the frame is written to every member socket's TCP socket. Frames published to
 * a channel within one event-loop turn leave in one write per socket (the same coalescing Gyre does,
 * minus the per-connection queues), so this stays a ceiling for Gyre under load; with
 * RAW_WS_IMMEDIATE=1 every frame is written as soon as it is published instead.
 *   node --expose-gc --import tsx bench/servers/raw-ws.ts
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as wsModule from 'ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { runControl } from './control.js';

interface FrameBuilder {
  frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[];
}
const { Sender } = wsModule as unknown as { Sender: FrameBuilder };
const FRAME = { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false };

const IMMEDIATE = process.env['RAW_WS_IMMEDIATE'] === '1';
const channels = new Map<string, Set<Socket>>();
/** Frames published this turn, per channel. */
let pending = new Map<string, Buffer[]>();
let scheduled = false;

function flush(): void {
  scheduled = false;
  const batch = pending;
  pending = new Map();
  for (const [channel, frames] of batch) {
    const set = channels.get(channel);
    if (set === undefined) continue;
    const data = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
    for (const s of set) s.write(data);
  }
}
let connections = 0;

const http = createServer((_req, res) => {
  res.writeHead(404);
  res.end();
});
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: false });
wss.on('connection', (ws: WebSocket) => {
  connections++;
  const socket = (ws as unknown as { _socket: Socket })._socket;
  const joined: string[] = [];
  ws.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString()) as { join?: string[] };
    for (const ch of msg.join ?? []) {
      let set = channels.get(ch);
      if (set === undefined) channels.set(ch, (set = new Set()));
      set.add(socket);
      joined.push(ch);
    }
    ws.send('ok');
  });
  ws.on('error', () => {});
  ws.on('close', () => {
    connections--;
    for (const ch of joined) {
      const set = channels.get(ch);
      if (set === undefined) continue;
      set.delete(socket);
      if (set.size === 0) channels.delete(ch);
    }
  });
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));

await runControl(
  {
    publish(channel, payload) {
      const set = channels.get(channel);
      if (set === undefined) return;
      const frame = Buffer.concat(Sender.frame(Buffer.from(JSON.stringify(payload)), FRAME));
      if (IMMEDIATE) {
        for (const s of set) s.write(frame);
        return;
      }
      const list = pending.get(channel);
      if (list !== undefined) {
        list.push(frame);
        return;
      }
      pending.set(channel, [frame]);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    connections: () => connections,
    stop: async () => {
      for (const set of channels.values()) for (const s of set) s.destroy();
      http.close();
    },
  },
  (http.address() as AddressInfo).port,
);
