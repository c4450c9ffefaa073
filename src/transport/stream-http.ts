/**
 * The request side shared by the HTTP endpoints of the stream transports (the unidirectional
 * `uni_http_stream` and `uni_sse`, the bidirectional emulation `http_stream` and `sse`, and the
 * emulation endpoint): the CORS headers, the `cf_connect` URL parameter (uni_websocket's too), a
 * request body read within its limit, the short error answers, and the start of a {@link Client}
 * on a {@link StreamTransport}.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { BodyTooLargeError, declaresTooLarge, readBody } from '../http/body.js';
import { refuse } from '../http/respond.js';
import { Client } from '../node/client.js';
import type { GyreNode } from '../node/node.js';
import { CommandDecodeError } from '../protocol/codec.js';
import { Disconnects } from '../protocol/codes.js';
import { StreamTransport, type StreamTransportOptions } from './stream-transport.js';

/** The limit of a connect request body (and a uni_websocket connect message) when the key is 0: Centrifugo's default. */
export const DEFAULT_CONNECT_REQUEST_LIMIT = 65_536;

/** The `cf_connect` URL parameter of a request; undefined when absent or empty. */
export function cfConnectParam(req: IncomingMessage): string | undefined {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const value = new URLSearchParams(url.slice(q + 1)).get('cf_connect');
  return value === null || value === '' ? undefined : value;
}

/**
 * CORS headers for a request whose Origin passed `client.allowed_origins` (none without an Origin),
 * as Centrifugo's middleware sets them: the origin, the requested headers, credentials allowed.
 */
export function corsHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const origin = req.headers.origin;
  if (origin === undefined || origin === '') return {};
  const headers: OutgoingHttpHeaders = { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' };
  const requested = req.headers['access-control-request-headers'];
  if (requested !== undefined && requested !== '') headers['Access-Control-Allow-Headers'] = requested;
  return headers;
}

/**
 * A request body within `maxRequestBodySize` (0: {@link DEFAULT_CONNECT_REQUEST_LIMIT});
 * undefined once a too large (413) or broken (400) one has been answered, with one log line.
 */
export async function readStreamBody(
  node: GyreNode,
  name: string,
  req: IncomingMessage,
  res: ServerResponse,
  cors: OutgoingHttpHeaders,
  maxRequestBodySize: number,
  what = 'connect request',
): Promise<Buffer | undefined> {
  const limit = maxRequestBodySize > 0 ? maxRequestBodySize : DEFAULT_CONNECT_REQUEST_LIMIT;
  if (declaresTooLarge(req, limit)) {
    node.log.info({ transport: name, limit }, `${what} body too large`);
    answer(res, 413, cors, 'request body too large', true);
    return undefined;
  }
  try {
    return await readBody(req, limit);
  } catch (e) {
    const tooLarge = e instanceof BodyTooLargeError;
    node.log.info({ transport: name, limit, reason: reasonOf(e) }, tooLarge ? `${what} body too large` : `${what} body unreadable`);
    answer(res, tooLarge ? 413 : 400, cors, tooLarge ? 'request body too large' : 'request body unreadable', true);
    return undefined;
  }
}

/**
 * A {@link Client} on a {@link StreamTransport} over the response, tracked by the node and gone
 * with the response: a peer that cannot keep up is closed (3008 / 3009), and a stream the server
 * ended takes its TCP connection along. The caller starts the connect.
 */
export function startStreamClient(node: GyreNode, req: IncomingMessage, res: ServerResponse, options: StreamTransportOptions): Client {
  const transport = new StreamTransport(req, res, options);
  const client = new Client(node, transport);
  transport.onWriteFailure = (d) => {
    const why = d.code === Disconnects.slow.code ? 'outgoing queue full' : 'response did not drain in time';
    node.log.warn({ client: client.id, transport: options.name, code: d.code }, `client too slow: ${why}, closing`);
    client.close(d);
  };
  // A stream the server ended: its connection goes too (no request follows a stream on it; a
  // kept-alive one would hold a graceful shutdown up). Node detaches the socket at 'finish'.
  const socket = req.socket;
  res.once('finish', () => socket.destroySoon());
  res.once('close', () => client.onTransportClosed());
  res.on('error', (err: Error) => node.log.debug({ client: client.id, err: err.message }, 'stream response error'));
  node.accept(client);
  return client;
}

/** A short answer with the CORS headers; `close`: the body was not read, the connection goes. */
export function answer(res: ServerResponse, status: number, cors: OutgoingHttpHeaders, message: string, close = false): void {
  if (res.headersSent) return;
  for (const [k, v] of Object.entries(cors)) if (v !== undefined) res.setHeader(k, v);
  if (close) return refuse(res, status, message);
  const text = JSON.stringify({ error: message });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** What a decoding or reading failure says, for the log. */
export function reasonOf(e: unknown): string {
  return e instanceof CommandDecodeError ? e.reason : e instanceof Error ? e.message : String(e);
}
