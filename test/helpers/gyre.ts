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
      const res = await fetch(`${baseUrl}/api/${method}`, {
        method: 'POST',
        headers: { 'X-API-Key': API_KEY, 'Content-Type': 'application/json' },
        body: JSON.stringify(params),
      });
      return (await res.json()) as Record<string, unknown>;
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
      await server.shutdown();
    },
  };
}

/** A raw WebSocket speaking JSON frames, with a queue of received messages and the close event. */
export class RawSocket {
  readonly messages: Array<Record<string, unknown>> = [];
  private waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      for (const line of data.toString().split('\n')) {
        if (line.trim() !== '') this.messages.push(JSON.parse(line) as Record<string, unknown>);
      }
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        resolve({ code, reason: reason.toString() });
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      });
    });
  }

  static open(url: string, options?: WebSocket.ClientOptions): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      ws.once('open', () => resolve(new RawSocket(ws)));
      ws.once('error', reject);
    });
  }

  send(text: string | Buffer, binary = false): void {
    this.ws.send(text, { binary });
  }

  sendJson(...objects: unknown[]): void {
    this.ws.send(objects.map((o) => JSON.stringify(o)).join('\n'));
  }

  /** Waits for a message matching `pred` (already received or future), or rejects on close. */
  async next(pred: (m: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
    for (;;) {
      const i = this.messages.findIndex(pred);
      if (i >= 0) return this.messages.splice(i, 1)[0]!;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('socket closed while waiting for a message');
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Waits for the reply with this id. */
  reply(id: number): Promise<Record<string, unknown>> {
    return this.next((m) => m['id'] === id);
  }

  /** Sends a connect command and waits for its reply. */
  async connect(token?: string): Promise<Record<string, unknown>> {
    this.sendJson({ id: 1, connect: token === undefined ? {} : { token } });
    return this.reply(1);
  }
}

/** Resolves when `emitter` emits `event` (first argument). */
export function once<T = unknown>(emitter: { once(event: string, fn: (arg: T) => void): unknown }, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve));
}

/** Polls `check` until it returns true (no timing assertion: the test's own timeout bounds it). */
export async function until(check: () => boolean | Promise<boolean>, stepMs = 10): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, stepMs));
}

/**
 * Publishes a marker through the API and waits until `sub` has received it: every publication
 * published before it has arrived by then.
 */
export async function barrier(gyre: Pick<TestGyre, 'api'>, sub: Subscription, channel: string): Promise<void> {
  const marker = Math.random();
  let seen = false;
  const onPub = (ctx: PublicationContext) => {
    if ((ctx.data as { marker?: number }).marker === marker) seen = true;
  };
  sub.on('publication', onPub);
  await gyre.api('publish', { channel, data: { marker } });
  await until(() => seen);
  sub.off('publication', onPub);
}
