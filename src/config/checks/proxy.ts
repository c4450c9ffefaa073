/** Cross-key rules of proxies and of the gRPC server API. */
import type { GyreConfig, ProxyConfig, RpcOptions } from '../types.js';
import type { CheckReport } from './report.js';

/** Endpoint schemes a proxy can use. */
const ENDPOINT_RE = /^(https?|grpc):\/\//;

/**
 * Endpoints are `http(s)://` or `grpc://host:port`; an enabled connect/refresh proxy needs one;
 * named proxies need one and may not be called "default"; RPC namespaces name existing proxies; a
 * proxy switched on without an endpoint is a warning (its events are then decided as if no proxy
 * were configured); gRPC API TLS has its files.
 */
export function checkProxies(config: GyreConfig, report: CheckReport): void {
  const all: Array<[string, ProxyConfig]> = [
    ['client.proxy.connect', config.client.proxy.connect],
    ['client.proxy.refresh', config.client.proxy.refresh],
    ['channel.proxy.subscribe', config.channel.proxy.subscribe],
    ['channel.proxy.publish', config.channel.proxy.publish],
    ['channel.proxy.sub_refresh', config.channel.proxy.sub_refresh],
    ['rpc.proxy', config.rpc.proxy],
    ...config.proxies.map((p, i): [string, ProxyConfig] => [`proxies[${i}]`, p]),
  ];
  for (const [at, p] of all) {
    if (p.endpoint === '') continue;
    if (!ENDPOINT_RE.test(p.endpoint)) {
      report.problem(`${at}.endpoint`, `expected an http://, https:// or grpc://host:port URL, got ${JSON.stringify(p.endpoint)}`);
    }
    if (p.endpoint.startsWith('grpc://') && !/^grpc:\/\/[^/:]+:\d+\/?$/.test(p.endpoint)) {
      report.problem(`${at}.endpoint`, `a gRPC endpoint is grpc://host:port, got ${JSON.stringify(p.endpoint)}`);
    }
    const tls = p.grpc.tls;
    if (tls.enabled && (tls.cert_pem_file === '') !== (tls.key_pem_file === '')) {
      report.problem(`${at}.grpc.tls`, 'cert_pem_file and key_pem_file go together (client certificate)');
    }
  }
  for (const key of ['connect', 'refresh'] as const) {
    const p = config.client.proxy[key];
    if (p.enabled && p.endpoint === '') report.problem(`client.proxy.${key}.endpoint`, `is required when client.proxy.${key}.enabled is true`);
  }
  const names = new Set<string>();
  config.proxies.forEach((p, i) => {
    if (p.name === 'default') report.problem(`proxies[${i}].name`, 'the name "default" is reserved (it means channel.proxy.* / rpc.proxy)');
    if (p.endpoint === '') report.problem(`proxies[${i}].endpoint`, 'is required');
    names.add(p.name);
  });
  checkRpc(config, names, report);
  checkChannelProxies(config, report);
  const api = config.grpc_api;
  if (api.enabled && api.tls.enabled && (api.tls.cert_pem_file === '' || api.tls.key_pem_file === '')) {
    report.problem('grpc_api.tls', 'TLS is enabled but cert_pem_file and key_pem_file are not both set');
  }
}

function checkRpc(config: GyreConfig, names: ReadonlySet<string>, report: CheckReport): void {
  const rpc = config.rpc;
  if (rpc.namespace_boundary === '') report.problem('rpc.namespace_boundary', 'must not be empty');
  const rpcOptions: Array<[string, RpcOptions]> = [
    ['rpc.without_namespace', rpc.without_namespace],
    ...rpc.namespaces.map((ns, i): [string, RpcOptions] => [`rpc.namespaces[${i}]`, ns]),
  ];
  for (const [at, o] of rpcOptions) {
    if (o.proxy_name !== 'default' && o.proxy_name !== '' && !names.has(o.proxy_name)) {
      report.problem(`${at}.proxy_name`, `proxy "${o.proxy_name}" is not defined in proxies`);
    }
    if (o.proxy_enabled && (o.proxy_name === 'default' || o.proxy_name === '') && rpc.proxy.endpoint === '') {
      report.warn(`${at}.proxy_enabled is true but rpc.proxy.endpoint is not set: RPC calls there are not proxied`);
    }
  }
}

function checkChannelProxies(config: GyreConfig, report: CheckReport): void {
  const channel = config.channel;
  const channelOptions = [
    ['channel.without_namespace', channel.without_namespace] as const,
    ...channel.namespaces.map((ns, i) => [`channel.namespaces[${i}]`, ns] as const),
  ];
  for (const [at, o] of channelOptions) {
    for (const event of ['subscribe', 'publish', 'sub_refresh'] as const) {
      const name = o[`${event}_proxy_name`];
      if (o[`${event}_proxy_enabled`] && (name === 'default' || name === '') && channel.proxy[event].endpoint === '') {
        report.warn(`${at}.${event}_proxy_enabled is true but channel.proxy.${event}.endpoint is not set: ${event} events there are not proxied`);
      }
    }
  }
}
