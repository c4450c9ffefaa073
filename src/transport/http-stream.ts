/**
 * The HTTP-streaming transport (`http_stream`), the JavaScript SDK's first fallback: `POST` with
 * the connect command as body (JSON; protobuf with `Content-Type: application/octet-stream`),
 * answered with a 200 stream of replies: JSON ones one per line (`{"id":1,"connect":{...}}\n`,
 * pings `{}\n`), protobuf ones each preceded by its length as a varint (pings a single 0 byte).
 * The client's later commands (pongs included) come through the emulation endpoint. As
 * Centrifugo: OPTIONS 200, another method 405, a body over `max_request_body_size` 413, a
 * malformed body a `3501` disconnect on the 200 stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpStreamConfig } from '../config/types.js';
import type { GyreNode } from '../node/node.js';
import { EmulationStreamAcceptor } from './emulation-stream.js';
import type { OriginCheck } from './origin.js';
import type { ConnectionRateLimit } from './rate-limit.js';
import { NDJSON_FRAMING, VARINT_FRAMING } from './stream-framing.js';

export class HttpStreamAcceptor {
  private readonly acceptor: EmulationStreamAcceptor;

  constructor(node: GyreNode, config: HttpStreamConfig, origins: OriginCheck, rate: ConnectionRateLimit) {
    this.acceptor = new EmulationStreamAcceptor(
      node,
      {
        name: 'http_stream',
        framing: (protocol) => (protocol === 'protobuf' ? VARINT_FRAMING : NDJSON_FRAMING),
        // Centrifugo sets none; Go then sniffs these from the first bytes (the SDK reads none).
        headers: (protocol) => ({ 'Content-Type': protocol === 'protobuf' ? 'application/octet-stream' : 'text/plain; charset=utf-8' }),
        get: false,
        options: true,
        protobuf: true,
        maxRequestBodySize: config.max_request_body_size,
      },
      origins,
      rate,
    );
  }

  /** Handles a request already routed to `http_stream.handler_prefix`. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.acceptor.handle(req, res);
  }
}
