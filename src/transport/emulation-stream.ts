/**
 * What the two bidirectional emulation streams (`http_stream`, `sse`: the JavaScript SDK's
 * fallbacks when WebSocket is unavailable) share: the request handling up to the connect. The
 * request carries the client's first frame of commands (its connect command); the answer is a 200
 * stream of replies and pushes, written by a {@link StreamTransport}; the client's later commands
 * arrive at the emulation endpoint (emulation.ts), addressed by the `session` and `node` its
 * connect result carries.
 *
 * As Centrifugo, the first frame is handled as a frame of a WebSocket connection: a malformed one
 * (or one not starting with connect) closes the connection with 3501 on the 200 stream (the
 * `disconnect` push, then the end of the response).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { refuse } from '../http/respond.js';
import type { GyreNode } from '../node/node.js';
import type { ProtocolName } from '../protocol/codec.js';
import { checkOrigin, type OriginCheck } from './origin.js';
import type { ConnectionRateLimit } from './rate-limit.js';
import type { Framing } from './stream-framing.js';
import { answer, cfConnectParam, corsHeaders, readStreamBody, startStreamClient } from './stream-http.js';
import { STREAM_HEADERS } from './stream-transport.js';

/** The content type that makes a POST body (and the stream) protobuf, exactly, as Centrifugo compares it. */
export const PROTOBUF_CONTENT_TYPE = 'application/octet-stream';

/** What differs between the two emulation streams. */
export interface EmulationStreamEndpoint {
  readonly name: 'http_stream' | 'sse';
  /** How replies are framed on the stream, by protocol. */
  readonly framing: (protocol: ProtocolName) => Framing;
  /** Headers of the 200 stream answer besides {@link STREAM_HEADERS} and CORS, by protocol. */
  readonly headers: (protocol: ProtocolName) => OutgoingHttpHeaders;
  /** Written right after the headers (`\r\n` for SSE). */
  readonly preamble?: Buffer;
  /** GET with the connect command in `cf_connect` (sse). */
  readonly get: boolean;
  /** OPTIONS answered 200 (http_stream); else 405. */
  readonly options: boolean;
  /** A POST with `Content-Type: application/octet-stream` speaks protobuf (http_stream); else JSON always. */
  readonly protobuf: boolean;
  /** `max_request_body_size` (0: 65536). */
  readonly maxRequestBodySize: number;
}

/**
 * Serves one emulation stream endpoint: origin, method, the first frame (POST body, or the
 * `cf_connect` parameter of a GET), the rate limit, then a {@link Client} on a bidirectional
 * StreamTransport, handed the frame. Bad input is answered with a status (and one log line);
 * nothing here throws.
 */
export class EmulationStreamAcceptor {
  constructor(
    private readonly node: GyreNode,
    private readonly endpoint: EmulationStreamEndpoint,
    private readonly origins: OriginCheck,
    private readonly rate: ConnectionRateLimit,
  ) {}

  /** Handles a request already routed to this endpoint's path. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.serve(req, res).catch((e: unknown) => {
      this.node.log.error({ err: e, transport: this.endpoint.name }, 'emulation stream request failed');
      if (!res.headersSent) refuse(res, 500, 'internal server error');
      else res.destroy();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const log = this.node.log;
    const { name } = this.endpoint;
    if (!checkOrigin(this.origins, req, log, name)) {
      return refuse(res, 403, 'origin not allowed');
    }
    const cors = corsHeaders(req);
    let frame: Buffer;
    let protocol: ProtocolName = 'json';
    if (req.method === 'OPTIONS' && this.endpoint.options) {
      res.writeHead(200, { ...cors, 'Content-Length': 0 });
      res.end();
      return;
    } else if (req.method === 'GET' && this.endpoint.get) {
      const text = cfConnectParam(req);
      if (text === undefined) {
        log.info({ transport: name }, 'no cf_connect parameter');
        return answer(res, 400, cors, 'no cf_connect parameter');
      }
      frame = Buffer.from(text, 'utf8');
    } else if (req.method === 'POST') {
      const body = await readStreamBody(this.node, name, req, res, cors, this.endpoint.maxRequestBodySize);
      if (body === undefined) return;
      frame = body;
      if (this.endpoint.protobuf && req.headers['content-type'] === PROTOBUF_CONTENT_TYPE) protocol = 'protobuf';
    } else {
      log.info({ transport: name, method: req.method }, 'method not allowed');
      res.setHeader('Allow', this.endpoint.get ? 'GET, POST' : 'POST, OPTIONS');
      return answer(res, 405, cors, 'method not allowed', true);
    }
    if (!this.rate.take()) {
      log.info({ transport: name }, 'connection rate limit reached: request refused');
      return answer(res, 503, cors, 'connection rate limit reached');
    }
    const endpoint = this.endpoint;
    const client = startStreamClient(this.node, req, res, {
      name,
      protocol,
      emulation: true,
      framing: endpoint.framing(protocol),
      headers: { ...STREAM_HEADERS, ...endpoint.headers(protocol), ...cors },
      ...(endpoint.preamble !== undefined && { preamble: endpoint.preamble }),
      maxQueued: this.node.config.client.queue_max_size,
      writeDelay: this.node.config.client.write_delay,
    });
    // Malformed (or empty) frames close the connection with 3501 on the 200 stream.
    client.handleFrame(frame);
  }
}
