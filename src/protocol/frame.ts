/**
 * An outgoing message built once: its payload (JSON text as UTF-8, or protobuf bytes) and, built on
 * first use, the complete WebSocket frame around it (text or binary). On the fan-out path one
 * `OutFrame` is shared by every subscriber of a channel that speaks its protocol, whatever the
 * transport: stream transports write `payload` with their own framing.
 */
import * as wsModule from 'ws';

const TEXT_FRAME = { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false } as const;
const BINARY_FRAME = { fin: true, opcode: 2, mask: false, readOnly: false, rsv1: false } as const;

/** `ws` exposes its frame builder as `WebSocket.Sender.frame` (not in its published typings). */
interface FrameBuilder {
  frame(data: Buffer, options: typeof TEXT_FRAME | typeof BINARY_FRAME): Buffer[];
}
const { Sender } = wsModule as unknown as { Sender: FrameBuilder };

export class OutFrame {
  /**
   * The last batch of frames starting with this one that a connection wrote, kept so that every
   * subscriber with the same queued frames (the usual case on fan-out) writes the same bytes.
   */
  batch: { readonly frames: readonly OutFrame[]; readonly bytes: Buffer } | undefined;
  /** The payload: UTF-8 JSON text (one object), or one varint-length-delimited protobuf message. */
  readonly payload: Buffer;
  /** True for protobuf payloads (binary WebSocket frames). */
  readonly binary: boolean;
  private framedCache: Buffer | undefined;

  /** A JSON text message, or (as a Buffer) a binary one. */
  constructor(payload: string | Buffer) {
    if (typeof payload === 'string') {
      this.payload = Buffer.from(payload, 'utf8');
      this.binary = false;
    } else {
      this.payload = payload;
      this.binary = true;
    }
  }

  /** The whole unmasked WebSocket frame (header + payload), built on first use. */
  get framed(): Buffer {
    if (this.framedCache === undefined) {
      this.framedCache = Buffer.concat(Sender.frame(this.payload, this.binary ? BINARY_FRAME : TEXT_FRAME));
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
