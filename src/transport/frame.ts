/**
 * An outgoing message built once: its UTF-8 payload and the complete WebSocket text frame around it.
 * On the fan-out path one `OutFrame` is shared by every subscriber of a channel.
 */
import * as wsModule from 'ws';

const FRAME_OPTIONS = { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false } as const;

/** `ws` exposes its frame builder as `WebSocket.Sender.frame` (not in its published typings). */
interface FrameBuilder {
  frame(data: Buffer, options: typeof FRAME_OPTIONS): Buffer[];
}
const { Sender } = wsModule as unknown as { Sender: FrameBuilder };

export class OutFrame {
  /** The UTF-8 payload (one or more JSON objects joined by `\n`). */
  readonly payload: Buffer;
  private framedCache: Buffer | undefined;

  constructor(text: string) {
    this.payload = Buffer.from(text, 'utf8');
  }

  /** The whole unmasked text frame (header + payload), built on first use. */
  get framed(): Buffer {
    if (this.framedCache === undefined) {
      this.framedCache = Buffer.concat(Sender.frame(this.payload, FRAME_OPTIONS));
    }
    return this.framedCache;
  }

  /** Bytes this frame takes in a connection's queue. */
  get size(): number {
    return this.payload.length;
  }
}
