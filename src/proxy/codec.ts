/**
 * The proxy protocol's messages, both ways, in one neutral form: the JSON form of Centrifugo's HTTP
 * proxy, where payloads (`data`, `info`, `meta`) are JSON values (or base64 text in the `b64*`
 * twins). The gRPC transport converts that form to and from protobuf messages (payloads as bytes
 * holding JSON text); the handler fields of Gyre's services convert to and from it here.
 */
import type { ConnectionContext, RequestType } from '../handlers/requests.js';
import type {
  ConnectResponseFields,
  ConnectSubscription,
  PublishResponseFields,
  RefreshResponseFields,
  SubRefreshResponseFields,
  SubscribeResponseFields,
} from '../handlers/responses.js';
import { expireAtSeconds } from '../handlers/responses.js';
import { jsonTooDeep, MAX_JSON_DEPTH } from '../protocol/json-depth.js';
import { bytesToValue } from '../protocol/payload.js';
import type { SubscriptionOverride } from '../protocol/types.js';

/** A proxied event: one of the request types. */
export type ProxyEvent = RequestType;

/** The gRPC method of each event in `CentrifugoProxy`. */
export const GRPC_METHODS: Readonly<Record<ProxyEvent, string>> = {
  connect: 'Connect',
  refresh: 'Refresh',
  subscribe: 'Subscribe',
  publish: 'Publish',
  rpc: 'RPC',
  sub_refresh: 'SubRefresh',
};

/** A message in JSON form. */
export type JsonMessage = Record<string, unknown>;

/** A proxy response in JSON form. */
export interface ProxyResponseJson {
  result?: JsonMessage | null;
  error?: { code: number; message: string; temporary?: boolean } | null;
  disconnect?: { code: number; reason: string } | null;
}

/** A response that cannot be understood. */
export class BadProxyResponse extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadProxyResponse';
  }
}

// ---- payloads ----

/** A JSON value as the `data` / `b64data` pair of a request. */
export function payload(value: unknown, binary: boolean, key: 'data' = 'data'): JsonMessage {
  if (value === undefined) return {};
  if (value instanceof Uint8Array) return { [`b64${key}`]: Buffer.from(value).toString('base64') };
  return binary ? { [`b64${key}`]: Buffer.from(JSON.stringify(value)).toString('base64') } : { [key]: value };
}

/**
 * The value of a payload pair in a message: the `b64` twin when set (its bytes parsed as JSON; bytes
 * that are not JSON are kept as a Buffer), else the JSON value; undefined when neither is set.
 */
export function payloadValue(msg: JsonMessage, key: string): unknown {
  const b64 = msg[`b64${key}`];
  if (typeof b64 === 'string' && b64 !== '') return bytesValue(Buffer.from(b64, 'base64'));
  const v = msg[key];
  return v === null ? undefined : v;
}

/** Bytes holding JSON text as a JSON value; other bytes as a Buffer. */
export function bytesValue(bytes: Uint8Array): unknown {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (jsonTooDeep(text)) throw new BadProxyResponse(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  return bytesToValue(bytes);
}

/** A JSON value as bytes of JSON text (a Buffer stays as it is). */
export function valueBytes(value: unknown): Buffer {
  if (value instanceof Uint8Array) return Buffer.from(value);
  return Buffer.from(JSON.stringify(value));
}

// ---- requests: handler side → JSON form ----

/** Fields of every request; `encoding` tells how payloads travel in it (`binary`: the `b64*` fields). */
function base(ctx: ConnectionContext, o: RequestOptions): JsonMessage {
  return { client: ctx.client, transport: ctx.transport, protocol: ctx.protocol, encoding: o.binary ? 'binary' : 'json' };
}

/** What a request needs beyond the connection context. */
export interface RequestOptions {
  binary: boolean;
  includeMeta: boolean;
}

function meta(ctx: ConnectionContext, o: RequestOptions): JsonMessage {
  return o.includeMeta && ctx.meta !== undefined && ctx.meta !== null ? { meta: ctx.meta } : {};
}

export function connectRequest(ctx: ConnectionContext, data: unknown, name: string, version: string, channels: string[], o: RequestOptions): JsonMessage {
  return {
    ...base(ctx, o),
    ...payload(data, o.binary),
    ...(name !== '' && { name }),
    ...(version !== '' && { version }),
    ...(channels.length > 0 && { channels }),
  };
}

export function refreshRequest(ctx: ConnectionContext, o: RequestOptions): JsonMessage {
  return { ...base(ctx, o), user: ctx.user, ...meta(ctx, o) };
}

export function subscribeRequest(ctx: ConnectionContext, channel: string, token: string, data: unknown, o: RequestOptions): JsonMessage {
  return { ...base(ctx, o), user: ctx.user, channel, ...(token !== '' && { token }), ...meta(ctx, o), ...payload(data, o.binary) };
}

export function publishRequest(ctx: ConnectionContext, channel: string, data: unknown, o: RequestOptions): JsonMessage {
  return { ...base(ctx, o), user: ctx.user, channel, ...payload(data, o.binary), ...meta(ctx, o) };
}

export function rpcRequest(ctx: ConnectionContext, method: string, data: unknown, o: RequestOptions): JsonMessage {
  return { ...base(ctx, o), user: ctx.user, method, ...payload(data, o.binary), ...meta(ctx, o) };
}

export function subRefreshRequest(ctx: ConnectionContext, channel: string, o: RequestOptions): JsonMessage {
  return { ...base(ctx, o), user: ctx.user, channel, ...meta(ctx, o) };
}

// ---- results: JSON form → handler fields ----

function str(r: JsonMessage, key: string): string | undefined {
  const v = r[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new BadProxyResponse(`result.${key} is not a string`);
  return v;
}

function num(r: JsonMessage, key: string): number | undefined {
  const v = r[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v); // int64 in protobuf's JSON mapping
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadProxyResponse(`result.${key} is not a number`);
  return v;
}

function flag(r: JsonMessage, key: string): boolean | undefined {
  const v = r[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new BadProxyResponse(`result.${key} is not a boolean`);
  return v;
}

function strings(r: JsonMessage, key: string): string[] | undefined {
  const v = r[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new BadProxyResponse(`result.${key} is not an array of strings`);
  return v as string[];
}

function object(v: unknown, what: string): JsonMessage | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new BadProxyResponse(`${what} is not an object`);
  return v as JsonMessage;
}

function stringMap(r: JsonMessage, key: string): Record<string, string> | undefined {
  const o = object(r[key], `result.${key}`);
  if (o === undefined) return undefined;
  for (const v of Object.values(o)) if (typeof v !== 'string') throw new BadProxyResponse(`result.${key} has a non-string value`);
  return o as Record<string, string>;
}

/** A payload that must be JSON (Gyre's clients speak JSON). */
function json(r: JsonMessage, key: string): unknown {
  const v = payloadValue(r, key);
  if (v instanceof Uint8Array) throw new BadProxyResponse(`result.${key} is not JSON`);
  return v;
}

const OVERRIDE_KEYS = ['presence', 'join_leave', 'force_recovery', 'force_positioning', 'force_push_join_leave'] as const;

/** `{presence: {value: true}}` (protobuf BoolValue) or `{presence: true}`. */
function override(v: unknown): SubscriptionOverride | undefined {
  const o = object(v, 'override');
  if (o === undefined) return undefined;
  const out: SubscriptionOverride = {};
  for (const key of OVERRIDE_KEYS) {
    const x = o[key];
    const b = typeof x === 'boolean' ? x : typeof x === 'object' && x !== null ? (x as { value?: unknown }).value ?? false : undefined;
    if (b === undefined) continue;
    if (typeof b !== 'boolean') throw new BadProxyResponse(`override.${key} is not a boolean`);
    out[key] = b;
  }
  return out;
}

/** Sets `key` when `v` is defined. */
function opt<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

export function connectFields(r: JsonMessage): ConnectResponseFields {
  const user = str(r, 'user') ?? '';
  const subs = object(r['subs'], 'result.subs');
  let subscriptions: Record<string, ConnectSubscription> | undefined;
  if (subs !== undefined) {
    subscriptions = {};
    for (const [channel, raw] of Object.entries(subs)) {
      const s = object(raw, `result.subs["${channel}"]`) ?? {};
      subscriptions[channel] = { ...opt('info', json(s, 'info')), ...opt('data', json(s, 'data')), ...opt('override', override(s['override'])) };
    }
  }
  return {
    user,
    ...opt('expireAt', num(r, 'expire_at')),
    ...opt('info', json(r, 'info')),
    ...opt('data', json(r, 'data')),
    ...opt('channels', strings(r, 'channels')),
    ...opt('subscriptions', subscriptions),
    ...opt('meta', payloadValue(r, 'meta')),
  };
}

export function refreshFields(r: JsonMessage): RefreshResponseFields {
  return {
    ...opt('expired', flag(r, 'expired')),
    ...opt('expireAt', num(r, 'expire_at')),
    ...opt('info', json(r, 'info')),
    ...opt('meta', payloadValue(r, 'meta')),
  };
}

export function subscribeFields(r: JsonMessage): SubscribeResponseFields {
  return {
    ...opt('expireAt', num(r, 'expire_at')),
    ...opt('info', json(r, 'info')),
    ...opt('data', json(r, 'data')),
    ...opt('override', override(r['override'])),
  };
}

export function publishFields(r: JsonMessage): PublishResponseFields {
  return { ...opt('data', json(r, 'data')), ...opt('skipHistory', flag(r, 'skip_history')), ...opt('tags', stringMap(r, 'tags')) };
}

export function rpcFields(r: JsonMessage): { data?: unknown } {
  return opt('data', json(r, 'data'));
}

export function subRefreshFields(r: JsonMessage): SubRefreshResponseFields {
  return { ...opt('expired', flag(r, 'expired')), ...opt('expireAt', num(r, 'expire_at')), ...opt('info', json(r, 'info')) };
}

// ---- handler fields → JSON form results (a backend answering) ----

/** Payload fields of a result: JSON values, or b64 twins in binary mode (and for bytes that are not JSON). */
function out(key: string, v: unknown, binary: boolean): JsonMessage {
  if (v === undefined) return {};
  if (v instanceof Uint8Array || binary) return { [`b64${key}`]: valueBytes(v).toString('base64') };
  return { [key]: v };
}

function overrideJson(o: SubscriptionOverride | undefined): JsonMessage {
  if (o === undefined) return {};
  const r: JsonMessage = {};
  for (const key of OVERRIDE_KEYS) if (o[key] !== undefined) r[key] = { value: o[key] };
  return { override: r };
}

function expireAt(e: ConnectResponseFields['expireAt']): JsonMessage {
  const s = expireAtSeconds(e);
  return s > 0 ? { expire_at: s } : {};
}

export function connectResult(f: ConnectResponseFields, binary: boolean): JsonMessage {
  let subs: JsonMessage | undefined;
  if (f.subscriptions !== undefined) {
    subs = {};
    for (const [ch, s] of Object.entries(f.subscriptions)) {
      subs[ch] = { ...out('info', s.info, binary), ...out('data', s.data, binary), ...overrideJson(s.override) };
    }
  }
  return {
    user: f.user,
    ...expireAt(f.expireAt),
    ...out('info', f.info, binary),
    ...out('data', f.data, binary),
    ...(f.channels !== undefined && f.channels.length > 0 && { channels: f.channels }),
    ...(subs !== undefined && { subs }),
    ...(f.meta !== undefined && { meta: f.meta }),
  };
}

export function refreshResult(f: RefreshResponseFields, binary: boolean): JsonMessage {
  return {
    ...(f.expired === true && { expired: true }),
    ...expireAt(f.expireAt),
    ...out('info', f.info, binary),
    ...(f.meta !== undefined && { meta: f.meta }),
  };
}

export function subscribeResult(f: SubscribeResponseFields, binary: boolean): JsonMessage {
  return { ...expireAt(f.expireAt), ...out('info', f.info, binary), ...out('data', f.data, binary), ...overrideJson(f.override) };
}

export function publishResult(f: PublishResponseFields, binary: boolean): JsonMessage {
  return {
    ...out('data', f.data, binary),
    ...(f.skipHistory === true && { skip_history: true }),
    ...(f.tags !== undefined && Object.keys(f.tags).length > 0 && { tags: f.tags }),
  };
}

export function rpcResult(f: { data?: unknown }, binary: boolean): JsonMessage {
  return out('data', f.data, binary);
}

export function subRefreshResult(f: SubRefreshResponseFields, binary: boolean): JsonMessage {
  return { ...(f.expired === true && { expired: true }), ...expireAt(f.expireAt), ...out('info', f.info, binary) };
}

// ---- JSON form ↔ protobuf messages ----

/** Keys holding bytes (JSON text) in protobuf messages, at any depth of a proxy message. */
const BYTES_KEYS: ReadonlySet<string> = new Set(['data', 'info', 'meta']);

/**
 * A JSON-form message as a protobuf message object: payload values become bytes of JSON text
 * (`subs` entries included). Other fields are the same in both forms.
 */
export function toProto(msg: JsonMessage): JsonMessage {
  const o: JsonMessage = {};
  for (const [key, v] of Object.entries(msg)) {
    if (v === undefined || v === null) continue;
    if (BYTES_KEYS.has(key)) o[key] = valueBytes(v);
    else if (key === 'subs' && typeof v === 'object') {
      const subs: JsonMessage = {};
      for (const [ch, s] of Object.entries(v as JsonMessage)) subs[ch] = toProto((s ?? {}) as JsonMessage);
      o[key] = subs;
    } else if (key === 'result' && typeof v === 'object') o[key] = toProto(v as JsonMessage);
    else o[key] = v;
  }
  return o;
}

/** A decoded protobuf message in JSON form: bytes of JSON text become JSON values (empty bytes: absent). */
export function fromProto(msg: JsonMessage): JsonMessage {
  const o: JsonMessage = {};
  for (const [key, v] of Object.entries(msg)) {
    if (v === undefined || v === null) continue;
    if (v instanceof Uint8Array) {
      if (v.byteLength > 0) o[key] = bytesValue(v);
    } else if (key === 'subs' && typeof v === 'object') {
      const subs: JsonMessage = {};
      for (const [ch, s] of Object.entries(v as JsonMessage)) subs[ch] = fromProto((s ?? {}) as JsonMessage);
      o[key] = subs;
    } else if (key === 'result' && typeof v === 'object') o[key] = fromProto(v as JsonMessage);
    else o[key] = v;
  }
  return o;
}
