/**
 * JWT verification of connection and subscription tokens, with Centrifugo v6 semantics.
 *
 * Keys are parsed and imported once, when the verifier is built (bad keys or regexes fail then,
 * at startup); verifying a token costs a header decode, one signature check (two while an HMAC key
 * rotation is under way and the token is signed with the previous key) and the claim checks.
 */
import { createHmac, createPublicKey, createSecretKey, timingSafeEqual, X509Certificate, type KeyObject } from 'node:crypto';
import {
  compactVerify,
  createRemoteJWKSet,
  errors as joseErrors,
  type CompactJWSHeaderParameters,
  type CompactVerifyGetKey,
  type FlattenedJWSInput,
} from 'jose';
import type { SubscriptionTokenConfig, TokenConfig } from '../config/types.js';
import {
  isJsonObject,
  parseConnectClaims,
  parseSubscribeClaims,
  type ClaimRules,
  type ConnectTokenClaims,
  type SubscribeTokenClaims,
} from './claims.js';
import { InvalidTokenError, TokenVerifierUnavailableError } from './errors.js';

export type { ConnectTokenClaims, SubscribeOverride, SubscribeTokenClaims, TokenSubscription } from './claims.js';

/** Knobs of a {@link TokenVerifier} that do not come from the configuration. */
export interface TokenVerifierOptions {
  /** Current time in ms since epoch (tests); default `Date.now`. */
  now?: () => number;
  /** Timeout of a JWKS fetch in ms; default 5000. */
  jwksTimeoutMs?: number;
  /** Lifetime of a fetched JWKS in ms before it is fetched again; default 600000. */
  jwksCacheMaxAgeMs?: number;
}

const HMAC_ALGS = ['HS256', 'HS384', 'HS512'] as const;
type HmacAlg = (typeof HMAC_ALGS)[number];
const RSA_ALGS = ['RS256', 'RS384', 'RS512'] as const;
const EC_ALG_BY_CURVE: Readonly<Record<string, string>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};
/** Algorithms accepted from a JWKS (Centrifugo: RSA, EC and Ed25519 keys). */
const JWKS_ALGS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
const NODE_HASH_BY_HMAC_ALG: Readonly<Record<HmacAlg, string>> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isHmacAlg(alg: string): alg is HmacAlg {
  return (HMAC_ALGS as readonly string[]).includes(alg);
}

/**
 * One HMAC secret as a Node KeyObject. HMAC tokens are checked with node:crypto synchronously:
 * WebCrypto (what jose uses) costs several times more per token on the connect hot path.
 */
class HmacSecret {
  private readonly key: KeyObject;

  constructor(secret: string) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  /** True when `signature` is this secret's MAC of `input` (constant-time compare). */
  verifies(alg: HmacAlg, input: string, signature: Buffer): boolean {
    const mac = createHmac(NODE_HASH_BY_HMAC_ALG[alg], this.key).update(input).digest();
    return mac.length === signature.length && timingSafeEqual(mac, signature);
  }
}

/** The value of each base64url character, -1 for the others. */
const BASE64URL_VALUE = (() => {
  const table = new Int8Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
})();

/**
 * Decodes strict base64url, or null: only the alphabet (no padding, no stray characters), a length
 * that whole bytes can have, and zero unused bits in the last character (one encoding per value).
 */
function base64url(text: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const rest = text.length % 4;
  if (rest === 1) return null;
  if (rest !== 0) {
    const last = BASE64URL_VALUE[text.charCodeAt(text.length - 1)]!;
    if ((last & (rest === 2 ? 0x0f : 0x03)) !== 0) return null;
  }
  return Buffer.from(text, 'base64url');
}

/**
 * The protected header of a compact JWS (its first part: strict base64url of a JSON object), read
 * without a library call: this runs on every connect.
 */
function protectedHeader(token: string): Record<string, unknown> {
  const dot = token.indexOf('.');
  const raw = dot > 0 ? base64url(token.slice(0, dot)) : null;
  if (raw === null) throw new InvalidTokenError('malformed token');
  return jsonObject(raw, 'malformed token', 'malformed token');
}

/** Bytes that must be a UTF-8 JSON object; else an InvalidTokenError with `notJson` / `notObject`. */
function jsonObject(bytes: Uint8Array, notJson: string, notObject: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch (e) {
    throw new InvalidTokenError(notJson, { cause: e });
  }
  if (!isJsonObject(value)) throw new InvalidTokenError(notObject);
  return value;
}

/** Converts a Go (RE2) pattern to a JS RegExp: `(?P<name>` groups and leading `(?flags)`. */
function compileGoRegex(pattern: string, what: string): RegExp {
  let source = pattern.replace(/\(\?P</g, '(?<');
  let flags = '';
  const leading = /^\(\?([ims]+)\)/.exec(source);
  if (leading?.[1] !== undefined) {
    flags = [...new Set(leading[1])].join('');
    source = source.slice(leading[0].length);
  }
  try {
    return new RegExp(source, flags);
  } catch (e) {
    throw new Error(`${what}: invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}

/** Parses a PEM public key: SPKI ("PUBLIC KEY"), PKCS#1 ("RSA PUBLIC KEY") or an X.509 certificate. */
function parsePublicKey(pem: string, what: string): KeyObject {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new Error(`${what}: expected a public key, got a private key`);
  }
  try {
    if (pem.includes('-----BEGIN CERTIFICATE-----')) return new X509Certificate(pem).publicKey;
    return createPublicKey(pem);
  } catch (e) {
    throw new Error(`${what}: cannot parse PEM public key: ${(e as Error).message}`);
  }
}

/** Maps whatever verification threw to one of our errors. */
function toTokenError(e: unknown): Error {
  if (e instanceof InvalidTokenError || e instanceof TokenVerifierUnavailableError) return e;
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return new InvalidTokenError('bad signature', { cause: e });
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return new InvalidTokenError('algorithm not allowed', { cause: e });
  if (e instanceof joseErrors.JOSEError) return new InvalidTokenError(`${e.code}: ${e.message}`, { cause: e });
  // jose reports a key that does not fit the algorithm (e.g. RSA modulus < 2048 bits) as TypeError.
  return new InvalidTokenError(e instanceof Error ? e.message : String(e), { cause: e });
}

/** Verifies tokens against one `TokenConfig`. */
class ConfiguredVerifier {
  readonly rules: ClaimRules;
  private readonly algorithms: ReadonlySet<string>;
  private readonly hmacCurrent: HmacSecret | null = null;
  private readonly hmacPrevious: HmacSecret | null = null;
  private readonly hmacPreviousValidUntil: number;
  private readonly rsaKey: KeyObject | null = null;
  private readonly ecKey: KeyObject | null = null;
  private readonly jwksKey: CompactVerifyGetKey | null = null;

  constructor(
    cfg: TokenConfig,
    private readonly what: string,
    private readonly now: () => number,
    options: TokenVerifierOptions,
  ) {
    if (cfg.audience !== '' && cfg.audience_regex !== '') {
      throw new Error(`${what}: audience and audience_regex are exclusive, configure only one of them`);
    }
    if (cfg.issuer !== '' && cfg.issuer_regex !== '') {
      throw new Error(`${what}: issuer and issuer_regex are exclusive, configure only one of them`);
    }
    this.rules = {
      userIdClaim: cfg.user_id_claim === '' ? 'sub' : cfg.user_id_claim,
      audience: cfg.audience,
      audienceRe: cfg.audience_regex === '' ? null : compileGoRegex(cfg.audience_regex, `${what}.audience_regex`),
      issuer: cfg.issuer,
      issuerRe: cfg.issuer_regex === '' ? null : compileGoRegex(cfg.issuer_regex, `${what}.issuer_regex`),
    };
    this.hmacPreviousValidUntil = cfg.hmac_previous_secret_key_valid_until;

    const algorithms = new Set<string>();
    if (cfg.jwks_public_endpoint !== '') {
      // Like Centrifugo: with a JWKS endpoint every token is verified against the JWKS alone.
      this.jwksKey = this.remoteKeySet(cfg.jwks_public_endpoint, options);
      for (const alg of JWKS_ALGS) algorithms.add(alg);
    } else {
      if (cfg.hmac_secret_key !== '') this.hmacCurrent = new HmacSecret(cfg.hmac_secret_key);
      if (cfg.hmac_previous_secret_key !== '') this.hmacPrevious = new HmacSecret(cfg.hmac_previous_secret_key);
      if (this.hmacCurrent !== null || this.hmacPrevious !== null) for (const alg of HMAC_ALGS) algorithms.add(alg);

      if (cfg.rsa_public_key !== '') {
        const key = parsePublicKey(cfg.rsa_public_key, `${what}.rsa_public_key`);
        if (key.asymmetricKeyType !== 'rsa') {
          throw new Error(`${what}.rsa_public_key: expected an RSA key, got ${String(key.asymmetricKeyType)}`);
        }
        const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
        if (bits < 2048) throw new Error(`${what}.rsa_public_key: RSA keys must be 2048 bits or larger, got ${bits}`);
        this.rsaKey = key;
        for (const alg of RSA_ALGS) algorithms.add(alg);
      }
      if (cfg.ecdsa_public_key !== '') {
        const key = parsePublicKey(cfg.ecdsa_public_key, `${what}.ecdsa_public_key`);
        const curve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
        const alg = curve === undefined ? undefined : EC_ALG_BY_CURVE[curve];
        if (alg === undefined) {
          throw new Error(`${what}.ecdsa_public_key: expected an EC key on P-256, P-384 or P-521`);
        }
        this.ecKey = key;
        algorithms.add(alg);
      }
    }
    this.algorithms = algorithms;
  }

  private remoteKeySet(endpoint: string, options: TokenVerifierOptions): CompactVerifyGetKey {
    if (endpoint.includes('{{')) {
      throw new Error(`${this.what}.jwks_public_endpoint: templated endpoints are not supported`);
    }
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new Error(`${this.what}.jwks_public_endpoint: invalid URL ${JSON.stringify(endpoint)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`${this.what}.jwks_public_endpoint: must be an http(s) URL`);
    }
    const remote = createRemoteJWKSet(url, {
      timeoutDuration: options.jwksTimeoutMs ?? 5000,
      cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
    });
    return async (header: CompactJWSHeaderParameters, token: FlattenedJWSInput) => {
      try {
        return await remote(header, token);
      } catch (e) {
        if (e instanceof joseErrors.JWKSNoMatchingKey) {
          throw new InvalidTokenError(`no JWKS key matches kid ${JSON.stringify(header.kid ?? null)}`, { cause: e });
        }
        if (e instanceof joseErrors.JWKSMultipleMatchingKeys) {
          throw new InvalidTokenError('several JWKS keys match, the token needs a "kid"', { cause: e });
        }
        if (e instanceof joseErrors.JOSENotSupported) throw new InvalidTokenError(e.message, { cause: e });
        // Network error, timeout, non-200 answer, not a JWKS: not the token's fault.
        const message = e instanceof Error ? e.message : String(e);
        throw new TokenVerifierUnavailableError(`JWKS ${url.href}: ${message}`, { cause: e });
      }
    };
  }

  /** Checks the signature and returns the decoded JSON payload. */
  async verifySignature(token: string): Promise<Record<string, unknown>> {
    if (typeof token !== 'string' || token === '') throw new InvalidTokenError('empty token');
    const header = protectedHeader(token);
    if (header.b64 !== undefined) throw new InvalidTokenError('"b64" header parameter is not supported');
    if (header.crit !== undefined) throw new InvalidTokenError('"crit" header parameter is not supported');
    const alg = header.alg;
    if (typeof alg !== 'string' || alg === '') throw new InvalidTokenError('missing "alg" header');
    if (!this.algorithms.has(alg)) throw new InvalidTokenError(`algorithm ${JSON.stringify(alg)} is not enabled`);

    let payload: Uint8Array;
    try {
      const algorithms = [alg];
      if (this.jwksKey !== null) {
        payload = (await compactVerify(token, this.jwksKey, { algorithms })).payload;
      } else if (isHmacAlg(alg)) {
        payload = this.verifyHmac(token, alg);
      } else {
        const key = alg.startsWith('RS') ? this.rsaKey : this.ecKey;
        if (key === null) throw new InvalidTokenError(`algorithm ${JSON.stringify(alg)} is not enabled`);
        payload = (await compactVerify(token, key, { algorithms })).payload;
      }
    } catch (e) {
      throw toTokenError(e);
    }

    return jsonObject(payload, 'payload is not UTF-8 JSON', 'payload is not a JSON object');
  }

  /** The current key first, then the previous one while it is still accepted. */
  private verifyHmac(token: string, alg: HmacAlg): Uint8Array {
    const secrets: HmacSecret[] = [];
    if (this.hmacCurrent !== null) secrets.push(this.hmacCurrent);
    if (
      this.hmacPrevious !== null &&
      (this.hmacPreviousValidUntil === 0 || this.now() < this.hmacPreviousValidUntil)
    ) {
      secrets.push(this.hmacPrevious);
    }
    if (secrets.length === 0) throw new InvalidTokenError('no HMAC key is active');
    const firstDot = token.indexOf('.');
    const lastDot = token.lastIndexOf('.');
    if (firstDot <= 0 || lastDot === firstDot || token.indexOf('.', firstDot + 1) !== lastDot) {
      throw new InvalidTokenError('malformed token');
    }
    const signature = base64url(token.slice(lastDot + 1));
    const payload = base64url(token.slice(firstDot + 1, lastDot));
    if (signature === null || payload === null) throw new InvalidTokenError('malformed token');
    const input = token.slice(0, lastDot);
    for (const secret of secrets) if (secret.verifies(alg, input, signature)) return payload;
    throw new InvalidTokenError('bad signature');
  }
}

/**
 * Verifies connection and subscription JWTs (HMAC, RSA, ECDSA or JWKS) with Centrifugo v6
 * semantics. Build one per configuration (keys are imported once) and share it.
 *
 * Errors: {@link InvalidTokenError} (anything wrong with the token),
 * {@link TokenExpiredError} (`exp` past or `nbf` future, on a correctly signed, otherwise valid
 * token), {@link TokenVerifierUnavailableError} (JWKS endpoint unreachable or broken).
 */
export class TokenVerifier {
  private readonly connect: ConfiguredVerifier;
  private readonly subscribe: ConfiguredVerifier;
  private readonly now: () => number;

  /**
   * @param token `client.token`: verifies connection tokens, and subscription tokens too unless
   *   `subscriptionToken.enabled`.
   * @param subscriptionToken `client.subscription_token`: when `enabled`, subscription tokens are
   *   verified with these settings instead.
   * @throws Error on a bad configuration (unparsable key, invalid regex, exclusive options both set).
   */
  constructor(token: TokenConfig, subscriptionToken?: SubscriptionTokenConfig | null, options: TokenVerifierOptions = {}) {
    this.now = options.now ?? Date.now;
    this.connect = new ConfiguredVerifier(token, 'client.token', this.now, options);
    this.subscribe =
      subscriptionToken?.enabled === true
        ? new ConfiguredVerifier(subscriptionToken, 'client.subscription_token', this.now, options)
        : this.connect;
  }

  /**
   * Verifies a connection token. A token carrying a non-empty `channel` claim is rejected (it is a
   * subscription token).
   * @throws InvalidTokenError, TokenExpiredError, TokenVerifierUnavailableError
   */
  async verifyConnectToken(token: string): Promise<ConnectTokenClaims> {
    const payload = await this.connect.verifySignature(token);
    return parseConnectClaims(payload, this.connect.rules, this.now());
  }

  /**
   * Verifies a subscription token; it must carry a non-empty `channel` claim. The caller still
   * checks that `channel`, `user` (and `client` when set) match the subscription.
   * @throws InvalidTokenError, TokenExpiredError, TokenVerifierUnavailableError
   */
  async verifySubscribeToken(token: string): Promise<SubscribeTokenClaims> {
    const payload = await this.subscribe.verifySignature(token);
    return parseSubscribeClaims(payload, this.subscribe.rules, this.now());
  }
}
