/**
 * What the two bidirectional emulation streams (`http_stream`, `sse`: the JavaScript SDK's
 * fallbacks when WebSocket is unavailable) share beyond every stream's request handling
 * (stream-acceptor.ts): the first frame and the client it starts. The
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
import type { GyreNode } from '../node/node.js';
import type { ProtocolName } from '../protocol/codec.js';
import type { OriginCheck } from './origin.js';
import type { ConnectionRateLimit } from './rate-limit.js';
import { StreamAcceptor, type StreamEndpointRules, type StreamOpening } from './stream-acceptor.js';
import type { Framing } from './stream-framing.js';
import { answer, startStreamClient } from './stream-http.js';
import { STREAM_HEADERS } from './stream-transport.js';

/** The content type that makes a POST body (and the stream) protobuf, exactly, as Centrifugo compares it. */
export const PROTOBUF_CONTENT_TYPE = 'application/octet-stream';

/** What differs between the two emulation streams. */
export interface EmulationStreamEndpoint extends StreamEndpointRules {
  readonly name: 'http_stream' | 'sse';
  /** How replies are framed on the stream, by protocol. */
  readonly framing: (protocol: ProtocolName) => Framing;
  /** Headers of the 200 stream answer besides {@link STREAM_HEADERS} and CORS, by protocol. */
  readonly headers: (protocol: ProtocolName) => OutgoingHttpHeaders;
  /** Written right after the headers (`\r\n` for SSE). */
  readonly preamble?: Buffer;
  /** A POST with `Content-Type: application/octet-stream` speaks protobuf (http_stream); else JSON always. */
  readonly protobuf: boolean;
}

/**
 * Serves one emulation stream endpoint ({@link StreamAcceptor}): the first frame (POST body, or
 * the `cf_connect` parameter of a GET) goes, as it is, to a {@link Client} on a bidirectional
 * StreamTransport.
 */
export class EmulationStreamAcceptor extends StreamAcceptor<{ frame: Buffer; protocol: ProtocolName }> {
  constructor(
    node: GyreNode,
    private readonly endpoint: EmulationStreamEndpoint,
    origins: OriginCheck,
    rate: ConnectionRateLimit,
  ) {
    super(node, endpoint, origins, rate);
  }

  protected take(opening: StreamOpening, req: IncomingMessage, res: ServerResponse, cors: OutgoingHttpHeaders): { frame: Buffer; protocol: ProtocolName } | undefined {
    if (opening.method === 'POST') {
      const protobuf = this.endpoint.protobuf && req.headers['content-type'] === PROTOBUF_CONTENT_TYPE;
      return { frame: opening.body, protocol: protobuf ? 'protobuf' : 'json' };
    }
    if (opening.text === undefined) {
      this.node.log.info({ transport: this.endpoint.name }, 'no cf_connect parameter');
      answer(res, 400, cors, 'no cf_connect parameter');
      return undefined;
    }
    return { frame: Buffer.from(opening.text, 'utf8'), protocol: 'json' };
  }

  protected start(req: IncomingMessage, res: ServerResponse, cors: OutgoingHttpHeaders, first: { frame: Buffer; protocol: ProtocolName }): void {
    const { endpoint } = this;
    const { protocol } = first;
    const client = startStreamClient(this.node, req, res, {
      name: endpoint.name,
      protocol,
      emulation: true,
      framing: endpoint.framing(protocol),
      headers: { ...STREAM_HEADERS, ...endpoint.headers(protocol), ...cors },
      ...(endpoint.preamble !== undefined && { preamble: endpoint.preamble }),
      maxQueued: this.node.config.client.queue_max_size,
      writeDelay: this.node.config.client.write_delay,
      replyWithoutQueue: this.node.config.client.reply_without_queue,
    });
    // Malformed (or empty) frames close the connection with 3501 on the 200 stream.
    client.handleFrame(first.frame);
  }
}
