/**
 * Errors of token verification.
 *
 * Callers map them to the protocol: {@link InvalidTokenError} on connect closes with 3500
 * "invalid token"; {@link TokenExpiredError} answers error 109 "token expired" (the SDK then
 * refetches the token), on connect and subscribe alike; {@link TokenVerifierUnavailableError} is a
 * server-side failure (error 100, temporary), never the client's fault.
 */

/** The token is malformed, badly signed or carries claims that are not acceptable. */
export class InvalidTokenError extends Error {
  /** Why the token was rejected, for the log (never sent to the client). */
  readonly reason: string;

  constructor(reason: string, options?: { cause?: unknown }) {
    super(`invalid token: ${reason}`, options);
    this.name = 'InvalidTokenError';
    this.reason = reason;
  }
}

/** The token is correctly signed but its `exp` is in the past (or its `nbf` in the future). */
export class TokenExpiredError extends Error {
  /** Which time claim failed, for the log. */
  readonly reason: string;

  constructor(reason = 'token expired') {
    super(reason);
    this.name = 'TokenExpiredError';
    this.reason = reason;
  }
}

/**
 * The token could not be checked for a reason on the server side, e.g. the JWKS endpoint is down
 * or answered garbage. Map it to an internal (temporary) error, not to "invalid token".
 */
export class TokenVerifierUnavailableError extends Error {
  /** What failed, for the log. */
  readonly reason: string;

  constructor(reason: string, options?: { cause?: unknown }) {
    super(`token verification unavailable: ${reason}`, options);
    this.name = 'TokenVerifierUnavailableError';
    this.reason = reason;
  }
}
