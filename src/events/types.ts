/**
 * Types of the simple event protocol: messages `{"event": NAME, "data": ...}` in both directions,
 * listeners per event name, lifecycle hooks, and the API listeners and hooks call.
 *
 * Event data can be typed per event name with an event map, for example
 * `interface In { CONNECT: { user_id: number }; PING: undefined }`; the types are a promise the
 * application makes to itself: incoming `data` is not checked at run time.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Any event map: event name → type of its `data`. */
export type AnyEvents = Record<string, unknown>;

/** The event names of an event map. */
export type EventName<M extends object> = keyof M & string;

/** The `data` type of event `K` in map `M` (`unknown` for names the map does not list). */
export type EventData<M extends object, K extends string> = K extends keyof M ? M[K] : unknown;

/** A message received from a connection. */
export interface EventMessage<D = unknown, E extends string = string> {
  /** The sender's connection id (a UUID, unique across nodes). */
  readonly connectionId: string;
  readonly event: E;
  /** The message's `data` as sent (`undefined` when the message had none). */
  readonly data: D;
  /** The user the sender's connection was bound to when the message was dispatched. */
  readonly userId: string | undefined;
}

/** What a connection looks like from the API. */
export interface EventConnectionInfo {
  readonly id: string;
  readonly userId: string | undefined;
  /** Headers of the HTTP request that opened the connection (lower-cased names). */
  readonly headers: IncomingHttpHeaders;
  readonly secWebSocketKey: string;
  readonly remoteAddress: string | undefined;
  /** Milliseconds since epoch. */
  readonly connectedAt: number;
}

/**
 * The server API handed to listeners and hooks. Connections are local to the node that accepted
 * them: `sendMessage` and `disconnect` act on this node's connections only (false when the id is
 * not here), while `broadcast` and `sendToUser` reach connections on every node through the broker.
 */
export interface EventsApi<Out extends object = AnyEvents> {
  /** This node's id. */
  readonly nodeId: string;
  /** Queues `{"event", "data"}` on a connection of this node; false when it is not here or is closing. */
  sendMessage<K extends EventName<Out>>(connectionId: string, event: K, data: Out[K]): boolean;
  /** Sends to every connection on every node. */
  broadcast<K extends EventName<Out>>(event: K, data: Out[K]): Promise<void>;
  /** Sends to every connection bound to the user, on every node. */
  sendToUser<K extends EventName<Out>>(userId: string | number, event: K, data: Out[K]): Promise<void>;
  /**
   * Closes a connection of this node (after what is queued for it) with a WebSocket close code
   * (1000 or 3000-4999) and a reason (cut to 123 UTF-8 bytes, on a character boundary); false when
   * it is not here.
   * @throws RangeError for a code WebSocket does not allow.
   */
  disconnect(connectionId: string, code?: number, reason?: string): boolean;
  /**
   * Binds a connection of this node to a user (a connection has at most one user; binding again
   * moves it). Resolves once messages sent to the user reach the connection; false when the
   * connection is not here. The binding ends with `unbindUser` or when the connection closes.
   */
  bindUser(connectionId: string, userId: string | number): Promise<boolean>;
  /** Ends a connection's user binding; false when it was not bound (or not here). */
  unbindUser(connectionId: string): Promise<boolean>;
  /** A connection of this node. */
  connection(connectionId: string): EventConnectionInfo | undefined;
  /** Ids of this node's connections bound to the user. */
  userConnections(userId: string | number): string[];
}

/** A listener as a function: gets the server API and the message. Async listeners are awaited. */
export type EventListenerFn<D = unknown, Out extends object = AnyEvents, E extends string = string> = (
  server: EventsApi<Out>,
  message: EventMessage<D, E>,
) => void | Promise<void>;

/**
 * A listener: a function, or an object with a `handle` method (as the listener classes of the
 * original bundle). Listeners of one connection's messages run one after another, in order.
 */
export type EventListener<D = unknown, Out extends object = AnyEvents, E extends string = string> =
  | EventListenerFn<D, Out, E>
  | { handle: EventListenerFn<D, Out, E> };

/** `connection_open`: a WebSocket was accepted; runs before any of its messages is dispatched. */
export interface ConnectionOpenEvent {
  readonly connectionId: string;
  readonly headers: IncomingHttpHeaders;
  /** The `Sec-WebSocket-Key` header of the opening handshake. */
  readonly secWebSocketKey: string;
  readonly remoteAddress: string | undefined;
  /** Request path and query of the opening handshake. */
  readonly url: string;
}

/** `connection_closed`: the connection is gone (its user binding already ended); runs after its last message. */
export interface ConnectionClosedEvent {
  readonly connectionId: string;
  /** The user it was bound to when it closed. */
  readonly userId: string | undefined;
  /** The WebSocket close code (1006 when the connection dropped without a close frame). */
  readonly code: number;
  readonly reason: string;
}

/** `message_handler_exception`: a listener threw (or rejected) for `message`. */
export interface MessageHandlerExceptionEvent {
  readonly message: EventMessage;
  readonly error: unknown;
}

/** `message_sent`: a message was queued on a connection (its `error` events included). */
export interface MessageSentEvent {
  readonly connectionId: string;
  readonly event: string;
  /** The data as sent; shared between connections of one broadcast, do not mutate. */
  readonly data: unknown;
}

/**
 * `start_worker`: this node's event engine is up (listeners loaded, broker subscriptions made),
 * before it accepts connections. Once per node, that is once per process running a Gyre server.
 */
export interface StartWorkerEvent {
  readonly nodeId: string;
  readonly nodeName: string;
  readonly pid: number;
}

/** `start_server`: the event endpoint is listening. Once per node, after `start_worker`. */
export interface StartServerEvent {
  readonly nodeId: string;
  readonly nodeName: string;
  /** Bound address ("" = all interfaces) and port. */
  readonly host: string;
  readonly port: number;
  /** The endpoint's path (`events.handler_prefix`). */
  readonly path: string;
}

/** Lifecycle hooks: hook name → its event. */
export interface EventsHooks {
  connection_open: ConnectionOpenEvent;
  connection_closed: ConnectionClosedEvent;
  /** Every well-formed message, before its listeners run. */
  message: EventMessage;
  message_handler_exception: MessageHandlerExceptionEvent;
  message_sent: MessageSentEvent;
  start_worker: StartWorkerEvent;
  start_server: StartServerEvent;
}

export type EventsHookName = keyof EventsHooks;

/**
 * A hook. Hooks of a connection (`connection_open`, `message`, `message_handler_exception`,
 * `connection_closed`) are awaited in its message order; `message_sent` is not awaited; a hook
 * that throws is logged and the connection carries on. `start_worker` and `start_server` are
 * awaited by `GyreServer.listen()`, and a throw there fails the start.
 */
export type EventsHook<H extends EventsHookName, Out extends object = AnyEvents> = (
  server: EventsApi<Out>,
  event: EventsHooks[H],
) => void | Promise<void>;
