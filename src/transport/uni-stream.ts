/**
 * What is specific to the unidirectional HTTP streams (`uni_http_stream`, `uni_sse`): the connect
 * request decoder (uni_websocket's too) and the endpoint that decodes a request's connect request
 * and then streams the pushes of a client on a stream transport.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { ConnectCodeToHttpResponseConfig } from '../config/types.js';
import type { GyreNode } from '../node/node.js';
import { CommandDecodeError } from '../protocol/codec.js';
import { uniJsonCodec } from '../protocol/json-codec.js';
import type { ConnectCommandParams } from '../protocol/types.js';
import type { OriginCheck } from './origin.js';
import type { ConnectionRateLimit } from './rate-limit.js';
import { StreamAcceptor, type StreamEndpointRules, type StreamOpening } from './stream-acceptor.js';
import type { Framing } from './stream-framing.js';
import { answer, reasonOf, startStreamClient } from './stream-http.js';
import { STREAM_HEADERS } from './stream-transport.js';

// ---- the connect request ----

/**
 * Decodes a connect request (a bare ConnectRequest JSON object; empty = `{}`); throws
 * {@link CommandDecodeError} for malformed JSON, JSON nested too deep, or a request of the wrong shape.
 */
export function decodeConnectRequest(bytes: Buffer): ConnectCommandParams {
  return uniJsonCodec.decodeConnectRequest(bytes);
}

// ---- the endpoint ----

/** What differs between the two HTTP-stream endpoints. */
export interface UniStreamEndpoint extends StreamEndpointRules {
  readonly name: 'uni_http_stream' | 'uni_sse';
  readonly framing: Framing;
  /** Headers of the 200 stream answer besides {@link STREAM_HEADERS} and CORS. */
  readonly headers: OutgoingHttpHeaders;
  readonly preamble?: Buffer;
  readonly connectCodeToHttpResponse: ConnectCodeToHttpResponseConfig;
}

/**
 * Serves one HTTP-stream uni endpoint ({@link StreamAcceptor}): the connect request (POST body, or
 * `cf_connect` of a GET) is decoded, then a {@link Client} on a {@link StreamTransport} connects with it.
 */
export class UniStreamAcceptor extends StreamAcceptor<ConnectCommandParams> {
  constructor(
    node: GyreNode,
    private readonly endpoint: UniStreamEndpoint,
    origins: OriginCheck,
    rate: ConnectionRateLimit,
  ) {
    super(node, endpoint, origins, rate);
  }

  protected take(opening: StreamOpening, _req: IncomingMessage, res: ServerResponse, cors: OutgoingHttpHeaders): ConnectCommandParams | undefined {
    const name = this.endpoint.name;
    if (opening.method === 'GET') {
      try {
        return opening.text === undefined ? {} : decodeConnectRequest(Buffer.from(opening.text, 'utf8'));
      } catch (e) {
        // Centrifugo logs this and answers nothing more than an empty 200.
        this.node.log.info({ transport: name, reason: reasonOf(e) }, 'malformed cf_connect parameter');
        res.writeHead(200, { ...cors, 'Content-Length': 0 });
        res.end();
        return undefined;
      }
    }
    try {
      if (opening.body.toString('utf8').trim() === '') throw new CommandDecodeError('empty body');
      return decodeConnectRequest(opening.body);
    } catch (e) {
      this.node.log.info({ transport: name, reason: reasonOf(e) }, 'malformed connect request');
      answer(res, 400, cors, 'malformed connect request');
      return undefined;
    }
  }

  protected start(req: IncomingMessage, res: ServerResponse, cors: OutgoingHttpHeaders, params: ConnectCommandParams): void {
    const endpoint = this.endpoint;
    const client = startStreamClient(this.node, req, res, {
      name: endpoint.name,
      framing: endpoint.framing,
      headers: { ...STREAM_HEADERS, ...endpoint.headers, ...cors },
      ...(endpoint.preamble !== undefined && { preamble: endpoint.preamble }),
      maxQueued: this.node.config.client.queue_max_size,
      writeDelay: this.node.config.client.write_delay,
      connectCodeToHttpResponse: endpoint.connectCodeToHttpResponse,
    });
    client.connectUnidirectional(params);
  }
}
