/**
 * The {@link Transport} over a streamed HTTP response, shared by the HTTP-stream transports
 * (`uni_http_stream`, `uni_sse`, and the bidirectional emulation ones `http_stream` and `sse`),
 * the headers every such stream carries, and which closes are those of a peer that cannot keep
 * up (uni_websocket and uni_grpc use that too).
 *
 * The bytes held for one connection are bounded by `client.queue_max_size` (3008 "slow"), and a
 * backed-up response must drain within {@link STREAM_WRITE_TIMEOUT_MS} (3009 "write error"), as
 * Centrifugo's one-second write deadline.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { ConnectCodeToHttpResponseConfig } from '../config/types.js';
import type { Transport } from '../node/transport.js';
import type { ProtocolName } from '../protocol/codec.js';
import { codecFor } from '../protocol/codecs.js';
import { Disconnects, type Disconnect, type ProtocolError } from '../protocol/codes.js';
import type { OutFrame } from '../protocol/frame.js';
import type { Framing } from './stream-framing.js';
import type { SocketWriterOwner } from './queued-writer.js';
import { StreamWriter } from './stream-writer.js';

/** How long a backed-up stream may go without draining before it is dropped (Centrifugo's write deadline). */
export const STREAM_WRITE_TIMEOUT_MS = 1000;

/** How long a closed stream may take to hand its last bytes to the peer before its socket is destroyed. */
const CLOSE_GRACE_MS = 2000;

/** True for the closes of a peer that cannot keep up: nothing more is queued for it. */
export function isSlowClose(d: Disconnect): boolean {
  return d.code === Disconnects.slow.code || d.code === Disconnects.writeError.code;
}

/** The HTTP-stream transports: unidirectional, and the bidirectional emulation ones. */
export type StreamTransportName = 'uni_http_stream' | 'uni_sse' | 'http_stream' | 'sse';

/** How one HTTP-stream transport answers. */
export interface StreamTransportOptions {
  readonly name: StreamTransportName;
  /** The client protocol (default JSON). */
  readonly protocol?: ProtocolName;
  /**
   * Bidirectional emulation (`http_stream`, `sse`): replies and pushes in Reply form, pongs
   * expected, commands arriving through the emulation endpoint. Default: unidirectional.
   */
  readonly emulation?: boolean;
  readonly framing: Framing;
  /** Headers of the stream's 200 answer (the no-cache set, the content type, CORS). */
  readonly headers: OutgoingHttpHeaders;
  /** Written right after the headers (`\r\n` for SSE). */
  readonly preamble?: Buffer;
  /** `client.queue_max_size`. */
  readonly maxQueued: number;
  /** `client.write_delay` (ms): how long queued pushes may wait to be written together; 0 = to the end of the turn. */
  readonly writeDelay?: number;
  /** `client.reply_without_queue` (emulation streams): with a write delay, replies do not wait for it. */
  readonly replyWithoutQueue?: boolean;
  /** Unidirectional ones: answering a refused connect with an HTTP status. */
  readonly connectCodeToHttpResponse?: ConnectCodeToHttpResponseConfig;
}

/**
 * One streamed HTTP response as a {@link Transport}: a unidirectional one (bare pushes), or a
 * bidirectional emulation one (replies; the client's commands come through the emulation
 * endpoint). The status and headers leave with the first message (the `connect` one), or, for a
 * refused unidirectional connect, as the HTTP answer `connect_code_to_http_response` maps it to,
 * when enabled.
 */
export class StreamTransport implements Transport, SocketWriterOwner {
  readonly name: StreamTransportName;
  readonly protocol: ProtocolName;
  readonly unidirectional: boolean;
  readonly emulation: boolean;
  readonly pongs: boolean;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  private readonly writer: StreamWriter;
  private started = false;
  private closing = false;
  /** Called when the peer cannot keep up (3008 / 3009); the owner closes the connection. */
  onWriteFailure: (disconnect: Disconnect) => void = (d) => this.close(d);

  constructor(
    req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly options: StreamTransportOptions,
  ) {
    this.name = options.name;
    this.protocol = options.protocol ?? 'json';
    this.emulation = options.emulation === true;
    this.unidirectional = !this.emulation;
    this.pongs = this.emulation;
    this.headers = req.headers;
    this.writer = new StreamWriter(
      res,
      {
        framing: options.framing,
        maxQueued: options.maxQueued,
        writeTimeout: STREAM_WRITE_TIMEOUT_MS,
        writeDelay: options.writeDelay ?? 0,
        replyWithoutQueue: options.replyWithoutQueue === true,
      },
      this,
    );
    res.once('close', () => this.writer.stop());
  }
  /** @internal The writer's queue overflowed. */
  writerOverflowed(): void {
    if (!this.closing) this.onWriteFailure(Disconnects.slow);
  }

  /** @internal The response did not drain within the write timeout. */
  writerStalled(): void {
    if (!this.closing) this.onWriteFailure(Disconnects.writeError);
  }


  send(frame: OutFrame): boolean {
    if (this.closing) return false;
    this.start();
    return this.writer.enqueue(frame);
  }

  /**
   * Ends the stream: what is queued, then the `disconnect` push (none for 3000), then the end of
   * the response. A peer that cannot keep up (3008) gets the push right after what the response
   * already holds, the rest dropped; one whose socket does not drain (3009) is dropped. A refused
   * connect with `connect_code_to_http_response` enabled is answered with its HTTP status instead.
   */
  close(d: Disconnect, refused?: ProtocolError): void {
    if (this.closing) return;
    this.closing = true;
    const res = this.res;
    if (res.destroyed || res.writableEnded) return this.writer.stop();
    if (!this.started && refused !== undefined && this.options.connectCodeToHttpResponse?.enabled === true) {
      this.writer.stop();
      return this.answerRefusal(refused);
    }
    if (d.code === Disconnects.writeError.code) {
      this.writer.stop();
      res.destroy();
      return;
    }
    this.start();
    if (isSlowClose(d)) this.writer.stop();
    else this.writer.flushAll();
    if (d.code !== Disconnects.connectionClosed.code) {
      const codec = codecFor(this.protocol, this.unidirectional);
      res.write(this.options.framing.one(codec.push({ kind: 'disconnect', reason: { code: d.code, reason: d.reason } })));
    }
    res.end();
    this.dropIfStuck();
  }

  /** Status and headers, then the preamble, once. */
  private start(): void {
    if (this.started) return;
    this.started = true;
    const res = this.res;
    if (res.headersSent || res.destroyed) return;
    res.writeHead(200, this.options.headers);
    if (this.options.preamble !== undefined) res.write(this.options.preamble);
  }

  /** `connect_code_to_http_response`: the transform's status and body (its own, or the error's text); else 500. */
  private answerRefusal(refused: { code: number; message: string }): void {
    const transform = refused.code > 0 ? this.options.connectCodeToHttpResponse?.transforms.find((t) => t.code === refused.code) : undefined;
    const status = transform?.to.status_code ?? 500;
    const body = transform === undefined ? 'Internal Server Error' : transform.to.body !== '' ? transform.to.body : refused.message;
    const res = this.res;
    res.writeHead(status, {
      ...corsOf(this.options.headers),
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
    this.dropIfStuck();
  }

  /** A response the peer does not take within the grace is dropped with its socket. */
  private dropIfStuck(): void {
    const res = this.res;
    if (res.writableFinished) return;
    const timer = setTimeout(() => res.destroy(), STREAM_WRITE_TIMEOUT_MS + CLOSE_GRACE_MS);
    timer.unref();
    res.once('close', () => clearTimeout(timer));
  }
}

function corsOf(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (k.startsWith('Access-Control-') || k === 'Vary') out[k] = v;
  return out;
}

/** Headers of every HTTP stream, as Centrifugo sends them (Node adds `Connection: keep-alive`). */
export const STREAM_HEADERS: OutgoingHttpHeaders = {
  'X-Accel-Buffering': 'no',
  'Cache-Control': 'private, no-cache, no-store, must-revalidate, max-age=0',
  Pragma: 'no-cache',
  Expire: '0',
};
