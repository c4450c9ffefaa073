/**
 * A fake {@link Transport} for unit tests of `Client` without sockets: it records every frame the
 * client sends (each frame's UTF-8 payload split on `\n` into JSON objects) and the disconnect it is
 * closed with, and offers bounded, event-driven waits on both (see ./wait.ts and ./inbox.ts).
 *
 * Like a real transport, once closed it takes no more frames: `send` returns false and the frame
 * goes to {@link FakeTransport.sentAfterClose} (a client should send nothing after closing).
 */
import type { Transport } from '../../src/node/transport.js';
import type { Disconnect } from '../../src/protocol/codes.js';
import type { OutFrame } from '../../src/protocol/frame.js';
import { SocketInbox, type CloseInfo } from './inbox.js';
import { deadline, waitOptions, type WaitArg } from './wait.js';

/** One JSON object the client sent. */
export type Message = Record<string, unknown>;

export interface FakeTransportOptions {
  /** Transport name reported to handlers (default `websocket`). */
  name?: string;
  /** The client answers pings with pongs (default true, as a WebSocket client does). */
  pongs?: boolean;
  /** Headers of the "request" that opened the connection. */
  headers?: Record<string, string | string[] | undefined>;
}

export class FakeTransport implements Transport {
  readonly name: string;
  readonly protocol = 'json' as const;
  readonly unidirectional = false;
  readonly emulation = false;
  readonly pongs: boolean;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Every frame accepted by {@link send}, in order. */
  readonly frames: OutFrame[] = [];
  /** Every JSON object of every accepted frame, in order (waits do not take them off this list). */
  readonly received: Message[] = [];
  /** Frames passed to {@link send} after the transport was closed (refused with false). */
  readonly sentAfterClose: OutFrame[] = [];
  /** Every disconnect passed to {@link close}, in order (a client closes its transport once). */
  readonly closeCalls: Disconnect[] = [];
  /** `Date.now()` at the first close, or undefined while open. */
  closedAt: number | undefined;
  private readonly inbox = new SocketInbox<Message>('FakeTransport');
  private readonly closeWaiters = new Set<(info: CloseInfo) => void>();

  constructor(opts: FakeTransportOptions = {}) {
    this.name = opts.name ?? 'websocket';
    this.pongs = opts.pongs ?? true;
    this.headers = opts.headers ?? {};
  }

  send(frame: OutFrame): boolean {
    if (this.closed !== undefined) {
      this.sentAfterClose.push(frame);
      return false;
    }
    this.frames.push(frame);
    const messages: Message[] = [];
    for (const line of frame.payload.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      messages.push(JSON.parse(line) as Message);
    }
    this.received.push(...messages);
    this.inbox.push(...messages);
    return true;
  }

  close(disconnect: Disconnect): void {
    this.closeCalls.push(disconnect);
    if (this.closeCalls.length !== 1) return;
    this.closedAt = Date.now();
    this.inbox.closed(disconnect.code, disconnect.reason);
    for (const wake of [...this.closeWaiters]) wake({ code: disconnect.code, reason: disconnect.reason });
  }

  /** The disconnect of the first close, or undefined while open. */
  get closed(): Disconnect | undefined {
    return this.closeCalls[0];
  }

  /** Payloads of the accepted frames, as text. */
  get texts(): string[] {
    return this.frames.map((f) => f.payload.toString('utf8'));
  }

  /** Messages received and not yet taken by a wait. */
  get unread(): Message[] {
    return this.inbox.messages;
  }

  /**
   * Waits for a message matching `pred` (already received or future) and takes it off the unread
   * queue; rejects when the transport is closed first, or after `timeoutMs` / the default bound, with
   * a message naming what did not arrive and what did.
   */
  nextReply(pred: (m: Message) => boolean = () => true, timeoutMs?: number | WaitArg): Promise<Message> {
    const opts: WaitArg = typeof timeoutMs === 'number' ? { timeoutMs } : timeoutMs;
    return this.inbox.next(pred, opts);
  }

  /** Waits for the reply with this id. */
  reply(id: number, opts?: WaitArg): Promise<Message> {
    return this.inbox.next((m) => m['id'] === id, withWhat(opts, `reply with id ${id}`));
  }

  /** Waits for a push of `kind` (`pub`, `subscribe`, `unsubscribe`, `join`, ...) on `channel`. */
  push(channel: string, kind: string, opts?: WaitArg): Promise<Message> {
    return this.inbox.next((m) => {
      const p = m['push'] as Message | undefined;
      return p !== undefined && p['channel'] === channel && p[kind] !== undefined;
    }, withWhat(opts, `"${kind}" push on channel "${channel}"`));
  }

  /**
   * Resolves with the close code and reason once the transport is closed; rejects after the timeout.
   * The timer keeps the process alive: nothing else may (the node's ticker does not), and a close
   * driven by the ticker (expiry, stale, no pong) needs the loop to keep running.
   */
  waitClosed(opts?: WaitArg): Promise<CloseInfo> {
    const { timeoutMs, what } = waitOptions(opts, 'transport closed');
    const unread = (): string => JSON.stringify(this.inbox.messages.slice(-5)).slice(0, 300);
    return deadline<CloseInfo>(
      timeoutMs,
      () => `FakeTransport.waitClosed: ${what}: not closed within ${timeoutMs} ms (${this.received.length} received, unread: ${unread()})`,
      (resolve) => {
        const c = this.closed;
        if (c !== undefined) return resolve({ code: c.code, reason: c.reason });
        this.closeWaiters.add(resolve);
        return () => this.closeWaiters.delete(resolve);
      },
    );
  }

  /** Pushes received so far (taken by waits or not) on `channel`, optionally of one kind. */
  pushes(channel: string, kind?: string): Message[] {
    return this.received.filter((m) => {
      const p = m['push'] as Message | undefined;
      return p !== undefined && p['channel'] === channel && (kind === undefined || p[kind] !== undefined);
    });
  }
}

/** `opts` with a default label. */
function withWhat(opts: WaitArg, what: string): WaitArg {
  if (opts === undefined) return what;
  if (typeof opts === 'string') return opts;
  return { what, ...opts };
}
