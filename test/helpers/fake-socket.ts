/**
 * A fake `ws` WebSocket and the TCP socket under it, exposing exactly what SocketWriter
 * (src/transport/socket-writer.ts) touches, so that tests can make the socket back up and drain at
 * will:
 *
 * - the WebSocket: `_socket`, `extensions`, `readyState`, `bufferedAmount`, `send(data, opts, cb)`;
 * - the socket: `write(buf)`, `writableLength`, `writableNeedDrain`, `writableHighWaterMark`,
 *   `once('drain')` / `off('drain')` (an EventEmitter).
 *
 * Nothing here uses timers: a test drives the socket (`backUp()`, `drain()`, `confirm()`) and waits
 * for what it expects with the bounded waits of ./wait.ts.
 */
import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';

/** The TCP socket under the fake WebSocket: records writes, backs up and drains on demand. */
export class FakeTcpSocket extends EventEmitter {
  /** Every buffer passed to write(), in order. */
  readonly writes: Buffer[] = [];
  /** Bytes written and not yet "taken by the kernel" (see {@link drain}). */
  writableLength = 0;
  /** True while the socket is backed up: SocketWriter holds frames back until 'drain'. */
  writableNeedDrain = false;
  writableHighWaterMark = 16 * 1024;
  /** When set, every write() backs the socket up (as a socket whose peer reads nothing does). */
  backUpOnWrite = false;

  write(chunk: Buffer): boolean {
    this.writes.push(chunk);
    this.writableLength += chunk.length;
    if (this.backUpOnWrite) this.writableNeedDrain = true;
    this.emit('write', chunk);
    return !this.writableNeedDrain;
  }

  /** Marks the socket as backed up. */
  backUp(): void {
    this.writableNeedDrain = true;
  }

  /** The kernel took everything: the socket is empty and, if it was backed up, emits 'drain'. */
  drain(): void {
    this.writableLength = 0;
    const wasBackedUp = this.writableNeedDrain;
    this.writableNeedDrain = false;
    if (wasBackedUp) this.emit('drain');
  }

  /** Number of 'drain' listeners (SocketWriter adds one while it waits). */
  get drainListeners(): number {
    return this.listenerCount('drain');
  }

  /** Everything written so far, as one buffer. */
  get written(): Buffer {
    return Buffer.concat(this.writes);
  }
}

/** One `ws.send` call on the fake WebSocket (the permessage-deflate path). */
export interface FakeSend {
  data: Buffer;
  options: { binary?: boolean } | undefined;
  cb: ((err?: Error) => void) | undefined;
}

export interface FakeWebSocketOptions {
  /** `ws.extensions`: `'permessage-deflate'` makes SocketWriter go through `ws.send`. */
  extensions?: string;
  /** No TCP socket under the WebSocket (`_socket` null). */
  noSocket?: boolean;
}

/** A `ws`-like WebSocket over a {@link FakeTcpSocket}. */
export class FakeWebSocket extends EventEmitter {
  readonly _socket: FakeTcpSocket | null;
  extensions: string;
  /** 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED. */
  readyState = 1;
  /** Bytes `ws` still holds (queued for compression or not yet written). */
  bufferedAmount = 0;
  /** Every `send` call, in order. */
  readonly sends: FakeSend[] = [];

  constructor(options: FakeWebSocketOptions = {}) {
    super();
    this._socket = options.noSocket === true ? null : new FakeTcpSocket();
    this.extensions = options.extensions ?? '';
  }

  /** The TCP socket (throws when there is none). */
  get socket(): FakeTcpSocket {
    if (this._socket === null) throw new Error('FakeWebSocket: no TCP socket');
    return this._socket;
  }

  send(data: Buffer, options?: { binary?: boolean }, cb?: (err?: Error) => void): void {
    this.sends.push({ data, options, cb });
    this.emit('sent', data);
  }

  /**
   * Calls the send callbacks pending now, oldest first (their data reached the kernel); sends made
   * by those callbacks stay unconfirmed. Returns how many ran.
   */
  confirm(): number {
    const pending = this.sends.filter((s) => s.cb !== undefined);
    for (const s of pending) {
      const cb = s.cb!;
      s.cb = undefined;
      cb();
    }
    return pending.length;
  }

  /** Payloads of every send so far, as text. */
  get sentTexts(): string[] {
    return this.sends.map((s) => s.data.toString('utf8'));
  }

  /** This fake typed as the `ws` WebSocket SocketWriter takes. */
  asWebSocket(): WebSocket {
    return this as unknown as WebSocket;
  }
}
