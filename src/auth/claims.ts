/**
 * Typed claims of connection and subscription JWTs, and their strict validation.
 *
 * The payload handed to these functions has a verified signature already; here every claim is
 * type-checked (like Centrifugo's typed decoding: a claim of the wrong type makes the token
 * invalid), the audience/issuer rules are applied and the time claims are checked last, so any
 * reason to call a token invalid wins over "expired".
 */
import type { ChannelOptions } from '../config/types.js';
import { InvalidTokenError, TokenExpiredError } from './errors.js';

/**
 * Per-subscription option overrides carried in a token (`override` claim). Keys are those of
 * {@link ChannelOptions}, so they can be spread over the channel's options. On the wire each one
 * is `{"value": bool}`; a key absent (or `null`) leaves the channel's option as configured.
 */
export type SubscribeOverride = Partial<
  Pick<ChannelOptions, 'presence' | 'join_leave' | 'force_push_join_leave' | 'force_recovery' | 'force_positioning'>
>;

/** A server-side subscription granted by the `subs` claim of a connection token. */
export interface TokenSubscription {
  /** Channel info as JSON text (from `info`) or decoded text (from `b64info`, which wins). */
  info?: string;
  /** Data for the subscribe push as JSON text (from `data`) or decoded text (from `b64data`, which wins). */
  data?: string;
  override?: SubscribeOverride;
}

/** What a valid connection token grants. */
export interface ConnectTokenClaims {
  /** The user ID (`sub`, or the configured `user_id_claim`); "" = anonymous. */
  user: string;
  /**
   * When the connection expires, seconds since epoch: `expire_at` when present (0 = never),
   * else `exp`; absent = the connection never expires. May be in the past even though the token
   * is valid (`expire_at` past, `exp` future): Centrifugo answers such a connect with error 110.
   */
  expireAt?: number;
  /** Connection info: JSON text of `info`, or the decoded `b64info` (which wins). */
  info?: string;
  /** `channels` claim: server-side subscriptions. Centrifugo ignores it when `subs` is non-empty. */
  channels: string[];
  /** `subs` claim: server-side subscriptions with per-channel options. */
  subs: Record<string, TokenSubscription>;
  /** `meta` claim (any JSON value): attached to the connection, never sent to clients. */
  meta?: unknown;
}

/** What a valid subscription token grants. */
export interface SubscribeTokenClaims {
  /** The user ID (`sub`, or the configured `user_id_claim`); must equal the connection's user. */
  user: string;
  /** The channel (never empty); must equal the channel being subscribed. */
  channel: string;
  /** When set, the client ID the token is bound to. */
  client?: string;
  /** When the subscription expires, seconds since epoch (`expire_at` when present, 0 = never; else `exp`). */
  expireAt?: number;
  /** Channel info: JSON text of `info`, or the decoded `b64info` (which wins). */
  info?: string;
  /** Subscribe push data: JSON text of `data`, or the decoded `b64data` (which wins). */
  data?: string;
  override?: SubscribeOverride;
}

/** The claim checks configured for one verifier. */
export interface ClaimRules {
  /** Claim holding the user ID ("sub" by default). A dotted path reaches into nested objects. */
  userIdClaim: string;
  audience: string;
  audienceRe: RegExp | null;
  issuer: string;
  issuerRe: RegExp | null;
}

type JsonObject = Record<string, unknown>;

const OVERRIDE_KEYS = ['presence', 'join_leave', 'force_push_join_leave', 'force_recovery', 'force_positioning'] as const;

// Go's base64.StdEncoding: padded standard alphabet; CR and LF are ignored.
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function invalid(reason: string): InvalidTokenError {
  return new InvalidTokenError(reason);
}

/** A plain JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An own property only: `payload.constructor` must not find Object.prototype's. */
function own(o: JsonObject, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** Defines a property even when the key is "__proto__". */
function setOwn<T>(o: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function optString(o: JsonObject, key: string, where = ''): string | undefined {
  const v = own(o, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`"${where}${key}" claim must be a string`);
  return v;
}

function optNumericDate(o: JsonObject, key: string): number | undefined {
  const v = own(o, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`"${key}" claim must be a number`);
  return v;
}

function audiences(o: JsonObject): string[] {
  const v = own(o, 'aud');
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((a): a is string => typeof a === 'string')) return v;
  throw invalid('"aud" claim must be a string or an array of strings');
}

function decodeBase64(text: string, what: string): string {
  const clean = text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]/g, '') : text;
  if (!BASE64_RE.test(clean)) throw invalid(`"${what}" claim is not valid base64`);
  return Buffer.from(clean, 'base64').toString('utf8');
}

/** `key` as JSON text, or the base64-decoded `b64key` (which wins when non-empty). */
function jsonOrBase64(o: JsonObject, key: string, where: string): string | undefined {
  const b64 = optString(o, `b64${key}`, where);
  if (b64 !== undefined && b64 !== '') return decodeBase64(b64, `${where}b64${key}`);
  const v = own(o, key);
  // JSON.parse produced the value, so it serialises back; `null` means "not set".
  return v === undefined || v === null ? undefined : JSON.stringify(v);
}

function parseOverride(o: JsonObject, where: string): SubscribeOverride | undefined {
  const v = own(o, 'override');
  if (v === undefined || v === null) return undefined;
  if (!isJsonObject(v)) throw invalid(`"${where}override" claim must be an object`);
  const out: SubscribeOverride = {};
  let any = false;
  for (const key of OVERRIDE_KEYS) {
    const b = own(v, key);
    if (b === undefined || b === null) continue;
    if (!isJsonObject(b)) throw invalid(`"${where}override.${key}" must be an object {"value": boolean}`);
    const value = own(b, 'value');
    if (value !== undefined && value !== null && typeof value !== 'boolean') {
      throw invalid(`"${where}override.${key}.value" must be a boolean`);
    }
    out[key] = value === true;
    any = true;
  }
  return any ? out : undefined;
}

function lookupUserId(o: JsonObject, claim: string): unknown {
  if (Object.hasOwn(o, claim) || !claim.includes('.')) return own(o, claim);
  let cur: unknown = o;
  for (const part of claim.split('.')) {
    if (!isJsonObject(cur)) return undefined;
    cur = own(cur, part);
  }
  return cur;
}

function userOf(o: JsonObject, rules: ClaimRules): string {
  const sub = optString(o, 'sub') ?? '';
  const claim = rules.userIdClaim;
  if (claim === '' || claim === 'sub') return sub;
  const v = lookupUserId(o, claim);
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw invalid(`user ID claim "${claim}" must be a string`);
}

interface TimeClaims {
  exp: number | undefined;
  nbf: number | undefined;
  expireAt: number | undefined;
}

/** Types of the registered claims, audience and issuer rules, `expire_at`. */
function checkRegistered(o: JsonObject, rules: ClaimRules): TimeClaims {
  const exp = optNumericDate(o, 'exp');
  const nbf = optNumericDate(o, 'nbf');
  optNumericDate(o, 'iat');
  optString(o, 'jti');
  const iss = optString(o, 'iss');
  const aud = audiences(o);

  if (rules.audience !== '' && !aud.includes(rules.audience)) throw invalid('audience mismatch');
  const audienceRe = rules.audienceRe;
  if (audienceRe !== null && !aud.some((a) => audienceRe.test(a))) throw invalid('audience not matched');
  if (rules.issuer !== '' && iss !== rules.issuer) throw invalid('issuer mismatch');
  if (rules.issuerRe !== null && !rules.issuerRe.test(iss ?? '')) throw invalid('issuer not matched');

  let expireAt: number | undefined;
  const rawExpireAt = own(o, 'expire_at');
  if (rawExpireAt === undefined || rawExpireAt === null) {
    if (exp !== undefined) expireAt = Math.floor(exp);
  } else {
    if (typeof rawExpireAt !== 'number' || !Number.isSafeInteger(rawExpireAt)) {
      throw invalid('"expire_at" claim must be an integer');
    }
    if (rawExpireAt > 0) expireAt = rawExpireAt;
  }
  return { exp, nbf, expireAt };
}

/** Like Centrifugo: `exp` must be after now, `nbf` not after now; either failing is "expired". */
function checkTimes(t: TimeClaims, nowMs: number): void {
  if (t.exp !== undefined && t.exp * 1000 <= nowMs) throw new TokenExpiredError('token expired (exp)');
  if (t.nbf !== undefined && t.nbf * 1000 > nowMs) throw new TokenExpiredError('token not valid yet (nbf)');
}

function parseSubscription(v: unknown, channel: string): TokenSubscription {
  if (v === null) return {};
  const where = `subs.${channel}.`;
  if (!isJsonObject(v)) throw invalid(`"subs.${channel}" must be an object`);
  const out: TokenSubscription = {};
  const info = jsonOrBase64(v, 'info', where);
  if (info !== undefined) out.info = info;
  const data = jsonOrBase64(v, 'data', where);
  if (data !== undefined) out.data = data;
  const override = parseOverride(v, where);
  if (override !== undefined) out.override = override;
  return out;
}

/**
 * Validates the payload of a connection token (signature already verified).
 * @throws InvalidTokenError, TokenExpiredError
 */
export function parseConnectClaims(o: JsonObject, rules: ClaimRules, nowMs: number): ConnectTokenClaims {
  const times = checkRegistered(o, rules);
  const user = userOf(o, rules);

  const channel = optString(o, 'channel');
  if (channel !== undefined && channel !== '') {
    throw invalid('connection token must not contain a "channel" claim');
  }

  const rawChannels = own(o, 'channels');
  let channels: string[] = [];
  if (rawChannels !== undefined && rawChannels !== null) {
    if (!Array.isArray(rawChannels) || !rawChannels.every((c): c is string => typeof c === 'string')) {
      throw invalid('"channels" claim must be an array of strings');
    }
    channels = rawChannels;
  }

  const subs: Record<string, TokenSubscription> = {};
  const rawSubs = own(o, 'subs');
  if (rawSubs !== undefined && rawSubs !== null) {
    if (!isJsonObject(rawSubs)) throw invalid('"subs" claim must be an object');
    for (const [ch, v] of Object.entries(rawSubs)) setOwn(subs, ch, parseSubscription(v, ch));
  }

  const info = jsonOrBase64(o, 'info', '');
  const meta = own(o, 'meta');

  checkTimes(times, nowMs);

  const claims: ConnectTokenClaims = { user, channels, subs };
  if (times.expireAt !== undefined) claims.expireAt = times.expireAt;
  if (info !== undefined) claims.info = info;
  if (meta !== undefined && meta !== null) claims.meta = meta;
  return claims;
}

/**
 * Validates the payload of a subscription token (signature already verified).
 * @throws InvalidTokenError, TokenExpiredError
 */
export function parseSubscribeClaims(o: JsonObject, rules: ClaimRules, nowMs: number): SubscribeTokenClaims {
  const times = checkRegistered(o, rules);
  const user = userOf(o, rules);

  const channel = optString(o, 'channel');
  if (channel === undefined || channel === '') {
    throw invalid('subscription token must contain a non-empty "channel" claim');
  }
  const client = optString(o, 'client');
  const info = jsonOrBase64(o, 'info', '');
  const data = jsonOrBase64(o, 'data', '');
  const override = parseOverride(o, '');

  checkTimes(times, nowMs);

  const claims: SubscribeTokenClaims = { user, channel };
  if (client !== undefined && client !== '') claims.client = client;
  if (times.expireAt !== undefined) claims.expireAt = times.expireAt;
  if (info !== undefined) claims.info = info;
  if (data !== undefined) claims.data = data;
  if (override !== undefined) claims.override = override;
  return claims;
}
