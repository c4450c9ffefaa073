/**
 * What every outgoing queue of a connection does, whatever carries its bytes (a WebSocket's TCP
 * socket, a streamed HTTP response): frames queued within one event-loop turn (with
 * `client.write_delay`: within the delay, by a timer shared by every connection, see
 * flush-scheduler.ts) leave in one write; while the carrier is backed up (the peer reads slower than
 * we write), frames wait here rather than in the carrier, so that it never holds more than about
 * one chunk of them: what waits here can be dropped when the connection is closed for being slow.
 *
 * Bounds: the bytes waiting here plus those the carrier still holds never pass `maxQueued` (the
 * owner hears `writerOverflowed`: 3008 "slow"), and a backed-up carrier must make progress within
 * `writeTimeout` (`writerStalled`: 3009 "write error"). Subclasses say how bytes are written and
 * when the carrier is open, backed up, or drained.
 */
import type { EventEmitter } from 'node:events';
import type { OutFrame } from '../protocol/frame.js';
import { scheduleFlush, scheduleFlushAfter, type Flushable } from './flush-scheduler.js';

/**
 * How a writer behaves: one object shared by every connection of a transport (no per-connection
 * copy: an idle connection's heap is what S3 measures).
 */
export interface SocketWriterSettings {
  /** Bytes allowed in flight (queued here and held by the carrier) before the owner hears `writerOverflowed`. */
  readonly maxQueued: number;
  /** Ms a backed-up carrier may go without draining before the owner hears `writerStalled`; 0 = no limit. */
  readonly writeTimeout: number;
  /** Ms queued frames may wait to be written together (`client.write_delay`); 0 (default) = to the end of the turn. */
  readonly writeDelay?: number;
  /**
   * Most messages joined into one WebSocket frame (newline-separated JSON, or varint-delimited
   * protobuf messages back to back; `Infinity` = no limit); 0 (default) or 1 = a frame per message.
   */
  readonly joinMessages?: number;
  /**
   * `client.reply_without_queue`: with a write delay, a queued reply (a frame of a command type)
   * has the queue written at the end of the turn instead of after the delay.
   */
  readonly replyWithoutQueue?: boolean;
}

/** Who a writer reports its failures to (the connection's transport); the writer has stopped by then. */
export interface SocketWriterOwner {
  /** The queue overflowed (`maxQueued`): called once. */
  writerOverflowed(): void;
  /** A backed-up carrier made no progress within `writeTimeout`: called once. */
  writerStalled(): void;
}

/** Bytes written per step once a backed-up carrier drains: a slow peer gets them a chunk at a time. */
const RESUME_CHUNK = 64 * 1024;

export abstract class QueuedWriter implements Flushable {
  protected readonly queue: OutFrame[] = [];
  protected queuedBytes = 0;
  /** A flush is scheduled (end of this turn, or the write delay's timer). */
  private scheduled = false;
  /**
   * `replyWithoutQueue` with a write delay: what the end-of-turn group flushes when a reply is
   * queued (made at the first reply), apart from the delayed flush, which stays scheduled.
   */
  private replyFlush: Flushable | undefined;
  /** The reply flush is scheduled for the end of this turn. */
  private replyScheduled = false;
  /** The carrier is backed up: frames wait here until it drains. */
  protected waiting = false;
  private stopped = false;
  private stallTimer: NodeJS.Timeout | undefined;
  /** Made the first time the carrier backs up (most connections never do). */
  private onDrain: (() => void) | undefined;
  private readonly writeDelay: number;
  /** Replies skip the write delay. */
  private readonly repliesNow: boolean;

  constructor(
    protected readonly settings: SocketWriterSettings,
    private readonly owner: SocketWriterOwner,
  ) {
    this.writeDelay = settings.writeDelay ?? 0;
    this.repliesNow = this.writeDelay > 0 && settings.replyWithoutQueue === true;
  }

  /** Bytes that left this queue but not the process yet. */
  protected abstract inFlight(): number;
  /** The carrier still takes bytes. */
  protected abstract open(): boolean;
  /** The carrier holds enough not yet taken by the kernel that more should wait here. */
  protected abstract backedUp(): boolean;
  /** What emits 'drain' when the carrier has room again; null when the subclass resumes itself. */
  protected abstract drainSource(): EventEmitter | null;
  /** Writes the first `count` queued frames; the base removes them from the queue. */
  protected abstract writeFrames(count: number): void;

  /** Queues a frame; returns false when the writer is stopped or has just overflowed. */
  enqueue(frame: OutFrame): boolean {
    if (this.stopped) return false;
    this.queuedBytes += frame.size;
    if (this.queuedBytes + this.inFlight() > this.settings.maxQueued) {
      this.stop();
      this.owner.writerOverflowed();
      return false;
    }
    this.queue.push(frame);
    if (this.waiting) return true;
    if (!this.scheduled) {
      this.scheduled = true;
      scheduleFlushAfter(this, this.writeDelay);
    }
    if (this.repliesNow && !this.replyScheduled && frame.reply) {
      // The delayed flush stays scheduled: it finds the queue empty, or what came after the reply.
      this.replyScheduled = true;
      scheduleFlush(
        (this.replyFlush ??= {
          flush: () => {
            this.replyScheduled = false;
            this.writeQueued();
          },
        }),
      );
    }
    return true;
  }

  /** Writes what is queued, in one write where possible, unless the carrier is backed up. */
  flush(): void {
    this.scheduled = false;
    this.writeQueued();
  }

  private writeQueued(): void {
    if (this.stopped || this.waiting || this.queue.length === 0) return;
    if (!this.open()) return this.discard();
    if (this.backedUp()) return this.startWaiting();
    this.write(this.queue.length);
  }

  /** Writes everything queued whatever the carrier's state (before a normal close), then stops. */
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

  /** The carrier drained: write what waits, a chunk at a time while it keeps taking it. */
  protected resume(): void {
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

  private write(count: number): void {
    this.writeFrames(count);
    const queue = this.queue;
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
    this.drainSource()?.once('drain', (this.onDrain ??= () => this.resume()));
    if (this.settings.writeTimeout > 0) {
      this.stallTimer = setTimeout(() => {
        this.stop();
        this.owner.writerStalled();
      }, this.settings.writeTimeout);
      this.stallTimer.unref();
    }
  }

  private endWait(): void {
    if (!this.waiting) return;
    this.waiting = false;
    if (this.onDrain !== undefined) this.drainSource()?.off('drain', this.onDrain);
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  private discard(): void {
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}
