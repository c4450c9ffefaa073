/**
 * One NATS connection shared by the NATS broker and control bus: connects (waiting a bounded time at
 * start, then retrying in the background), reconnects forever, and tells its users when a lost
 * connection is back (core NATS is at most once: anything sent meanwhile is gone).
 */
import { connect, type NatsConnection, type Subscription } from 'nats';
import type { Logger } from 'pino';
import type { NatsConfig } from '../../config/types.js';

const START_WAIT_MS = 5_000;

export interface NatsListener {
  /** The connection is lost: what is published until it is back never arrives. */
  onDisconnected(): void;
  /** The connection is back (subscriptions are restored by the client library). */
  onReconnected(): void;
}

type Handler = (message: string) => void;

export class NatsConn {
  private nc: NatsConnection | undefined;
  private connected = false;
  private closed = false;
  private users = 0;
  private starting: Promise<void> | undefined;
  private readonly listeners: NatsListener[] = [];
  /** Wanted subscriptions: subject → handler (and the live subscription once connected). */
  private readonly subs = new Map<string, { handler: Handler; sub: Subscription | undefined }>();
  private flushWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private flushScheduled = false;

  constructor(
    readonly config: NatsConfig,
    private readonly log: Logger,
  ) {}

  acquire(): this {
    this.users++;
    return this;
  }

  listen(listener: NatsListener): void {
    this.listeners.push(listener);
  }

  get isConnected(): boolean {
    return this.connected && !this.closed;
  }

  /** Connects once; waits up to a few seconds, then keeps trying in the background. */
  start(): Promise<void> {
    this.starting ??= this.connectOnce();
    return this.starting;
  }

  private async connectOnce(): Promise<void> {
    const servers = this.config.url
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const pending = connect({
      servers,
      name: 'gyre',
      timeout: this.config.dial_timeout > 0 ? this.config.dial_timeout : 1000,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      waitOnFirstConnect: true,
    }).then(
      (nc) => this.onConnected(nc),
      (e: unknown) => {
        this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'NATS connection failed');
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, START_WAIT_MS);
      timer.unref();
    });
    await Promise.race([pending, timeout]);
    if (timer) clearTimeout(timer);
    if (!this.connected) this.log.error({ url: this.config.url }, 'NATS is not reachable yet; retrying in the background');
  }

  private onConnected(nc: NatsConnection): void {
    if (this.closed) {
      void nc.close();
      return;
    }
    this.nc = nc;
    this.connected = true;
    this.log.debug({ url: this.config.url }, 'NATS connected');
    for (const [subject, entry] of this.subs) entry.sub = this.natsSubscribe(nc, subject, entry.handler);
    if (this.subs.size > 0) this.scheduleFlush();
    void this.watch(nc);
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (this.closed) return;
      if (s.type === 'disconnect') {
        if (this.connected) this.log.error({ url: this.config.url }, 'NATS connection lost; reconnecting');
        this.connected = false;
        for (const l of this.listeners) l.onDisconnected();
      } else if (s.type === 'reconnect') {
        this.connected = true;
        this.log.info({ url: this.config.url }, 'NATS connection restored');
        for (const l of this.listeners) l.onReconnected();
      } else if (s.type === 'error') {
        this.log.warn({ err: String(s.data) }, 'NATS error');
      }
    }
  }

  private natsSubscribe(nc: NatsConnection, subject: string, handler: Handler): Subscription {
    return nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err !== null) {
          this.log.warn({ subject, err: err.message }, 'NATS subscription error');
          return;
        }
        handler(msg.string());
      },
    });
  }

  /**
   * Subscribes to a subject; resolves once the server has it (one flush per event-loop turn for
   * all subscriptions made in it). Rejects while disconnected (the subject stays wanted).
   */
  subscribe(subject: string, handler: Handler): Promise<void> {
    if (this.subs.has(subject)) return Promise.resolve();
    const entry = { handler, sub: undefined as Subscription | undefined };
    this.subs.set(subject, entry);
    const nc = this.nc;
    // While reconnecting the client library sends the subscription once the connection is back.
    if (nc !== undefined && !this.closed) entry.sub = this.natsSubscribe(nc, subject, handler);
    if (nc === undefined || !this.isConnected) return Promise.reject(new Error('NATS is not connected'));
    return new Promise((resolve, reject) => {
      this.flushWaiters.push({ resolve, reject });
      this.scheduleFlush();
    });
  }

  unsubscribe(subject: string): void {
    const entry = this.subs.get(subject);
    if (entry === undefined) return;
    this.subs.delete(subject);
    entry.sub?.unsubscribe();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const waiters = this.flushWaiters;
      this.flushWaiters = [];
      const nc = this.nc;
      if (nc === undefined) {
        for (const w of waiters) w.reject(new Error('NATS is not connected'));
        return;
      }
      withTimeout(nc.flush(), this.config.write_timeout > 0 ? this.config.write_timeout : 1000).then(
        () => {
          for (const w of waiters) w.resolve();
        },
        (e: unknown) => {
          for (const w of waiters) w.reject(e);
        },
      );
    });
  }

  /** Publishes; throws while disconnected (the caller answers error 100) rather than buffering. */
  publish(subject: string, message: string): void {
    const nc = this.nc;
    if (nc === undefined || !this.isConnected) throw new Error('NATS is not connected');
    nc.publish(subject, Buffer.from(message, 'utf8'));
  }

  async release(): Promise<void> {
    this.users--;
    if (this.users > 0) return;
    this.closed = true;
    this.subs.clear();
    const nc = this.nc;
    this.nc = undefined;
    if (nc !== undefined) await nc.close().catch(() => {});
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('NATS flush timed out')), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
