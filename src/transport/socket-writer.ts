/**
 * The bounded, coalescing outgoing queue of one WebSocket connection. Frames queued within one
 * event-loop turn leave in one socket write; a connection whose queued bytes (ours plus the
 * socket's own buffer) pass the limit is reported as slow and never buffers further.
 */
import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { scheduleFlush, type Flushable } from './flush-scheduler.js';
import { batchBytes, type OutFrame } from './frame.js';

interface WebSocketInternals {
  _socket: Socket | null;
}

export class SocketWriter implements Flushable {
  private readonly queue: OutFrame[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  private stopped = false;
  private readonly socket: Socket | null;

  /**
   * @param ws the connection
   * @param maxQueued bytes allowed in flight before `onOverflow`
   * @param direct write pre-built frames straight to the TCP socket (no per-message deflate)
   */
  constructor(
    private readonly ws: WebSocket,
    private readonly maxQueued: number,
    private readonly direct: boolean,
    private readonly onOverflow: () => void,
  ) {
    this.socket = (ws as unknown as WebSocketInternals)._socket;
  }

  /** Queues a frame; returns false when the connection is stopped or overflowed. */
  enqueue(frame: OutFrame): boolean {
    if (this.stopped) return false;
    this.queuedBytes += frame.size;
    if (this.queuedBytes + (this.socket?.writableLength ?? 0) > this.maxQueued) {
      this.stop();
      this.onOverflow();
      return false;
    }
    this.queue.push(frame);
    if (!this.scheduled) {
      this.scheduled = true;
      scheduleFlush(this);
    }
    return true;
  }

  /** Writes everything queued, in one socket write where possible. */
  flush(): void {
    this.scheduled = false;
    const queue = this.queue;
    if (queue.length === 0) return;
    this.queuedBytes = 0;
    if (!this.stopped && this.ws.readyState === 1) {
      if (this.direct && this.socket !== null) {
        this.socket.write(queue.length === 1 ? queue[0]!.framed : batchBytes(queue));
      } else {
        for (const f of queue) this.ws.send(f.payload, { binary: false });
      }
    }
    // The array is reused: no allocation per connection per flush.
    queue.length = 0;
  }

  /** Stops queueing; already written bytes still leave. */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}
