/**
 * Helpers of the proxy tests: the project's own handler backend (application handlers served as an
 * HTTP or gRPC proxy backend) on a real port, a demo application deciding client events, and the
 * real `centrifuge` client with custom upgrade headers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Subscription, SubscribedContext, SubscriptionErrorContext, UnsubscribedContext } from 'centrifuge';
import { pino, type Logger } from 'pino';
import WebSocket from 'ws';
import { ConnectResponse, Handlers, PublishResponse, RPCResponse, SubRefreshResponse, SubscribeResponse, RefreshResponse } from '../../src/handlers/index.js';
import { GrpcProxyBackend } from '../../src/proxy/backend/grpc.js';
import { proxyRequestListener } from '../../src/proxy/backend/http.js';
import type { LogLine } from '../helpers/gyre.js';
import { deadline, DEFAULT_WAIT_MS, withTimeout, type WaitArg, waitOptions } from '../helpers/wait.js';

export type BackendKind = 'http' | 'grpc';

export interface TestBackend {
  kind: BackendKind;
  port: number;
  /** The endpoint of an event (HTTP: one URL per event; gRPC: one address for all). */
  endpoint(event: string): string;
  /** Every request the backend received: event and headers. */
  seen: Array<{ event: string; headers: Readonly<Record<string, string | string[] | undefined>>; meta: unknown }>;
  logs: LogLine[];
  close(): Promise<void>;
}

/** A logger whose JSON lines land in `logs`. */
export function captureLogger(logs: LogLine[], level = 'debug'): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line !== '') logs.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  return pino({ level }, sink);
}

/**
 * The demo application's decisions, as a PHP / TypeScript backend would make them:
 * - connect: `data.token` "good-<user>" → that user (with info, meta, connect data echoing the
 *   forwarded `x-app` header); "bad" → error 401; "ban" → disconnect 4501; no token → anonymous.
 * - subscribe: `secret:*` / `secret` → error 403; else allowed with data and info.
 * - publish: data replaced by `{...data, by: user, tier: meta.tier}`; channel containing "blocked" → error 1000.
 * - rpc: "whoami" → `{user, meta}`; "fail" → error 1500; "kick" → disconnect 4000; "slow" → answers when
 *   `slow` entries are called (the backend's close).
 * - refresh / sub_refresh: extend by an hour.
 */
export function demoHandlers(seen: TestBackend['seen'] = [], slow: Set<() => void> = new Set()): Handlers {
  const record = (event: string) => (req: { headers: Readonly<Record<string, string | string[] | undefined>>; meta: unknown }) =>
    seen.push({ event, headers: req.headers, meta: req.meta });
  return Handlers.from({
    timeouts: { rpc: 10_000 },
    services: {
      connect: (req) => {
        record('connect')(req);
        const token = (req.data as { token?: string } | undefined)?.token;
        if (token === 'bad') return req.error(401, 'unauthorized');
        if (token === 'ban') return req.disconnect(4501, 'banned');
        const user = token?.startsWith('good-') === true ? token.slice(5) : '';
        req.respond(
          new ConnectResponse({
            user,
            info: { name: `User ${user}` },
            data: { greeting: `hello ${user}`, app: req.getHeader('x-app')[0] ?? null, transport: req.transport },
            meta: { tier: 'gold' },
            expireAt: Math.floor(Date.now() / 1000) + 3600,
          }),
        );
      },
      refresh: (req) => {
        record('refresh')(req);
        req.respond(new RefreshResponse({ expireAt: Math.floor(Date.now() / 1000) + 3600 }));
      },
      subscribe: (req) => {
        record('subscribe')(req);
        if (req.channel.startsWith('secret')) return req.error(403, 'forbidden');
        req.respond(new SubscribeResponse({ data: { welcome: req.channel, user: req.user }, info: { role: 'reader' } }));
      },
      publish: (req) => {
        record('publish')(req);
        if (req.channel.includes('blocked')) return req.error(1000, 'blocked');
        req.respond(new PublishResponse({ data: { ...(req.data as object), by: req.user, tier: (req.meta as { tier?: string } | undefined)?.tier ?? null } }));
      },
      rpc: async (req) => {
        record('rpc')(req);
        switch (req.method) {
          case 'whoami':
            return req.respond(new RPCResponse({ data: { user: req.user, meta: req.meta ?? null, params: req.data ?? null } }));
          case 'fail':
            return req.error(1500, 'nope');
          case 'kick':
            return req.disconnect(4000, 'kicked');
          case 'slow':
            // Answers only when the backend closes (long after any proxy timeout of the tests).
            await new Promise<void>((r) => slow.add(r));
            return req.respond(new RPCResponse({ data: 'late' }));
          default:
            return req.error(404, `unknown method ${req.method}`);
        }
      },
      sub_refresh: (req) => {
        record('sub_refresh')(req);
        req.respond(new SubRefreshResponse({ expireAt: Math.floor(Date.now() / 1000) + 3600 }));
      },
    },
  });
}

/** The handler backend on a real port: HTTP (`http://…/centrifugo/<event>`) or gRPC (`grpc://…`). */
export async function startBackend(kind: BackendKind, handlers?: Handlers, port = 0): Promise<TestBackend> {
  const seen: TestBackend['seen'] = [];
  const logs: LogLine[] = [];
  const log = captureLogger(logs);
  const slow = new Set<() => void>();
  const release = (): void => {
    for (const r of slow) r();
  };
  const h = handlers ?? demoHandlers(seen, slow);
  if (kind === 'grpc') {
    const server = await GrpcProxyBackend.create(h, { log });
    const bound = await withTimeout(server.listen(port, '127.0.0.1'), undefined, 'startBackend', `gRPC backend not listening on port ${port}`);
    return {
      kind,
      port: bound,
      endpoint: () => `grpc://127.0.0.1:${bound}`,
      seen,
      logs,
      close: () => {
        release();
        return withTimeout(server.close(100), undefined, 'TestBackend.close', 'gRPC backend did not close');
      },
    };
  }
  const server = createServer(proxyRequestListener(h, { log }));
  await deadline<void>(DEFAULT_WAIT_MS, () => `startBackend: HTTP backend not listening on port ${port} within ${DEFAULT_WAIT_MS} ms`, (resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    kind,
    port: bound,
    endpoint: (event) => `http://127.0.0.1:${bound}/centrifugo/${event}`,
    seen,
    logs,
    close: () => {
      release();
      return closeHttp(server);
    },
  };
}

export function closeHttp(server: Server): Promise<void> {
  return deadline<void>(DEFAULT_WAIT_MS, () => `closeHttp: HTTP server did not close within ${DEFAULT_WAIT_MS} ms`, (resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A `ws` WebSocket class that sends extra headers with its upgrade request. */
export function withHeaders(headers: Record<string, string>): typeof WebSocket {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  } as unknown as typeof WebSocket;
}

export { connectOutcome, type ConnectOutcome as Outcome } from '../handlers/clients.js';

export type SubOutcome = { subscribed: SubscribedContext } | { error: SubscriptionErrorContext } | { unsubscribed: UnsubscribedContext };

/** Subscribes and resolves with the first of subscribed / error (temporary) / unsubscribed (refused); rejects after the timeout. */
export function subscribeOutcome(sub: Subscription, opts?: WaitArg): Promise<SubOutcome> {
  const { timeoutMs, what } = waitOptions(opts, `no subscribed / error / unsubscribed event for "${sub.channel}"`);
  return deadline<SubOutcome>(timeoutMs, () => `subscribeOutcome: ${what} within ${timeoutMs} ms (subscription state ${sub.state})`, (resolve) => {
    const onSubscribed = (ctx: SubscribedContext) => resolve({ subscribed: ctx });
    const onError = (ctx: SubscriptionErrorContext) => resolve({ error: ctx });
    const onUnsubscribed = (ctx: UnsubscribedContext) => resolve({ unsubscribed: ctx });
    sub.once('subscribed', onSubscribed);
    sub.once('error', onError);
    sub.once('unsubscribed', onUnsubscribed);
    sub.subscribe();
    return () => {
      sub.off('subscribed', onSubscribed);
      sub.off('error', onError);
      sub.off('unsubscribed', onUnsubscribed);
    };
  });
}

/** The error code a refused subscription ended with. */
export function refusedCode(o: SubOutcome): number | undefined {
  return 'unsubscribed' in o ? o.unsubscribed.code : 'error' in o ? o.error.error.code : undefined;
}

/** The error of a promise that must reject. */
export async function rejection(p: Promise<unknown>): Promise<{ code?: number; message?: string; temporary?: boolean }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: number; message?: string; temporary?: boolean };
  }
  throw new Error('expected a rejection');
}
