/**
 * Helpers for the handler integration tests (test/integration/handlers*.test.ts): the real
 * `centrifuge` client connected or subscribed and waited for, a WebSocket class that sends custom
 * HTTP headers, log-line waits.
 */
import type {
  Centrifuge,
  ConnectedContext,
  DisconnectedContext,
  ErrorContext,
  Options,
  PublicationContext,
  Subscription,
  SubscribedContext,
  SubscriptionErrorContext,
  SubscriptionOptions,
  UnsubscribedContext,
} from 'centrifuge';
import WebSocket from 'ws';
import { until, type LogLine, type TestGyre } from '../helpers/gyre.js';
import { deadline, describeFn, waitOptions, type WaitArg } from '../helpers/wait.js';

/** A `ws` WebSocket that sends custom headers with its upgrade request (as a browser sends cookies). */
export function headerWebSocket(headers: Record<string, string>): new (url: string, protocols?: string | string[]) => WebSocket {
  return class HeaderWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  };
}

/** How a connect attempt of the real client ended. */
export type ConnectOutcome =
  | { connected: ConnectedContext }
  | { disconnected: DisconnectedContext }
  | { error: ErrorContext };

/** Starts a real client and resolves with the first of connected / disconnected / error; rejects after the timeout. */
export function connectOutcome(c: Centrifuge, opts?: WaitArg): Promise<ConnectOutcome> {
  const { timeoutMs, what } = waitOptions(opts, 'no connected / disconnected / error event');
  return deadline<ConnectOutcome>(timeoutMs, () => `connectOutcome: ${what} within ${timeoutMs} ms (client state ${c.state})`, (resolve) => {
    const onConnected = (ctx: ConnectedContext) => resolve({ connected: ctx });
    const onDisconnected = (ctx: DisconnectedContext) => resolve({ disconnected: ctx });
    const onError = (ctx: ErrorContext) => resolve({ error: ctx });
    c.once('connected', onConnected);
    c.once('disconnected', onDisconnected);
    c.once('error', onError);
    c.connect();
    return () => {
      c.off('connected', onConnected);
      c.off('disconnected', onDisconnected);
      c.off('error', onError);
    };
  });
}

/** A real client, connected; throws when the connect does not succeed (or nothing happens within the timeout). */
export async function connected(g: TestGyre, opts: Partial<Options> = {}, wait?: WaitArg): Promise<{ c: Centrifuge; ctx: ConnectedContext }> {
  const c = g.client(opts);
  const out = await connectOutcome(c, wait);
  if (!('connected' in out)) {
    c.disconnect();
    throw new Error(`connect failed: ${JSON.stringify(out)}`);
  }
  return { c, ctx: out.connected };
}

/** How a subscribe attempt of the real client ended. */
export type SubscribeOutcome =
  | { subscribed: SubscribedContext; sub: Subscription }
  | { unsubscribed: UnsubscribedContext; sub: Subscription }
  | { error: SubscriptionErrorContext; sub: Subscription };

/** Subscribes and resolves with the first of subscribed / unsubscribed / error; rejects after the timeout. */
export function subscribeOutcome(c: Centrifuge, channel: string, opts: SubscriptionOptions = {}, wait?: WaitArg): Promise<SubscribeOutcome> {
  const sub = c.newSubscription(channel, opts);
  const { timeoutMs, what } = waitOptions(wait, `no subscribed / unsubscribed / error event for "${channel}"`);
  return deadline<SubscribeOutcome>(timeoutMs, () => `subscribeOutcome: ${what} within ${timeoutMs} ms (subscription state ${sub.state})`, (resolve) => {
    const onSubscribed = (ctx: SubscribedContext) => resolve({ subscribed: ctx, sub });
    const onUnsubscribed = (ctx: UnsubscribedContext) => resolve({ unsubscribed: ctx, sub });
    const onError = (ctx: SubscriptionErrorContext) => resolve({ error: ctx, sub });
    sub.once('subscribed', onSubscribed);
    sub.once('unsubscribed', onUnsubscribed);
    sub.once('error', onError);
    sub.subscribe();
    return () => {
      sub.off('subscribed', onSubscribed);
      sub.off('unsubscribed', onUnsubscribed);
      sub.off('error', onError);
    };
  });
}

/** Subscribes; throws unless subscribed. Records the publications. */
export async function subscribed(
  c: Centrifuge,
  channel: string,
  opts: SubscriptionOptions = {},
  wait?: WaitArg,
): Promise<{ sub: Subscription; ctx: SubscribedContext; pubs: PublicationContext[] }> {
  const out = await subscribeOutcome(c, channel, opts, wait);
  if (!('subscribed' in out)) {
    c.removeSubscription(out.sub);
    throw new Error(`subscribe to ${channel} failed: ${JSON.stringify(out, (k, v) => (k === 'sub' ? undefined : v))}`);
  }
  const pubs: PublicationContext[] = [];
  out.sub.on('publication', (ctx) => pubs.push(ctx));
  return { sub: out.sub, ctx: out.subscribed, pubs };
}

/** The rejection of a promise (fails when it resolves). */
export async function rejection(p: Promise<unknown>): Promise<{ code: number; message: string; temporary?: boolean }> {
  try {
    const v = await p;
    throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('expected a rejection')) throw e;
    // The SDK reports `temporary: false` for permanent errors; the wire omits it.
    const { code, message, temporary } = e as { code: number; message: string; temporary?: boolean };
    return temporary === true ? { code, message, temporary } : { code, message };
  }
}

/** Waits for a log line matching `pred` and returns it; rejects after the timeout. */
export async function logLine(g: TestGyre, pred: (l: LogLine) => boolean, wait?: WaitArg): Promise<LogLine> {
  let found: LogLine | undefined;
  const { timeoutMs, what } = waitOptions(wait, `a log line matching ${describeFn(pred)}`);
  await until(() => (found = g.logs.find(pred)) !== undefined, { timeoutMs, what });
  return found!;
}

export const WARN = 40;
export const ERROR = 50;
