/**
 * Helpers for the event endpoint tests: a real Gyre server with `events.enabled` on a random port
 * (listeners and hooks registered before it listens), and a raw `ws` socket speaking
 * `{"event", "data"}` messages.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import WebSocket from 'ws';
import type { ConfigInput } from '../../src/config/tree.js';
import { deepMerge } from '../../src/config/tree.js';
import { validateConfig } from '../../src/config/validate.js';
import type { Broker, PresenceManager } from '../../src/engine/types.js';
import type { EventsServer } from '../../src/events/server.js';
import { GyreServer } from '../../src/server.js';
import type { LogLine } from '../helpers/gyre.js';
import { SocketInbox, type CloseInfo } from '../helpers/inbox.js';
import { DEFAULT_WAIT_MS as DEFAULT_WAIT, deadline, until as untilBounded, waitOptions, withTimeout, type UntilOptions, type WaitArg } from '../helpers/wait.js';

export const EVENTS_BASE: ConfigInput = {
  log: { level: 'debug' },
  client: { allowed_origins: ['*'] },
  events: { enabled: true },
};

export interface EventsGyre {
  server: GyreServer;
  events: EventsServer;
  port: number;
  /** URL of the event endpoint. */
  url: string;
  logs: LogLine[];
  /** Opens a raw event socket (closed by `close()`). */
  socket(options?: WebSocket.ClientOptions, url?: string): Promise<EventSocket>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Registers listeners and hooks before the server listens. */
  setup?: (events: EventsServer, server: GyreServer) => void;
  broker?: Broker;
  presence?: PresenceManager;
}

export async function startEvents(overrides: ConfigInput = {}, opts: StartOptions = {}): Promise<EventsGyre> {
  const { config } = validateConfig(deepMerge(EVENTS_BASE, overrides));
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  const log = pino({ level: config.log.level === 'none' ? 'silent' : config.log.level }, sink);
  const server = new GyreServer({
    config,
    log,
    ...(opts.broker !== undefined && { broker: opts.broker }),
    ...(opts.presence !== undefined && { presence: opts.presence }),
  });
  opts.setup?.(server.events, server);
  const port = await server.listen(0, '127.0.0.1');
  const eventsPort = config.events.port > 0 ? config.events.port : port;
  const url = `ws://127.0.0.1:${eventsPort}${config.events.handler_prefix}`;
  const sockets: EventSocket[] = [];
  return {
    server,
    events: server.events,
    port,
    url,
    logs,
    async socket(options, at = url) {
      const s = await EventSocket.open(at, options);
      sockets.push(s);
      return s;
    },
    async close() {
      for (const s of sockets) s.ws.terminate();
      await withTimeout(server.shutdown(), { timeoutMs: 45_000 }, 'EventsGyre.close', 'server.shutdown() did not finish');
    },
  };
}

export interface EventFrame {
  event: string;
  data?: unknown;
}

/** A raw WebSocket speaking event messages, with a queue of received ones and the close event; every wait is bounded. */
export class EventSocket {
  private readonly inbox = new SocketInbox<EventFrame>('EventSocket');

  private constructor(
    readonly ws: WebSocket,
    /** Headers of the handshake response. */
    readonly upgradeHeaders: IncomingHttpHeaders,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.inbox.push(JSON.parse(data.toString()) as EventFrame);
    });
    ws.on('close', (code: number, reason: Buffer) => this.inbox.closed(code, reason.toString()));
  }

  /** Messages received and not yet taken by {@link next}. */
  get messages(): EventFrame[] {
    return this.inbox.messages;
  }

  /** Opens a socket; rejects on an error (e.g. a refused upgrade), or when it is not open within the timeout. */
  static open(url: string, options?: WebSocket.ClientOptions, wait?: WaitArg): Promise<EventSocket> {
    const { timeoutMs, what } = waitOptions(wait, `socket to ${url} not open`);
    let ws: WebSocket | undefined;
    return deadline<EventSocket>(
      timeoutMs,
      () => {
        ws?.terminate();
        return `EventSocket.open: ${what} within ${timeoutMs} ms`;
      },
      (resolve, reject) => {
        ws = new WebSocket(url, options);
        const w = ws;
        let headers: IncomingHttpHeaders = {};
        w.once('upgrade', (res: IncomingMessage) => void (headers = res.headers));
        w.once('open', () => resolve(new EventSocket(w, headers)));
        w.once('error', reject);
      },
    );
  }

  /** Sends `{"event", "data"}`. */
  emit(event: string, data?: unknown): void {
    this.ws.send(JSON.stringify({ event, data }));
  }

  /** Sends a raw text (or binary) frame. */
  sendRaw(payload: string | Buffer, binary = false): void {
    this.ws.send(payload, { binary });
  }

  /**
   * Waits for a message matching `pred` (already received or future) and takes it off the queue;
   * rejects when the socket closes first, or after the timeout (`opts`: `{ timeoutMs, what }` or a label).
   */
  next(pred: (m: EventFrame) => boolean = () => true, opts?: WaitArg): Promise<EventFrame> {
    return this.inbox.next(pred, opts);
  }

  /** Waits for the next message with this event name. */
  nextEvent(event: string, opts?: WaitArg): Promise<EventFrame> {
    return this.next((m) => m.event === event, waitOptions(opts, `"${event}" message`));
  }

  /** The close code and reason, once the socket closes (bounded by the default timeout: see {@link waitClosed}). */
  get closed(): Promise<CloseInfo> {
    return this.inbox.waitClosed();
  }

  /** Resolves with the close code and reason once the socket closes; rejects after the timeout. */
  waitClosed(opts?: WaitArg): Promise<CloseInfo> {
    return this.inbox.waitClosed(opts);
  }
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return deadline(DEFAULT_WAIT, () => `freePort: no free port found within ${DEFAULT_WAIT} ms`, (resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Registers an `ECHO` listener answering `ECHOED` with the same data and a `WHOAMI` listener answering the connection id. */
export function echoListeners(events: EventsServer): void {
  events.on('ECHO', (server, m) => {
    server.sendMessage(m.connectionId, 'ECHOED', m.data);
  });
  events.on('WHOAMI', (server, m) => {
    server.sendMessage(m.connectionId, 'YOU_ARE', { connectionId: m.connectionId, userId: m.userId ?? null });
  });
}

/** Round trip of an `ECHO` on `s`: the connection is served. */
export async function assertServed(s: EventSocket): Promise<void> {
  const n = Math.random();
  s.emit('ECHO', { n });
  const reply = await s.next((m) => m.event === 'ECHOED' && (m.data as { n?: number } | undefined)?.n === n, `ECHOED reply to ECHO ${n}`);
  if (reply === undefined) throw new Error('no echo');
}

/** The connection id of a socket, asked with `WHOAMI`. */
export async function connectionIdOf(s: EventSocket): Promise<string> {
  s.emit('WHOAMI');
  const m = await s.nextEvent('YOU_ARE');
  return (m.data as { connectionId: string }).connectionId;
}

/**
 * Polls `check` (every 5 ms by default) until it returns true; rejects after 10 s (default) with
 * `until: condition not met within N ms: <label or the check's source>`. `opts`: the polling step
 * (ms), a label, or `{ timeoutMs, what, stepMs }`.
 */
export function until(check: () => boolean | Promise<boolean>, opts?: number | string | UntilOptions): Promise<void> {
  return untilBounded(check, opts, 5);
}
