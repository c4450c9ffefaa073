/**
 * Embedding Gyre in an application: build a node from config and handlers, then listen on its own
 * port or attach to an existing `http.Server`, and use its server API in-process.
 */
import { GyreApi } from './api/in-process.js';
import type { ConfigInput } from './config/tree.js';
import type { GyreConfig } from './config/types.js';
import { validateConfig } from './config/validate.js';
import { Handlers, type HandlersConfig } from './handlers/pipeline.js';
import type { Logger } from './log.js';
import { GyreServer } from './server.js';

export interface CreateGyreOptions {
  /** A validated config, or a config object in file form (Centrifugo v6 layout) to validate. */
  config?: GyreConfig | ConfigInput;
  /** Application handlers, built or as a config object `{services, interceptors, timeouts}`. */
  handlers?: Handlers | HandlersConfig;
  log?: Logger;
}

/** A Gyre node with its in-process API. */
export interface Gyre {
  readonly server: GyreServer;
  /** The server API, in-process (publish, broadcast, presence, history, subscribe, disconnect ...). */
  readonly api: GyreApi;
}

function isValidated(c: GyreConfig | ConfigInput): c is GyreConfig {
  const client = (c as Partial<GyreConfig>).client;
  return typeof client === 'object' && client !== null && typeof (client as { ping_interval?: unknown }).ping_interval === 'number';
}

/**
 * Builds a Gyre node. Then `gyre.server.listen(port)` to serve on its own port, or
 * `gyre.server.attach(httpServer, { path })` to serve on an existing one.
 */
export function createGyre(options: CreateGyreOptions = {}): Gyre {
  const input = options.config ?? {};
  const config = isValidated(input) ? input : validateConfig(input).config;
  const handlers = options.handlers instanceof Handlers ? options.handlers : options.handlers !== undefined ? Handlers.from(options.handlers) : undefined;
  const server = new GyreServer({
    config,
    ...(options.log !== undefined && { log: options.log }),
    ...(handlers !== undefined && { handlers }),
  });
  return { server, api: new GyreApi(server.api) };
}
