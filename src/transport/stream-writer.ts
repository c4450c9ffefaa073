/**
 * The bounded coalescing writer of one streamed HTTP response: the pushes queued for a connection
 * within one event-loop turn (with `client.write_delay`: within the delay) leave in one
 * `res.write`. The bytes held for one connection (queued here, plus what the response and its
 * socket still hold) are bounded (`onOverflow`), and a
 * backed-up response must drain within a deadline (`onStall`); the stream transport maps these to
 * 3008 "slow" and 3009 "write error".
 */
import type { ServerResponse } from 'node:http';
import type { OutFrame } from '../protocol/frame.js';
import { scheduleFlushAfter, type Flushable } from './flush-scheduler.js';
import type { SocketWriterOptions } from './socket-writer.js';
import type { Framing } from './stream-framing.js';

/** Bytes written per step once a backed-up response drains: a slow peer gets them a chunk at a time. */
const RESUME_CHUNK = 64 * 1024;

/**
 * The WebSocket writer's bounds (here the response and its socket hold the bytes in flight) and
 * write delay, and the framing (which says how messages are separated: `joinMessages` is not used).
 */
export interface StreamWriterOptions extends SocketWriterOptions {
  framing: Framing;
}

/** The bounded, coalescing outgoing queue of one streamed response. */
export class StreamWriter implements Flushable {
  private readonly queue: OutFrame[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  /** The response is backed up: frames wait here until it drains. */
  private waiting = false;
  private stopped = false;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly onDrain = (): void => this.resume();

  constructor(
    private readonly res: ServerResponse,
    private readonly options: StreamWriterOptions,
  ) {}

  /** Queues a frame; returns false when the writer is stopped or has just overflowed. */
  enqueue(frame: OutFrame): boolean {
    if (this.stopped) return false;
    this.queuedBytes += frame.size;
    if (this.queuedBytes + this.res.writableLength > this.options.maxQueued) {
      this.stop();
      this.options.onOverflow();
      return false;
    }
    this.queue.push(frame);
    if (!this.scheduled && !this.waiting) {
      this.scheduled = true;
      scheduleFlushAfter(this, this.options.writeDelay ?? 0);
    }
    return true;
  }

  /** Writes what is queued in one write, unless the response is backed up. */
  flush(): void {
    this.scheduled = false;
    if (this.stopped || this.waiting || this.queue.length === 0) return;
    if (!this.open()) return this.discard();
    if (this.res.writableNeedDrain) return this.startWaiting();
    this.write(this.queue.length);
  }

  /** Writes everything queued whatever the response's state (before a normal close), then stops. */
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

  private open(): boolean {
    return !this.res.destroyed && !this.res.writableEnded;
  }

  private write(count: number): void {
    const queue = this.queue;
    if (count === queue.length) {
      this.res.write(this.options.framing.many(queue));
      queue.length = 0;
      this.queuedBytes = 0;
    } else {
      const part = queue.splice(0, count);
      for (const f of part) this.queuedBytes -= f.size;
      this.res.write(this.options.framing.many(part));
    }
  }

  private startWaiting(): void {
    this.waiting = true;
    this.res.once('drain', this.onDrain);
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
    this.res.off('drain', this.onDrain);
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  /** The response drained: write what waits, a chunk at a time while it keeps taking it. */
  private resume(): void {
    this.endWait();
    if (this.stopped) return;
    if (!this.open()) return this.discard();
    while (this.queue.length > 0) {
      if (this.res.writableNeedDrain) return this.startWaiting();
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
