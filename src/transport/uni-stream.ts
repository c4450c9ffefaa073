/**
 * What the unidirectional transports share: the connect request decoder, the connection rate
 * limit and CORS answer of their HTTP endpoints, and, for the HTTP-stream ones (`uni_http_stream`,
 * `uni_sse`, and the bidirectional emulation ones `http_stream` and `sse`), the bounded coalescing
 * response writer, the {@link Transport} over a streamed response and the request handling up to
 * the connect.
 *
 * A push is framed once per frame (not per subscriber: one `OutFrame` is shared on the fan-out
 * path) and the pushes queued for a connection within one event-loop turn leave in one
 * `res.write`. The bytes held for one connection (queued here, plus what the response and its
 * socket still hold) are bounded by `client.queue_max_size` (3008 "slow"), and a backed-up
 * response must drain within {@link STREAM_WRITE_TIMEOUT_MS} (3009 "write error"), as
 * Centrifugo's one-second write deadline.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { ConnectCodeToHttpResponseConfig } from '../config/types.js';
import { BodyTooLargeError, declaresTooLarge, readBody } from '../http/body.js';
import { refuse } from '../http/respond.js';
import { Client } from '../node/client.js';
import type { GyreNode } from '../node/node.js';
import type { Transport } from '../node/transport.js';
import { CommandDecodeError, type ProtocolName } from '../protocol/codec.js';
import { codecFor } from '../protocol/codecs.js';
import { Disconnects, type Disconnect, type ProtocolError } from '../protocol/codes.js';
import type { OutFrame } from '../protocol/frame.js';
import { uniJsonCodec } from '../protocol/json-codec.js';
import type { ConnectCommandParams } from '../protocol/types.js';
import { scheduleFlush, type Flushable } from './flush-scheduler.js';
import type { OriginCheck } from './origin.js';
import type { ConnectionRateLimit } from './rate-limit.js';

/** How long a backed-up stream may go without draining before it is dropped (Centrifugo's write deadline). */
export const STREAM_WRITE_TIMEOUT_MS = 1000;

/** How long a closed stream may take to hand its last bytes to the peer before its socket is destroyed. */
const CLOSE_GRACE_MS = 2000;

/** Bytes written per step once a backed-up response drains: a slow peer gets them a chunk at a time. */
const RESUME_CHUNK = 64 * 1024;

/** The limit of a connect request body (and a uni_websocket connect message) when the key is 0: Centrifugo's default. */
export const DEFAULT_CONNECT_REQUEST_LIMIT = 65_536;

// ---- the connect request ----

/**
 * Decodes a connect request (a bare ConnectRequest JSON object; empty = `{}`); throws
 * {@link CommandDecodeError} for malformed JSON, JSON nested too deep, or a request of the wrong shape.
 */
export function decodeConnectRequest(bytes: Buffer): ConnectCommandParams {
  return uniJsonCodec.decodeConnectRequest(bytes);
}

/** The `cf_connect` URL parameter of a request; undefined when absent or empty. */
export function cfConnectParam(req: IncomingMessage): string | undefined {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const value = new URLSearchParams(url.slice(q + 1)).get('cf_connect');
  return value === null || value === '' ? undefined : value;
}

// ---- what a refused connect carries ----

/** True for the closes of a peer that cannot keep up: nothing more is queued for it. */
export function isSlowClose(d: Disconnect): boolean {
  return d.code === Disconnects.slow.code || d.code === Disconnects.writeError.code;
}

// ---- CORS ----


/**
 * CORS headers for a request whose Origin passed `client.allowed_origins` (none without an Origin),
 * as Centrifugo's middleware sets them: the origin, the requested headers, credentials allowed.
 */
export function corsHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const origin = req.headers.origin;
  if (origin === undefined || origin === '') return {};
  const headers: OutgoingHttpHeaders = { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' };
  const requested = req.headers['access-control-request-headers'];
  if (requested !== undefined && requested !== '') headers['Access-Control-Allow-Headers'] = requested;
  return headers;
}

// ---- framing ----

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

// ---- the writer ----

export interface StreamWriterOptions {
  framing: Framing;
  /** Bytes allowed in flight (queued here and held by the response and its socket) before `onOverflow`. */
  maxQueued: number;
  /** Ms a backed-up response may go without draining before `onStall`; 0 = no limit. */
  writeTimeout: number;
  /** Called once when the queue overflows; the writer has stopped. */
  onOverflow: () => void;
  /** Called once when a backed-up response made no progress within `writeTimeout`; the writer has stopped. */
  onStall: () => void;
}

/** The bounded, coalescing outgoing queue of one streamed response. */
export class StreamWriter implements Flushable {
  private readonly queue: OutFrame[] = [];
  private queuedBytes = 0;
  private scheduled = false;
  /** The response is backed up: frames wait here until it drains. */
  private waiting = false;
  private stopped = false;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly onDrain = (): void => this.resume();

  constructor(
    private readonly res: ServerResponse,
    private readonly options: StreamWriterOptions,
  ) {}

  /** Queues a frame; returns false when the writer is stopped or has just overflowed. */
  enqueue(frame: OutFrame): boolean {
    if (this.stopped) return false;
    this.queuedBytes += frame.size;
    if (this.queuedBytes + this.res.writableLength > this.options.maxQueued) {
      this.stop();
      this.options.onOverflow();
      return false;
    }
    this.queue.push(frame);
    if (!this.scheduled && !this.waiting) {
      this.scheduled = true;
      scheduleFlush(this);
    }
    return true;
  }

  /** Writes what is queued in one write, unless the response is backed up. */
  flush(): void {
    this.scheduled = false;
    if (this.stopped || this.waiting || this.queue.length === 0) return;
    if (!this.open()) return this.discard();
    if (this.res.writableNeedDrain) return this.startWaiting();
    this.write(this.queue.length);
  }

  /** Writes everything queued whatever the response's state (before a normal close), then stops. */
  flushAll(): void {
    if (!this.stopped && this.queue.length > 0 && this.open()) this.write(this.queue.length);
    this.stop();
  }

  /** Stops queueing and drops what waits here; bytes already written still leave. */
  stop(): void {
    this.stopped = true;
    this.discard();
    this.endWait();
  }

  private open(): boolean {
    return !this.res.destroyed && !this.res.writableEnded;
  }

  private write(count: number): void {
    const queue = this.queue;
    if (count === queue.length) {
      this.res.write(this.options.framing.many(queue));
      queue.length = 0;
      this.queuedBytes = 0;
    } else {
      const part = queue.splice(0, count);
      for (const f of part) this.queuedBytes -= f.size;
      this.res.write(this.options.framing.many(part));
    }
  }

  private startWaiting(): void {
    this.waiting = true;
    this.res.once('drain', this.onDrain);
    if (this.options.writeTimeout > 0) {
      this.stallTimer = setTimeout(() => {
        this.stop();
        this.options.onStall();
      }, this.options.writeTimeout);
      this.stallTimer.unref();
    }
  }

  private endWait(): void {
    if (!this.waiting) return;
    this.waiting = false;
    this.res.off('drain', this.onDrain);
    if (this.stallTimer !== undefined) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  /** The response drained: write what waits, a chunk at a time while it keeps taking it. */
  private resume(): void {
    this.endWait();
    if (this.stopped) return;
    if (!this.open()) return this.discard();
    while (this.queue.length > 0) {
      if (this.res.writableNeedDrain) return this.startWaiting();
      let count = 0;
      let bytes = 0;
      while (count < this.queue.length && (count === 0 || bytes + this.queue[count]!.size <= RESUME_CHUNK)) {
        bytes += this.queue[count]!.size;
        count++;
      }
      this.write(count);
    }
  }

  private discard(): void {
    this.queue.length = 0;
    this.queuedBytes = 0;
  }
}

// ---- the transport ----

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
export class StreamTransport implements Transport {
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
    this.writer = new StreamWriter(res, {
      framing: options.framing,
      maxQueued: options.maxQueued,
      writeTimeout: STREAM_WRITE_TIMEOUT_MS,
      onOverflow: () => {
        if (!this.closing) this.onWriteFailure(Disconnects.slow);
      },
      onStall: () => {
        if (!this.closing) this.onWriteFailure(Disconnects.writeError);
      },
    });
    res.once('close', () => this.writer.stop());
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

// ---- the endpoint ----

/** What differs between the two HTTP-stream endpoints. */
export interface UniStreamEndpoint {
  readonly name: 'uni_http_stream' | 'uni_sse';
  readonly framing: Framing;
  /** Headers of the 200 stream answer besides {@link STREAM_HEADERS} and CORS. */
  readonly headers: OutgoingHttpHeaders;
  readonly preamble?: Buffer;
  /** GET with the connect request in `cf_connect` (uni_sse). */
  readonly get: boolean;
  /** OPTIONS answered 200 (uni_http_stream); else 405. */
  readonly options: boolean;
  /** `max_request_body_size` (0: {@link DEFAULT_CONNECT_REQUEST_LIMIT}). */
  readonly maxRequestBodySize: number;
  readonly connectCodeToHttpResponse: ConnectCodeToHttpResponseConfig;
}

/**
 * Serves one HTTP-stream uni endpoint: origin, method, the connect request (POST body, or
 * `cf_connect` of a GET), the rate limit, then a {@link Client} on a {@link StreamTransport}.
 * Bad input is answered with a status (and one log line); nothing here throws.
 */
export class UniStreamAcceptor {
  constructor(
    private readonly node: GyreNode,
    private readonly endpoint: UniStreamEndpoint,
    private readonly origins: OriginCheck,
    private readonly rate: ConnectionRateLimit,
  ) {}

  /** Handles a request already routed to this endpoint's path. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.serve(req, res).catch((e: unknown) => {
      this.node.log.error({ err: e, transport: this.endpoint.name }, 'unidirectional stream request failed');
      if (!res.headersSent) refuse(res, 500, 'internal server error');
      else res.destroy();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const log = this.node.log;
    const name = this.endpoint.name;
    if (!this.origins.allows(req)) {
      log.info({ transport: name, origin: req.headers.origin }, 'origin not allowed');
      return refuse(res, 403, 'origin not allowed');
    }
    const cors = corsHeaders(req);
    let params: ConnectCommandParams;
    if (req.method === 'OPTIONS' && this.endpoint.options) {
      res.writeHead(200, { ...cors, 'Content-Length': 0 });
      res.end();
      return;
    } else if (req.method === 'GET' && this.endpoint.get) {
      const text = cfConnectParam(req);
      try {
        params = text === undefined ? {} : decodeConnectRequest(Buffer.from(text, 'utf8'));
      } catch (e) {
        // Centrifugo logs this and answers nothing more than an empty 200.
        log.info({ transport: name, reason: reasonOf(e) }, 'malformed cf_connect parameter');
        res.writeHead(200, { ...cors, 'Content-Length': 0 });
        res.end();
        return;
      }
    } else if (req.method === 'POST') {
      const body = await readStreamBody(this.node, name, req, res, cors, this.endpoint.maxRequestBodySize);
      if (body === undefined) return;
      try {
        if (body.toString('utf8').trim() === '') throw new CommandDecodeError('empty body');
        params = decodeConnectRequest(body);
      } catch (e) {
        log.info({ transport: name, reason: reasonOf(e) }, 'malformed connect request');
        return answer(res, 400, cors, 'malformed connect request');
      }
    } else {
      log.info({ transport: name, method: req.method }, 'method not allowed');
      res.setHeader('Allow', this.endpoint.get ? 'GET, POST' : 'POST, OPTIONS');
      return answer(res, 405, cors, 'method not allowed', true);
    }
    if (!this.rate.take()) {
      log.info({ transport: name }, 'connection rate limit reached: request refused');
      return answer(res, 503, cors, 'connection rate limit reached');
    }
    this.accept(req, res, cors, params);
  }

  private accept(req: IncomingMessage, res: ServerResponse, cors: OutgoingHttpHeaders, params: ConnectCommandParams): void {
    const endpoint = this.endpoint;
    const client = startStreamClient(this.node, req, res, {
      name: endpoint.name,
      framing: endpoint.framing,
      headers: { ...STREAM_HEADERS, ...endpoint.headers, ...cors },
      ...(endpoint.preamble !== undefined && { preamble: endpoint.preamble }),
      maxQueued: this.node.config.client.queue_max_size,
      connectCodeToHttpResponse: endpoint.connectCodeToHttpResponse,
    });
    client.connectUnidirectional(params);
  }
}

/**
 * A request body within `maxRequestBodySize` (0: {@link DEFAULT_CONNECT_REQUEST_LIMIT});
 * undefined once a too large (413) or broken (400) one has been answered, with one log line.
 */
export async function readStreamBody(
  node: GyreNode,
  name: string,
  req: IncomingMessage,
  res: ServerResponse,
  cors: OutgoingHttpHeaders,
  maxRequestBodySize: number,
  what = 'connect request',
): Promise<Buffer | undefined> {
  const limit = maxRequestBodySize > 0 ? maxRequestBodySize : DEFAULT_CONNECT_REQUEST_LIMIT;
  if (declaresTooLarge(req, limit)) {
    node.log.info({ transport: name, limit }, `${what} body too large`);
    answer(res, 413, cors, 'request body too large', true);
    return undefined;
  }
  try {
    return await readBody(req, limit);
  } catch (e) {
    const tooLarge = e instanceof BodyTooLargeError;
    node.log.info({ transport: name, limit, reason: reasonOf(e) }, tooLarge ? `${what} body too large` : `${what} body unreadable`);
    answer(res, tooLarge ? 413 : 400, cors, tooLarge ? 'request body too large' : 'request body unreadable', true);
    return undefined;
  }
}

/**
 * A {@link Client} on a {@link StreamTransport} over the response, tracked by the node and gone
 * with the response: a peer that cannot keep up is closed (3008 / 3009), and a stream the server
 * ended takes its TCP connection along. The caller starts the connect.
 */
export function startStreamClient(node: GyreNode, req: IncomingMessage, res: ServerResponse, options: StreamTransportOptions): Client {
  const transport = new StreamTransport(req, res, options);
  const client = new Client(node, transport);
  transport.onWriteFailure = (d) => {
    const why = d.code === Disconnects.slow.code ? 'outgoing queue full' : 'response did not drain in time';
    node.log.warn({ client: client.id, transport: options.name, code: d.code }, `client too slow: ${why}, closing`);
    client.close(d);
  };
  // A stream the server ended: its connection goes too (no request follows a stream on it; a
  // kept-alive one would hold a graceful shutdown up). Node detaches the socket at 'finish'.
  const socket = req.socket;
  res.once('finish', () => socket.destroySoon());
  res.once('close', () => client.onTransportClosed());
  res.on('error', (err: Error) => node.log.debug({ client: client.id, err: err.message }, 'stream response error'));
  node.accept(client);
  return client;
}

/** A short answer with the CORS headers; `close`: the body was not read, the connection goes. */
export function answer(res: ServerResponse, status: number, cors: OutgoingHttpHeaders, message: string, close = false): void {
  if (res.headersSent) return;
  for (const [k, v] of Object.entries(cors)) if (v !== undefined) res.setHeader(k, v);
  if (close) return refuse(res, status, message);
  const text = JSON.stringify({ error: message });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** What a decoding or reading failure says, for the log. */
export function reasonOf(e: unknown): string {
  return e instanceof CommandDecodeError ? e.reason : e instanceof Error ? e.message : String(e);
}
