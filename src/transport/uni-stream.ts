/**
 * What is specific to the unidirectional HTTP streams (`uni_http_stream`, `uni_sse`): the connect
 * request decoder (uni_websocket's too) and the endpoint that handles a request up to the connect
 * (origin, method, the connect request, the connection rate limit) and then streams the pushes
 * of a client on a stream transport.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { ConnectCodeToHttpResponseConfig } from '../config/types.js';
import { refuse } from '../http/respond.js';
import type { GyreNode } from '../node/node.js';
import { CommandDecodeError } from '../protocol/codec.js';
import { uniJsonCodec } from '../protocol/json-codec.js';
import type { ConnectCommandParams } from '../protocol/types.js';
import { checkOrigin, type OriginCheck } from './origin.js';
import type { ConnectionRateLimit } from './rate-limit.js';
import type { Framing } from './stream-framing.js';
import { answer, cfConnectParam, corsHeaders, readStreamBody, reasonOf, startStreamClient } from './stream-http.js';
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
    if (!checkOrigin(this.origins, req, log, name)) {
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
      writeDelay: this.node.config.client.write_delay,
      connectCodeToHttpResponse: endpoint.connectCodeToHttpResponse,
    });
    client.connectUnidirectional(params);
  }
}
