/**
 * The load generator's WebSocket client: a TCP socket, a hand-written upgrade request and a frame
 * parser, nothing more. The `ws` client costs about as much CPU per connection as the servers we
 * measure spend accepting one (Node's HTTP client for the upgrade, a random key, a SHA-1 of the
 * answer, its receiver and sender streams), so with it the load generators, not the server, limited
 * the connect rate of S4 on a shared machine. This one:
 *   - sends a fixed `Sec-WebSocket-Key` and does not check `Sec-WebSocket-Accept` (it is a load
 *     generator talking to known servers, not a browser);
 *   - masks its frames with the all-zero key (allowed by RFC 6455: the key must be present, the
 *     servers XOR with it), so a payload is copied once into the frame and never transformed;
 *   - parses the server's frames (unmasked, not fragmented: these servers never fragment) in
 *     place, handing each payload as `buf[start, end)` to {@link LightWs.onFrame} when set (the
 *     live path: no copy, no event), else as a `message` event (setup: the connect and subscribe
 *     replies);
 *   - answers WebSocket pings (opcode 9) with pongs, and reports the close code of a close frame.
 * It speaks to `ws` servers (Gyre, raw ws, Engine.IO/Socket.IO) exactly as the `ws` client does on
 * the wire, minus the random mask. Events: `open`, `message` (payload Buffer, isBinary), `error`,
 * `close` (code). Set BENCH_WS_CLIENT=ws to use the `ws` client instead (bench/loadgen.ts).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { readFrameHeader, type FrameHeader } from './ws-frames.js';

/** Reused by every frame read (no allocation per frame). */
const HEADER: FrameHeader = { head: 0, len: 0 };

const KEY = 'Z3lyZS1iZW5jaC1rZXkhIQ==';
const CRLF2 = Buffer.from('\r\n\r\n');
const STATUS_101 = Buffer.from('HTTP/1.1 101');

export class LightWs extends EventEmitter {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  readyState = 0;
  /** The subprotocol the server chose ('' when none). */
  protocol = '';
  /** Live path: called with each data frame's payload `buf[start, end)` instead of a `message` event. */
  onFrame: ((buf: Buffer, start: number, end: number, opcode: number) => void) | null = null;
  private readonly socket: net.Socket;
  /** Bytes not parsed yet: the response head before the upgrade, or the start of a frame after it. */
  private rest: Buffer | null = null;
  private closeCode = 1006;

  constructor(port: number, path: string, opts: { protocol?: string; localAddress?: string } = {}) {
    super();
    const want = opts.protocol;
    const request =
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${KEY}\r\n` +
      (want !== undefined ? `Sec-WebSocket-Protocol: ${want}\r\n` : '') +
      '\r\n';
    const socket = net.connect({ port, host: '127.0.0.1', ...(opts.localAddress !== undefined && { localAddress: opts.localAddress }) });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => (this.readyState === 0 ? this.onHead(chunk, want) : this.onData(chunk)));
    socket.on('error', (e: Error) => {
      if (this.listenerCount('error') > 0) this.emit('error', e);
    });
    socket.on('close', () => {
      this.readyState = 3;
      this.emit('close', this.closeCode);
    });
  }

  private onHead(chunk: Buffer, want: string | undefined): void {
    const buf = this.rest === null ? chunk : Buffer.concat([this.rest, chunk]);
    const end = buf.indexOf(CRLF2);
    if (end === -1) {
      this.rest = buf;
      return;
    }
    this.rest = null;
    if (buf.compare(STATUS_101, 0, STATUS_101.length, 0, STATUS_101.length) !== 0) {
      const line = buf.toString('latin1', 0, Math.max(0, buf.indexOf('\r\n')));
      this.fail(new Error(`unexpected server response: ${line}`));
      return;
    }
    if (want !== undefined) {
      const m = /\r\nsec-websocket-protocol:\s*([^\r]*)/i.exec(buf.toString('latin1', 0, end));
      this.protocol = m?.[1]?.trim() ?? '';
    }
    this.readyState = 1;
    this.emit('open');
    // Frames that came with the response.
    if (end + 4 < buf.length && this.readyState === 1) this.onData(buf.subarray(end + 4));
  }

  private onData(chunk: Buffer): void {
    const buf = this.rest === null ? chunk : Buffer.concat([this.rest, chunk]);
    const n = buf.length;
    let off = 0;
    const h = HEADER;
    while (readFrameHeader(buf, off, n, h)) {
      const { len } = h;
      const opcode = buf[off]! & 0x0f;
      const start = off + h.head;
      off = start + len;
      if (opcode <= 2) {
        // Text, binary, or a continuation (not sent by these servers: taken as a message of its own).
        if (this.onFrame !== null) this.onFrame(buf, start, off, opcode);
        else this.emit('message', buf.subarray(start, off), opcode === 2);
      } else if (opcode === 8) {
        this.closeCode = len >= 2 ? buf.readUInt16BE(start) : 1005;
        this.readyState = 2;
        this.socket.destroy();
        return;
      } else if (opcode === 9) {
        this.frame(0x8a, buf.subarray(start, off));
      }
      if (this.readyState !== 1) return;
    }
    this.rest = off < n ? Buffer.from(buf.subarray(off)) : null;
  }

  /** Sends a text (string) or binary (Buffer) message. */
  send(data: string | Buffer): void {
    if (this.readyState !== 1) return;
    this.frame(typeof data === 'string' ? 0x81 : 0x82, data);
  }

  /** One masked frame (mask key 0: the payload goes as it is). */
  private frame(b0: number, data: string | Buffer): void {
    const len = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    const head = len < 126 ? 6 : len < 65536 ? 8 : 14;
    const out = Buffer.allocUnsafe(head + len);
    out[0] = b0;
    if (len < 126) {
      out[1] = 0x80 | len;
    } else if (len < 65536) {
      out[1] = 0x80 | 126;
      out.writeUInt16BE(len, 2);
    } else {
      out[1] = 0x80 | 127;
      out.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
      out.writeUInt32BE(len >>> 0, 6);
    }
    out.writeUInt32BE(0, head - 4);
    if (typeof data === 'string') out.write(data, head);
    else data.copy(out, head);
    this.socket.write(out);
  }

  /** Closes the connection at once (no close handshake). */
  terminate(): void {
    if (this.readyState === 3) return;
    this.readyState = 2;
    this.socket.destroy();
  }

  private fail(e: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
    this.terminate();
  }
}
