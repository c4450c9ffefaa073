/**
 * An outgoing message built once: its payload (JSON text as UTF-8, or protobuf bytes) and, built on
 * first use, the complete WebSocket frame around it (text or binary). On the fan-out path one
 * `OutFrame` is shared by every subscriber of a channel that speaks its protocol, whatever the
 * transport: stream transports write `payload` with their own framing.
 *
 * Messages of one connection may also be joined into one WebSocket frame (`client.write_delay` with
 * `client.max_messages_in_frame`), as Centrifugo's client protocol allows: JSON messages separated
 * by newlines in one text frame, protobuf messages (each preceded by its varint length) one after
 * another in one binary frame.
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
  batch: { readonly frames: readonly OutFrame[]; readonly join: number; readonly bytes: Buffer } | undefined;
  /** The payload: UTF-8 JSON text (one object), or one varint-length-delimited protobuf message. */
  readonly payload: Buffer;
  /** True for protobuf payloads (binary WebSocket frames). */
  readonly binary: boolean;
  /**
   * What the message is, for the metrics (a number of protocol/frame-types.ts: a push, a command's
   * reply, the ping). Set by the codec; the sender of an error reply names its command.
   */
  type: number;
  /** A reply to a command (whatever its type says: an error reply to a command nobody could name is `unknown`). */
  reply = false;
  private framedCache: Buffer | undefined;

  /** A JSON text message, or (as a Buffer) a binary one; `type`: its frame type (frame-types.ts). */
  constructor(payload: string | Buffer, type = 0) {
    this.type = type;
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
 * frames, and shared by the connections that queued the same sequence in the same turn. `join`: 0 =
 * each message in its own WebSocket frame; n > 0 = messages joined into frames of at most n
 * messages each (`Infinity`: all in one).
 */
export function batchBytes(queue: readonly OutFrame[], join = 0): Buffer {
  const first = queue[0]!;
  const cached = first.batch;
  if (cached !== undefined && cached.join === join && sameFrames(cached.frames, queue)) return cached.bytes;
  const bytes = framesBytes(queue, queue.length, join);
  first.batch = { frames: queue.slice(), join, bytes };
  return bytes;
}

/** The first `count` frames of `frames` as bytes for the socket (not cached), joined as {@link batchBytes} says. */
export function framesBytes(frames: readonly OutFrame[], count: number, join: number): Buffer {
  if (count === 1) return frames[0]!.framed;
  if (join <= 1) {
    const parts = new Array<Buffer>(count);
    for (let i = 0; i < count; i++) parts[i] = frames[i]!.framed;
    return Buffer.concat(parts);
  }
  const parts: Buffer[] = [];
  forEachJoined(frames, count, join, (payload, binary, single) => {
    if (single !== undefined) parts.push(single.framed);
    else for (const b of Sender.frame(payload, binary ? BINARY_FRAME : TEXT_FRAME)) parts.push(b);
  });
  return Buffer.concat(parts);
}

/**
 * The payloads of the first `count` frames joined into messages of at most `join` frames each (for
 * a WebSocket that frames them itself, as with permessage-deflate): `emit` gets each message's
 * payload and whether it is binary.
 */
export function joinedPayloads(frames: readonly OutFrame[], count: number, join: number, emit: (payload: Buffer, binary: boolean) => void): void {
  forEachJoined(frames, count, join, emit);
}

const NEWLINE = Buffer.from('\n');

/**
 * Splits the first `count` frames into runs of at most `join` frames of the same kind, and calls
 * `emit` with each run's joined payload (`single`: the run's one frame, when it has only one).
 */
function forEachJoined(
  frames: readonly OutFrame[],
  count: number,
  join: number,
  emit: (payload: Buffer, binary: boolean, single: OutFrame | undefined) => void,
): void {
  let start = 0;
  while (start < count) {
    const binary = frames[start]!.binary;
    let end = start + 1;
    while (end < count && end - start < join && frames[end]!.binary === binary) end++;
    if (end - start === 1) {
      emit(frames[start]!.payload, binary, frames[start]);
    } else {
      const parts: Buffer[] = [];
      for (let i = start; i < end; i++) {
        // JSON: newline-separated objects; protobuf: varint-delimited messages back to back.
        if (!binary && i > start) parts.push(NEWLINE);
        parts.push(frames[i]!.payload);
      }
      emit(Buffer.concat(parts), binary, undefined);
    }
    start = end;
  }
}

function sameFrames(a: readonly OutFrame[], b: readonly OutFrame[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
