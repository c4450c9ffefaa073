/** Helpers for the handler unit tests: a captured pino logger and requests built without a socket. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { Outcome } from '../../src/handlers/answer.js';
import { newSlot, type Handlers } from '../../src/handlers/pipeline.js';
import {
  ConnectRequest,
  PublishRequest,
  RefreshRequest,
  RPCRequest,
  SubRefreshRequest,
  SubscribeRequest,
  type ConnectionContext,
  type RequestMap,
  type RequestType,
  type ResponseMap,
} from '../../src/handlers/requests.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A debug-level pino logger whose lines land in `lines`, parsed. */
export function captureLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, sink), lines };
}

/** pino levels. */
export const WARN = 40;
export const ERROR = 50;

/** A connection context with sensible test values. */
export function context(overrides: Partial<ConnectionContext> = {}): ConnectionContext {
  return {
    client: 'client-1',
    transport: 'websocket',
    protocol: 'json',
    encoding: 'json',
    headers: { 'x-custom': 'abc', 'x-multi': ['1', '2'], host: 'example.com' },
    user: 'u1',
    meta: { tenant: 't1' },
    ...overrides,
  };
}

/** Builds a request of each type (with a slot that logs second answers to `log`). */
export const requests = {
  connect: (log: Logger, data: unknown = { a: 1 }, ctx = context({ user: '' })) =>
    new ConnectRequest(ctx, newSlot(log, 'connect', ctx.client), data, 'js', '1.2.3', ['ch1']),
  refresh: (log: Logger, ctx = context()) => new RefreshRequest(ctx, newSlot(log, 'refresh', ctx.client)),
  subscribe: (log: Logger, channel = 'news', ctx = context()) =>
    new SubscribeRequest(ctx, newSlot(log, 'subscribe', ctx.client), channel, 'tok', { s: 1 }),
  publish: (log: Logger, channel = 'chat', data: unknown = { text: 'hi' }, ctx = context()) =>
    new PublishRequest(ctx, newSlot(log, 'publish', ctx.client), channel, data),
  rpc: (log: Logger, method = 'ping', data: unknown = null, ctx = context()) =>
    new RPCRequest(ctx, newSlot(log, 'rpc', ctx.client), method, data),
  sub_refresh: (log: Logger, channel = 'news', ctx = context()) =>
    new SubRefreshRequest(ctx, newSlot(log, 'sub_refresh', ctx.client), channel),
};

/** Runs a request through handlers. */
export function run<T extends RequestType>(handlers: Handlers, request: RequestMap[T], log: Logger): Promise<Outcome<ResponseMap[T]>> {
  return handlers.run<T>(request, log);
}
