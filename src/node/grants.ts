/**
 * What a connection or subscription is granted: by a token, or by the connect / subscribe handler
 * (in-process service or proxy), in one shape so the client treats both alike.
 */
import type { ConnectTokenClaims } from '../auth/verifier.js';
import { expireAtSeconds, type ConnectResponseFields, type SubscribeResponseFields } from '../handlers/responses.js';
import type { Payload, RawJson } from '../protocol/types.js';
import { toPayload, toRawJson } from './raw-json.js';
import type { SubscriptionOverride } from '../protocol/types.js';

/** What a connection is granted, by its token or by the connect handler. */
export type ConnectGrant = Omit<ConnectTokenClaims, 'subs'> & {
  data?: Payload;
  subs?: Record<string, { info?: RawJson; data?: Payload; override?: SubscriptionOverride }>;
};

/** What a subscription is granted, by its token or by the subscribe handler. */
export interface SubscribeGrant {
  info?: RawJson | undefined;
  data?: Payload | undefined;
  override?: SubscriptionOverride | undefined;
  expireAt?: number | undefined;
  refreshByServer?: boolean;
}

function optionalRaw(v: unknown): RawJson | undefined {
  return v === undefined ? undefined : toRawJson(v);
}

/** The subscribe handler's response as a grant (the same shape a subscription token gives). */
export function subscribeGrantFromHandler(f: SubscribeResponseFields, expireAt: number, refreshByServer: boolean): SubscribeGrant {
  return { info: optionalRaw(f.info), data: f.data === undefined ? undefined : toPayload(f.data), override: f.override, expireAt, refreshByServer };
}

/** The connect handler's response as a grant (the same shape a token gives). */
export function grantFromHandler(f: ConnectResponseFields): ConnectGrant {
  const subs: ConnectGrant['subs'] = {};
  for (const [ch, s] of Object.entries(f.subscriptions ?? {})) {
    subs[ch] = {
      ...(s.info !== undefined && { info: toRawJson(s.info) }),
      ...(s.data !== undefined && { data: toPayload(s.data) }),
      ...(s.override !== undefined && { override: s.override }),
    };
  }
  const expireAt = expireAtSeconds(f.expireAt);
  return {
    user: f.user,
    channels: f.channels ?? [],
    subs,
    ...(expireAt > 0 && { expireAt }),
    ...(f.info !== undefined && { info: toRawJson(f.info) }),
    ...(f.data !== undefined && { data: toPayload(f.data) }),
    ...(f.meta !== undefined && { meta: f.meta }),
  };
}
