/**
 * The load generator's scanning of what subscribers receive, kept free of I/O so that it can be
 * tested on its own:
 *   - {@link scanPublications}: the `"ts":<µs>,"seq":<n>` marks of the bench payload in a span of
 *     bytes (a WebSocket frame, or whole lines of an HTTP stream), read without parsing the JSON;
 *   - {@link LineCarry}: cuts the body of an HTTP-streaming (`{…}\n` per reply) or SSE
 *     (`data: {…}\n\n` per reply) response, which arrives in chunks cut anywhere, into spans of
 *     whole lines, keeping the unfinished tail of each chunk for the next one, so that a
 *     publication split over two chunks is counted once;
 *   - {@link countPings}: the pings (`{}` lines, SSE `data: {}` events) in such a span.
 */

const TS_MARK = Buffer.from('"ts":');
const ZERO = 48;
const NINE = 57;
const NL = 0x0a;

/**
 * Calls `visit(ts, seq)` for every publication mark in `data[start, end)`; returns how many. A mark
 * must start before `end`, and its digits must be whole (the span holds whole frames or lines).
 */
export function scanPublications(data: Buffer, start: number, end: number, visit: (ts: number, seq: number) => void): number {
  let found = 0;
  let pos = data.indexOf(TS_MARK, start);
  while (pos !== -1 && pos < end) {
    let i = pos + 5;
    let ts = 0;
    let c = data[i]!;
    while (c >= ZERO && c <= NINE) {
      ts = ts * 10 + (c - ZERO);
      c = data[++i]!;
    }
    i += 7; // ,"seq":
    let seq = 0;
    c = data[i]!;
    while (c >= ZERO && c <= NINE) {
      seq = seq * 10 + (c - ZERO);
      c = data[++i]!;
    }
    found++;
    visit(ts, seq);
    pos = data.indexOf(TS_MARK, i);
  }
  return found;
}

/**
 * The whole lines of a newline-framed stream, chunk by chunk. After {@link push}, `buf[0, end)` is
 * every line completed by the chunk (with the carried tail of earlier chunks in front); the bytes
 * after the last newline wait for the next chunk. `end` is 0 when the chunk completed no line.
 */
export class LineCarry {
  /** The bytes after the last newline seen: the start of an unfinished line. */
  private rest: Buffer | null = null;
  buf: Buffer = Buffer.alloc(0);
  end = 0;

  /** Takes a chunk; returns `end` (0: no whole line yet). */
  push(chunk: Buffer): number {
    const buf = this.rest === null ? chunk : Buffer.concat([this.rest, chunk]);
    const last = buf.lastIndexOf(NL);
    if (last === -1) {
      // Copied: the chunk may be a view of a buffer the caller reuses.
      this.rest = Buffer.from(buf);
      this.end = 0;
      return 0;
    }
    const end = last + 1;
    this.rest = end < buf.length ? Buffer.from(buf.subarray(end)) : null;
    this.buf = buf;
    this.end = end;
    return end;
  }

  /** Bytes waiting for the end of their line. */
  get pending(): number {
    return this.rest === null ? 0 : this.rest.length;
  }
}

/**
 * A ping in JSON: the line `{}` (HTTP-streaming) or the event `data: {}` (SSE). No other line of
 * the stream ends in `{}`: every line is one JSON object, and one whose last two bytes are `{}` is
 * the empty object itself.
 */
const PING_MARK = Buffer.from('{}\n');

/** How many pings `buf[start, end)` (whole lines) holds. */
export function countPings(buf: Buffer, start: number, end: number): number {
  let n = 0;
  let pos = buf.indexOf(PING_MARK, start);
  while (pos !== -1 && pos + PING_MARK.length <= end) {
    n++;
    pos = buf.indexOf(PING_MARK, pos + PING_MARK.length);
  }
  return n;
}

/**
 * The JSON texts of whole lines `buf[start, end)` of an HTTP-streaming or SSE body: one per
 * non-empty line, without the SSE `data: ` prefix (and a `\r` of the SSE preamble). For the few
 * replies before a client is live (connect, subscribe), not for publications.
 */
export function streamMessages(buf: Buffer, start: number, end: number): Array<{ text: string; end: number }> {
  const out: Array<{ text: string; end: number }> = [];
  let pos = start;
  while (pos < end) {
    let nl = buf.indexOf(NL, pos);
    if (nl === -1 || nl >= end) nl = end;
    let line = buf.toString('utf8', pos, nl);
    pos = nl + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.startsWith('data:')) line = line.slice(line.startsWith('data: ') ? 6 : 5);
    if (line !== '') out.push({ text: line, end: Math.min(pos, end) });
  }
  return out;
}
