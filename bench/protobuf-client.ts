/**
 * The little of Centrifugo's protobuf client protocol (proto/client.proto) the load generator needs,
 * written by hand so that the load generator stays free of a protobuf library:
 *   - building the connect and subscribe Commands, each preceded by its length as a varint;
 *   - reading the id and error of the Replies the server answers them with.
 * Publication pushes are not decoded: their payload bytes (the publication's JSON) are scanned for
 * `"ts":` like JSON frames are. The ping is an empty Reply (a frame holding the single byte 0x00) and
 * is answered with an empty Command ({@link PROTOBUF_PONG}).
 */

/** The WebSocket subprotocol of the protobuf protocol. */
export const PROTOBUF_SUBPROTOCOL = 'centrifuge-protobuf';

/** The answer to a ping: an empty Command, delimited (its length, 0). */
export const PROTOBUF_PONG: Buffer = Buffer.from([0]);

// Field tags: (field number << 3) | wire type (0 varint, 2 length-delimited).
const CMD_ID = (1 << 3) | 0;
const CMD_CONNECT = (4 << 3) | 2;
const CMD_SUBSCRIBE = (5 << 3) | 2;
const REQ_TOKEN = (1 << 3) | 2; // ConnectRequest.token
const REQ_CHANNEL = (1 << 3) | 2; // SubscribeRequest.channel

function pushVarint(out: number[], n: number): void {
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

function pushBytes(out: number[], tag: number, bytes: Uint8Array): void {
  pushVarint(out, tag);
  pushVarint(out, bytes.length);
  for (const b of bytes) out.push(b);
}

/** `Command { id, <field>: { <innerTag>: value } }`, preceded by its length. */
function delimitedCommand(out: number[], id: number, field: number, innerTag: number, value: string): void {
  const inner: number[] = [];
  // proto3: an empty string is left out (the request stays present, empty).
  if (value !== '') pushBytes(inner, innerTag, Buffer.from(value, 'utf8'));
  const cmd: number[] = [];
  if (id !== 0) {
    pushVarint(cmd, CMD_ID);
    pushVarint(cmd, id);
  }
  pushBytes(cmd, field, Uint8Array.from(inner));
  pushVarint(out, cmd.length);
  for (const b of cmd) out.push(b);
}

/** The connect Command (id, ConnectRequest.token), length-delimited: one binary frame. */
export function protobufConnectFrame(id: number, token: string): Buffer {
  const out: number[] = [];
  delimitedCommand(out, id, CMD_CONNECT, REQ_TOKEN, token);
  return Buffer.from(out);
}

/** One subscribe Command per channel (ids `firstId`, `firstId + 1`, …), all in one binary frame. */
export function protobufSubscribeFrame(firstId: number, channels: readonly string[]): Buffer {
  const out: number[] = [];
  channels.forEach((channel, j) => delimitedCommand(out, firstId + j, CMD_SUBSCRIBE, REQ_CHANNEL, channel));
  return Buffer.from(out);
}

/** What the load generator reads of one Reply. */
export interface ReplyHead {
  /** 0 for pushes and pings. */
  id: number;
  /** Present when the Reply carries an Error (field 2). */
  error?: { code: number; message: string };
  /** The Reply has no field at all: a ping. */
  empty: boolean;
}

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 128;
    }
    throw new Error('varint too long');
  }

  /** Skips the value of a field of wire type `wt`. */
  skip(wt: number): void {
    if (wt === 0) this.varint();
    else if (wt === 1) this.pos += 8;
    else if (wt === 2) {
      const len = this.varint();
      this.pos += len;
    }
    else if (wt === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wt}`);
    if (this.pos > this.end) throw new Error('truncated field');
  }
}

function readError(buf: Uint8Array, start: number, end: number): { code: number; message: string } {
  const r = new Reader(buf, start, end);
  let code = 0;
  let message = '';
  while (r.pos < end) {
    const tag = r.varint();
    const f = Math.floor(tag / 8);
    const wt = tag & 7;
    if (f === 1 && wt === 0) code = r.varint();
    else if (f === 2 && wt === 2) {
      const len = r.varint();
      message = Buffer.from(buf.buffer, buf.byteOffset + r.pos, len).toString('utf8');
      r.pos += len;
    } else r.skip(wt);
  }
  return { code, message };
}

/**
 * The Replies of one binary frame (each preceded by its length): their ids and errors; every other
 * field (results, pushes) skipped. Throws on a malformed frame.
 */
export function readReplies(frame: Uint8Array): ReplyHead[] {
  const out: ReplyHead[] = [];
  const r = new Reader(frame, 0, frame.length);
  while (r.pos < frame.length) {
    const len = r.varint();
    const end = r.pos + len;
    if (end > frame.length) throw new Error('truncated reply');
    const head: ReplyHead = { id: 0, empty: len === 0 };
    const m = new Reader(frame, r.pos, end);
    while (m.pos < end) {
      const tag = m.varint();
      const f = Math.floor(tag / 8);
      const wt = tag & 7;
      if (f === 1 && wt === 0) head.id = m.varint();
      else if (f === 2 && wt === 2) {
        const elen = m.varint();
        head.error = readError(frame, m.pos, m.pos + elen);
        m.pos += elen;
      } else m.skip(wt);
    }
    out.push(head);
    r.pos = end;
  }
  return out;
}
