/**
 * The one registry of protocol codes: reply errors, unsubscribe codes and disconnect codes,
 * with the numbers and texts of the Centrifugo v2 client protocol.
 */

/** An error carried in a reply (`{"error": {code, message, temporary}}`). */
export interface ProtocolError {
  readonly code: number;
  readonly message: string;
  readonly temporary?: boolean;
}

function err(code: number, message: string, temporary = false): ProtocolError {
  return Object.freeze(temporary ? { code, message, temporary } : { code, message });
}

/** Reply error codes (100-113). Application errors use 400-1999. */
export const Errors = Object.freeze({
  internal: err(100, 'internal server error', true),
  unauthorized: err(101, 'unauthorized'),
  unknownChannel: err(102, 'unknown channel'),
  permissionDenied: err(103, 'permission denied'),
  methodNotFound: err(104, 'method not found'),
  alreadySubscribed: err(105, 'already subscribed'),
  limitExceeded: err(106, 'limit exceeded'),
  badRequest: err(107, 'bad request'),
  notAvailable: err(108, 'not available'),
  tokenExpired: err(109, 'token expired'),
  expired: err(110, 'expired'),
  tooManyRequests: err(111, 'too many requests', true),
  unrecoverablePosition: err(112, 'unrecoverable position'),
  concurrentPagination: err(113, 'concurrent pagination', true),
});

/**
 * HTTP statuses of reply errors in the HTTP API's transport error mode (Centrifugo's mapping);
 * a code not listed is 400.
 */
const TRANSPORT_STATUS: ReadonlyMap<number, number> = new Map([
  [Errors.internal.code, 500],
  [Errors.unknownChannel.code, 404],
  [Errors.methodNotFound.code, 404],
  [Errors.badRequest.code, 400],
  [Errors.notAvailable.code, 400],
  [Errors.unrecoverablePosition.code, 416],
  [Errors.concurrentPagination.code, 409],
]);

/** The HTTP status answering a reply error with code `code` in transport error mode. */
export function transportStatus(code: number): number {
  return TRANSPORT_STATUS.get(code) ?? 400;
}

/** A reason to close a connection: a WebSocket close code and a short reason. */
export interface Disconnect {
  readonly code: number;
  readonly reason: string;
}

function dc(code: number, reason: string): Disconnect {
  return Object.freeze({ code, reason });
}

/**
 * Disconnect codes. 3000-3499 and 4000-4499: the client reconnects;
 * 3500-3999 and 4500-4999: terminal.
 */
export const Disconnects = Object.freeze({
  connectionClosed: dc(3000, 'connection closed'),
  shutdown: dc(3001, 'shutdown'),
  internal: dc(3004, 'internal server error'),
  expired: dc(3005, 'connection expired'),
  subExpired: dc(3006, 'subscription expired'),
  slow: dc(3008, 'slow'),
  writeError: dc(3009, 'write error'),
  insufficientState: dc(3010, 'insufficient state'),
  forceReconnect: dc(3011, 'force reconnect'),
  noPong: dc(3012, 'no pong'),
  tooManyRequests: dc(3013, 'too many requests'),
  stateInvalidated: dc(3014, 'state invalidated'),
  invalidToken: dc(3500, 'invalid token'),
  badRequest: dc(3501, 'bad request'),
  stale: dc(3502, 'stale'),
  forceNoReconnect: dc(3503, 'force disconnect'),
  connectionLimit: dc(3504, 'connection limit'),
  channelLimit: dc(3505, 'channel limit'),
  inappropriateProtocol: dc(3506, 'inappropriate protocol'),
  permissionDenied: dc(3507, 'permission denied'),
  notAvailable: dc(3508, 'not available'),
  tooManyErrors: dc(3509, 'too many errors'),
});

/** WebSocket's own close codes (RFC 6455) that Gyre sends: the event protocol uses them. */
export const WebSocketCloses = Object.freeze({
  /** A normal close, nothing wrong. */
  normal: dc(1000, ''),
  /** The server is going away (shutdown). */
  goingAway: dc(1001, 'shutdown'),
});

/**
 * Most commands (client protocol) or messages (event protocol) one connection may have waiting to
 * be processed; one more closes it with 3013 "too many requests".
 */
export const MAX_INBOX = 1024;

/** Codes of the `unsubscribe` push. >= 2500: the client resubscribes. */
export const Unsubscribes = Object.freeze({
  server: dc(2000, 'server unsubscribe'),
  insufficientState: dc(2500, 'insufficient state'),
  expired: dc(2501, 'subscription expired'),
  stateInvalidated: dc(2502, 'state invalidated'),
});

/**
 * What to log about a protocol or disconnect exception: a message and extra fields (e.g. the
 * reason a token was rejected). The handler logs it once, where the exception is caught, so that
 * one bad request makes one log line.
 */
export interface LogDetail {
  readonly msg: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** An exception that carries a protocol error to the reply. */
export class ProtocolException extends Error {
  /**
   * The error for the reply. Not enumerable: pino's err serializer tags every error-like property
   * of a logged error, and the registry's errors are frozen (logging one would throw).
   */
  declare readonly error: ProtocolError;

  constructor(
    error: ProtocolError,
    readonly log?: LogDetail,
  ) {
    super(error.message);
    Object.defineProperty(this, 'error', { value: error, enumerable: false });
    this.name = 'ProtocolException';
  }
}

/** An exception that closes the connection with a disconnect code. */
export class DisconnectException extends Error {
  constructor(
    readonly disconnect: Disconnect,
    readonly log?: LogDetail,
  ) {
    super(disconnect.reason);
    this.name = 'DisconnectException';
  }
}

/** The longest reason a WebSocket close frame carries: 125 bytes of payload less the 2-byte code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/** `reason` cut to at most {@link MAX_CLOSE_REASON_BYTES} UTF-8 bytes, never inside a character. */
export function closeReason(reason: string): string {
  // A UTF-16 unit takes at most 3 UTF-8 bytes: short strings need no counting.
  if (reason.length <= MAX_CLOSE_REASON_BYTES / 3 || Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) return reason;
  let bytes = 0;
  let end = 0;
  for (const ch of reason) {
    const cp = ch.codePointAt(0)!;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + size > MAX_CLOSE_REASON_BYTES) break;
    bytes += size;
    end += ch.length;
  }
  return reason.slice(0, end);
}

/** True for a code a close frame may carry: 1000-1003, 1007-1014 and 3000-4999. */
export function isCloseCode(code: number): boolean {
  return Number.isInteger(code) && ((code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999));
}
