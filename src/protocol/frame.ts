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
  /**
   * The last batch of frames starting with this one that a connection wrote, kept so that every
   * subscriber with the same queued frames (the usual case on fan-out) writes the same bytes.
   */
  batch: { readonly frames: readonly OutFrame[]; readonly bytes: Buffer } | undefined;
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

/**
 * The frames of a queue as one buffer for one socket write: built once per distinct sequence of
 * frames, and shared by the connections that queued the same sequence in the same turn.
 */
export function batchBytes(queue: readonly OutFrame[]): Buffer {
  const first = queue[0]!;
  const cached = first.batch;
  if (cached !== undefined && sameFrames(cached.frames, queue)) return cached.bytes;
  const parts = new Array<Buffer>(queue.length);
  for (let i = 0; i < queue.length; i++) parts[i] = queue[i]!.framed;
  const bytes = Buffer.concat(parts);
  first.batch = { frames: queue.slice(), bytes };
  return bytes;
}

function sameFrames(a: readonly OutFrame[], b: readonly OutFrame[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
