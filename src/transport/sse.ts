/**
 * The Server-Sent Events transport (`sse`), the JavaScript SDK's EventSource fallback (JSON
 * only): `GET` with the connect command JSON in the `cf_connect` URL parameter (or `POST` with it
 * as body), answered with a 200 `text/event-stream`: `\r\n`, then one `data: <reply JSON>\n\n`
 * event per reply (pings `data: {}\n\n`), ended after the `disconnect` push. The client's later
 * commands (pongs included) come through the emulation endpoint. As Centrifugo: a GET without
 * `cf_connect` 400, another method 405, a POST body over `max_request_body_size` 413, a malformed
 * command (or protobuf) a `3501` disconnect on the 200 stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SseConfig } from '../config/types.js';
import type { GyreNode } from '../node/node.js';
import { EmulationStreamAcceptor } from './emulation-stream.js';
import type { OriginCheck } from './origin.js';
import type { ConnectionRateLimit } from './rate-limit.js';
import { SSE_FRAMING } from './stream-framing.js';

const PREAMBLE = Buffer.from('\r\n', 'ascii');

export class SseAcceptor {
  private readonly acceptor: EmulationStreamAcceptor;

  constructor(node: GyreNode, config: SseConfig, origins: OriginCheck, rate: ConnectionRateLimit) {
    this.acceptor = new EmulationStreamAcceptor(
      node,
      {
        name: 'sse',
        framing: () => SSE_FRAMING,
        headers: () => ({ 'Content-Type': 'text/event-stream; charset=utf-8' }),
        preamble: PREAMBLE,
        get: true,
        options: false,
        protobuf: false,
        maxRequestBodySize: config.max_request_body_size,
      },
      origins,
      rate,
    );
  }

  /** Handles a request already routed to `sse.handler_prefix`. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.acceptor.handle(req, res);
  }
}
