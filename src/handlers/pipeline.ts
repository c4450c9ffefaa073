/**
 * Application handlers: one service per request type behind interceptors ('*' outermost, then the
 * type's own, in the given order). Every request gets an answer: a service that throws answers
 * error 100; one that does not answer within its timeout answers error 100 (temporary); a second
 * answer is ignored with a warning.
 */
import type { Logger } from 'pino';
import { DisconnectException, Errors, ProtocolException } from '../protocol/codes.js';
import { AnswerSlot, type Outcome } from './answer.js';
import { REQUEST_TYPES, type AnyRequest, type RequestMap, type RequestType, type ResponseMap } from './requests.js';

/** A service: a function, or an object with `handle`; sync or async. */
export type Service<Q> = ((request: Q) => unknown) | { handle(request: Q): unknown };

/** Calls the rest of the pipeline (later interceptors, then the service) with a request. */
export type Next<Q> = (request: Q) => Promise<void>;

/**
 * An interceptor of requests `Q`: a function, or an object with `intercept`. It may replace the
 * request (for example `request.withAttribute('userId', id)`), answer it itself without calling
 * `next`, or wrap the call (telemetry).
 *
 * `next` takes any request, so one type serves both kinds of interceptor: one written for any
 * request (`(request: AnyRequest, next: Next<AnyRequest>)`) fits the slot of every type, one
 * written for a type (`(request: RPCRequest, next: Next<RPCRequest>)`) fits that type's slot, and
 * an inline one gets its parameters typed from the slot. (A union of both function types would
 * leave inline interceptors untyped: TypeScript takes no contextual signature from a union of
 * different call signatures.)
 */
export type Interceptor<Q = AnyRequest> =
  | ((request: Q, next: Next<AnyRequest>) => unknown)
  | { intercept(request: Q, next: Next<AnyRequest>): unknown };

export type ServiceMap = { [T in RequestType]?: Service<RequestMap[T]> };
/** Interceptors per type; an interceptor written for any request (`Interceptor<AnyRequest>`) fits every slot. */
export type InterceptorMap = { '*'?: Array<Interceptor<AnyRequest>> } & {
  [T in RequestType]?: Array<Interceptor<RequestMap[T]>>;
};

/** Handlers as a config object, like the seed's `centrifugo.php`. */
export interface HandlersConfig {
  services?: ServiceMap;
  interceptors?: InterceptorMap;
  /** Per-type answer timeout in ms (default {@link DEFAULT_TIMEOUT_MS}). */
  timeouts?: Partial<Record<RequestType, number>>;
}

/** How long a service may take to answer by default. */
export const DEFAULT_TIMEOUT_MS = 5000;

type AnyService = Service<AnyRequest>;
type AnyInterceptor = Interceptor<AnyRequest>;

export class Handlers {
  private readonly services = new Map<RequestType, AnyService>();
  private readonly interceptors = new Map<RequestType | '*', AnyInterceptor[]>();
  private readonly timeouts = new Map<RequestType, number>();

  /** Builds handlers from a config object. */
  static from(config: HandlersConfig = {}): Handlers {
    const h = new Handlers();
    for (const [type, service] of Object.entries(config.services ?? {})) {
      if (service !== undefined) h.service(asType(type), service as AnyService);
    }
    for (const [type, list] of Object.entries(config.interceptors ?? {})) {
      if (list === undefined) continue;
      if (type === '*') h.intercept('*', ...(list as AnyInterceptor[]));
      else h.intercept(asType(type), ...(list as AnyInterceptor[]));
    }
    for (const [type, ms] of Object.entries(config.timeouts ?? {})) if (ms !== undefined) h.timeout(asType(type), ms);
    return h;
  }

  /** Registers the service of a request type (replacing an earlier one). */
  service<T extends RequestType>(type: T, service: Service<RequestMap[T]>): this {
    this.services.set(type, service as AnyService);
    return this;
  }

  /** Appends interceptors for a request type, or for all (`'*'`). */
  intercept(type: '*', ...interceptors: Array<Interceptor<AnyRequest>>): this;
  intercept<T extends RequestType>(type: T, ...interceptors: Array<Interceptor<RequestMap[T]>>): this;
  intercept(type: RequestType | '*', ...interceptors: Array<Interceptor<never>>): this {
    const list = this.interceptors.get(type) ?? [];
    list.push(...(interceptors as AnyInterceptor[]));
    this.interceptors.set(type, list);
    return this;
  }

  /** Sets the answer timeout of a request type, in ms. */
  timeout(type: RequestType, ms: number): this {
    if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`timeout for ${type} must be a positive number of ms`);
    this.timeouts.set(type, ms);
    return this;
  }

  /** True when a service handles this request type. */
  has(type: RequestType): boolean {
    return this.services.has(type);
  }

  /**
   * Runs a request through the interceptors and its service and resolves with its answer. Never
   * rejects: failures become error 100.
   */
  async run<T extends RequestType>(request: RequestMap[T], log: Logger): Promise<Outcome<ResponseMap[T]>> {
    const type = request.type as T;
    const slot = request.slot as AnswerSlot<ResponseMap[T]>;
    const service = this.services.get(type);
    const chain = [...(this.interceptors.get('*') ?? []), ...(this.interceptors.get(type) ?? [])];
    const call = async (i: number, req: AnyRequest): Promise<void> => {
      if (i < chain.length) {
        const ic = chain[i]!;
        const next: Next<AnyRequest> = (r) => call(i + 1, r);
        await (typeof ic === 'function' ? ic(req, next) : ic.intercept(req, next));
      } else if (service !== undefined) {
        await (typeof service === 'function' ? service(req) : service.handle(req));
      }
    };
    const ms = this.timeouts.get(type) ?? DEFAULT_TIMEOUT_MS;
    const timer = setTimeout(() => {
      if (slot.settled) return;
      log.warn({ type, client: request.client, timeoutMs: ms }, 'handler did not answer in time: answering error 100');
      slot.set({ kind: 'error', error: Errors.internal });
    }, ms);
    call(0, request).catch((e: unknown) => {
      // A thrown ProtocolException / DisconnectException is an answer like error() / disconnect().
      if (!slot.settled && e instanceof ProtocolException) {
        log.info({ type, client: request.client, code: e.error.code }, 'handler threw a protocol error');
        slot.set({ kind: 'error', error: e.error });
      } else if (!slot.settled && e instanceof DisconnectException) {
        log.info({ type, client: request.client, code: e.disconnect.code }, 'handler threw a disconnect');
        slot.set({ kind: 'disconnect', disconnect: e.disconnect });
      } else {
        log.error({ type, client: request.client, err: e }, 'handler threw: answering error 100');
        if (!slot.settled) slot.set({ kind: 'error', error: Errors.internal });
      }
    });
    try {
      return await slot.answered;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Makes the answer slot of a new request, warning about second answers. */
export function newSlot<R>(log: Logger, type: RequestType, client: string): AnswerSlot<R> {
  return new AnswerSlot<R>((first, second) => {
    log.warn({ type, client, first: first.kind, second: second.kind }, 'request answered twice: second answer ignored');
  });
}

function asType(name: string): RequestType {
  const t = REQUEST_TYPES.find((x) => x === name);
  if (t === undefined) throw new TypeError(`unknown request type "${name}" (expected one of ${REQUEST_TYPES.join(', ')})`);
  return t;
}
