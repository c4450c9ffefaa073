/**
 * The outgoing queue of one streamed HTTP response ({@link QueuedWriter} over `res`): the pushes
 * queued within one turn (or the write delay) leave in one `res.write`, framed for the stream (SSE
 * events, or newline / length-delimited messages); the response and its socket hold the bytes in flight.
 */
import type { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { QueuedWriter, type SocketWriterOwner, type SocketWriterSettings } from './queued-writer.js';
import type { Framing } from './stream-framing.js';

/**
 * The WebSocket writer's bounds (here the response and its socket hold the bytes in flight) and
 * write delay, and the framing (which says how messages are separated: `joinMessages` is not used).
 */
export interface StreamWriterSettings extends SocketWriterSettings {
  readonly framing: Framing;
}

/** The bounded, coalescing outgoing queue of one streamed response. */
export class StreamWriter extends QueuedWriter {
  constructor(
    private readonly res: ServerResponse,
    private readonly options: StreamWriterSettings,
    owner: SocketWriterOwner,
  ) {
    super(options, owner);
  }

  protected inFlight(): number {
    return this.res.writableLength;
  }

  protected open(): boolean {
    return !this.res.destroyed && !this.res.writableEnded;
  }

  protected backedUp(): boolean {
    return this.res.writableNeedDrain;
  }

  protected drainSource(): EventEmitter {
    return this.res;
  }

  protected writeFrames(count: number): void {
    const queue = this.queue;
    this.res.write(this.options.framing.many(count === queue.length ? queue : queue.slice(0, count)));
  }
}
