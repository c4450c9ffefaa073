/**
 * Asking a backend through a proxy: the same calls as the in-process handlers
 * (`handlers/calls.ts`), answered by an HTTP or gRPC backend chosen by the configuration. A backend
 * answer with `error` or `disconnect` is honoured (ProtocolException / DisconnectException, as for
 * handlers); a failed call (unreachable, timeout, non-200, an answer that cannot be understood)
 * gives the client error 100 (temporary) and one log line.
 */
import type { Logger } from 'pino';
import type { ChannelOptions, GyreConfig, ProxyConfig } from '../config/types.js';
import type { EventCalls, EventDeciders, EventTarget } from '../handlers/event-calls.js';
import type { ConnectionContext } from '../handlers/requests.js';
import type {
  ConnectResponseFields,
  PublishResponseFields,
  RefreshResponseFields,
  SubRefreshResponseFields,
  SubscribeResponseFields,
} from '../handlers/responses.js';
import { Metrics } from '../metrics/metrics.js';
import { DisconnectException, Errors, ProtocolException } from '../protocol/codes.js';
import * as codec from './codec.js';
import { HttpProxyTransport } from './http-transport.js';
import { ProxyRouter, type ProxyRoute } from './router.js';
import { ProxyCallError, type OutgoingHeaders, type ProxyTransport } from './transport.js';

/** Resolves a channel to its namespace options (throws for an unknown namespace). */
export type ChannelResolver = (channel: string) => ChannelOptions;

export class ProxyCalls implements EventCalls, EventDeciders {
  readonly router: ProxyRouter;
  private readonly transports = new Map<string, Promise<ProxyTransport>>();
  private closed = false;

  constructor(
    config: GyreConfig,
    private readonly log: Logger,
    private readonly resolveChannel: ChannelResolver,
    /** Where calls are timed and failures counted (`centrifugo_proxy_*`). */
    private readonly metrics: Metrics = new Metrics(),
  ) {
    this.router = new ProxyRouter(config);
  }

  /** Proxy calls for a node, or undefined when its configuration proxies no event. */
  static create(config: GyreConfig, log: Logger, resolveChannel: ChannelResolver, metrics?: Metrics): ProxyCalls | undefined {
    const calls = new ProxyCalls(config, log, resolveChannel, metrics);
    return calls.router.any ? calls : undefined;
  }

  /** True when a proxy decides `event` (for `target`: channel options, a channel name, or an RPC method). */
  covers(event: codec.ProxyEvent, target?: EventTarget): boolean {
    return this.routeOf(event, target) !== undefined;
  }

  /** These calls when a proxy decides `event` for `target`, else undefined. */
  decider(event: codec.ProxyEvent, target?: EventTarget): EventCalls | undefined {
    return this.covers(event, target) ? this : undefined;
  }

  private routeOf(event: codec.ProxyEvent, target?: ChannelOptions | string): ProxyRoute | undefined {
    if (typeof target === 'string' && event !== 'rpc' && event !== 'connect' && event !== 'refresh') {
      try {
        target = this.resolveChannel(target);
      } catch {
        return undefined;
      }
    }
    return this.router.route(event, target);
  }

  private need(event: codec.ProxyEvent, target?: string): ProxyRoute {
    const route = this.routeOf(event, target);
    // Callers ask `covers` first; a configuration without this proxy is a bug in the caller.
    if (route === undefined) throw new ProtocolException(Errors.internal, { msg: 'no proxy configured for the event', fields: { proxy: event } });
    return route;
  }

  async connect(ctx: ConnectionContext, data: unknown, name: string, version: string, channels: string[]): Promise<ConnectResponseFields> {
    const route = this.need('connect');
    const req = codec.connectRequest(ctx, data, name, version, channels, opts(route.config));
    return this.call('connect', route, ctx, req, codec.connectFields, true);
  }

  async refresh(ctx: ConnectionContext): Promise<RefreshResponseFields> {
    const route = this.need('refresh');
    return this.call('refresh', route, ctx, codec.refreshRequest(ctx, opts(route.config)), codec.refreshFields);
  }

  async subscribe(ctx: ConnectionContext, channel: string, token: string, data: unknown): Promise<SubscribeResponseFields> {
    const route = this.need('subscribe', channel);
    return this.call('subscribe', route, ctx, codec.subscribeRequest(ctx, channel, token, data, opts(route.config)), codec.subscribeFields);
  }

  async publish(ctx: ConnectionContext, channel: string, data: unknown): Promise<PublishResponseFields> {
    const route = this.need('publish', channel);
    return this.call('publish', route, ctx, codec.publishRequest(ctx, channel, data, opts(route.config)), codec.publishFields);
  }

  async rpc(ctx: ConnectionContext, method: string, data: unknown): Promise<{ data?: unknown }> {
    const route = this.need('rpc', method);
    return this.call('rpc', route, ctx, codec.rpcRequest(ctx, method, data, opts(route.config)), codec.rpcFields);
  }

  async subRefresh(ctx: ConnectionContext, channel: string): Promise<SubRefreshResponseFields> {
    const route = this.need('sub_refresh', channel);
    return this.call('sub_refresh', route, ctx, codec.subRefreshRequest(ctx, channel, opts(route.config)), codec.subRefreshFields);
  }

  /**
   * Sends a request and unwraps the answer: its result's fields, or the error / disconnect thrown.
   * `resultRequired`: an answer without result, error or disconnect is not understood (connect has
   * to name the user); for the other events it allows with nothing changed.
   */
  private async call<F>(
    event: codec.ProxyEvent,
    route: ProxyRoute,
    ctx: ConnectionContext,
    request: codec.JsonMessage,
    fields: (r: codec.JsonMessage) => F,
    resultRequired = false,
  ): Promise<F> {
    const cfg = route.config;
    const series = this.metrics.proxy(cfg.endpoint.startsWith('grpc://') ? 'grpc' : 'http', event, route.proxyName);
    let res: codec.ProxyResponseJson;
    const started = performance.now();
    series.inflight++;
    try {
      const transport = await this.transport(cfg);
      res = await transport.call(event, request, forwardedHeaders(cfg, ctx.headers), cfg, cfg.timeout > 0 ? cfg.timeout : 1000);
    } catch (e) {
      throw this.failure(event, route, ctx, e);
    } finally {
      series.inflight--;
      series.durations.add((performance.now() - started) / 1000);
    }
    if (res.disconnect !== undefined && res.disconnect !== null) {
      const d = res.disconnect;
      const code = Number(d.code);
      // A WebSocket close code of the application range; anything else cannot close a connection.
      if (!Number.isInteger(code) || code < 3000 || code > 4999) {
        throw this.failure(event, route, ctx, new codec.BadProxyResponse(`disconnect code ${String(d.code)} is not in 3000..4999`));
      }
      throw new DisconnectException(
        { code, reason: typeof d.reason === 'string' ? d.reason : '' },
        { msg: 'proxy answered with a disconnect', fields: { proxy: event } },
      );
    }
    if (res.error !== undefined && res.error !== null) {
      const e = res.error;
      const code = Number(e.code) || 0;
      const message = typeof e.message === 'string' ? e.message : '';
      throw new ProtocolException(e.temporary === true ? { code, message, temporary: true } : { code, message });
    }
    if ((res.result === undefined || res.result === null) && resultRequired) {
      throw this.failure(event, route, ctx, new codec.BadProxyResponse('no result, error or disconnect'));
    }
    try {
      return fields(res.result ?? {});
    } catch (e) {
      throw this.failure(event, route, ctx, e);
    }
  }

  /** Error 100 for the client, with the reason in the log line the client writes for it (a proxy error in the metrics). */
  private failure(event: codec.ProxyEvent, route: ProxyRoute, ctx: ConnectionContext, e: unknown): ProtocolException {
    this.metrics.proxy(route.config.endpoint.startsWith('grpc://') ? 'grpc' : 'http', event, route.proxyName).errors++;
    const reason = e instanceof ProxyCallError || e instanceof codec.BadProxyResponse ? e.message : e instanceof Error ? e.message : String(e);
    return new ProtocolException(Errors.internal, {
      msg: 'proxy request failed: answering error 100',
      fields: { proxy: event, route: route.name, endpoint: route.config.endpoint, client: ctx.client, reason },
    });
  }

  /** The transport of an endpoint (a gRPC client is made once per endpoint, TLS and compression). */
  private transport(cfg: ProxyConfig): Promise<ProxyTransport> {
    if (this.closed) return Promise.reject(new ProxyCallError('node is shutting down'));
    const grpc = cfg.endpoint.startsWith('grpc://');
    const key = grpc ? JSON.stringify([cfg.endpoint, cfg.grpc.tls, cfg.grpc.compression]) : cfg.endpoint;
    let t = this.transports.get(key);
    if (t === undefined) {
      t = grpc
        ? import('./grpc-transport.js').then(({ GrpcProxyTransport }) => GrpcProxyTransport.create(cfg))
        : Promise.resolve(new HttpProxyTransport(cfg.endpoint));
      t.then(
        () => this.log.debug({ endpoint: cfg.endpoint }, 'proxy client ready'),
        () => this.transports.delete(key),
      );
      this.transports.set(key, t);
    }
    return t;
  }

  /** Closes the gRPC clients. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.transports.values()];
    this.transports.clear();
    for (const t of await Promise.allSettled(all)) if (t.status === 'fulfilled') t.value.close();
  }
}

function opts(cfg: ProxyConfig): codec.RequestOptions {
  return { binary: cfg.binary_encoding, includeMeta: cfg.include_connection_meta };
}

/** The connection's headers listed in `http_headers` / `grpc_metadata` (lower-cased, one entry per value). */
export function forwardedHeaders(cfg: ProxyConfig, headers: ConnectionContext['headers']): OutgoingHeaders {
  if (cfg.http_headers.length === 0 && cfg.grpc_metadata.length === 0) return [];
  const out: Array<[string, string]> = [];
  const names = new Set([...cfg.http_headers, ...cfg.grpc_metadata].map((n) => n.toLowerCase()));
  for (const name of names) {
    const v = headers[name];
    if (v === undefined) continue;
    for (const value of Array.isArray(v) ? v : [v]) out.push([name, value]);
  }
  return out;
}
