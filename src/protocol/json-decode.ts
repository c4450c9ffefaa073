/**
 * Decoding of JSON-protocol frames into typed commands. A frame holds one or more JSON objects
 * separated by `\n`. Anything that does not decode into a well-typed command is a
 * {@link CommandDecodeError}: the connection is closed with 3501 "bad request".
 */
import { jsonTooDeep, MAX_JSON_DEPTH } from './json-depth.js';
import type { Command, CommandMethod, ConnectCommandParams } from './types.js';
import { CommandDecodeError, type DecodedEntry } from './codec.js';

export { CommandDecodeError, type DecodedEntry };

type Obj = Record<string, unknown>;

const METHODS: readonly CommandMethod[] = [
  'connect',
  'subscribe',
  'unsubscribe',
  'publish',
  'presence',
  'presence_stats',
  'history',
  'ping',
  'send',
  'rpc',
  'refresh',
  'sub_refresh',
];

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(reason: string): never {
  throw new CommandDecodeError(reason);
}

function optString(o: Obj, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(`${where}.${key} must be a string`);
  return v;
}

function optUint(o: Obj, key: string, where: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`${where}.${key} must be a non-negative integer`);
  return v;
}

function optInt(o: Obj, key: string, where: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(`${where}.${key} must be an integer`);
  return v;
}

function optBool(o: Obj, key: string, where: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') fail(`${where}.${key} must be a boolean`);
  return v;
}

function optObj(o: Obj, key: string, where: string): Obj | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) fail(`${where}.${key} must be an object`);
  return v;
}

function channelOf(p: Obj, where: string): string {
  return optString(p, 'channel', where) ?? '';
}

function stringMap(o: Obj | undefined, where: string): Record<string, string> | undefined {
  if (o === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== 'string') fail(`${where}.${k} must be a string`);
    out[k] = v;
  }
  return out;
}

function decodeParams(method: CommandMethod, id: number, p: Obj): Command {
  const w = method;
  switch (method) {
    case 'connect': {
      const subsIn = optObj(p, 'subs', w);
      let subs: Record<string, { recover?: boolean; epoch?: string; offset?: number }> | undefined;
      if (subsIn !== undefined) {
        subs = {};
        for (const [ch, s] of Object.entries(subsIn)) {
          if (!isObj(s)) fail(`connect.subs.${ch} must be an object`);
          subs[ch] = {
            recover: optBool(s, 'recover', 'connect.subs'),
            epoch: optString(s, 'epoch', 'connect.subs'),
            offset: optUint(s, 'offset', 'connect.subs'),
          };
        }
      }
      return {
        id,
        method,
        params: {
          token: optString(p, 'token', w),
          data: p['data'],
          subs,
          name: optString(p, 'name', w),
          version: optString(p, 'version', w),
          headers: stringMap(optObj(p, 'headers', w), 'connect.headers'),
        },
      };
    }
    case 'subscribe':
      return {
        id,
        method,
        params: {
          channel: channelOf(p, w),
          token: optString(p, 'token', w),
          recover: optBool(p, 'recover', w),
          epoch: optString(p, 'epoch', w),
          offset: optUint(p, 'offset', w),
          data: p['data'],
          positioned: optBool(p, 'positioned', w),
          recoverable: optBool(p, 'recoverable', w),
          join_leave: optBool(p, 'join_leave', w),
          delta: optString(p, 'delta', w),
        },
      };
    case 'unsubscribe':
    case 'presence':
    case 'presence_stats':
      return { id, method, params: { channel: channelOf(p, w) } } as Command;
    case 'publish':
      return { id, method, params: { channel: channelOf(p, w), data: p['data'] } };
    case 'history': {
      const since = optObj(p, 'since', w);
      return {
        id,
        method,
        params: {
          channel: channelOf(p, w),
          limit: optInt(p, 'limit', w),
          since: since && { offset: optUint(since, 'offset', 'history.since'), epoch: optString(since, 'epoch', 'history.since') },
          reverse: optBool(p, 'reverse', w),
        },
      };
    }
    case 'ping':
      return { id, method, params: {} };
    case 'send':
      return { id, method, params: { data: p['data'] } };
    case 'rpc':
      return { id, method, params: { method: optString(p, 'method', w), data: p['data'] } };
    case 'refresh':
      return { id, method, params: { token: optString(p, 'token', w) ?? '' } };
    case 'sub_refresh':
      return { id, method, params: { channel: channelOf(p, w), token: optString(p, 'token', w) ?? '' } };
  }
}

/** A bare ConnectRequest object (unidirectional transports) as connect params. */
export function decodeConnectObject(value: unknown): ConnectCommandParams {
  if (!isObj(value)) fail('connect request must be a JSON object');
  return (decodeParams('connect', 0, value) as Extract<Command, { method: 'connect' }>).params;
}

/** The command's `id` (0 when absent); throws unless it is a uint32. */
function commandId(value: Obj): number {
  const rawId = value['id'];
  if (rawId === undefined || rawId === null) return 0;
  if (typeof rawId !== 'number' || !Number.isInteger(rawId) || rawId < 0 || rawId > 0xffffffff) {
    fail('id must be a uint32');
  }
  return rawId;
}

/** Decodes one JSON value (already parsed) into a frame entry. */
export function decodeCommandObject(value: unknown): DecodedEntry {
  if (!isObj(value)) fail('command must be a JSON object');
  const id = commandId(value);
  for (const method of METHODS) {
    const params = value[method];
    if (params === undefined || params === null) continue;
    if (!isObj(params)) fail(`${method} must be an object`);
    if (id === 0 && method !== 'send') fail(`${method} command without id`);
    return { kind: 'command', command: decodeParams(method, id, params) };
  }
  if (id === 0) return { kind: 'pong' };
  return { kind: 'unknown', id };
}

/** Splits a text frame into entries; throws {@link CommandDecodeError} on malformed JSON. */
export function decodeFrame(text: string): DecodedEntry[] {
  const out: DecodedEntry[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line.length === 0) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      fail('malformed JSON');
    }
    if (jsonTooDeep(line)) {
      // Answered with 107 by id; the rest of the command is not looked at.
      const id = isObj(value) ? commandId(value) : 0;
      if (id === 0) fail(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
      out.push({ kind: 'invalid', id, reason: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` });
      continue;
    }
    out.push(decodeCommandObject(value));
  }
  if (out.length === 0) fail('empty frame');
  return out;
}
