/**
 * The outgoing queue of one WebSocket connection (the shared behaviour, bounds and coalescing are
 * {@link QueuedWriter}'s). Without permessage-deflate, frames are pre-built (encoded and framed
 * once per publication, see protocol/frame.ts) and go straight to the TCP socket: what was queued
 * in a turn leaves in one socket write. With `joinMessages` (`client.write_delay` with
 * `client.max_messages_in_frame`), several messages share one WebSocket frame. With
 * permessage-deflate, `ws` frames and compresses each message; bytes it still holds count as in
 * flight, and the socket is backed up while a compressed send has not reached it.
 */
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { batchBytes, framesBytes, joinedPayloads } from '../protocol/frame.js';
import { QueuedWriter, type SocketWriterOwner, type SocketWriterSettings } from './queued-writer.js';

interface WebSocketInternals {
  _socket: Socket | null;
}

export class SocketWriter extends QueuedWriter {
  /** Compressed sends whose bytes have not reached the kernel yet. */
  private unconfirmed = 0;
  private readonly socket: Socket | null;
  /** Pre-built frames go straight to the TCP socket (no permessage-deflate negotiated). */
  private readonly direct: boolean;
  private readonly join: number;
  /** Made at the first compressed send. */
  private onSent: (() => void) | undefined;

  constructor(
    private readonly ws: WebSocket,
    settings: SocketWriterSettings,
    owner: SocketWriterOwner,
  ) {
    super(settings, owner);
    this.socket = (ws as unknown as WebSocketInternals)._socket;
    this.direct = this.socket !== null && !ws.extensions.includes('permessage-deflate');
    this.join = settings.joinMessages ?? 0;
  }

  protected inFlight(): number {
    return this.direct ? this.socket!.writableLength : this.ws.bufferedAmount;
  }

  protected open(): boolean {
    return this.ws.readyState === 1;
  }

  protected backedUp(): boolean {
    if (this.direct) return this.socket!.writableNeedDrain;
    return this.unconfirmed > 0 && this.ws.bufferedAmount >= (this.socket?.writableHighWaterMark ?? 64 * 1024);
  }

  /** The TCP socket when frames go to it directly; with compression the sends' callbacks resume. */
  protected drainSource(): EventEmitter | null {
    return this.direct ? this.socket : null;
  }

  protected writeFrames(count: number): void {
    const queue = this.queue;
    if (this.direct) {
      if (count === 1) this.socket!.write(queue[0]!.framed);
      else if (count === queue.length) this.socket!.write(batchBytes(queue, this.join));
      else this.socket!.write(framesBytes(queue, count, this.join));
      return;
    }
    const onSent = (this.onSent ??= () => {
      this.unconfirmed--;
      if (this.waiting && !this.backedUp()) this.resume();
    });
    if (this.join > 1 && count > 1) {
      // permessage-deflate: `ws` frames (and compresses) each joined message itself.
      const messages: Array<{ payload: Buffer; binary: boolean }> = [];
      joinedPayloads(queue, count, this.join, (payload, binary) => messages.push({ payload, binary }));
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        this.ws.send(m.payload, { binary: m.binary }, i === messages.length - 1 ? onSent : undefined);
      }
    } else {
      for (let i = 0; i < count; i++) {
        this.ws.send(queue[i]!.payload, { binary: queue[i]!.binary }, i === count - 1 ? onSent : undefined);
      }
    }
    this.unconfirmed++;
  }
}
