/**
 * The emulation endpoint (`POST /emulation`, `emulation.handler_prefix`): where the JavaScript
 * SDK's HTTP-streaming and SSE connections send their commands after the connect (subscribe,
 * publish, rpc, refresh, pongs ...), one request per batch of commands, addressed by the `session`
 * and `node` of the connection's connect result. Served when `http_stream` or `sse` is enabled.
 *
 * The body is a JSON `{"session", "node", "data"}` (`data`: a string holding the commands, JSON
 * texts joined by `\n`), or, with `Content-Type: application/octet-stream`, a protobuf
 * EmulationRequest (node 1, session 2, data 3: varint-delimited Commands). Any node of a cluster
 * takes it: the node holding the session gets the commands over the engine's control channel
 * (Redis, NATS), so a load balancer needs no stickiness for this endpoint.
 *
 * As Centrifugo: OPTIONS 200; no other method check (a GET has no body: 400); a body over
 * `emulation.max_request_body_size` 413; a body that does not decode 400; a node no live node of
 * the cluster has as id 404 (the SDK reconnects); the commands handed over (or sent to the node
 * holding the session), and a session its node does not hold (any more), 204; the control channel
 * failing 500 (the SDK reconnects). Commands the connection cannot decode close it with 3501, as
 * over WebSocket; the endpoint still answers 204.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulationConfig } from '../config/types.js';
import { refuse } from '../http/respond.js';
import type { EmulationCommands, GyreNode } from '../node/node.js';
import { CommandDecodeError } from '../protocol/codec.js';
import { frameText } from '../protocol/json-codec.js';
import { jsonTooDeep, MAX_JSON_DEPTH } from '../protocol/json-depth.js';
import { decodeEmulationRequest } from '../protocol/protobuf-decode.js';
import { PROTOBUF_CONTENT_TYPE } from './emulation-stream.js';
import { checkOrigin, type OriginCheck } from './origin.js';
import { answer, corsHeaders, readStreamBody, reasonOf } from './stream-http.js';

/**
 * Decodes an emulation request body: protobuf when the content type is exactly
 * `application/octet-stream` (as Centrifugo compares it), else JSON. Throws
 * {@link CommandDecodeError} when it does not decode, or when a JSON one's `node` or `session` is
 * not a string or its `data` not a string.
 */
export function decodeEmulationBody(body: Buffer, contentType: string | undefined): EmulationCommands {
  if (contentType === PROTOBUF_CONTENT_TYPE) {
    const r = decodeEmulationRequest(body);
    return { node: r.node, session: r.session, protocol: 'protobuf', data: r.data };
  }
  const text = frameText(body);
  if (text.length > MAX_JSON_DEPTH && jsonTooDeep(text)) throw new CommandDecodeError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CommandDecodeError('malformed JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CommandDecodeError('not a JSON object');
  const { node = '', session = '', data } = value as Record<string, unknown>;
  if (typeof node !== 'string') throw new CommandDecodeError('node is not a string');
  if (typeof session !== 'string') throw new CommandDecodeError('session is not a string');
  if (typeof data !== 'string') throw new CommandDecodeError('data is not a string');
  return { node, session, protocol: 'json', data: Buffer.from(data, 'utf8') };
}

/** Serves the emulation endpoint: origin, body, decoding, then the node routes the commands. */
export class EmulationAcceptor {
  constructor(
    private readonly node: GyreNode,
    private readonly config: EmulationConfig,
    private readonly origins: OriginCheck,
  ) {}

  /** Handles a request already routed to `emulation.handler_prefix`. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.serve(req, res).catch((e: unknown) => {
      this.node.log.error({ err: e }, 'emulation request failed');
      if (!res.headersSent) refuse(res, 500, 'internal server error');
      else res.destroy();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const log = this.node.log;
    if (!checkOrigin(this.origins, req, log, 'emulation')) {
      return refuse(res, 403, 'origin not allowed');
    }
    const cors = corsHeaders(req);
    if (req.method === 'OPTIONS') {
      res.writeHead(200, { ...cors, 'Content-Length': 0 });
      res.end();
      return;
    }
    const body = await readStreamBody(this.node, 'emulation', req, res, cors, this.config.max_request_body_size, 'emulation request');
    if (body === undefined) return;
    let cmds: EmulationCommands;
    try {
      cmds = decodeEmulationBody(body, req.headers['content-type']);
    } catch (e) {
      log.info({ transport: 'emulation', method: req.method, reason: reasonOf(e) }, 'malformed emulation request');
      return answer(res, 400, cors, 'malformed emulation request');
    }
    let outcome: Awaited<ReturnType<GyreNode['emulate']>>;
    try {
      outcome = await this.node.emulate(cmds);
    } catch (e) {
      log.warn({ transport: 'emulation', node: cmds.node, err: e instanceof Error ? e.message : String(e) }, 'emulation commands not sent to their node');
      return answer(res, 500, cors, 'commands not delivered');
    }
    if (outcome === 'unknown-node') {
      log.info({ transport: 'emulation', node: cmds.node }, 'emulation request for an unknown node');
      return answer(res, 404, cors, 'node not found');
    }
    res.writeHead(204, cors);
    res.end();
  }
}
