/** Definition of the node's own sections: HTTP server, log, HTTP API, WebSocket, health, prometheus, shutdown, node, events. */
import Type, { type Static, type TSchema } from 'typebox';
import { bool, countOrAuto, duration, int, META_KEYWORD, oneOf, port, portOrDigits, section, str, type KeyMeta } from '../keys.js';
import { TLS_SERVER_UNTYPED } from './tls.js';

/** `http_server`. */
export const httpServer = section(
  {
    address: str('', 'Address to listen on; "" = all interfaces.'),
    port: port(8000, 'Port of WebSocket connections, the server API and the health endpoint.'),
    internal_port: portOrDigits(0, 'When set, the server API and the health endpoint are served only on this port; 0 = none.'),
    tls: section(
      {
        enabled: bool(false, 'Serve over TLS (needs cert_pem_file and key_pem_file).'),
        cert_pem_file: str('', 'Server certificate file (PEM).'),
        key_pem_file: str('', 'Server key file (PEM).'),
      },
      'TLS of the HTTP server.',
      { untyped: TLS_SERVER_UNTYPED },
    ),
    read_header_timeout: duration('10s', "Gyre: time to receive a request's headers (WebSocket upgrades included); 0 = no limit."),
    read_timeout: duration('60s', 'Gyre: time to receive a whole request, body included; 0 = no limit.'),
    idle_timeout: duration('30s', 'Gyre: how long an idle keep-alive connection is kept open between requests.'),
  },
  'The HTTP server: WebSocket connections, server API, health.',
  { untyped: ['internal_address', 'tls_autocert', 'tls_external', 'internal_tls', 'http3', 'h2c_external'] },
);

/** `log`. */
export const log = section(
  {
    level: oneOf(['none', 'trace', 'debug', 'info', 'warn', 'error'], 'info', 'Least severe level logged.'),
    file: str('', 'Log file; "" = stdout.'),
    format: oneOf(
      ['auto', 'json', 'pretty'],
      'auto',
      'Gyre: how stdout logs look: "json" (one JSON object per line), "pretty" (readable lines, for development), "auto" = pretty when stdout is a terminal, else JSON. A log file is always JSON.',
    ),
  },
  'Logging.',
);

/** `http_api`. */
export const httpApi = section(
  {
    disabled: bool(false, 'Do not serve the HTTP server API.'),
    handler_prefix: str('/api', 'Path of the HTTP server API.'),
    key: str('', 'API key: requests need `X-API-Key: <key>` or `Authorization: apikey <key>`.'),
    insecure: bool(false, 'Serve the API without a key. Only behind a trusted network.'),
    error_mode: oneOf(['', 'transport'], '', '"transport": errors as HTTP status codes instead of in the body.'),
    external: bool(false, 'Serve the API on the main port even with internal_port set.'),
    max_request_body_size: int(16 * 1024 * 1024, 'Gyre: the largest request body read, in bytes (larger: 413); 0 = no limit.'),
    max_batch_size: int(10_000, 'Gyre: the most commands in one batch and channels in one broadcast (HTTP and gRPC API); 0 = no limit.'),
  },
  'The HTTP server API.',
);

/** `websocket`. */
export const websocket = section(
  {
    disabled: bool(false, 'Do not serve WebSocket connections.'),
    handler_prefix: str('/connection/websocket', 'Path of WebSocket connections.'),
    compression: bool(false, 'Offer permessage-deflate compression.'),
    message_size_limit: int(65_536, 'Largest incoming message in bytes.'),
    write_timeout: duration('1s', 'How long a write to a slow client may take before it is disconnected.'),
  },
  'The WebSocket transport.',
  {
    untyped: [
      'compression_min_size',
      'compression_level',
      'read_buffer_size',
      'use_write_buffer_pool',
      'write_buffer_size',
      'decompressed_message_size_limit',
    ],
  },
);

/** `health`. */
export const health = section(
  {
    enabled: bool(false, 'Serve the health endpoint.'),
    handler_prefix: str('/health', 'Path of the health endpoint.'),
  },
  'The health endpoint.',
);

/** `prometheus`. */
export const prometheus = section(
  {
    enabled: bool(false, "Serve Prometheus metrics (Centrifugo's names, with Node's process metrics) at handler_prefix."),
    handler_prefix: str('/metrics', 'Path of the metrics endpoint (must start with "/").'),
  },
  'Prometheus metrics (served with the server API: on http_server.internal_port when set).',
  { untyped: ['instrument_http_handlers', 'recovered_publications_histogram', 'native_histograms'] },
);

/** `admin`. */
export const admin = section(
  {
    enabled: bool(false, 'Serve the admin web UI and its API at handler_prefix.'),
    password: str('', 'Password of the admin web UI (needed unless insecure).'),
    secret: str('', 'Key that signs admin tokens, issued at login (needed unless insecure).'),
    insecure: bool(false, 'No login: anyone who reaches the admin endpoints may use them (behind a firewall only).'),
    handler_prefix: str('', 'Path prefix of the admin UI ("" = the UI at "/", its API under "/admin/").'),
    external: bool(false, 'Serve admin on the public port even when http_server.internal_port is set.'),
  },
  'The admin web UI (served with the server API: on http_server.internal_port when set, unless external).',
  { untyped: ['web_path', 'web_proxy_address'] },
);

/** `shutdown`. */
export const shutdown = section({ timeout: duration('30s', 'How long a graceful shutdown may take.') }, 'Graceful shutdown.');

/** `node`. */
export const node = section({ name: str('', 'Name of this node; "" = generated.') }, 'This node.', {
  untyped: ['info_metrics_aggregate_interval'],
});

/** The hooks of the event endpoint (`events.hooks` names them; `EventsServer.hook` registers them). */
export const EVENTS_HOOK_NAMES = [
  'connection_open',
  'connection_closed',
  'message',
  'message_handler_exception',
  'message_sent',
  'start_worker',
  'start_server',
] as const;

/** One `events.listeners` entry, `"EVENT=module[#export]"` in file form. */
export const listenerSpec = Type.Object({
  event: Type.String({ description: 'The client event name the listener handles.' }),
  module: Type.String({ description: 'Module specifier: a path (relative to the working directory) or a package name.' }),
  export: Type.String({ description: "The module's export holding the listener; `default` unless given after `#`." }),
});

const listeners = Type.Unsafe<Array<Static<typeof listenerSpec>>>({
  type: 'array',
  items: { type: 'string', pattern: '^[^=]*[^=\\s][^=]*=.*\\S' },
  default: [],
  description: 'Listeners loaded from modules at start: "EVENT=module" or "EVENT=module#export".',
  [META_KEYWORD]: { kind: 'listeners' } satisfies KeyMeta,
} as TSchema);

/** `events`: Gyre's simple event protocol endpoint (`{"event": NAME, "data": ...}` messages). */
export const events = section(
  {
    enabled: bool(false, 'Serve the simple event protocol endpoint.'),
    handler_prefix: str('/connection/events', 'Path of the endpoint (must start with "/").'),
    address: str('', 'Own listener address (with port); "" = all interfaces.'),
    port: port(0, 'Own listener port; 0 = serve the endpoint on http_server.port.'),
    message_size_limit: int(65_536, 'Max bytes of one incoming frame; a bigger one closes the connection with 1009. 0 = 64 MiB.'),
    ping_interval: duration('25s', 'Interval of WebSocket pings; a connection that has not answered the previous one is dropped. 0 = none.'),
    listeners,
    hooks: Type.Unsafe<Array<Static<typeof listenerSpec>>>({
      type: 'array',
      items: { type: 'string', pattern: '^[^=]*[^=\\s][^=]*=.*\\S' },
      default: [],
      description:
        `Lifecycle hooks loaded from modules at start: "HOOK=module" or "HOOK=module#export", HOOK one of ${EVENTS_HOOK_NAMES.join(', ')}.`,
      [META_KEYWORD]: { kind: 'listeners' } satisfies KeyMeta,
    } as TSchema),
  },
  "Gyre: the simple event protocol endpoint.",
);

/** `workers`: Gyre's worker processes (`gyre serve`). */
export const workers = countOrAuto(
  0,
  'Gyre: worker processes of `gyre serve`, sharing its ports; "auto" = one per CPU core; 0 = serve in a single process.',
  { max: 1024 },
);

/** `worker_accept`: who accepts the connections of `gyre serve --workers` (node:cluster's scheduling policy). */
export const workerAccept = oneOf(
  ['auto', 'primary', 'workers'],
  'auto',
  'Gyre: with workers, who accepts connections: "primary" hands each to the next worker (even spread; the primary spends CPU on every connection), "workers" lets them accept from the shared socket (cheaper per connection, spread by the kernel, less even); "auto" = Node\'s choice (NODE_CLUSTER_SCHED_POLICY, else "primary" except on Windows).',
);

/** `worker_timeout`: how long a worker may leave the primary unanswered. */
export const workerTimeout = duration(
  '10s',
  "Gyre: a worker that has not answered the primary's heartbeat for this long is killed and replaced (0 = never).",
);
