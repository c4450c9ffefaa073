/**
 * The gRPC server API's messages ↔ the server API's JSON form (the HTTP API's). The only
 * difference between the two forms is the payloads: `bytes` of JSON text in protobuf (`data`,
 * `info`, `conn_info`, `chan_info`, `params`), JSON values in the JSON form. Shared by the gRPC API
 * server (proto → params, result → proto) and the gRPC API client.
 */
import { Errors, ProtocolException } from '../../protocol/codes.js';
import { jsonTooDeep, MAX_JSON_DEPTH } from '../../protocol/json-depth.js';
import { bytesToValue } from '../../protocol/payload.js';
import { BATCH_METHOD_NAMES, type ApiMethod } from '../types.js';

export type Message = Record<string, unknown>;

/** Server API methods: gRPC method name → wire (HTTP API) method name. */
export const API_METHODS = {
  Batch: 'batch',
  Publish: 'publish',
  Broadcast: 'broadcast',
  Subscribe: 'subscribe',
  Unsubscribe: 'unsubscribe',
  Disconnect: 'disconnect',
  Presence: 'presence',
  PresenceStats: 'presence_stats',
  History: 'history',
  HistoryRemove: 'history_remove',
  Info: 'info',
  RPC: 'rpc',
  Refresh: 'refresh',
  Channels: 'channels',
} as const satisfies Readonly<Record<string, ApiMethod>>;

export type GrpcMethod = keyof typeof API_METHODS;

/**
 * Request payload bytes → the JSON value (empty bytes: absent); bytes that are not JSON stay bytes
 * (binary data, as Centrifugo's gRPC API takes it).
 */
export function fromPayloadBytes(v: unknown): unknown {
  if (!(v instanceof Uint8Array) || v.byteLength === 0) return undefined;
  const text = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
  if (jsonTooDeep(text)) throw new ProtocolException({ code: Errors.badRequest.code, message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` });
  return bytesToValue(v);
}

/** Bytes of JSON text → the JSON value (empty bytes: absent); bytes that are not JSON are a bad request. */
export function fromBytes(v: unknown): unknown {
  if (!(v instanceof Uint8Array) || v.byteLength === 0) return undefined;
  const text = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
  if (jsonTooDeep(text)) throw new ProtocolException({ code: Errors.badRequest.code, message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` });
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProtocolException(Errors.badRequest);
  }
}

/** A JSON value → bytes of JSON text (undefined stays absent; bytes stay as they are). */
export function toBytes(v: unknown): Buffer | undefined {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return v === undefined || v === null ? undefined : Buffer.from(JSON.stringify(v));
}

/** A copy of `m` with `keys` mapped through `fn`, dropping what becomes undefined. */
function mapKeys(m: Message, keys: readonly string[], fn: (v: unknown) => unknown): Message {
  const out: Message = { ...m };
  for (const k of keys) {
    if (!(k in out)) continue;
    const v = fn(out[k]);
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

const REQUEST_PAYLOADS: Readonly<Record<ApiMethod, readonly string[]>> = {
  batch: [],
  publish: ['data'],
  broadcast: ['data'],
  subscribe: ['data', 'info'],
  unsubscribe: [],
  disconnect: [],
  presence: [],
  presence_stats: [],
  history: [],
  history_remove: [],
  info: [],
  rpc: ['params'],
  refresh: ['info'],
  channels: [],
};

/** A request message (protobuf form) → params (JSON form). */
export function requestToParams(method: ApiMethod, req: Message): Message {
  if (method === 'batch') {
    const commands = Array.isArray(req['commands']) ? (req['commands'] as Message[]) : [];
    return {
      ...(req['parallel'] === true && { parallel: true }),
      commands: commands.map((c) => {
        const m = BATCH_METHOD_NAMES.find((k) => c[k] !== undefined && c[k] !== null);
        return m === undefined ? {} : { [m]: requestToParams(m, c[m] as Message) };
      }),
    };
  }
  return mapKeys(req, REQUEST_PAYLOADS[method], fromPayloadBytes);
}

/** Params (JSON form) → a request message (protobuf form): the client's direction. */
export function paramsToRequest(method: ApiMethod, params: Message): Message {
  if (method === 'batch') {
    const commands = Array.isArray(params['commands']) ? (params['commands'] as Message[]) : [];
    return {
      parallel: params['parallel'] === true,
      commands: commands.map((c) => {
        const m = BATCH_METHOD_NAMES.find((k) => c[k] !== undefined);
        return m === undefined ? {} : { [m]: paramsToRequest(m, c[m] as Message) };
      }),
    };
  }
  return mapKeys(params, REQUEST_PAYLOADS[method], toBytes);
}

/** Converts the payloads of a ClientInfo. */
function clientInfo(info: unknown, fn: (v: unknown) => unknown): unknown {
  if (typeof info !== 'object' || info === null) return info;
  return mapKeys(info as Message, ['conn_info', 'chan_info'], fn);
}

/** Converts the payloads of a result, either way (`fn`: toBytes for the server, fromBytes for the client). */
function convertResult(method: ApiMethod, r: Message, fn: (v: unknown) => unknown): Message {
  switch (method) {
    case 'presence': {
      const presence: Message = {};
      for (const [id, info] of Object.entries((r['presence'] ?? {}) as Message)) presence[id] = clientInfo(info, fn);
      return { presence };
    }
    case 'history': {
      const pubs = Array.isArray(r['publications']) ? (r['publications'] as Message[]) : [];
      return {
        ...r,
        publications: pubs.map((p) => {
          const out = mapKeys(p, ['data'], fn);
          // Binary data: `b64data` in the JSON form, the bytes themselves in protobuf.
          if (typeof out['b64data'] === 'string') {
            out['data'] = Buffer.from(out['b64data'], 'base64');
            delete out['b64data'];
          }
          if (out['info'] !== undefined) out['info'] = clientInfo(out['info'], fn);
          return out;
        }),
      };
    }
    case 'rpc':
      return mapKeys(r, ['data'], fn);
    case 'batch': {
      const replies = Array.isArray(r['replies']) ? (r['replies'] as Message[]) : [];
      return {
        replies: replies.map((reply) => {
          const m = BATCH_METHOD_NAMES.find((k) => reply[k] !== undefined && reply[k] !== null);
          return m === undefined ? reply : { ...reply, [m]: convertResult(m, reply[m] as Message, fn) };
        }),
      };
    }
    default:
      return r;
  }
}

/** A result (JSON form) → a result message (protobuf form). */
export function resultToProto(method: ApiMethod, r: object): Message {
  return convertResult(method, r as Message, toBytes);
}

/** A result message (protobuf form) → JSON form: the client's direction. */
export function protoToResult(method: ApiMethod, r: Message): Message {
  return convertResult(method, r, fromBytes);
}
