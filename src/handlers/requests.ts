/**
 * Requests the real-time server hands to application services, one class per request type, with the
 * fields of Centrifugo's proxy requests. A request is answered once, with `respond`, `error` or
 * `disconnect`; attributes are immutable (`withAttribute` returns a copy sharing the same answer).
 */
import { closeReason } from '../protocol/codes.js';
import type { AnswerSlot } from './answer.js';
import type {
  ConnectResponse,
  PublishResponse,
  RefreshResponse,
  RPCResponse,
  SubRefreshResponse,
  SubscribeResponse,
} from './responses.js';

/** The request types, by name. */
export const RequestType = {
  Connect: 'connect',
  Refresh: 'refresh',
  Subscribe: 'subscribe',
  Publish: 'publish',
  RPC: 'rpc',
  SubRefresh: 'sub_refresh',
} as const;

export type RequestType = (typeof RequestType)[keyof typeof RequestType];

/** All request types, in a stable order. */
export const REQUEST_TYPES: readonly RequestType[] = Object.values(RequestType);

/** What every request knows about the connection it comes from. */
export interface ConnectionContext {
  /** The connection's client id. */
  readonly client: string;
  /** Transport name (`websocket`). */
  readonly transport: string;
  readonly protocol: 'json' | 'protobuf';
  readonly encoding: 'json' | 'binary';
  /** HTTP headers of the request that opened the connection (lower-cased names). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The connection's user ("" = anonymous; "" on connect requests). */
  readonly user: string;
  /** Connection meta from the connect response (or token), never seen by clients. */
  readonly meta: unknown;
}

abstract class BaseRequest<R> {
  abstract readonly type: RequestType;
  private attributes: ReadonlyMap<string, unknown> = new Map();

  constructor(
    protected readonly context: ConnectionContext,
    /** @internal */
    readonly slot: AnswerSlot<R>,
  ) {}

  get client(): string {
    return this.context.client;
  }
  get transport(): string {
    return this.context.transport;
  }
  get protocol(): 'json' | 'protobuf' {
    return this.context.protocol;
  }
  get encoding(): 'json' | 'binary' {
    return this.context.encoding;
  }
  get headers(): Readonly<Record<string, string | string[] | undefined>> {
    return this.context.headers;
  }
  get user(): string {
    return this.context.user;
  }
  get meta(): unknown {
    return this.context.meta;
  }

  /** Values of one HTTP header of the connection (case-insensitive name). */
  getHeader(name: string): string[] {
    const v = this.context.headers[name.toLowerCase()];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  }

  /** True once the request has its answer. */
  get answered(): boolean {
    return this.slot.settled;
  }

  /** Answers with a response. */
  respond(response: R): void {
    this.slot.set({ kind: 'respond', response });
  }

  /**
   * Answers with an error the client sees: application codes 400-1999 (or a protocol code 100-113).
   * `temporary` errors make the SDK retry connect and subscribe.
   */
  error(code: number, message: string, temporary = false): void {
    this.slot.set({ kind: 'error', error: temporary ? { code, message, temporary } : { code, message } });
  }

  /**
   * Closes the connection: 4000-4499 the client reconnects, 4500-4999 it does not (3000-3999 are
   * the protocol's own codes). The reason is cut to 123 bytes.
   */
  disconnect(code: number, reason: string): void {
    this.slot.set({ kind: 'disconnect', disconnect: { code, reason: closeReason(reason) } });
  }

  /** A copy of this request with one more attribute; it shares this request's answer. */
  withAttribute(name: string, value: unknown): this {
    const copy = Object.create(Object.getPrototypeOf(this) as object) as this;
    Object.assign(copy, this);
    (copy as unknown as { attributes: ReadonlyMap<string, unknown> }).attributes = new Map(this.attributes).set(name, value);
    return copy;
  }

  /** An attribute set by an interceptor, or `fallback`. */
  getAttribute<T = unknown>(name: string, fallback?: T): T | undefined {
    return this.attributes.has(name) ? (this.attributes.get(name) as T) : fallback;
  }

  /** All attributes. */
  getAttributes(): ReadonlyMap<string, unknown> {
    return this.attributes;
  }
}

/** A client connects (without a token). */
export class ConnectRequest extends BaseRequest<ConnectResponse> {
  readonly type = RequestType.Connect;
  constructor(
    context: ConnectionContext,
    slot: AnswerSlot<ConnectResponse>,
    /** Custom data the client sent with connect (the SDK's `data` option). */
    readonly data: unknown,
    /** Client name and version (SDK options). */
    readonly name: string,
    readonly version: string,
    /** Channels the client asks to be subscribed to server-side (recovering). */
    readonly channels: readonly string[],
  ) {
    super(context, slot);
  }
}

/** A connection is about to expire. */
export class RefreshRequest extends BaseRequest<RefreshResponse> {
  readonly type = RequestType.Refresh;
}

/** A client subscribes to a channel. */
export class SubscribeRequest extends BaseRequest<SubscribeResponse> {
  readonly type = RequestType.Subscribe;
  constructor(
    context: ConnectionContext,
    slot: AnswerSlot<SubscribeResponse>,
    readonly channel: string,
    /** Subscription token the client sent, if any. */
    readonly token: string,
    readonly data: unknown,
  ) {
    super(context, slot);
  }
}

/** A client publishes into a channel. */
export class PublishRequest extends BaseRequest<PublishResponse> {
  readonly type = RequestType.Publish;
  constructor(
    context: ConnectionContext,
    slot: AnswerSlot<PublishResponse>,
    readonly channel: string,
    readonly data: unknown,
  ) {
    super(context, slot);
  }
}

/** A client calls an RPC method. */
export class RPCRequest extends BaseRequest<RPCResponse> {
  readonly type = RequestType.RPC;
  constructor(
    context: ConnectionContext,
    slot: AnswerSlot<RPCResponse>,
    readonly method: string,
    readonly data: unknown,
  ) {
    super(context, slot);
  }
}

/** A subscription is about to expire. */
export class SubRefreshRequest extends BaseRequest<SubRefreshResponse> {
  readonly type = RequestType.SubRefresh;
  constructor(
    context: ConnectionContext,
    slot: AnswerSlot<SubRefreshResponse>,
    readonly channel: string,
  ) {
    super(context, slot);
  }
}

/** The request class of each type. */
export interface RequestMap {
  connect: ConnectRequest;
  refresh: RefreshRequest;
  subscribe: SubscribeRequest;
  publish: PublishRequest;
  rpc: RPCRequest;
  sub_refresh: SubRefreshRequest;
}

/** The response class of each type. */
export interface ResponseMap {
  connect: ConnectResponse;
  refresh: RefreshResponse;
  subscribe: SubscribeResponse;
  publish: PublishResponse;
  rpc: RPCResponse;
  sub_refresh: SubRefreshResponse;
}

/** Any request. */
export type AnyRequest = RequestMap[RequestType];
