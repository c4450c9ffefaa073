/**
 * The one definition of Gyre's configuration (the Centrifugo v6 layout): every key once, with its
 * type, default and description. The TypeScript types (config/types.ts), the defaults
 * (config/defaults.ts), the validation (config/walk.ts), the environment variables (config/env.ts)
 * and the shipped JSON Schema (config/json-schema.ts) are all derived from it.
 *
 * Why TypeBox (npm `typebox` 1.x) rather than zod 4: a TypeBox type IS a JSON Schema object, with
 * the static type riding along (`Static<T>`). So the definition is read directly by our own
 * validator, which must keep Gyre's exact messages (key paths, "from env X", nearest-key hints),
 * Centrifugo's conversions (`"25s"` → 25000 ms, a string or a list, `"9000"` as a port) and
 * collect every error; and the JSON Schema for editors is the same objects serialized, not a
 * conversion (zod's `toJSONSchema` cannot express transforms, and walking a zod schema means
 * reading its internal `_zod.def`). TypeBox has no dependencies, supports Node 20, and its
 * `typebox/schema` validator checks the shipped schema in the tests.
 *
 * Conventions: defaults and JSON Schema are in file form (what a config file holds); the static
 * types are the validated form (durations in ms, Unix seconds in ms, listeners parsed). Keys
 * marked "Gyre:" are Gyre's own, not Centrifugo's.
 */
import { section } from '../keys.js';
import { channel } from './channel.js';
import { client } from './client.js';
import { broker, engine, presenceManager } from './engine.js';
import { grpcApi, proxies, rpc } from './proxy.js';
import { admin, events, health, httpApi, httpServer, log, node, prometheus, shutdown, websocket, workerAccept, workers, workerTimeout } from './server.js';
import { emulation, httpStream, sse, uniGrpc, uniHttpStream, uniSse, uniWebsocket } from './transports.js';

export { channel, channelOptions, namespace, NAMESPACE_NAME_RE } from './channel.js';
export { client, token, subscriptionToken } from './client.js';
export { broker, engine, nats, presenceManager, redis } from './engine.js';
export { channelProxy, clientProxy, grpcApi, namedProxy, proxies, proxy, rpc, rpcNamespace, rpcOptions } from './proxy.js';
export { admin, events, health, httpApi, httpServer, listenerSpec, log, node, prometheus, shutdown, websocket, workerAccept, workers, workerTimeout } from './server.js';
export { emulation, httpStream, sse, uniGrpc, uniHttpStream, uniSse, uniWebsocket } from './transports.js';

/** Top-level Centrifugo v6 sections (and flat keys) that Gyre accepts, with a warning, but does not support yet. */
const UNTYPED_TOP_LEVEL = [
  'consumers',
  'webtransport',
  'swagger',
  'debug',
  'dev',
  'opentelemetry',
  'graphite',
  'usage_stats',
  'shared_poll',
  'pid_file',
  'enable_unreleased_features',
];

/** The whole configuration. */
export const configDefinition = section(
  {
    http_server: httpServer,
    log,
    engine,
    broker,
    presence_manager: presenceManager,
    client,
    channel,
    rpc,
    proxies,
    http_api: httpApi,
    grpc_api: grpcApi,
    websocket,
    http_stream: httpStream,
    sse,
    emulation,
    uni_websocket: uniWebsocket,
    uni_http_stream: uniHttpStream,
    uni_sse: uniSse,
    uni_grpc: uniGrpc,
    health,
    prometheus,
    admin,
    shutdown,
    node,
    events,
    workers,
    worker_accept: workerAccept,
    worker_timeout: workerTimeout,
  },
  'Configuration of Gyre, a real-time messaging server speaking the Centrifugo v6 protocol and configuration layout.',
  {
    untyped: UNTYPED_TOP_LEVEL,
    // Flat proxy keys of older Centrifugo releases: the known ones are lifted into the v6 layout
    // before validation (config/legacy.ts); the others are accepted and ignored.
    untypedPrefixes: ['proxy_'],
    // The editor's pointer to the JSON Schema (written by `gyre genconfig`).
    ignored: ['$schema'],
  },
);
