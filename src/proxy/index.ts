/**
 * Proxies: Gyre asking application backends about client events (HTTP or gRPC), and application
 * handlers served as such a backend (for a Centrifugo or another Gyre).
 */
export { ProxyCalls } from './calls.js';
export { ProxyRouter, type ProxyRoute } from './router.js';
export { ProxyBackend, EVENT_PATHS, type ProxyBackendOptions, type BackendHeaders } from './backend/core.js';
export { proxyRequestListener, proxyFetchHandler, type HttpProxyBackendOptions } from './backend/http.js';
export { GrpcProxyBackend, type GrpcProxyBackendOptions } from './backend/grpc.js';
