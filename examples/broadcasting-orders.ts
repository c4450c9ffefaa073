/**
 * The seed's broadcasting examples, in Gyre: an `OrderService` that publishes through the default
 * connection, one that picks a named connection, an `Order` topic class (Stringable), and the
 * authorization endpoint a browser gets its subscription tokens from.
 *
 * It starts a Gyre node in-process (the `local` connection publishes into it) and an application
 * server with (the user comes from the `session` cookie):
 *   POST /broadcasting/auth?token=1   the authorization endpoint: a subscription token for an
 *                                     authorized `channel_name` (form or JSON), else 403
 *   GET  /connection-token            a connection token for the session's user, else 401
 *   POST /orders/<uuid>/purchase      purchases an order: publishes {"status": "purchased"} to order.<uuid>
 *
 *   node --import tsx examples/broadcasting-orders.ts   # PORT (Gyre, default 8000), APP_PORT (default 3000)
 *
 * In the browser (user 42 has cookie `session=session-42` and owns order a1):
 *
 *   const centrifuge = new Centrifuge('ws://localhost:8000/connection/websocket', {
 *     getToken: async () => (await (await fetch('/connection-token')).json()).token,
 *   });
 *   const sub = centrifuge.newSubscription('order.a1', {
 *     getToken: async ({ channel }) => {
 *       const res = await fetch('/broadcasting/auth?token=1', { method: 'POST', body: new URLSearchParams({ channel_name: channel }) });
 *       if (res.status === 403) throw new UnauthorizedError('not your order');  // from 'centrifuge'
 *       return (await res.json()).token;
 *     },
 *   });
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { BroadcastManager, createGyre, signToken, type Broadcast, type Gyre, type Logger } from 'gyre';
import config, { orders } from './broadcasting-config.js';

/** A topic class: `publish(new Order(uuid), ...)` publishes to `order.<uuid>`. */
export class Order {
  constructor(readonly uuid: string) {}

  toString(): string {
    return `order.${this.uuid}`;
  }
}

/** Publishes through the default connection (the seed's BroadcastInterface). */
export class OrderService {
  constructor(private readonly broadcast: Broadcast) {}

  async purchase(orderUuid: string): Promise<void> {
    // ... the purchase itself ...
    await this.broadcast.publish(`order.${orderUuid}`, { status: 'purchased' });
  }
}

/** Picks a connection by name (the seed's BroadcastManagerInterface), with a topic object. */
export class OrderAudit {
  constructor(private readonly broadcast: BroadcastManager) {}

  async send(order: Order): Promise<void> {
    await this.broadcast.connection('log').publish(order, { status: 'purchased' });
  }
}

export interface OrdersExample {
  gyre: Gyre;
  manager: BroadcastManager;
  gyrePort: number;
  appPort: number;
  app: Server;
  close(): Promise<void>;
}

export async function startOrdersExample(
  options: { port?: number; appPort?: number; env?: Record<string, string | undefined>; logger?: Logger; hmacSecret?: string } = {},
): Promise<OrdersExample> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? pino();
  const hmacSecret = options.hmacSecret ?? config.authorize?.token?.hmacSecret ?? 'change-me';
  const gyre = createGyre({
    log: logger,
    config: {
      client: { token: { hmac_secret_key: hmacSecret }, allowed_origins: ['*'], allow_anonymous_connect_without_token: true },
      // Order channels keep history; nobody subscribes without a subscription token.
      channel: { without_namespace: { history_size: 100, history_ttl: '300s', force_recovery: true } },
    },
  });
  const gyrePort = await gyre.server.listen(options.port ?? 8000);

  // `local` is the default here (the config's default is `log`), unless BROADCAST_CONNECTION says otherwise.
  const manager = new BroadcastManager(
    { ...config, default: 'local', authorize: { ...config.authorize, token: { hmacSecret } } },
    { env, logger, gyre },
  );
  const orderService = new OrderService(manager);
  const audit = new OrderAudit(manager);
  const auth = manager.authorizationMiddleware();

  const userOf = config.authorize?.userResolver ?? (() => '');
  const app = createServer((req, res) => {
    void auth.node(req, res, () => {
      if (req.method === 'GET' && req.url === '/connection-token') {
        const request = new Request(`http://app${req.url}`, { headers: { cookie: req.headers.cookie ?? '' } });
        void (async () => {
          const user = await userOf(request);
          if (user === '') return res.writeHead(401).end();
          const token = await signToken({ sub: user }, { hmacSecret, ttlSeconds: 3600 });
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token }));
        })();
        return;
      }
      const m = /^\/orders\/([^/]+)\/purchase$/.exec(req.url ?? '');
      if (req.method !== 'POST' || m === null || !orders.has(m[1]!)) {
        res.writeHead(404).end();
        return;
      }
      const uuid = m[1]!;
      Promise.all([orderService.purchase(uuid), audit.send(new Order(uuid))]).then(
        () => res.writeHead(204).end(),
        (e: unknown) => {
          logger.error({ err: e }, 'purchase failed');
          res.writeHead(500).end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => app.listen(options.appPort ?? 3000, resolve));
  const appPort = (app.address() as AddressInfo).port;
  logger.info({ gyrePort, appPort, authorizePath: auth.path }, 'broadcasting orders example listening');
  return {
    gyre,
    manager,
    gyrePort,
    appPort,
    app,
    async close() {
      await new Promise<void>((resolve) => app.close(() => resolve()));
      await manager.close();
      await gyre.server.shutdown();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const example = await startOrdersExample({
    port: Number(process.env['PORT'] ?? 8000),
    appPort: Number(process.env['APP_PORT'] ?? 3000),
  });
  const stop = (): void => void example.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
