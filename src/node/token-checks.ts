/**
 * Token verification as the client protocol needs it: verifier errors become the protocol's
 * answers (109 expired, 3500 invalid connection token, 103 invalid subscription token; a verifier
 * that cannot work, e.g. JWKS down, becomes error 100).
 */
import { InvalidTokenError, TokenExpiredError, TokenVerifierUnavailableError } from '../auth/errors.js';
import type { ConnectTokenClaims, SubscribeTokenClaims, TokenVerifier } from '../auth/verifier.js';
import { DisconnectException, Disconnects, Errors, ProtocolException } from '../protocol/codes.js';

function reasonOf(e: unknown): string {
  return e instanceof InvalidTokenError ? e.reason : String(e);
}

/** Verifies a connection (or refresh) token; `what` names it in the log line. */
export async function checkConnectionToken(tokens: TokenVerifier, token: string, what: string): Promise<ConnectTokenClaims> {
  try {
    return await tokens.verifyConnectToken(token);
  } catch (e) {
    if (e instanceof TokenExpiredError) throw new ProtocolException(Errors.tokenExpired);
    if (e instanceof TokenVerifierUnavailableError) throw e;
    throw new DisconnectException(Disconnects.invalidToken, { msg: `invalid ${what} token`, fields: { reason: reasonOf(e) } });
  }
}

/**
 * Verifies a subscription token for `channel`, held by `client` of `user`. A token for another
 * channel, user or client closes the connection (3500), as in Centrifugo.
 */
export async function checkSubscriptionToken(
  tokens: TokenVerifier,
  token: string,
  channel: string,
  user: string,
  client: string,
): Promise<SubscribeTokenClaims> {
  let claims: SubscribeTokenClaims;
  try {
    claims = await tokens.verifySubscribeToken(token);
  } catch (e) {
    if (e instanceof TokenExpiredError) throw new ProtocolException(Errors.tokenExpired);
    if (e instanceof TokenVerifierUnavailableError) throw e;
    throw new ProtocolException(Errors.permissionDenied, { msg: 'invalid subscription token', fields: { channel, reason: reasonOf(e) } });
  }
  const boundElsewhere = claims.client !== undefined && claims.client !== '' && claims.client !== client;
  if (claims.channel !== channel || claims.user !== user || boundElsewhere) {
    throw new DisconnectException(Disconnects.invalidToken, {
      msg: 'subscription token for another channel, user or client',
      fields: { channel },
    });
  }
  return claims;
}
