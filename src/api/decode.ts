/**
 * The one place where untyped server API parameters (an HTTP JSON body, a gRPC message in JSON
 * form, a command relayed by another node) become typed requests. A value of the wrong type is
 * error 107 "bad request"; absent and `null` fields are left out. What a value means (a required
 * channel, a disconnect code's range ...) is checked by the {@link ServerApi} itself.
 */
import { Errors, ProtocolException } from '../protocol/codes.js';
import { asParams, bool, boolValue, int, obj, str, strList, strMap, type Params } from './params.js';
import {
  BATCH_METHOD_NAMES,
  type ApiBatchCommand,
  type ApiBatchMethod,
  type ApiBoolValue,
  type ApiRequests,
  type ApiStreamPosition,
  type ApiSubscribeOverride,
} from './types.js';

type Decoder<M extends ApiBatchMethod> = (p: Params) => ApiRequests[M];

/** `{key: value}` when the value is defined, else `{}` (so absent fields stay absent). */
function opt<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

/** A string field, left out when empty. */
function optStr<K extends string>(p: Params, key: K): { [P in K]?: string } {
  const v = str(p, key);
  return opt(key, v === '' ? undefined : v);
}

/** A JSON payload field (any value), left out when absent or null. */
function optJson<K extends string>(p: Params, key: K): { [P in K]?: unknown } {
  const v = p[key];
  return opt(key, v === null ? undefined : v);
}

function position(p: Params | undefined): ApiStreamPosition | undefined {
  return p && { offset: int(p, 'offset') ?? 0, epoch: str(p, 'epoch') };
}

function override(p: Params | undefined): ApiSubscribeOverride | undefined {
  if (p === undefined) return undefined;
  const value = (key: string): ApiBoolValue | undefined => {
    const v = boolValue(p, key);
    return v === undefined ? undefined : { value: v };
  };
  return {
    ...opt('presence', value('presence')),
    ...opt('join_leave', value('join_leave')),
    ...opt('force_push_join_leave', value('force_push_join_leave')),
    ...opt('force_recovery', value('force_recovery')),
    ...opt('force_positioning', value('force_positioning')),
  };
}

/** The fields `publish` and `broadcast` share. */
function publishFields(p: Params) {
  return {
    ...optJson(p, 'data'),
    ...optStr(p, 'b64data'),
    ...opt('skip_history', p['skip_history'] === undefined ? undefined : bool(p, 'skip_history')),
    ...opt('tags', strMap(p, 'tags')),
    ...optStr(p, 'idempotency_key'),
    ...opt('delta', p['delta'] === undefined ? undefined : bool(p, 'delta')),
  };
}

/** The user and connection a command acts on. */
function target(p: Params) {
  return { user: str(p, 'user'), ...optStr(p, 'client'), ...optStr(p, 'session') };
}

const DECODERS: { readonly [M in ApiBatchMethod]: Decoder<M> } = {
  publish: (p) => ({ channel: str(p, 'channel'), ...publishFields(p) }),
  broadcast: (p) => ({ channels: strList(p, 'channels'), ...publishFields(p) }),
  subscribe: (p) => ({
    ...target(p),
    channel: str(p, 'channel'),
    ...optJson(p, 'info'),
    ...optStr(p, 'b64info'),
    ...optJson(p, 'data'),
    ...optStr(p, 'b64data'),
    ...opt('recover_since', position(obj(p, 'recover_since'))),
    ...opt('override', override(obj(p, 'override'))),
    ...opt('expire_at', int(p, 'expire_at')),
  }),
  unsubscribe: (p) => ({ ...target(p), channel: str(p, 'channel') }),
  disconnect: (p) => {
    const d = obj(p, 'disconnect');
    return {
      ...target(p),
      ...opt('whitelist', p['whitelist'] === undefined || p['whitelist'] === null ? undefined : strList(p, 'whitelist')),
      ...opt('disconnect', d && { code: int(d, 'code') ?? 0, reason: str(d, 'reason') }),
    };
  },
  refresh: (p) => ({
    ...target(p),
    ...opt('expired', p['expired'] === undefined ? undefined : bool(p, 'expired')),
    ...opt('expire_at', int(p, 'expire_at')),
    ...optJson(p, 'info'),
  }),
  presence: (p) => ({ channel: str(p, 'channel') }),
  presence_stats: (p) => ({ channel: str(p, 'channel') }),
  history: (p) => ({
    channel: str(p, 'channel'),
    ...opt('limit', int(p, 'limit')),
    ...opt('since', position(obj(p, 'since'))),
    ...opt('reverse', p['reverse'] === undefined ? undefined : bool(p, 'reverse')),
  }),
  history_remove: (p) => ({ channel: str(p, 'channel') }),
  channels: (p) => optStr(p, 'pattern'),
  info: () => ({}),
  rpc: (p) => ({ method: str(p, 'method'), ...optJson(p, 'params') }),
};

/** True when `name` is a server API method other than `batch`. */
export function isBatchMethod(name: string): name is ApiBatchMethod {
  return (BATCH_METHOD_NAMES as readonly string[]).includes(name);
}

/**
 * The typed request of `method` (any method but `batch`, see {@link decodeBatch}) from its untyped
 * params; throws 107 for params that are not an object or hold a field of the wrong type.
 */
export function decode<M extends ApiBatchMethod>(method: M, params: unknown): ApiRequests[M] {
  return (DECODERS[method] as Decoder<M>)(asParams(params));
}

/**
 * The envelope of a batch: its commands, each still undecoded ({@link decodeCommand} decodes
 * one, so that a bad command answers 107 in its place), and whether they run in parallel.
 */
export function decodeBatch(params: unknown): { commands: unknown[]; parallel: boolean } {
  const p = asParams(params);
  const commands = p['commands'];
  if (!Array.isArray(commands)) throw new ProtocolException(Errors.badRequest);
  return { commands, parallel: bool(p, 'parallel') };
}

/**
 * One command of a batch (`{"publish": {...}}`): its first key naming a method other than
 * `batch`, with that method's params decoded (`{}` when no key names one: the command then
 * answers 104). Throws 107 when the command is not an object or its params are bad.
 */
export function decodeCommand(command: unknown): ApiBatchCommand {
  const c = asParams(command);
  const method = Object.keys(c).find(isBatchMethod);
  return method === undefined ? {} : { [method]: decode(method, c[method]) };
}
