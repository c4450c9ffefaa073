/**
 * Token (JWT) verification and signing.
 */
export { TokenVerifier, type TokenVerifierOptions } from './verifier.js';
export type {
  ConnectTokenClaims,
  SubscribeOverride,
  SubscribeTokenClaims,
  TokenSubscription,
} from './claims.js';
export { signToken, type SignTokenOptions } from './sign.js';
export { InvalidTokenError, TokenExpiredError, TokenVerifierUnavailableError } from './errors.js';
