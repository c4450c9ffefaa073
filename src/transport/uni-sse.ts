/**
 * The unidirectional Server-Sent Events transport (`uni_sse`), for the browser's EventSource:
 * `GET` with the connect request (a bare ConnectRequest JSON object) in the `cf_connect` URL
 * parameter (none: an empty request), or `POST` with it as the body. Answered with a 200
 * `text/event-stream`: `\r\n`, then one `data: <push JSON>\n\n` event per push (pings
 * `data: {}\n\n`), ended after the `disconnect` push. As Centrifugo: another method 405, a body
 * over `max_request_body_size` 413, a malformed body 400, a malformed `cf_connect` an empty 200.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UniSseConfig } from '../config/types.js';
import type { GyreNode } from '../node/node.js';
import type { OriginCheck } from './origin.js';
import type { ConnectionRateLimit } from './rate-limit.js';
import { SSE_FRAMING } from './stream-framing.js';
import { UniStreamAcceptor } from './uni-stream.js';

const PREAMBLE = Buffer.from('\r\n', 'ascii');

export class UniSseAcceptor {
  private readonly acceptor: UniStreamAcceptor;

  constructor(node: GyreNode, config: UniSseConfig, origins: OriginCheck, rate: ConnectionRateLimit) {
    this.acceptor = new UniStreamAcceptor(
      node,
      {
        name: 'uni_sse',
        framing: SSE_FRAMING,
        headers: { 'Content-Type': 'text/event-stream; charset=utf-8' },
        preamble: PREAMBLE,
        get: true,
        options: false,
        maxRequestBodySize: config.max_request_body_size,
        connectCodeToHttpResponse: config.connect_code_to_http_response,
      },
      origins,
      rate,
    );
  }

  /** Handles a request already routed to `uni_sse.handler_prefix`. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.acceptor.handle(req, res);
  }
}
