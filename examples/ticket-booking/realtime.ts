/**
 * The Gyre side of the app: who may connect, which topics a user may subscribe to, and RPC calls
 * routed to the app's HTTP routes.
 *
 * - connect: the session cookie of the WebSocket upgrade (same origin, so the browser sends it)
 *   names the user; no valid session → disconnect 4501 (the SDK does not retry; the page signs in).
 * - subscribe: the topic registry. `event.{id}` for viewers of an event that exists, `user.{id}`
 *   for that user only; any other channel is refused with 103.
 * - rpc: `verb:uri` methods go to the JSON API (`post:events/1/holds` → `POST /api/events/1/holds`)
 *   as the connection's user; the RPC result is the route's JSON plus `code`, its HTTP status.
 * - channels: presence with join/leave (the "N people viewing"), history and forced recovery, so a
 *   page that lost its connection gets what it missed when it comes back (or learns it cannot).
 */
import {
  ConnectResponse,
  createGyre,
  Handlers,
  RpcRouter,
  TopicRegistry,
  topicSubscribeService,
  type ConnectRequest,
  type Gyre,
  type Logger,
  type RPCRequest,
  type SubscribeRequest,
} from 'gyre';
import type { ApiBindings } from './api.js';
import type { Sessions } from './session.js';
import type { BookingStore } from './store.js';

/** The app's routes as a fetch handler taking the RPC caller as a binding. */
export type AppFetch = (request: Request, bindings: ApiBindings) => Response | Promise<Response>;

export interface RealtimeOptions {
  store: BookingStore;
  sessions: Sessions;
  app: AppFetch;
  log: Logger;
  /** Publications kept per channel for recovery (default 300). */
  historySize?: number;
  /** How long they are kept (default 600 s). */
  historyTtl?: string;
  /** Server ping interval: how soon a silent dead connection is noticed (default Gyre's 25 s). */
  pingInterval?: string;
}

/** Who may subscribe to what: the first pattern that matches decides; no match is a refusal. */
export function bookingTopics(store: BookingStore): TopicRegistry<SubscribeRequest> {
  return new TopicRegistry<SubscribeRequest>()
    .register('event.{id:[1-9][0-9]{0,8}}', ({ id }) => store.hasEvent(Number(id)))
    .register('user.{id}', ({ id, userId }) => id === userId);
}

/** The connect service: the user of the session cookie sent with the upgrade. */
function connectService(store: BookingStore, sessions: Sessions) {
  return (request: ConnectRequest): void => {
    const userId = sessions.userOf(request.getHeader('cookie'));
    const user = userId === undefined ? undefined : store.user(userId);
    if (user === undefined) return request.disconnect(4501, 'sign in first');
    // `info` shows in presence and join/leave messages: names of who is viewing.
    request.respond(new ConnectResponse({ user: user.id, info: { name: user.name } }));
  };
}

/**
 * The RPC service: a router whose `verb:uri` methods go to the app's routes under /api/. The
 * router hands the HTTP handler the RPC request too: its user (the connection's, which a client
 * cannot forge) becomes the `rpcUser` binding the routes read.
 */
function rpcService(app: AppFetch): (request: RPCRequest) => Promise<void> {
  return new RpcRouter().http((httpRequest, rpc) => app(httpRequest, { rpcUser: rpc.user }), 'http://booking.internal/api/').service;
}

/** A Gyre node for the app, to attach to its HTTP server. */
export function createRealtime(options: RealtimeOptions): Gyre {
  const handlers = Handlers.from({
    services: {
      connect: connectService(options.store, options.sessions),
      subscribe: topicSubscribeService(bookingTopics(options.store)),
      rpc: rpcService(options.app),
    },
  });
  return createGyre({
    log: options.log,
    handlers,
    config: {
      // The app publishes in-process; no server API on the app's port (its /api is the app's).
      http_api: { disabled: true },
      client: { ...(options.pingInterval !== undefined && { ping_interval: options.pingInterval }) },
      channel: {
        without_namespace: {
          presence: true,
          join_leave: true,
          force_push_join_leave: true,
          allow_presence_for_subscriber: true,
          history_size: options.historySize ?? 300,
          history_ttl: options.historyTtl ?? '600s',
          force_recovery: true,
        },
      },
    },
  });
}
