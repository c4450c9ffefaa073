/**
 * The unidirectional HTTP-streaming transport (`uni_http_stream`): `POST` with the connect request
 * (a bare ConnectRequest JSON object) as the body, answered with a 200 stream of pushes, one JSON
 * object per line (`{"connect":{...}}\n`, `{"channel":"news","pub":{...}}\n`, pings `{}\n`), ended
 * after a `{"disconnect":{...}}` line. As Centrifugo: OPTIONS 200, another method 405, a body over
 * `max_request_body_size` 413, malformed JSON (an empty body included) 400.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UniHttpStreamConfig } from '../config/types.js';
import type { GyreNode } from '../node/node.js';
import type { OriginCheck } from './origin.js';
import type { ConnectionRateLimit } from './rate-limit.js';
import { NDJSON_FRAMING } from './stream-framing.js';
import { UniStreamAcceptor } from './uni-stream.js';

export class UniHttpStreamAcceptor {
  private readonly acceptor: UniStreamAcceptor;

  constructor(node: GyreNode, config: UniHttpStreamConfig, origins: OriginCheck, rate: ConnectionRateLimit) {
    this.acceptor = new UniStreamAcceptor(
      node,
      {
        name: 'uni_http_stream',
        framing: NDJSON_FRAMING,
        // Centrifugo sets none; Go then sniffs this one from the first push.
        headers: { 'Content-Type': 'text/plain; charset=utf-8' },
        get: false,
        options: true,
        maxRequestBodySize: config.max_request_body_size,
        connectCodeToHttpResponse: config.connect_code_to_http_response,
      },
      origins,
      rate,
    );
  }

  /** Handles a request already routed to `uni_http_stream.handler_prefix`. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.acceptor.handle(req, res);
  }
}
