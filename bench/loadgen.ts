/**
 * A load-generator worker (forked by the orchestrator, IPC for commands): holds many raw WebSocket
 * clients (`ws`, no compression) speaking the protocol of the server under test:
 *   - Gyre: Centrifugo JSON protocol — connect with an HS256 token and subscribe in one frame (as the
 *     SDK sends them when its subscriptions exist before the socket opens), answer pings `{}` with `{}`;
 *     or its protobuf form (subprotocol `centrifuge-protobuf`, binary frames of varint-delimited
 *     messages): the same commands, pings an empty Reply (the byte 0x00) answered with an empty Command;
 *   - Socket.IO: Engine.IO v4 / Socket.IO v5 — open packet `0{…}`, `40` → `40{…}`, join rooms with an
 *     acknowledged event `421["join",[…]]` → `431[…]`, answer ping `2` with `3`, events `42["pub",{…}]`;
 *   - raw ws: `{"join":[…]}` → `ok`, then plain JSON.
 * Gyre clients may also use the SDK's emulation transports (Node's `http`, one socket per stream, no
 * keep-alive): HTTP-streaming (`POST /connection/http_stream` with the connect command as body,
 * replies one JSON per line) or SSE (`GET /connection/sse?cf_connect=…`, `data: <JSON>` events);
 * their subscribe commands and pongs go to `POST /emulation` with the connect result's session and
 * node (a keep-alive agent per worker). A connect command may also mix the transports (`mixed`:
 * client i as MIXED_MODES[i % 4]).
 * Every delivered publication is counted, and its end-to-end latency (the `ts` in the payload against
 * this host's monotonic clock) recorded, without parsing the JSON (nor, for protobuf clients, the
 * Reply around it: a push carries the publication's JSON bytes unchanged; nor, for the streams, the
 * lines or events around it, only cut at whole lines so that a publication split over two chunks
 * counts once).
 */
import type { EventEmitter } from 'node:events';
import http from 'node:http';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { LightWs } from './light-ws.js';
import { signToken } from '../src/auth/sign.js';
import {
  BENCH_SECRET,
  channelsOf,
  clientModeOf,
  CLIENTS_PER_ADDRESS,
  nowUs,
  sourceAddress,
  type ClientMode,
  type ConnectCommand,
  type ConnectReport,
  type ServerKind,
  type StepReport,
  type WorkerCommand,
  type WorkerReply,
} from './common.js';
import { Histogram } from './histogram.js';
import { PROTOBUF_PONG, PROTOBUF_SUBPROTOCOL, protobufConnectFrame, protobufSubscribeFrame, readReplies } from './protobuf-client.js';
import { countPings, LineCarry, scanPublications, streamMessages } from './stream-scan.js';
import { readFrameHeader, type FrameHeader } from './ws-frames.js';

/** Reused by every frame read (no allocation per frame). */
const FRAME_HEADER: FrameHeader = { head: 0, len: 0 };

const HANDSHAKE_TIMEOUT_MS = 20_000;
const ATTEMPTS = 3;

// Per-step counters (module state: the hot path touches nothing else).
let seqStart = 0;
let seqEnd = 0;
let earlyStart = 0;
let earlyEnd = 0;
let lateStart = 0;
let skipEvery = 0;
let delivered = 0;
let stale = 0;
let lastRecvUs = 0;
let disconnects = 0;
let open = 0;
let cpuAtBegin = process.cpuUsage();
const all = new Histogram();
const early = new Histogram();
const late = new Histogram();

let proto: ServerKind = 'gyre';
/**
 * The server joins messages into one frame (Gyre with `client.write_delay`: newline-separated
 * JSON), so a ping `{}` may come among publications; set by each connect command.
 */
let joinedFrames = false;
/** A WebSocket client: bench/light-ws.ts, or the `ws` client with BENCH_WS_CLIENT=ws. */
type Ws = WebSocket | LightWs;
const USE_WS_LIBRARY = process.env['BENCH_WS_CLIENT'] === 'ws';
const clients = new Map<number, Ws>();
const tokens = new Map<number, string>();

/** A Gyre subscriber on an HTTP-streaming or SSE response. */
interface StreamClient {
  readonly req: http.ClientRequest;
  readonly port: number;
  readonly localAddress: string;
  /** From the connect result: where its commands go. */
  session: string;
  node: string;
  /** Subscribed and counting (not yet ended). */
  live: boolean;
  /** The request (and its socket) is closed. */
  closed: boolean;
  readonly carry: LineCarry;
}
const streams = new Map<number, StreamClient>();

/** Keep-alive connections for the streams' commands (subscribes, pongs) to /emulation. */
const newEmulationAgent = () => new http.Agent({ keepAlive: true, maxSockets: 32 });
let emulationAgent = newEmulationAgent();

function send(reply: WorkerReply): void {
  process.send?.(reply);
}

/** The message handler of a live (subscribed) client while `ws` still parses its frames. */
function onLive(this: Ws, data: Buffer): void {
  onText(this, data, 0, data.length);
}

/** The same for a {@link LightWs} client: its frames in place, as its `onFrame`. */
function onLightFrame(this: LightWs, buf: Buffer, start: number, end: number): void {
  onText(this, buf, start, end);
}

/**
 * One message (text, or binary for protobuf clients) of a live client: a ping to answer, or
 * publications to count and time.
 */
function onText(ws: Ws, data: Buffer, start: number, end: number): void {
  const len = end - start;
  if (len < 8) {
    // Gyre ping `{}` (JSON) or 0x00 (protobuf: an empty Reply), Socket.IO ping `2`; anything else this
    // short is not a publication. A JSON client never gets 0x00, a protobuf client never `{}`.
    if (proto === 'gyre') {
      if (len === 2 && data[start] === 0x7b && data[start + 1] === 0x7d) ws.send('{}');
      else if (len === 1 && data[start] === 0) ws.send(PROTOBUF_PONG);
    } else if (proto === 'sio') {
      if (len === 1 && data[start] === 0x32) ws.send('3');
    }
    return;
  }
  if (joinedFrames && proto === 'gyre') {
    // `{}` lines among joined messages (the last one has no newline after it).
    let pings = countPings(data, start, end);
    if (data[end - 1] === 0x7d && data[end - 2] === 0x7b && data[end - 3] === 0x0a) pings++;
    for (; pings > 0; pings--) ws.send('{}');
  }
  countPublications(data, start, end);
}

/** When the frame (or the stream chunk) being scanned arrived. */
let frameNow = 0;

/** One publication received: counted (or stale: from another step), its latency recorded. */
function record(ts: number, seq: number): void {
  if (seq < seqStart || seq >= seqEnd) {
    stale++;
    return;
  }
  delivered++;
  const lat = frameNow - ts;
  all.record(lat);
  if (skipEvery === 0 || (seq - seqStart) % skipEvery !== skipEvery - 1) {
    if (seq >= earlyStart && seq < earlyEnd) early.record(lat);
    else if (seq >= lateStart) late.record(lat);
  }
  lastRecvUs = frameNow;
}

/** Counts the publications in `data[start, end)` (whole frames or lines). */
function countPublications(data: Buffer, start: number, end: number): void {
  frameNow = nowUs();
  scanPublications(data, start, end, record);
}

interface WsInternals {
  _socket: Socket | null;
  _receiver: { _bufferedBytes: number; _state: number } | undefined;
}

/**
 * Takes over frame parsing from `ws` for a live client: the server's frames are small and unmasked,
 * and counting them needs none of the receiver's stream machinery (which costs as much per message
 * as the servers we measure). Done only between frames (nothing buffered in ws's receiver); sending
 * (pongs) still goes through `ws`. Disabled with BENCH_WS_RECEIVER=1.
 */
function takeOverFrames(ws: WebSocket): void {
  if (process.env['BENCH_WS_RECEIVER'] === '1') return;
  const w = ws as unknown as WsInternals;
  const socket = w._socket;
  const receiver = w._receiver;
  if (socket === null || receiver === undefined || receiver._bufferedBytes !== 0 || receiver._state !== 0) return;
  if (ws.readyState !== WebSocket.OPEN) return;
  socket.removeAllListeners('data');
  let rest: Buffer | null = null;
  socket.on('data', (chunk: Buffer) => {
    const buf = rest === null ? chunk : Buffer.concat([rest, chunk]);
    const n = buf.length;
    let off = 0;
    const h = FRAME_HEADER;
    while (readFrameHeader(buf, off, n, h)) {
      const opcode = buf[off]! & 0x0f;
      const start = off + h.head;
      off = start + h.len;
      // Text (JSON), binary (protobuf), or a continuation.
      if (opcode === 1 || opcode === 2 || opcode === 0) onText(ws, buf, start, off);
      else if (opcode === 8) socket.destroy();
      else if (opcode === 9) ws.pong(buf.subarray(start, off));
    }
    rest = off < n ? Buffer.from(buf.subarray(off)) : null;
  });
}

function onLiveClose(this: Ws): void {
  open--;
  disconnects++;
}

// ---- HTTP-streaming and SSE subscribers ----

/** Posts commands (JSON texts joined by `\n`) of a stream client to /emulation; resolves with the status. */
function postEmulation(c: StreamClient, data: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const body = JSON.stringify({ session: c.session, node: c.node, data });
    const req = http.request(
      {
        host: '127.0.0.1',
        port: c.port,
        method: 'POST',
        path: '/emulation',
        agent: emulationAgent,
        localAddress: c.localAddress,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.on('error', () => {});
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Answers a ping; a pong lost shows as the server closing the stream (3012), a disconnect. */
function pong(c: StreamClient): void {
  postEmulation(c, '{}').catch(() => undefined);
}

/** A chunk of a live stream client: its whole lines are scanned for pings and publications. */
function onStreamData(c: StreamClient, chunk: Buffer): void {
  const end = c.carry.push(chunk);
  if (end !== 0) onStreamLines(c, c.carry.buf, 0, end);
}

function onStreamLines(c: StreamClient, buf: Buffer, start: number, end: number): void {
  for (let k = countPings(buf, start, end); k > 0; k--) pong(c);
  countPublications(buf, start, end);
}

function onStreamClose(c: StreamClient): void {
  c.closed = true;
  if (!c.live) return;
  c.live = false;
  open--;
  disconnects++;
}

/** Ends a stream client (no disconnect counted); resolves once its socket is closed. */
function closeStream(c: StreamClient): Promise<void> {
  if (c.live) {
    c.live = false;
    open--;
  }
  if (c.closed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    c.req.once('close', () => resolve());
    c.req.destroy();
  });
}

function isOpen(index: number): boolean {
  return clients.get(index)?.readyState === WebSocket.OPEN || streams.get(index)?.live === true;
}

/** A client of `index` from an earlier connect, not `keep`, is let go. */
function replacePrevious(index: number, keep: Ws | StreamClient): void {
  const ws = clients.get(index);
  if (ws !== undefined && ws !== keep) {
    ws.terminate();
    clients.delete(index);
  }
  const st = streams.get(index);
  if (st !== undefined && st !== keep) {
    void closeStream(st);
    streams.delete(index);
  }
}

/**
 * Opens Gyre client `index` on HTTP-streaming or SSE and resolves once it is subscribed: the
 * connect command opens the stream, the connect reply gives session and node, the subscribe
 * commands go to /emulation, their replies come on the stream.
 */
function openStreamClient(cmd: ConnectCommand, index: number, mode: ClientMode, channels: string[], localAddress: string): Promise<void> {
  const sse = mode.transport === 'sse';
  const connectCommand = JSON.stringify({ id: 1, connect: { token: tokens.get(index) ?? '' } });
  return new Promise<void>((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port: cmd.port,
      agent: false,
      localAddress,
      method: sse ? 'GET' : 'POST',
      path: sse ? `/connection/sse?cf_connect=${encodeURIComponent(connectCommand)}` : '/connection/http_stream',
      headers: sse
        ? { accept: 'text/event-stream' }
        : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(connectCommand) },
    });
    const c: StreamClient = { req, port: cmd.port, localAddress, session: '', node: '', live: false, closed: false, carry: new LineCarry() };
    let done = false;
    const timer = setTimeout(() => fail(new Error('subscribe timeout')), HANDSHAKE_TIMEOUT_MS);
    const fail = (e: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      reject(e);
    };
    const onSetupClose = () => {
      c.closed = true;
      fail(new Error(`${mode.transport} stream closed during setup`));
    };
    req.on('close', onSetupClose);
    req.on('error', (e: Error) => fail(e));
    req.on('response', (res: http.IncomingMessage) => {
      res.on('error', () => {}); // a reset stream: 'close' tells
      if (res.statusCode !== 200) {
        res.resume();
        return fail(new Error(`${mode.transport} answered HTTP ${res.statusCode}`));
      }
      let replies = 0;
      const live = (rest: number, end: number) => {
        done = true;
        clearTimeout(timer);
        res.removeListener('data', onSetup);
        req.removeListener('close', onSetupClose);
        req.on('close', () => onStreamClose(c));
        res.on('data', (chunk: Buffer) => onStreamData(c, chunk));
        c.live = true;
        open++;
        replacePrevious(index, c);
        streams.set(index, c);
        // Whatever came after the last subscribe reply in the same chunk.
        if (rest < end) onStreamLines(c, c.carry.buf, rest, end);
        resolve();
      };
      const onSetup = (chunk: Buffer) => {
        if (done) return;
        const end = c.carry.push(chunk);
        if (end === 0) return;
        for (const m of streamMessages(c.carry.buf, 0, end)) {
          let r: { id?: number; error?: { code: number; message: string }; connect?: { session?: string; node?: string }; push?: { disconnect?: { code: number; reason: string } } };
          try {
            r = JSON.parse(m.text) as typeof r;
          } catch {
            return fail(new Error(`malformed ${mode.transport} message: ${m.text.slice(0, 80)}`));
          }
          if (r.id === undefined) {
            if (m.text === '{}') pong(c);
            else if (r.push?.disconnect !== undefined) return fail(new Error(`disconnected during setup (${r.push.disconnect.code} ${r.push.disconnect.reason})`));
            continue;
          }
          if (r.error !== undefined) return fail(new Error(`gyre error ${r.error.code} ${r.error.message}`));
          if (r.id === 1) {
            c.session = r.connect?.session ?? '';
            c.node = r.connect?.node ?? '';
            const subscribe = channels.map((channel, j) => JSON.stringify({ id: 2 + j, subscribe: { channel } })).join('\n');
            postEmulation(c, subscribe).then(
              (status) => {
                if (status !== 204) fail(new Error(`emulation answered HTTP ${status}`));
              },
              (e: unknown) => fail(e instanceof Error ? e : new Error(String(e))),
            );
          } else if (++replies === channels.length) {
            return live(m.end, end);
          }
        }
      };
      res.on('data', onSetup);
    });
    if (sse) req.end();
    else req.end(connectCommand);
  });
}

/** Opens client `index` and resolves once it is subscribed to its channels. */
function openClient(cmd: ConnectCommand, index: number): Promise<void> {
  const channels = channelsOf(cmd.subs, index);
  const localAddress = sourceAddress(cmd.addressBase + Math.floor(index / CLIENTS_PER_ADDRESS));
  const mode: ClientMode =
    cmd.server === 'gyre' ? clientModeOf(cmd.transport ?? 'websocket', cmd.protocol ?? 'json', index) : { transport: 'websocket', protocol: 'json' };
  if (mode.transport !== 'websocket') return openStreamClient(cmd, index, mode, channels, localAddress);
  const path = cmd.server === 'gyre' ? '/connection/websocket' : cmd.server === 'sio' ? '/socket.io/?EIO=4&transport=websocket' : '/';
  const protobuf = mode.protocol === 'protobuf';
  return new Promise<void>((resolve, reject) => {
    const ws: Ws = USE_WS_LIBRARY
      ? new WebSocket(`ws://127.0.0.1:${cmd.port}${path}`, protobuf ? [PROTOBUF_SUBPROTOCOL] : [], {
          perMessageDeflate: false,
          skipUTF8Validation: true,
          localAddress,
          handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
        })
      : new LightWs(cmd.port, path, { ...(protobuf && { protocol: PROTOBUF_SUBPROTOCOL }), localAddress });
    // Both emit open / message (data, isBinary) / error / close (code).
    const ev = ws as unknown as EventEmitter;
    let done = false;
    const timer = setTimeout(() => fail(new Error('subscribe timeout')), HANDSHAKE_TIMEOUT_MS);
    const fail = (e: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ev.removeAllListeners();
      ev.on('error', () => {});
      ws.terminate();
      reject(e);
    };
    const live = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ev.removeAllListeners('message');
      ev.removeAllListeners('close');
      ev.on('close', onLiveClose);
      if (ws instanceof LightWs) {
        ws.onFrame = onLightFrame;
      } else {
        ws.on('message', onLive);
        setImmediate(takeOverFrames, ws);
      }
      open++;
      replacePrevious(index, ws);
      clients.set(index, ws);
      resolve();
    };
    ev.on('error', (e: Error) => fail(e));
    ev.on('close', (code: number) => fail(new Error(`closed during setup (${code})`)));
    if (protobuf) {
      const token = tokens.get(index) ?? '';
      let replies = 0;
      ev.on('open', () => {
        if (ws.protocol !== PROTOBUF_SUBPROTOCOL) return fail(new Error(`server chose subprotocol "${ws.protocol}"`));
        // As the SDK: the subscribe commands go in the connect command's frame.
        ws.send(Buffer.concat([protobufConnectFrame(1, token), protobufSubscribeFrame(2, channels)]));
      });
      ev.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary) return fail(new Error('text frame on a protobuf connection'));
        let heads;
        try {
          heads = readReplies(data);
        } catch (e) {
          return fail(new Error(`malformed reply: ${e instanceof Error ? e.message : String(e)}`));
        }
        for (const m of heads) {
          if (m.error !== undefined) return fail(new Error(`gyre error ${m.error.code} ${m.error.message}`));
          if (m.id === 0) {
            if (m.empty) ws.send(PROTOBUF_PONG);
            continue; // a push
          }
          if (m.id !== 1 && ++replies === channels.length) return live();
        }
      });
    } else if (cmd.server === 'gyre') {
      const token = tokens.get(index);
      let replies = 0;
      // As the SDK does when its subscriptions exist before the socket opens (centrifuge-js sends
      // the connect command and the subscribe commands in one frame): one round trip, not two.
      const first = [JSON.stringify({ id: 1, connect: { token } }), ...channels.map((channel, j) => JSON.stringify({ id: 2 + j, subscribe: { channel } }))].join('\n');
      ev.on('open', () => ws.send(first));
      ev.on('message', (data: Buffer) => {
        for (const line of data.toString().split('\n')) {
          if (line === '') continue;
          const m = JSON.parse(line) as { id?: number; error?: { code: number; message: string } };
          if (m.id === undefined) {
            if (line === '{}') ws.send('{}');
            continue;
          }
          if (m.error !== undefined) return fail(new Error(`gyre error ${m.error.code} ${m.error.message}`));
          if (m.id !== 1 && ++replies === channels.length) return live();
        }
      });
    } else if (cmd.server === 'sio') {
      ev.on('message', (data: Buffer) => {
        const s = data.toString();
        // socket.io-client's CONNECT, with `auth: { token }` when the client has one.
        if (s.startsWith('0')) ws.send(cmd.sioToken === true ? `40${JSON.stringify({ token: tokens.get(index) ?? '' })}` : '40');
        else if (s.startsWith('40')) ws.send('421' + JSON.stringify(['join', channels]));
        else if (s.startsWith('431')) live();
        else if (s === '2') ws.send('3');
        else if (s.startsWith('44')) fail(new Error(`socket.io connect error ${s}`));
      });
    } else {
      ev.on('open', () => ws.send(JSON.stringify({ join: channels })));
      ev.on('message', (data: Buffer) => {
        if (data.toString() === 'ok') live();
      });
    }
  });
}

async function connect(cmd: ConnectCommand): Promise<ConnectReport> {
  proto = cmd.server;
  joinedFrames = cmd.joinedFrames === true;
  const setup = new Histogram();
  let failed = 0;
  let firstError: string | undefined;
  const startUs = nowUs();
  const cpu0 = process.cpuUsage();
  let next = cmd.from;
  let inflight = 0;
  const attempt = async (i: number): Promise<void> => {
    for (let a = 1; ; a++) {
      const t0 = nowUs();
      try {
        await openClient(cmd, i);
        setup.record(nowUs() - t0);
        return;
      } catch (e) {
        firstError ??= e instanceof Error ? e.message : String(e);
        if (a >= ATTEMPTS) {
          failed++;
          return;
        }
        await new Promise((r) => setTimeout(r, 100 * a));
      }
    }
  };
  await new Promise<void>((resolve) => {
    if (next >= cmd.to) return resolve();
    const launch = () => {
      while (inflight < cmd.concurrency && next < cmd.to) {
        const i = next++;
        if (isOpen(i)) continue; // still connected from before
        inflight++;
        void attempt(i).then(() => {
          inflight--;
          if (next >= cmd.to && inflight === 0) resolve();
          else launch();
        });
      }
      if (next >= cmd.to && inflight === 0) resolve();
    };
    launch();
  });
  const endUs = nowUs();
  const cpu = process.cpuUsage(cpu0);
  let connected = 0;
  for (let i = cmd.from; i < cmd.to; i++) if (isOpen(i)) connected++;
  return {
    type: 'connected',
    connected,
    failed,
    startUs,
    endUs,
    setup: setup.toSparse(),
    cpuUs: cpu.user + cpu.system,
    ...(firstError !== undefined && { firstError }),
  };
}

async function prepare(from: number, to: number): Promise<void> {
  const todo: number[] = [];
  for (let i = from; i < to; i++) if (!tokens.has(i)) todo.push(i);
  for (let k = 0; k < todo.length; k += 500) {
    const batch = todo.slice(k, k + 500);
    const signed = await Promise.all(batch.map((i) => signToken({ sub: `u${i}` }, { hmacSecret: BENCH_SECRET })));
    batch.forEach((i, j) => tokens.set(i, signed[j]!));
  }
}

function begin(start: number, count: number, skip: number): void {
  seqStart = start;
  skipEvery = skip;
  seqEnd = start + count;
  // Backlog growth shows as the last quarter of a step being slower than the second one (the first
  // quarter starts from an idle server and is left out).
  earlyStart = start + Math.floor(count / 4);
  earlyEnd = start + Math.floor(count / 2);
  lateStart = start + Math.floor((count * 3) / 4);
  delivered = 0;
  stale = 0;
  lastRecvUs = 0;
  disconnects = 0;
  all.reset();
  early.reset();
  late.reset();
  cpuAtBegin = process.cpuUsage();
}

function report(full: boolean): StepReport {
  const cpu = process.cpuUsage(cpuAtBegin);
  return {
    type: 'report',
    delivered,
    stale,
    lastRecvUs,
    open,
    disconnects,
    all: full ? all.toSparse() : [],
    early: full ? early.toSparse() : [],
    late: full ? late.toSparse() : [],
    cpuUs: cpu.user + cpu.system,
  };
}

async function closeAll(): Promise<number> {
  const list = [...clients.values()];
  const streamList = [...streams.values()];
  clients.clear();
  streams.clear();
  await Promise.all([
    ...streamList.map(closeStream),
    ...list.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          const ev = ws as unknown as EventEmitter;
          ev.removeAllListeners('close');
          ev.on('error', () => {});
          ev.once('close', () => resolve());
          ws.terminate();
        }),
    ),
  ]);
  emulationAgent.destroy();
  emulationAgent = newEmulationAgent();
  open = 0;
  return list.length + streamList.length;
}

process.on('message', (cmd: WorkerCommand) => {
  const run = async (): Promise<WorkerReply> => {
    switch (cmd.type) {
      case 'prepare':
        await prepare(cmd.from, cmd.to);
        return { type: 'prepared' };
      case 'connect':
        return connect(cmd);
      case 'begin':
        begin(cmd.seqStart, cmd.count, cmd.skipEvery);
        return { type: 'begun' };
      case 'report':
        return report(cmd.full);
      case 'close':
        return { type: 'closed', closed: await closeAll() };
      case 'exit':
        await closeAll();
        process.exit(0);
    }
  };
  run().then(send, (e: unknown) => send({ type: 'error', message: e instanceof Error ? e.stack ?? e.message : String(e) }));
});
// The orchestrator went away: leave nothing behind.
process.on('disconnect', () => process.exit(0));
