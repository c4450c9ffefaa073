/** Definition of the proxy keys (`client.proxy`, `channel.proxy`, `proxies`, `rpc`) and of `grpc_api`. */
import { bool, duration, int, name, namedList, port, section, str, stringMap, strings } from '../keys.js';
import { TLS_PEM_UNTYPED, TLS_SERVER_UNTYPED } from './tls.js';


/** Names of `proxies` entries. */
export const PROXY_NAME_RE = /^[-a-zA-Z0-9_.]+$/;

/** Names of RPC namespaces. */
export const RPC_NAMESPACE_NAME_RE = /^[-a-zA-Z0-9_]{2,}$/;

/** The settings of one proxy (how to call one backend). */
const proxyFields = {
  endpoint: str('', '`http(s)://...` (the request POSTed as JSON) or `grpc://host:port` (the CentrifugoProxy service); "" = not configured.'),
  timeout: duration('1s', 'How long to wait for the backend; a call that takes longer gives the client error 100 (temporary).'),
  http_headers: strings([], 'Connection HTTP headers forwarded with every request (as HTTP headers, or gRPC metadata).'),
  grpc_metadata: strings([], 'More connection headers forwarded (as gRPC metadata, or HTTP headers).'),
  include_connection_meta: bool(false, "Send the connection's meta (from connect) with refresh, subscribe, publish, rpc and sub_refresh requests."),
  binary_encoding: bool(false, 'Send payloads base64-encoded (`b64data`) instead of as JSON.'),
  http: section({ static_headers: stringMap('HTTP headers added to every request (forwarded headers of the same name replace them).') }, 'Settings of an HTTP backend.', {
    untyped: ['status_to_code_transforms'],
  }),
  grpc: section(
    {
      tls: section(
        {
          enabled: bool(false, 'Use TLS for the gRPC connection to the backend.'),
          cert_pem_file: str('', 'Client certificate file (PEM), for mutual TLS.'),
          key_pem_file: str('', 'Client key file (PEM), for mutual TLS.'),
          server_ca_pem_file: str('', 'CA certificate file (PEM) to trust instead of the system roots.'),
          insecure_skip_verify: bool(false, "Skip the check of the server's name (its certificate chain is still verified)."),
          server_name: str('', "Name expected in the server's certificate, when not the endpoint's host."),
        },
        'TLS of the gRPC connection to the backend.',
        { untyped: TLS_PEM_UNTYPED },
      ),
      credentials_key: str('', 'Per-call credentials: metadata `credentials_key: credentials_value` on every call.'),
      credentials_value: str('', 'The value of the per-call credentials metadata.'),
      static_metadata: stringMap('Metadata added to every call.'),
      compression: bool(false, 'Compress gRPC messages (gzip).'),
    },
    'Settings of a gRPC backend.',
  ),
};

/** One proxy's settings (`channel.proxy.subscribe`, `rpc.proxy`, ...). */
export const proxy = section(proxyFields, 'How to call one backend.');

const enabledProxy = (event: string) =>
  section(
    { enabled: bool(false, `Ask the backend about ${event} events (needs an endpoint).`), ...proxyFields },
    `The ${event} proxy: used when enabled.`,
  );

/** `client.proxy`: connect and refresh. */
export const clientProxy = section(
  { connect: enabledProxy('connect'), refresh: enabledProxy('refresh') },
  'Connect and refresh events asked of a backend.',
);

/** `channel.proxy`: the `"default"` proxies of channel events. */
export const channelProxy = section(
  {
    subscribe: section(proxyFields, 'The default subscribe proxy, used by namespaces with `subscribe_proxy_enabled`.'),
    publish: section(proxyFields, 'The default publish proxy, used by namespaces with `publish_proxy_enabled`.'),
    sub_refresh: section(proxyFields, 'The default sub_refresh proxy, used by namespaces with `sub_refresh_proxy_enabled`.'),
  },
  'The "default" proxies of channel events, used by namespaces with `*_proxy_enabled`.',
  { untyped: ['subscribe_stream', 'cache_empty', 'state'] },
);

/** One `proxies` entry. */
export const namedProxy = section(
  { name: name(PROXY_NAME_RE, 'The name `*_proxy_name` / `proxy_name` refer to ("default" is reserved).'), ...proxyFields },
  'A named proxy.',
);

/** `proxies`: named proxies. */
export const proxies = namedList(namedProxy, 'Named proxies, referenced by `*_proxy_name` of channel namespaces and `proxy_name` of RPC namespaces.');

const rpcOptionsFields = {
  proxy_enabled: bool(false, 'Proxy RPC calls of these methods to a backend.'),
  proxy_name: str('default', '"default" = `rpc.proxy`, else a name from `proxies`.'),
};

/** RPC options of methods without namespace. */
export const rpcOptions = section(rpcOptionsFields, 'RPC options of methods without namespace (`method`, not `ns:method`).');

/** One `rpc.namespaces` entry. */
export const rpcNamespace = section(
  { name: name(RPC_NAMESPACE_NAME_RE, 'The namespace: methods `name:method` belong to it.'), ...rpcOptionsFields },
  'An RPC namespace.',
);

/** `rpc`: RPC calls of clients, routed by method namespace to a proxy. */
export const rpc = section(
  {
    proxy: section(proxyFields, 'The "default" RPC proxy.'),
    without_namespace: rpcOptions,
    namespaces: namedList(rpcNamespace, 'RPC namespaces (`ns:method`).'),
    namespace_boundary: str(':', 'Separates an RPC namespace from the method name.'),
  },
  'RPC calls of clients: routed by method namespace (`ns:method`) to a proxy.',
  { untyped: ['ping', 'ping_method'] },
);

/** `grpc_api`: the gRPC server API. */
export const grpcApi = section(
  {
    enabled: bool(false, 'Serve the gRPC server API (centrifugal.centrifugo.api.CentrifugoApi).'),
    address: str('', 'Address to listen on; "" = all interfaces.'),
    port: port(10_000, 'Port of the gRPC server API.'),
    key: str('', 'When set, calls need metadata `authorization: apikey <key>`.'),
    tls: section(
      {
        enabled: bool(false, 'Serve the gRPC API over TLS.'),
        cert_pem_file: str('', 'Server certificate file (PEM).'),
        key_pem_file: str('', 'Server key file (PEM).'),
      },
      'TLS of the gRPC server API.',
      { untyped: TLS_SERVER_UNTYPED },
    ),
    max_receive_message_size: int(0, "Largest request in bytes; 0 = gRPC's default (4 MiB)."),
  },
  'The gRPC server API.',
  { untyped: ['reflection', 'error_mode'] },
);
