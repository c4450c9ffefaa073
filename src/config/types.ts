/**
 * The typed, validated configuration of a Gyre node, derived from the one definition
 * (config/definition/), where each key's meaning and default are documented.
 *
 * Keys keep the Centrifugo v6 names (snake_case) so that a Centrifugo user recognises every one of
 * them. Durations are parsed once into milliseconds (every duration field holds a number of
 * milliseconds). Nothing downstream reads raw config or the environment.
 */
import type { Static } from 'typebox';
import type * as D from './definition/index.js';

/** Options of a channel namespace (or of channels without a namespace). */
export type ChannelOptions = Static<typeof D.channelOptions>;

/** A named channel namespace. */
export type NamespaceConfig = Static<typeof D.namespace>;

/** Settings to verify JWTs (connection tokens). */
export type TokenConfig = Static<typeof D.token>;

/** Settings to verify subscription tokens; `enabled: false` = verified with `client.token`. */
export type SubscriptionTokenConfig = Static<typeof D.subscriptionToken>;

/** `client`: tokens, limits and timing of client connections. */
export type ClientConfig = Static<typeof D.client>;

/** `channel`: channel options, namespaces and naming. */
export type ChannelConfig = Static<typeof D.channel>;

/** `http_server`. */
export type HttpServerConfig = Static<typeof D.httpServer>;

/** `log`. */
export type LogConfig = Static<typeof D.log>;

/** A log level (`log.level`). */
export type LogLevel = LogConfig['level'];

/** `http_api`: the HTTP server API. */
export type HttpApiConfig = Static<typeof D.httpApi>;

/** `websocket`. */
export type WebsocketConfig = Static<typeof D.websocket>;

/** `http_stream`: the bidirectional HTTP-streaming transport (the JS SDK's fallback). */
export type HttpStreamConfig = Static<typeof D.httpStream>;

/** `sse`: the bidirectional Server-Sent Events transport (the JS SDK's fallback). */
export type SseConfig = Static<typeof D.sse>;

/** `emulation`: the endpoint of the commands of `http_stream` and `sse` connections. */
export type EmulationConfig = Static<typeof D.emulation>;

/** `uni_websocket`: the unidirectional WebSocket transport. */
export type UniWebsocketConfig = Static<typeof D.uniWebsocket>;

/** `uni_http_stream`: the unidirectional HTTP-streaming transport. */
export type UniHttpStreamConfig = Static<typeof D.uniHttpStream>;

/** `uni_sse`: the unidirectional Server-Sent Events transport. */
export type UniSseConfig = Static<typeof D.uniSse>;

/** `uni_grpc`: the unidirectional gRPC transport. */
export type UniGrpcConfig = Static<typeof D.uniGrpc>;

/** `connect_code_to_http_response` of `uni_http_stream` / `uni_sse`. */
export type ConnectCodeToHttpResponseConfig = UniHttpStreamConfig['connect_code_to_http_response'];

/** `health`. */
export type HealthConfig = Static<typeof D.health>;

/** `prometheus`: the metrics endpoint. */
export type PrometheusConfig = Static<typeof D.prometheus>;
export type AdminConfig = Static<typeof D.admin>;

/** `shutdown`. */
export type ShutdownConfig = Static<typeof D.shutdown>;

/** How to reach Redis (`engine.redis`, `broker.redis`, `presence_manager.redis`). */
export type RedisConfig = Static<typeof D.redis>;

/** TLS settings of a client connection to Redis. */
export type RedisTlsConfig = RedisConfig['tls'];

/** How to reach NATS (`broker.nats`). */
export type NatsConfig = Static<typeof D.nats>;

/** `engine`. */
export type EngineConfig = Static<typeof D.engine>;

/** A separately configured broker (PUB/SUB and history), replacing the engine's one when enabled. */
export type BrokerConfig = Static<typeof D.broker>;

/** A separately configured presence manager, replacing the engine's one when enabled. */
export type PresenceManagerConfig = Static<typeof D.presenceManager>;

/** `node`. */
export type NodeConfig = Static<typeof D.node>;

/** One `events.listeners` entry, `"EVENT=module[#export]"` in file form. */
export type EventsListenerSpec = Static<typeof D.listenerSpec>;

/** The simple event protocol endpoint (`{"event": NAME, "data": ...}` messages). */
export type EventsConfig = Static<typeof D.events>;

/** How to call one backend (Centrifugo's proxy settings); `timeout` in ms. */
export type ProxyConfig = Static<typeof D.proxy>;

/** TLS of an outgoing gRPC connection to a proxy backend. */
export type ProxyTlsConfig = ProxyConfig['grpc']['tls'];

/** `client.proxy`: connect and refresh. */
export type ClientProxyConfig = Static<typeof D.clientProxy>;

/** A proxy of `client.proxy`: used when enabled. */
export type EnabledProxyConfig = ClientProxyConfig['connect'];

/** A named proxy (`proxies[]`), referenced by `*_proxy_name` / `proxy_name`. */
export type NamedProxyConfig = Static<typeof D.namedProxy>;

/** `channel.proxy`: the `"default"` proxies of channel events. */
export type ChannelProxyConfig = Static<typeof D.channelProxy>;

/** RPC options of methods without namespace or of an RPC namespace. */
export type RpcOptions = Static<typeof D.rpcOptions>;

/** One `rpc.namespaces` entry. */
export type RpcNamespaceConfig = Static<typeof D.rpcNamespace>;

/** RPC calls of clients (`rpc`): routed by method namespace (`ns:method`) to a proxy. */
export type RpcConfig = Static<typeof D.rpc>;

/** The gRPC server API (`grpc_api`). */
export type GrpcApiConfig = Static<typeof D.grpcApi>;

/** The whole validated configuration. */
export type GyreConfig = Static<typeof D.configDefinition>;

/** A deep-partial view, for building configs in code and tests. */
export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends Array<infer U>
    ? Array<DeepPartial<U>>
    : T[K] extends object
      ? DeepPartial<T[K]>
      : T[K];
};
