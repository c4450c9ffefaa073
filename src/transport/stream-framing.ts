/**
 * How pushes are framed on the HTTP streams (`uni_http_stream`, `uni_sse`, and the bidirectional
 * emulation ones `http_stream` and `sse`): NDJSON, SSE events, or varint-delimited protobuf. A push
 * is framed once per frame, not per subscriber (one `OutFrame` is shared on the fan-out path).
 */
import type { OutFrame } from '../protocol/frame.js';

/**
 * How pushes are framed on a stream (`<payload>\n`, `data: <payload>\n\n`): built once per frame,
 * and once per distinct sequence of frames a connection writes in one turn, shared by every
 * connection that writes the same.
 */
export class Framing {
  private readonly prefix: Buffer;
  private readonly suffix: Buffer;
  private readonly framed = new WeakMap<OutFrame, Buffer>();
  private readonly batches = new WeakMap<OutFrame, { readonly frames: readonly OutFrame[]; readonly bytes: Buffer }>();

  constructor(prefix: string, suffix: string) {
    this.prefix = Buffer.from(prefix, 'utf8');
    this.suffix = Buffer.from(suffix, 'utf8');
  }

  /** One frame's bytes. */
  one(frame: OutFrame): Buffer {
    if (this.prefix.length === 0 && this.suffix.length === 0) return frame.payload;
    let bytes = this.framed.get(frame);
    if (bytes === undefined) {
      bytes = Buffer.concat([this.prefix, frame.payload, this.suffix]);
      this.framed.set(frame, bytes);
    }
    return bytes;
  }

  /** The bytes of `frames`, in order. */
  many(frames: readonly OutFrame[]): Buffer {
    if (frames.length === 1) return this.one(frames[0]!);
    const first = frames[0]!;
    const cached = this.batches.get(first);
    if (cached !== undefined && sameFrames(cached.frames, frames)) return cached.bytes;
    const bytes = Buffer.concat(frames.map((f) => this.one(f)));
    this.batches.set(first, { frames: frames.slice(), bytes });
    return bytes;
  }
}

function sameFrames(a: readonly OutFrame[], b: readonly OutFrame[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Newline-delimited JSON (uni_http_stream). */
export const NDJSON_FRAMING = new Framing('', '\n');
/** Server-Sent Events, one push (or reply) per event (uni_sse, sse). */
export const SSE_FRAMING = new Framing('data: ', '\n\n');
/** Protobuf messages, each already preceded by its length as a varint: the payloads as they are (http_stream). */
export const VARINT_FRAMING = new Framing('', '');
