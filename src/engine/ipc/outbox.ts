/**
 * Batching and flow control of one direction of an IPC channel. Messages queued during an
 * event-loop turn leave as one envelope (`setImmediate`); at most `maxInFlight` envelopes are
 * handed to the channel before Node has written them, so a peer that stops reading backs messages
 * up here, where `maxBytes` bounds them, instead of in libuv's unbounded write queue.
 */
import { ENGINE_TAG, type EngineEnvelope } from './messages.js';

/** One end of an IPC channel (a cluster worker's `process`, or the primary's `Worker`). */
export interface IpcEndpoint {
  /**
   * Hands an envelope to the channel; `written` runs once Node wrote it (or failed to).
   * Returns false when the channel is closed.
   */
  send(envelope: EngineEnvelope<unknown>, written: (error: Error | null) => void): boolean;
}

export interface OutboxLimits {
  /** Bytes (as estimated by the callers) queued before {@link Outbox.offer} refuses. */
  maxBytes: number;
  /** Envelopes handed to the channel and not yet written. */
  maxInFlight: number;
  /** Messages per envelope. */
  maxBatch: number;
}

export const DEFAULT_OUTBOX_LIMITS: OutboxLimits = { maxBytes: 64 * 1024 * 1024, maxInFlight: 4, maxBatch: 4096 };

export class Outbox<M> {
  private queue: M[] = [];
  private sizes: number[] = [];
  private head = 0;
  private bytes = 0;
  private inFlight = 0;
  private scheduled = false;
  private closed = false;

  /**
   * @param onWritten runs after each written envelope (the owner may queue what it held back).
   */
  constructor(
    private readonly endpoint: IpcEndpoint,
    private readonly limits: OutboxLimits = DEFAULT_OUTBOX_LIMITS,
    private readonly onWritten?: () => void,
  ) {}

  /** Estimated bytes queued and not yet handed to the channel. */
  get queuedBytes(): number {
    return this.bytes;
  }

  /** True while less than half of `maxBytes` is queued. */
  get roomy(): boolean {
    return this.bytes < this.limits.maxBytes / 2;
  }

  /** Queues a message of about `size` bytes; false (not queued) when the queue is full or closed. */
  offer(message: M, size: number): boolean {
    if (this.closed || this.bytes + size > this.limits.maxBytes) return false;
    this.force(message, size);
    return true;
  }

  /** Queues a message whatever the limit (for answers, which the peer bounds by its own requests). */
  force(message: M, size: number): void {
    if (this.closed) return;
    this.queue.push(message);
    this.sizes.push(size);
    this.bytes += size;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Drops everything queued; later messages are refused. */
  close(): void {
    this.closed = true;
    this.queue = [];
    this.sizes = [];
    this.head = 0;
    this.bytes = 0;
  }

  private flush(): void {
    this.scheduled = false;
    while (!this.closed && this.head < this.queue.length && this.inFlight < this.limits.maxInFlight) {
      const end = Math.min(this.queue.length, this.head + this.limits.maxBatch);
      const batch = this.queue.slice(this.head, end);
      for (let i = this.head; i < end; i++) this.bytes -= this.sizes[i]!;
      this.head = end;
      this.inFlight++;
      const sent = this.endpoint.send({ gyre: ENGINE_TAG, b: batch }, () => {
        this.inFlight--;
        if (this.head < this.queue.length && !this.scheduled) {
          this.scheduled = true;
          setImmediate(() => this.flush());
        }
        this.onWritten?.();
      });
      if (!sent) {
        this.inFlight--;
        this.close();
        return;
      }
    }
    if (this.head === this.queue.length) {
      this.queue = [];
      this.sizes = [];
      this.head = 0;
    } else if (this.head > 4096) {
      this.queue = this.queue.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }
}
