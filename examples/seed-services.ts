/**
 * The seed documents' services, in-process in Gyre: token-store authentication on connect, topic
 * authorization on subscribe, a validating and stamping publish service, RPC methods (including
 * `verb:uri` methods routed to an HTTP router built with Hono), server-side refresh, an auth
 * interceptor and a telemetry interceptor.
 *
 *   npm run example:services        # PORT (default 8000), GYRE_API_KEY (default example-api-key)
 *
 * Clients connect with the SDK's `data: { authToken: 'token-42' }` option.
 */
import { Hono } from 'hono';
import {
  ConnectResponse,
  createGyre,
  Handlers,
  PublishResponse,
  RefreshResponse,
  RpcRouter,
  TopicRegistry,
  topicSubscribeService,
  type AnyRequest,
  type ConnectRequest,
  type Next,
  type PublishRequest,
  type SubscribeRequest,
} from 'gyre';

const port = Number(process.env['PORT'] ?? 8000);
const apiKey = process.env['GYRE_API_KEY'] ?? 'example-api-key';
/** Connection lifetime before the refresh service extends it (seconds). */
const connectionTtl = Number(process.env['EXAMPLE_CONNECTION_TTL'] ?? 3600);

// --- the application's state -------------------------------------------------------------------

/** The token store of the seed: auth token -> user id. */
const tokenStore = new Map([
  ['token-42', '42'],
  ['token-7', '7'],
]);
/** Orders and their owners. */
const orders = new Map([['a1', '42']]);

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

// --- interceptors --------------------------------------------------------------------------------

/**
 * Puts the authenticated user id into the `userId` attribute: from the token store on connect,
 * from the connection afterwards (as in the seed's ticket-booking app).
 */
async function authInterceptor(request: AnyRequest, next: Next<AnyRequest>): Promise<void> {
  let userId = request.user;
  if (request.type === 'connect') {
    const data = request.data as { authToken?: unknown } | null | undefined;
    const token = typeof data?.authToken === 'string' ? data.authToken : '';
    userId = tokenStore.get(token) ?? '';
  }
  await next(request.withAttribute('userId', userId));
}

/** Logs the type and duration of every request. */
async function telemetryInterceptor(request: AnyRequest, next: Next<AnyRequest>): Promise<void> {
  const started = performance.now();
  try {
    await next(request);
  } finally {
    const ms = (performance.now() - started).toFixed(2);
    console.log(JSON.stringify({ msg: 'telemetry', type: request.type, client: request.client, durationMs: Number(ms) }));
  }
}

// --- services -------------------------------------------------------------------------------------

function connect(request: ConnectRequest): void {
  const userId = request.getAttribute<string>('userId', '') ?? '';
  if (userId === '') {
    request.disconnect(4501, 'Connection is not allowed.');
    return;
  }
  request.respond(new ConnectResponse({ user: userId, expireAt: nowSeconds() + connectionTtl }));
}

const topics = new TopicRegistry<SubscribeRequest>()
  .register('news', () => true)
  .register('chat:{room}', () => true)
  .register('user.{id}', ({ id, userId }) => id === userId)
  .register('order.{uuid}', ({ uuid, userId }) => orders.get(uuid) === userId);

function publish(request: PublishRequest): void {
  if (!request.channel.startsWith('chat:')) {
    request.error(103, 'permission denied');
    return;
  }
  const text = (request.data as { text?: unknown } | null)?.text;
  if (typeof text !== 'string' || text.length < 1 || text.length > 280) {
    request.error(400, 'bad message');
    return;
  }
  request.respond(new PublishResponse({ data: { text, user: request.user, ts: Date.now() } }));
}

/** The application's HTTP routes, served to RPC calls like `get:news/123`. */
const http = new Hono();
http.get('/news/:id', (c) => c.json({ id: c.req.param('id'), lang: c.req.query('lang') ?? null }));
http.post('/news/store', async (c) => {
  const body = (await c.req.json().catch(() => ({}))) as { title?: unknown };
  if (typeof body.title !== 'string' || body.title.trim() === '') {
    return c.json({ message: 'validation failed', errors: { title: 'The title is required.' } }, 422);
  }
  return c.json({ id: 1, title: body.title }, 201);
});

const rpc = new RpcRouter()
  .method('ping', () => 'pong')
  .method('whoami', (request) => ({ user: request.getAttribute<string>('userId', request.user) }))
  .http((req) => http.fetch(req))
  .fallback(() => ({ error: 'Not found', code: 404 }));

// --- the node -------------------------------------------------------------------------------------

const handlers = Handlers.from({
  services: {
    connect,
    subscribe: topicSubscribeService(topics, (r) => r.getAttribute<string>('userId', r.user) ?? r.user),
    publish,
    rpc: rpc.service,
    refresh: (request) => request.respond(new RefreshResponse({ expireAt: nowSeconds() + 3600 })),
  },
  interceptors: {
    connect: [authInterceptor],
    subscribe: [authInterceptor],
    rpc: [authInterceptor],
    '*': [telemetryInterceptor],
  },
});

const gyre = createGyre({
  config: {
    http_server: { port },
    http_api: { key: apiKey },
    health: { enabled: true },
    client: { allowed_origins: ['*'] },
    channel: {
      without_namespace: { history_size: 50, history_ttl: '600s', force_recovery: true },
      namespaces: [{ name: 'chat', allow_publish_for_subscriber: true, history_size: 50, history_ttl: '600s', force_recovery: true }],
    },
  },
  handlers,
});

const bound = await gyre.server.listen(port).catch((e: unknown) => {
  if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
  console.error(
    `port ${port} is already taken (is the quick-start server, \`npm start\`, still running?): ` +
      `stop it, or run the example on another port: PORT=8001 npm run example:services`,
  );
  process.exit(1);
});
console.log(JSON.stringify({ msg: 'seed services example listening', port: bound }));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    void gyre.server.shutdown().then(() => process.exit(0));
  });
}
