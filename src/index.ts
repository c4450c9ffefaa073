/** Gyre's public API. */
export { createGyre, type CreateGyreOptions, type Gyre } from './gyre.js';
export { GyreServer, type AttachOptions, type GyreServerOptions } from './server.js';
export * from './handlers/index.js';
export { GyreApi } from './api/in-process.js';
export type * from './api/in-process.js';
export { loadConfig, validateConfig, defaultConfig, ConfigError } from './config/index.js';
export type { GyreConfig, ChannelOptions, NamespaceConfig } from './config/types.js';
export { signToken, TokenVerifier } from './auth/index.js';
export { Errors, Disconnects, Unsubscribes, ProtocolException, DisconnectException } from './protocol/codes.js';
export type { ProtocolError, Disconnect } from './protocol/codes.js';
export { VERSION } from './version.js';
