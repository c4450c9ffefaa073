/** Reading the server's (unmasked) WebSocket frames straight off a socket, for the load generators. */

/** Where the frame read by {@link readFrameHeader} lies: header length and payload length. */
export interface FrameHeader {
  head: number;
  len: number;
}

/**
 * Reads the header of the frame at `off` into `out` (reused, so nothing is allocated per frame);
 * false when `buf` (of `n` bytes) does not hold the whole frame yet.
 */
export function readFrameHeader(buf: Buffer, off: number, n: number, out: FrameHeader): boolean {
  if (n - off < 2) return false;
  let len = buf[off + 1]! & 0x7f;
  let head = 2;
  if (len === 126) {
    if (n - off < 4) return false;
    len = buf.readUInt16BE(off + 2);
    head = 4;
  } else if (len === 127) {
    if (n - off < 10) return false;
    len = buf.readUInt32BE(off + 2) * 2 ** 32 + buf.readUInt32BE(off + 6);
    head = 10;
  }
  if (n - off < head + len) return false;
  out.head = head;
  out.len = len;
  return true;
}
