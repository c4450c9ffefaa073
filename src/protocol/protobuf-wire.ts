/**
 * A strict reader of protobuf wire-format primitives over a Buffer: tags, varints (checked against
 * the range of the field's type), length-delimited fields bounded by their message, and UTF-8 checked
 * strings. Every malformed input is a {@link CommandDecodeError} whose reason names the field; the
 * reader never reads past the end of the message it is in, every step consumes input, and nothing is
 * allocated beyond the strings and the views of the bytes read.
 */
import { isUtf8 } from 'node:buffer';
import { CommandDecodeError } from './codec.js';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32'];

function fail(reason: string): never {
  throw new CommandDecodeError(reason);
}

const TWO_POW_32 = 4294967296;
/** The high 32 bits of Number.MAX_SAFE_INTEGER (2^53 - 1). */
const MAX_SAFE_HI = 0x1fffff;

export class WireReader {
  /** The next byte to read. */
  pos: number;
  /** The end of the message being read (exclusive). */
  end: number;
  /** The wire type of the last tag read. */
  wireType = 0;
  /** The low and high 32 bits of the last varint read. */
  private lo = 0;
  private hi = 0;

  constructor(
    private readonly buf: Buffer,
    pos = 0,
    end = buf.length,
  ) {
    this.pos = pos;
    this.end = end;
  }

  /** True while the current message has bytes left. */
  more(): boolean {
    return this.pos < this.end;
  }

  /** Reads a varint (at most 10 bytes, at most 64 bits) into lo / hi. */
  private varint(where: string): void {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) fail(`${where}: truncated varint`);
      const b = buf[pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi = (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (7 * i - 32);
      if (b < 0x80) {
        if (i === 9 && b > 1) fail(`${where}: varint overflows 64 bits`);
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        this.pos = pos;
        return;
      }
    }
    fail(`${where}: varint longer than 10 bytes`);
  }

  /**
   * Reads a field's tag; returns its field number (the wire type is in {@link wireType}). Groups
   * (wire types 3 and 4, absent from proto3) and wire types 6 and 7 are refused.
   */
  tag(where: string): number {
    this.varint(`${where}: tag`);
    if (this.hi !== 0) fail(`${where}: tag out of range`);
    const field = this.lo >>> 3;
    const wt = this.lo & 7;
    if (field === 0) fail(`${where}: field number 0`);
    if (wt === 3 || wt === 4) fail(`${where}: field ${field} uses the group wire type ${wt}, not supported`);
    if (wt > 5) fail(`${where}: field ${field} has the invalid wire type ${wt}`);
    this.wireType = wt;
    return field;
  }

  private expect(wt: number, where: string): void {
    if (this.wireType !== wt) {
      fail(`${where}: wire type ${WIRE_NAMES[this.wireType] ?? this.wireType}, expected ${WIRE_NAMES[wt]}`);
    }
  }

  /** A `uint32` field. */
  uint32(where: string): number {
    this.expect(WIRE_VARINT, where);
    this.varint(where);
    if (this.hi !== 0) fail(`${where} exceeds uint32`);
    return this.lo;
  }

  /** An `int32` field (negative values are sign-extended to 64 bits on the wire). */
  int32(where: string): number {
    this.expect(WIRE_VARINT, where);
    this.varint(where);
    if (this.hi === 0 && this.lo <= 0x7fffffff) return this.lo;
    if (this.hi === 0xffffffff && this.lo > 0x7fffffff) return this.lo | 0;
    fail(`${where} out of int32 range`);
  }

  /** A `uint64` field, up to Number.MAX_SAFE_INTEGER. */
  uint64(where: string): number {
    this.expect(WIRE_VARINT, where);
    this.varint(where);
    if (this.hi > MAX_SAFE_HI) fail(`${where} exceeds 2^53-1`);
    return this.hi * TWO_POW_32 + this.lo;
  }

  /** A `bool` field (any non-zero varint is true). */
  bool(where: string): boolean {
    this.expect(WIRE_VARINT, where);
    this.varint(where);
    return (this.lo | this.hi) !== 0;
  }

  /** The length of a length-delimited field (or of a delimited message); checked against the bytes left. */
  length(where: string): number {
    this.varint(`${where}: length`);
    const left = this.end - this.pos;
    if (this.hi !== 0 || this.lo > left) {
      fail(`${where}: length ${this.hi * TWO_POW_32 + this.lo} past the end (${left} bytes left)`);
    }
    return this.lo;
  }

  /** A `bytes` field, as a view of the input (not a copy). */
  bytes(where: string): Buffer {
    this.expect(WIRE_LEN, where);
    const n = this.length(where);
    const start = this.pos;
    this.pos += n;
    return this.buf.subarray(start, start + n);
  }

  /** A `string` field; refused unless valid UTF-8. */
  string(where: string): string {
    this.expect(WIRE_LEN, where);
    const n = this.length(where);
    const start = this.pos;
    this.pos += n;
    if (n === 0) return '';
    const view = this.buf.subarray(start, start + n);
    if (!isUtf8(view)) fail(`${where} is not valid UTF-8`);
    return view.toString('utf8');
  }

  /**
   * Enters an embedded message field: until {@link leave}, the reader's end is the message's.
   * Returns the enclosing end, to pass to {@link leave}.
   */
  enter(where: string): number {
    this.expect(WIRE_LEN, where);
    return this.enterDelimited(where);
  }

  /** Enters a message preceded by its length (no tag): the messages of a delimited stream. */
  enterDelimited(where: string): number {
    const n = this.length(where);
    const outer = this.end;
    this.end = this.pos + n;
    return outer;
  }

  /** Leaves the message entered by {@link enter}, which must have been read to its end. */
  leave(outer: number): void {
    this.pos = this.end;
    this.end = outer;
  }

  /** Skips the value of a field this reader's caller does not know. */
  skip(where: string): void {
    switch (this.wireType) {
      case WIRE_VARINT:
        this.varint(where);
        return;
      case WIRE_LEN: {
        const n = this.length(where);
        this.pos += n;
        return;
      }
      case WIRE_FIXED64:
        this.fixed(8, where);
        return;
      case WIRE_FIXED32:
        this.fixed(4, where);
        return;
    }
    fail(`${where}: cannot skip wire type ${this.wireType}`);
  }

  private fixed(n: number, where: string): void {
    if (this.end - this.pos < n) fail(`${where}: truncated fixed${n * 8} value`);
    this.pos += n;
  }
}
