/**
 * The broadcasting config file (`config/broadcasting.ts`, the TypeScript form of the seed's
 * `app/config/broadcasting.php`): connections and their drivers, the default connection, aliases,
 * custom drivers and topic authorization. Environment variables, as in the seed:
 *
 *   BROADCAST_CONNECTION       the default connection (overrides `default`)
 *   BROADCAST_AUTHORIZE_PATH   the authorization endpoint's path (overrides `authorize.path`)
 *   GYRE_API_URL, GYRE_API_KEY the HTTP server API of a Gyre / Centrifugo server
 *   GYRE_GRPC_ADDRESS          its gRPC server API
 *   GYRE_HMAC_SECRET           the key of subscription tokens (client.token.hmac_secret_key)
 */
import { defineBroadcasting, LogBroadcast, NullBroadcast } from 'gyre';
import { PusherBroadcast } from './broadcasting-custom-driver.js';

/** The application's orders (uuid → owner), the state the topic rules check. */
export const orders = new Map<string, string>([['a1', '42']]);

/** The application's sessions (cookie → user id). */
export const sessions = new Map<string, string>([['session-42', '42']]);

const env = process.env;

export default defineBroadcasting({
  default: 'log',
  connections: {
    log: { driver: 'log', level: 'info' },
    null: { driver: NullBroadcast },
    // An in-process Gyre node: the manager is given it (`new BroadcastManager(config, { gyre })`).
    local: { driver: 'local' },
    centrifugo: {
      driver: 'http',
      url: env['GYRE_API_URL'] ?? 'http://localhost:8000/api',
      apiKey: env['GYRE_API_KEY'] ?? '',
      timeout: '3s',
      retries: 3,
      idempotencyKey: true, // a retried publish is not published twice
    },
    grpc: { driver: 'grpc', address: env['GYRE_GRPC_ADDRESS'] ?? 'localhost:10000', apiKey: env['GYRE_API_KEY'] ?? '' },
    pusher: {
      driver: 'pusher',
      appId: env['PUSHER_APP_ID'] ?? '',
      key: env['PUSHER_KEY'] ?? '',
      secret: env['PUSHER_SECRET'] ?? '',
    },
  },
  aliases: { realtime: 'local' },
  driverAliases: {
    log: LogBroadcast, // the built-in, named explicitly as in the seed
    pusher: PusherBroadcast,
  },
  authorize: {
    path: '/broadcasting/auth',
    topics: {
      // The callbacks get the pattern's parameters, typed, plus topic, userId and request.
      topic: ({ request }) => request?.headers.get('secret') === 'secret',
      'order.{uuid}': ({ uuid, userId }) => userId !== '' && orders.get(uuid) === userId,
      'user.{id:\\d+}': ({ id, userId }) => id === userId,
    },
    userResolver: (request) => sessions.get(/(?:^|;\s*)session=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1] ?? '') ?? '',
    token: { hmacSecret: env['GYRE_HMAC_SECRET'] ?? 'change-me', ttlSeconds: 3600 },
  },
});
