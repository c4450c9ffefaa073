/**
 * Application handlers as a proxy backend: a proxy request (in JSON form, from the HTTP or the gRPC
 * proxy protocol) becomes the typed request of a service, runs through the same pipeline as
 * in-process (services, interceptors, timeouts), and its answer becomes the proxy response. So the
 * same TypeScript services decide in-process, behind a Centrifugo, or behind another Gyre.
 */
import { pino, type Logger } from 'pino';
import type { Handlers } from '../../handlers/pipeline.js';
import type { ConnectionContext, RequestType } from '../../handlers/requests.js';
import { HandlerCalls } from '../../handlers/calls.js';
import { DisconnectException, Errors, ProtocolException } from '../../protocol/codes.js';
import * as codec from '../codec.js';

/** Proxy event names as they appear in a backend's URL path (`/connect`, `/sub_refresh`, ...). */
export const EVENT_PATHS: Readonly<Record<string, RequestType>> = {
  connect: 'connect',
  refresh: 'refresh',
  subscribe: 'subscribe',
  publish: 'publish',
  rpc: 'rpc',
  sub_refresh: 'sub_refresh',
  subrefresh: 'sub_refresh',
  'sub-refresh': 'sub_refresh',
};

export interface ProxyBackendOptions {
  /** Where the pipeline logs (timeouts, services that throw); default: JSON lines on stdout at info. */
  log?: Logger;
}

/** Headers of the connection as the backend sees them (forwarded by the proxying server). */
export type BackendHeaders = ConnectionContext['headers'];

export class ProxyBackend {
  private readonly calls: HandlerCalls;
  readonly log: Logger;

  constructor(
    readonly handlers: Handlers,
    options: ProxyBackendOptions = {},
  ) {
    this.log = options.log ?? pino({ base: { service: 'gyre-proxy-backend' } });
    this.calls = new HandlerCalls(handlers, this.log);
  }

  /** True when a service handles `event`. */
  handles(event: RequestType): boolean {
    return this.handlers.has(event);
  }

  /**
   * Answers one proxy request: the response in JSON form (a result, an error or a disconnect).
   * Call only for events a service handles ({@link handles}).
   */
  async handle(event: RequestType, req: codec.JsonMessage, headers: BackendHeaders): Promise<codec.ProxyResponseJson> {
    const ctx = contextOf(req, headers);
    // Answer in the caller's encoding: base64 twins when it sent its payload base64-encoded.
    const binary = typeof req['b64data'] === 'string' && req['b64data'] !== '';
    const data = codec.payloadValue(req, 'data');
    const s = (key: string): string => (typeof req[key] === 'string' ? (req[key] as string) : '');
    try {
      switch (event) {
        case 'connect': {
          const channels = Array.isArray(req['channels']) ? req['channels'].filter((c): c is string => typeof c === 'string') : [];
          return { result: codec.connectResult(await this.calls.connect(ctx, data, s('name'), s('version'), channels), binary) };
        }
        case 'refresh':
          return { result: codec.refreshResult(await this.calls.refresh(ctx), binary) };
        case 'subscribe':
          return { result: codec.subscribeResult(await this.calls.subscribe(ctx, s('channel'), s('token'), data), binary) };
        case 'publish':
          return { result: codec.publishResult(await this.calls.publish(ctx, s('channel'), data), binary) };
        case 'rpc':
          return { result: codec.rpcResult(await this.calls.rpc(ctx, s('method'), data), binary) };
        case 'sub_refresh':
          return { result: codec.subRefreshResult(await this.calls.subRefresh(ctx, s('channel')), binary) };
      }
    } catch (e) {
      if (e instanceof DisconnectException) return { disconnect: { code: e.disconnect.code, reason: e.disconnect.reason } };
      const error = e instanceof ProtocolException ? e.error : Errors.internal;
      if (!(e instanceof ProtocolException)) this.log.error({ type: event, client: ctx.client, err: e }, 'proxy backend: answering error 100');
      return { error: error.temporary === true ? { code: error.code, message: error.message, temporary: true } : { code: error.code, message: error.message } };
    }
  }
}

/** The connection context a proxy request describes. */
function contextOf(req: codec.JsonMessage, headers: BackendHeaders): ConnectionContext {
  const s = (key: string): string => (typeof req[key] === 'string' ? (req[key] as string) : '');
  return {
    client: s('client'),
    transport: s('transport'),
    protocol: s('protocol') === 'protobuf' ? 'protobuf' : 'json',
    encoding: s('encoding') === 'binary' ? 'binary' : 'json',
    headers,
    user: s('user'),
    meta: req['meta'] === null ? undefined : req['meta'],
  };
}
