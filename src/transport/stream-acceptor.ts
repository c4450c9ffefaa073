/**
 * What every HTTP stream endpoint (`http_stream`, `sse`, `uni_http_stream`, `uni_sse`) does with
 * a request before its client exists: the origin (403), CORS, OPTIONS (200 where allowed), the
 * method (405), the connect frame from a GET's `cf_connect` or a POST body (413 / 400), then the
 * connection rate limit (503). Subclasses read the frame ({@link StreamAcceptor.take}) and start
 * the client ({@link StreamAcceptor.start}). Bad input is answered with a status and one log line;
 * nothing here throws.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { refuse } from '../http/respond.js';
import type { GyreNode } from '../node/node.js';
import { checkOrigin, type OriginCheck } from './origin.js';
import type { ConnectionRateLimit } from './rate-limit.js';
import { answer, cfConnectParam, corsHeaders, readStreamBody } from './stream-http.js';

/** How an endpoint takes requests. */
export interface StreamEndpointRules {
  readonly name: 'http_stream' | 'sse' | 'uni_http_stream' | 'uni_sse';
  /** GET with the connect frame in `cf_connect` (the SSE endpoints). */
  readonly get: boolean;
  /** OPTIONS answered 200 (the HTTP-stream endpoints); else 405. */
  readonly options: boolean;
  /** `max_request_body_size` (0: the default, 65536). */
  readonly maxRequestBodySize: number;
}

/** The connect frame as the request carried it. */
export type StreamOpening = { readonly method: 'GET'; readonly text: string | undefined } | { readonly method: 'POST'; readonly body: Buffer };

export abstract class StreamAcceptor<Frame> {
  constructor(
    protected readonly node: GyreNode,
    private readonly rules: StreamEndpointRules,
    private readonly origins: OriginCheck,
    private readonly rate: ConnectionRateLimit,
  ) {}

  /**
   * The endpoint's reading of the connect frame; `undefined` when it has answered the request
   * itself (bad input), which then ends there.
   */
  protected abstract take(opening: StreamOpening, req: IncomingMessage, res: ServerResponse, cors: OutgoingHttpHeaders): Frame | undefined;

  /** Starts the client of an accepted request. */
  protected abstract start(req: IncomingMessage, res: ServerResponse, cors: OutgoingHttpHeaders, frame: Frame): void;

  /** Handles a request already routed to this endpoint's path. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.serve(req, res).catch((e: unknown) => {
      this.node.log.error({ err: e, transport: this.rules.name }, 'stream request failed');
      if (!res.headersSent) refuse(res, 500, 'internal server error');
      else res.destroy();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const log = this.node.log;
    const { name } = this.rules;
    if (!checkOrigin(this.origins, req, log, name)) {
      return refuse(res, 403, 'origin not allowed');
    }
    const cors = corsHeaders(req);
    let opening: StreamOpening;
    if (req.method === 'OPTIONS' && this.rules.options) {
      res.writeHead(200, { ...cors, 'Content-Length': 0 });
      res.end();
      return;
    } else if (req.method === 'GET' && this.rules.get) {
      opening = { method: 'GET', text: cfConnectParam(req) };
    } else if (req.method === 'POST') {
      const body = await readStreamBody(this.node, name, req, res, cors, this.rules.maxRequestBodySize);
      if (body === undefined) return;
      opening = { method: 'POST', body };
    } else {
      log.info({ transport: name, method: req.method }, 'method not allowed');
      res.setHeader('Allow', this.rules.get ? 'GET, POST' : 'POST, OPTIONS');
      return answer(res, 405, cors, 'method not allowed', true);
    }
    const frame = this.take(opening, req, res, cors);
    if (frame === undefined) return;
    if (!this.rate.take()) {
      log.info({ transport: name }, 'connection rate limit reached: request refused');
      return answer(res, 503, cors, 'connection rate limit reached');
    }
    this.start(req, res, cors, frame);
  }
}
