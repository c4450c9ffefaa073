/** Gyre's public API. */
export { createGyre, type CreateGyreOptions, type Gyre } from './gyre.js';
export { GyreServer, type AttachOptions, type GyreServerOptions } from './server.js';
export * from './handlers/index.js';
export { GyreApi } from './api/in-process.js';
export { ServerApi } from './api/server-api.js';
export type * from './api/types.js';
export { EventsServer, EventError, EventErrorCodes, ERROR_EVENT } from './events/index.js';
export type * from './events/types.js';
export type * from './api/in-process.js';
export { loadConfig, validateConfig, defaultConfig, ConfigError } from './config/index.js';
export type { GyreConfig, ChannelOptions, NamespaceConfig, ProxyConfig, NamedProxyConfig, RpcConfig, GrpcApiConfig } from './config/types.js';
export { signToken, TokenVerifier } from './auth/index.js';
export { Errors, Disconnects, Unsubscribes, ProtocolException, DisconnectException } from './protocol/codes.js';
export type { ProtocolError, Disconnect } from './protocol/codes.js';
export * from './broadcasting/index.js';
export { HttpApiClient, type HttpApiClientOptions } from './api/client/http.js';
export type { RetryOptions } from './api/client/retry.js';
export type { Duration } from './api/client/duration.js';
export { ApiClientError, type ServerApiClient } from './api/client/types.js';
export { GrpcApiClient, type GrpcApiClientOptions, type GrpcClientTls } from './api/client/grpc.js';
export {
  ProxyBackend,
  proxyRequestListener,
  proxyFetchHandler,
  GrpcProxyBackend,
  type ProxyBackendOptions,
  type HttpProxyBackendOptions,
  type GrpcProxyBackendOptions,
} from './proxy/index.js';
export { VERSION } from './version.js';
export { createLogger, type Logger } from './log.js';
