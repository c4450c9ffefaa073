/**
 * Which proxy (if any) decides an event, by the configuration: connect and refresh by
 * `client.proxy.*`; subscribe, publish and sub_refresh by the channel's namespace
 * (`*_proxy_enabled`, `*_proxy_name`: "default" = `channel.proxy.*`, else a `proxies` entry); rpc by
 * the method's RPC namespace (`ns:method`; a method whose namespace is not configured uses
 * `rpc.without_namespace`) with `rpc.proxy` as "default".
 */
import type { ChannelOptions, GyreConfig, ProxyConfig, RpcOptions } from '../config/types.js';
import type { ProxyEvent } from './codec.js';

/** The proxy chosen for an event: its settings and a name for logs. */
export interface ProxyRoute {
  /** Where the settings come from: `client.proxy.connect`, `channel.proxy.subscribe`, `proxies.<name>`, ... */
  readonly name: string;
  /** The proxy's name as Centrifugo's metrics label it: a `proxies` entry's name, else "default". */
  readonly proxyName: string;
  readonly config: ProxyConfig;
}

export type ChannelEvent = 'subscribe' | 'publish' | 'sub_refresh';

export class ProxyRouter {
  private readonly named = new Map<string, ProxyRoute>();
  private readonly rpcNamespaces = new Map<string, RpcOptions>();

  constructor(private readonly config: GyreConfig) {
    for (const p of config.proxies) this.named.set(p.name, { name: `proxies.${p.name}`, proxyName: p.name, config: p });
    for (const ns of config.rpc.namespaces) this.rpcNamespaces.set(ns.name, ns);
  }

  /** True when some event may be proxied at all. */
  get any(): boolean {
    const c = this.config;
    const channelOptions = [c.channel.without_namespace, ...c.channel.namespaces];
    return (
      this.connectOrRefresh('connect') !== undefined ||
      this.connectOrRefresh('refresh') !== undefined ||
      channelOptions.some((o) => (['subscribe', 'publish', 'sub_refresh'] as const).some((e) => this.channel(e, o) !== undefined)) ||
      [c.rpc.without_namespace, ...c.rpc.namespaces].some((o) => this.rpcByOptions(o) !== undefined)
    );
  }

  connectOrRefresh(event: 'connect' | 'refresh'): ProxyRoute | undefined {
    const p = this.config.client.proxy[event];
    return p.enabled && p.endpoint !== '' ? { name: `client.proxy.${event}`, proxyName: 'default', config: p } : undefined;
  }

  /** The proxy of a channel event in a namespace with these options. */
  channel(event: ChannelEvent, options: ChannelOptions): ProxyRoute | undefined {
    if (!options[`${event}_proxy_enabled`]) return undefined;
    const name = options[`${event}_proxy_name`];
    if (name === 'default' || name === '') {
      const p = this.config.channel.proxy[event];
      return p.endpoint !== '' ? { name: `channel.proxy.${event}`, proxyName: 'default', config: p } : undefined;
    }
    return this.named.get(name);
  }

  /** The proxy of an RPC method. */
  rpc(method: string): ProxyRoute | undefined {
    const boundary = this.config.rpc.namespace_boundary;
    const at = method.indexOf(boundary);
    const ns = at > 0 ? this.rpcNamespaces.get(method.slice(0, at)) : undefined;
    return this.rpcByOptions(ns ?? this.config.rpc.without_namespace);
  }

  private rpcByOptions(o: RpcOptions): ProxyRoute | undefined {
    if (!o.proxy_enabled) return undefined;
    if (o.proxy_name === 'default' || o.proxy_name === '') {
      const p = this.config.rpc.proxy;
      return p.endpoint !== '' ? { name: 'rpc.proxy', proxyName: 'default', config: p } : undefined;
    }
    return this.named.get(o.proxy_name);
  }

  /** The route of an event: `target` is the channel's options (channel events) or the method (rpc). */
  route(event: ProxyEvent, target?: ChannelOptions | string): ProxyRoute | undefined {
    switch (event) {
      case 'connect':
      case 'refresh':
        return this.connectOrRefresh(event);
      case 'rpc':
        return typeof target === 'string' ? this.rpc(target) : undefined;
      default:
        return target !== undefined && typeof target !== 'string' ? this.channel(event, target) : undefined;
    }
  }
}
