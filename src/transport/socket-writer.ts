/**
 * The bounded, coalescing outgoing queue of one WebSocket connection.
 *
 * Frames queued within one event-loop turn leave in one socket write; with a write delay
 * (`client.write_delay`), frames queued within the delay do, written by a timer shared by every
 * connection (see flush-scheduler.ts), and, with `joinMessages`, several messages share one
 * WebSocket frame (`client.max_messages_in_frame`). While the socket is backed
 * up (the peer reads slower than we write), frames wait here rather than in the socket, so that
 * the socket never holds more than about one chunk of them: what waits here can be dropped when
 * the connection is closed for being slow, and the close frame then reaches the peer right after
 * what the socket already holds.
 *
 * Bounds: the bytes waiting here plus the bytes the socket and `ws` still hold (including messages
 * waiting for permessage-deflate) never pass `maxQueued` (`onOverflow`: 3008 "slow"), and a backed-up
 * socket must make progress within `writeTimeout` (`onStall`: 3009 "write error").
 */
import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { scheduleFlushAfter, type Flushable } from './flush-scheduler.js';
import { batchBytes, framesBytes, joinedPayloads, type OutFrame } from '../protocol/frame.js';

interface WebSocketInternals {
  _socket: Socket | null;
}

/** Bytes written per step once a backed-up socket drains: a slow peer gets them a chunk at a time. */
const RESUME_CHUNK = 64 * 1024;

export interface SocketWriterOptions {
  /** Bytes allowed in flight (queued here and held by the socket) before `onOverflow`. */
  maxQueued: number;
  /** Ms a backed-up socket may go without draining before `onStall`; 0 = no limit. */
  writeTimeout: number;
  /** Called once when the queue overflows; the writer has stopped. */
  onOverflow: () => void;
  /** Called once when a backed-up socket made no progress within `writeTimeout`; the writer has stopped. */
  onStall: () => void;
  /** Ms queued frames may wait to be written together (`client.write_delay`); 0 (default) = to the end of the turn. */
  writeDelay?: number;
  /**
   * Most messages joined into one WebSocket frame (newline-separated JSON, or varint-delimited
   * protobuf messages back to back; `Infinity` = no limit); 0 (default) or 1 = a frame per message.
   */
  joinMessages?: number;
}

export class SocketWriter implements Flushable {
  private readonly queue: OutFrame[] = [];
  private queuedBytes = 0;
  /** A flush is scheduled for the end of this turn. */
  private scheduled = false;
  /** The socket is backed up: frames wait here until it drains. */
  private waiting = false;
  private stopped = false;
  /** Compressed sends whose bytes have not reached the kernel yet. */
  private unconfirmed = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly socket: Socket | null;
  /** Pre-built frames go straight to the TCP socket (no permessage-deflate negotiated). */
  private readonly direct: boolean;
  private readonly writeDelay: number;
  private readonly join: number;
  private readonly onDrain = (): void => this.resume();
  private readonly onSent = (): void => {
    this.unconfirmed--;
    if (this.waiting && !this.backedUp()) this.resume();
  };

  constructor(
    private readonly ws: WebSocket,
    private readonly options: SocketWriterOptions,
  ) {
    this.socket = (ws as unknown as WebSocketInternals)._socket;
    this.direct = this.socket !== null && !ws.extensions.includes('permessage-deflate');
    this.writeDelay = options.writeDelay ?? 0;
    this.join = options.joinMessages ?? 0;
  }

  /** Queues a frame; returns false when the writer is stopped or has just overflowed. */
  enqueue(frame: OutFrame): boolean {
    if (this.stopped) return false;
    this.queuedBytes += frame.size;
    if (this.queuedBytes + this.inFlight() > this.options.maxQueued) {
      this.stop();
      this.options.onOverflow();
      return false;
    }
    this.queue.push(frame);
    if (!this.scheduled && !this.waiting) {
      this.scheduled = true;
      scheduleFlushAfter(this, this.writeDelay);
    }
    return true;
  }

  /** Writes what is queued, in one socket write where possible, unless the socket is backed up. */
  flush(): void {
    this.scheduled = false;
    if (this.stopped || this.waiting || this.queue.length === 0) return;
    if (!this.open()) return this.discard();
    if (this.backedUp()) return this.startWaiting();
    this.write(this.queue.length);
  }

  /** Writes everything queued whatever the socket's state (before a normal close), then stops. */
  flushAll(): void {
    if (!this.stopped && this.queue.length > 0 && this.open()) this.write(this.queue.length);
    this.stop();
  }

  /** Stops queueing and drops what waits here; bytes already written still leave. */
  stop(): void {
    this.stopped = true;
    this.discard();
    this.endWait();
  }

  /** Bytes that left this queue but not the process yet. */
  private inFlight(): number {
    return this.direct ? this.socket!.writableLength : this.ws.bufferedAmount;
  }

  private open(): boolean {
    return this.ws.readyState === 1;
  }

  /** True when the socket holds enough not yet taken by the kernel that more should wait here. */
  private backedUp(): boolean {
    if (this.direct) return this.socket!.writableNeedDrain;
    return this.unconfirmed > 0 && this.ws.bufferedAmount >= (this.socket?.writableHighWaterMark ?? RESUME_CHUNK);
  }

  /** Writes the first `count` queued frames and removes them from the queue. */
  private write(count: number): void {
    const queue = this.queue;
    if (this.direct) {
      if (count === 1) this.socket!.write(queue[0]!.framed);
      else if (count === queue.length) this.socket!.write(batchBytes(queue, this.join));
      else this.socket!.write(framesBytes(queue, count, this.join));
    } else if (this.join > 1 && count > 1) {
      // permessage-deflate: `ws` frames (and compresses) each joined message itself.
      const messages: Array<{ payload: Buffer; binary: boolean }> = [];
      joinedPayloads(queue, count, this.join, (payload, binary) => messages.push({ payload, binary }));
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        this.ws.send(m.payload, { binary: m.binary }, i === messages.length - 1 ? this.onSent : undefined);
      }
      this.unconfirmed++;
    } else {
      for (let i = 0; i < count; i++) {
        const last = i === count - 1;
        this.ws.send(queue[i]!.payload, { binary: queue[i]!.binary }, last ? this.onSent : undefined);
      }
      this.unconfirmed++;
    }
    if (count === queue.length) {
      // The array is reused: no allocation per connection per flush.
      queue.length = 0;
      this.queuedBytes = 0;
    } else {
      for (let i = 0; i < count; i++) this.queuedBytes -= queue[i]!.size;
      queue.splice(0, count);
    }
  }

  private startWaiting(): void {
    this.waiting = true;
    if (this.direct) this.socket!.once('drain', this.onDrain);
    if (this.options.writeTimeout > 0) {
      this.stallTimer = setTimeout(() => {
        this.stop();
        this.options.onStall();
      }, this.options.writeTimeout);
      this.stallTimer.unref();
    }
  }

  private endWait(): void {
    if (!this.waiting) return;
    this.waiting = false;
    if (this.direct) this.socket!.off('drain', this.onDrain);
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  /** The socket drained: write what waits, a chunk at a time while the socket keeps taking it. */
  private resume(): void {
    this.endWait();
    if (this.stopped) return;
    if (!this.open()) return this.discard();
    while (this.queue.length > 0) {
      if (this.backedUp()) return this.startWaiting();
      let count = 0;
      let bytes = 0;
      while (count < this.queue.length && (count === 0 || bytes + this.queue[count]!.size <= RESUME_CHUNK)) {
        bytes += this.queue[count]!.size;
        count++;
      }
      this.write(count);
    }
  }

  private discard(): void {
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}
