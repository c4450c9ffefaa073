/**
 * Test helpers: a real Gyre server on a random port, the real `centrifuge` client, raw `ws`
 * sockets, the HTTP API, and the server's log lines captured for assertions.
 */
import { Writable } from 'node:stream';
import { Centrifuge, type Options as CentrifugeOptions, type PublicationContext, type Subscription } from 'centrifuge';
import { pino } from 'pino';
import WebSocket from 'ws';
import { signToken } from '../../src/auth/sign.js';
import type { ConfigInput } from '../../src/config/tree.js';
import { deepMerge } from '../../src/config/tree.js';
import { validateConfig } from '../../src/config/validate.js';
import type { Handlers } from '../../src/handlers/pipeline.js';
import { GyreServer } from '../../src/server.js';
import { SocketInbox, type CloseInfo } from './inbox.js';
import { DEFAULT_WAIT_MS, deadline, until as untilBounded, waitOptions, withTimeout, type UntilOptions, type WaitArg } from './wait.js';

export const SECRET = 'test-secret';
export const API_KEY = 'test-api-key';

/** A base config: token key, API key, history + recovery + presence on channels without namespace. */
export const BASE_CONFIG: ConfigInput = {
  log: { level: 'debug' },
  client: { token: { hmac_secret_key: SECRET }, allowed_origins: ['*'] },
  http_api: { key: API_KEY },
  health: { enabled: true },
  channel: {
    without_namespace: {
      presence: true,
      join_leave: true,
      history_size: 100,
      history_ttl: '300s',
      force_recovery: true,
      allow_subscribe_for_client: true,
      allow_subscribe_for_anonymous: true,
      allow_publish_for_subscriber: true,
      allow_presence_for_subscriber: true,
      allow_history_for_subscriber: true,
    },
  },
};

/** Bound of a test server's shutdown in `close()` (ms): above the default shutdown.timeout (30 s). */
const CLOSE_WAIT_MS = Math.max(DEFAULT_WAIT_MS, 45_000);

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface TestGyre {
  server: GyreServer;
  port: number;
  wsUrl: string;
  baseUrl: string;
  logs: LogLine[];
  /** Calls `POST /api/<method>` and returns the parsed JSON body. */
  api(method: string, params?: unknown): Promise<Record<string, unknown>>;
  token(user: string, claims?: Record<string, unknown>, ttlSeconds?: number): Promise<string>;
  /** A `centrifuge` client (not yet connected) with Node's `ws`. */
  client(opts?: Partial<CentrifugeOptions>): Centrifuge;
  /** A raw WebSocket, open (`options`: e.g. extra HTTP headers for the upgrade request). */
  raw(options?: WebSocket.ClientOptions): Promise<RawSocket>;
  close(): Promise<void>;
}

/** Extra options of {@link startGyre}. */
export interface StartGyreOptions {
  /** Application handlers for the server. */
  handlers?: Handlers;
}

export async function startGyre(
  overrides: ConfigInput = {},
  base: ConfigInput = BASE_CONFIG,
  options: StartGyreOptions = {},
): Promise<TestGyre> {
  const { config } = validateConfig(deepMerge(base, overrides));
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  const log = pino({ level: config.log.level === 'none' ? 'silent' : config.log.level }, sink);
  const server = new GyreServer({ config, log, ...(options.handlers !== undefined && { handlers: options.handlers }) });
  const port = await server.listen(0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${port}`;
  const wsUrl = `ws://127.0.0.1:${port}/connection/websocket`;
  const clients: Centrifuge[] = [];
  const sockets: RawSocket[] = [];
  return {
    server,
    port,
    wsUrl,
    baseUrl,
    logs,
    async api(method, params = {}) {
      const call = async () => {
        const res = await fetch(`${baseUrl}/api/${method}`, {
          method: 'POST',
          headers: { 'X-API-Key': API_KEY, 'Content-Type': 'application/json' },
          body: JSON.stringify(params),
        });
        return (await res.json()) as Record<string, unknown>;
      };
      return withTimeout(call(), undefined, `api(${method})`, `no answer from POST /api/${method}`);
    },
    token: (user, claims = {}, ttlSeconds) =>
      signToken({ sub: user, ...claims }, { hmacSecret: SECRET, ...(ttlSeconds !== undefined && { ttlSeconds }) }),
    client(opts = {}) {
      const c = new Centrifuge(wsUrl, { websocket: WebSocket, minReconnectDelay: 50, maxReconnectDelay: 300, ...opts });
      clients.push(c);
      return c;
    },
    async raw(options) {
      const s = await RawSocket.open(wsUrl, options);
      sockets.push(s);
      return s;
    },
    async close() {
      for (const c of clients) c.disconnect();
      for (const s of sockets) s.ws.terminate();
      await withTimeout(server.shutdown(), { timeoutMs: CLOSE_WAIT_MS }, 'TestGyre.close', 'server.shutdown() did not finish');
    },
  };
}

export type { CloseInfo } from './inbox.js';

/**
 * A raw WebSocket speaking JSON frames, with a queue of received messages and the close event.
 * Every wait is bounded (see ./wait.ts): `next`, `reply`, `connect`, `closed` / `waitClosed`.
 */
export class RawSocket {
  /**
   * Answer server pings (`{}`) with pongs (`{}`) as they arrive, as a real client does. Off by
   * default: a raw socket that lives longer than `ping_interval + pong_timeout` without it is
   * closed by the server with 3012 (no pong).
   */
  pongs = false;
  private readonly inbox = new SocketInbox<Record<string, unknown>>('RawSocket');

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const received: Array<Record<string, unknown>> = [];
      for (const line of data.toString().split('\n')) {
        if (line.trim() === '') continue;
        const m = JSON.parse(line) as Record<string, unknown>;
        // A server ping is `{}`: answered at once when asked to (a real client does).
        if (this.pongs && Object.keys(m).length === 0 && ws.readyState === WebSocket.OPEN) ws.send('{}');
        received.push(m);
      }
      this.inbox.push(...received);
    });
    ws.on('close', (code: number, reason: Buffer) => this.inbox.closed(code, reason.toString()));
  }

  /** Messages received and not yet taken by {@link next}. */
  get messages(): Array<Record<string, unknown>> {
    return this.inbox.messages;
  }

  /** Opens a socket; rejects on an error, or when it is not open within the timeout. */
  static open(url: string, options?: WebSocket.ClientOptions, wait?: WaitArg): Promise<RawSocket> {
    const { timeoutMs, what } = waitOptions(wait, `socket to ${url} not open`);
    let ws: WebSocket | undefined;
    return deadline<RawSocket>(
      timeoutMs,
      () => {
        ws?.terminate();
        return `RawSocket.open: ${what} within ${timeoutMs} ms`;
      },
      (resolve, reject) => {
        ws = new WebSocket(url, options);
        const w = ws;
        w.once('open', () => resolve(new RawSocket(w)));
        w.once('error', reject);
      },
    );
  }

  send(text: string | Buffer, binary = false): void {
    this.ws.send(text, { binary });
  }

  sendJson(...objects: unknown[]): void {
    this.ws.send(objects.map((o) => JSON.stringify(o)).join('\n'));
  }

  /**
   * Waits for a message matching `pred` (already received or future) and takes it off the queue;
   * rejects when the socket closes first, or after the timeout (`opts`: `{ timeoutMs, what }` or a label).
   */
  next(pred: (m: Record<string, unknown>) => boolean = () => true, opts?: WaitArg): Promise<Record<string, unknown>> {
    return this.inbox.next(pred, opts);
  }

  /** Waits for the reply with this id. */
  reply(id: number, opts?: WaitArg): Promise<Record<string, unknown>> {
    return this.next((m) => m['id'] === id, waitOptions(opts, `reply with id ${id}`));
  }

  /** Sends a connect command and waits for its reply. */
  async connect(token?: string, opts?: WaitArg): Promise<Record<string, unknown>> {
    this.sendJson({ id: 1, connect: token === undefined ? {} : { token } });
    return this.reply(1, waitOptions(opts, 'connect reply (id 1)'));
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

export { DEFAULT_WAIT_MS, once, sleep, type UntilOptions, type WaitArg, type WaitOptions } from './wait.js';

/**
 * Polls `check` until it returns true; rejects after 10 s (default) with
 * `until: condition not met within N ms: <label or the check's source>`. `opts`: the polling step
 * (ms), a label, or `{ timeoutMs, what, stepMs }`.
 */
export function until(check: () => boolean | Promise<boolean>, opts?: number | string | UntilOptions): Promise<void> {
  return untilBounded(check, opts, 10);
}

/**
 * Publishes a marker through the API and waits until `sub` has received it: every publication
 * published before it has arrived by then.
 */
export async function barrier(gyre: Pick<TestGyre, 'api'>, sub: Subscription, channel: string, opts?: WaitArg): Promise<void> {
  const marker = Math.random();
  let seen = false;
  const onPub = (ctx: PublicationContext) => {
    if ((ctx.data as { marker?: number }).marker === marker) seen = true;
  };
  sub.on('publication', onPub);
  try {
    await gyre.api('publish', { channel, data: { marker } });
    const { timeoutMs, what } = waitOptions(opts, `barrier marker publication on "${channel}" not received`);
    await untilBounded(() => seen, { timeoutMs, what }, 10);
  } finally {
    sub.off('publication', onPub);
  }
}
