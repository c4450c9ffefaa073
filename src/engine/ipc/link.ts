/**
 * A worker's end of the engine the primary hosts: requests with answers (bounded in number, each
 * with a timeout), and the channel events and control messages the primary pushes, handed to the
 * worker's broker and control bus adapters.
 */
import { ProtocolException, type ProtocolError } from '../../protocol/codes.js';
import type { EngineRequest, PrimaryMessage, ResponseError, WorkerMessage } from './messages.js';
import { DEFAULT_OUTBOX_LIMITS, Outbox, type IpcEndpoint } from './outbox.js';

export interface LinkOptions {
  /** How long a request may wait for its answer, ms (default 10 s). */
  requestTimeout?: number;
  /** Requests waiting for answers at once; more are refused at once (default 65,536). */
  maxPending?: number;
}

/** What the worker's adapters take from the primary. */
export interface LinkListener {
  onEvent(channel: string, message: string): void;
  onStateLost(channels: readonly string[]): void;
  onControl(message: string): void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** Thrown when the engine in the primary cannot be asked (queue full, timeout, channel closed). */
export class EngineUnavailableError extends Error {
  constructor(message: string) {
    super(`engine (primary process): ${message}`);
    this.name = 'EngineUnavailableError';
  }
}

export class EngineLink {
  private readonly outbox: Outbox<WorkerMessage>;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private closed = false;
  private readonly requestTimeout: number;
  private readonly maxPending: number;
  /** Set by the broker adapter and the control bus adapter. */
  broker: Pick<LinkListener, 'onEvent' | 'onStateLost'> | undefined;
  control: Pick<LinkListener, 'onControl'> | undefined;

  constructor(endpoint: IpcEndpoint, opts: LinkOptions = {}) {
    this.outbox = new Outbox<WorkerMessage>(endpoint, DEFAULT_OUTBOX_LIMITS);
    this.requestTimeout = opts.requestTimeout ?? 10_000;
    this.maxPending = opts.maxPending ?? 65_536;
  }

  /** Asks the primary's engine; rejects with the engine's error, or {@link EngineUnavailableError}. */
  request<T>(rq: EngineRequest, size: number): Promise<T> {
    if (this.closed) return Promise.reject(new EngineUnavailableError('closed'));
    if (this.pending.size >= this.maxPending) return Promise.reject(new EngineUnavailableError('too many requests waiting'));
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      if (!this.outbox.offer({ k: 'rq', id, rq }, size + 64)) {
        reject(new EngineUnavailableError('outgoing queue full'));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new EngineUnavailableError(`no answer to ${rq.op} within ${this.requestTimeout} ms`));
      }, this.requestTimeout);
      timer.unref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
    });
  }

  /** Sends a control message to every other worker, or to the worker running node `to`. */
  sendControl(message: string, to?: string): void {
    if (this.closed) return;
    if (!this.outbox.offer(to === undefined ? { k: 'ctl', m: message } : { k: 'ctl', m: message, to }, message.length + 32)) {
      throw new EngineUnavailableError('outgoing queue full');
    }
  }

  /** Takes one message of an envelope from the primary. */
  receive(msg: PrimaryMessage): void {
    switch (msg.k) {
      case 'rs': {
        const p = this.pending.get(msg.id);
        if (p === undefined) return;
        this.pending.delete(msg.id);
        clearTimeout(p.timer);
        if (msg.e !== undefined) p.reject(errorOf(msg.e));
        else p.resolve(msg.r);
        return;
      }
      case 'ev':
        this.broker?.onEvent(msg.ch, msg.m);
        return;
      case 'lost':
        this.broker?.onStateLost(msg.chs);
        return;
      case 'ctl':
        this.control?.onControl(msg.m);
        return;
    }
  }

  /** Fails every waiting request and refuses new ones. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.outbox.close();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new EngineUnavailableError('closed'));
    }
    this.pending.clear();
  }
}

function errorOf(e: ResponseError): Error {
  if (e.c !== undefined) {
    const error: ProtocolError = e.t === true ? { code: e.c, message: e.m, temporary: true } : { code: e.c, message: e.m };
    return new ProtocolException(error);
  }
  return new Error(e.m);
}
