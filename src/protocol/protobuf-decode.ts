/**
 * Decoding of the protobuf client protocol (proto/client.proto): frames of varint-length-delimited
 * Command messages, a bare ConnectRequest (unidirectional transports) and an EmulationRequest
 * (bidirectional emulation), read by hand on {@link WireReader} so that every field's wire type and
 * range is checked. Commands get the shape the JSON decoder gives (json-decode.ts).
 *
 * proto3 has no presence for scalars: a false / 0 / empty field is absent, and decodes as
 * `undefined` (except `channel`, and `token` of refresh and sub_refresh, which default to '' as in
 * JSON). Payload bytes decode to their JSON value when they hold JSON, else to a Buffer.
 */
import { CommandDecodeError, type DecodedEntry } from './codec.js';
import { bytesToValue } from './payload.js';
import { WireReader } from './protobuf-wire.js';
import type { Command, ConnectCommandParams, HistoryCommandParams, SubscribeCommandParams } from './types.js';

function fail(reason: string): never {
  throw new CommandDecodeError(reason);
}

/** Runs a decoding step, turning anything but a CommandDecodeError into one. */
function strictly<T>(decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (e instanceof CommandDecodeError) throw e;
    throw new CommandDecodeError(`malformed protobuf: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Sets an own property, also for the key `__proto__`. */
function setOwn<T>(o: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

const str = (s: string): string | undefined => (s === '' ? undefined : s);
const num = (n: number): number | undefined => (n === 0 ? undefined : n);
const flag = (b: boolean): boolean | undefined => (b ? true : undefined);
const value = (d: Buffer | undefined): unknown => (d === undefined || d.length === 0 ? undefined : bytesToValue(d));

/** A subscription to recover at connect (a SubscribeRequest of which only 3, 6 and 7 are read). */
interface SubPosition {
  recover: boolean;
  epoch: string;
  offset: number;
}

function readSubPosition(r: WireReader, a: SubPosition): void {
  while (r.more()) {
    switch (r.tag('connect.subs')) {
      case 3: a.recover = r.bool('connect.subs.recover'); break;
      case 6: a.epoch = r.string('connect.subs.epoch'); break;
      case 7: a.offset = r.uint64('connect.subs.offset'); break;
      default: r.skip('connect.subs');
    }
  }
}

interface ConnectAcc {
  token: string;
  data: Buffer | undefined;
  subs: Map<string, SubPosition> | undefined;
  name: string;
  version: string;
  headers: Map<string, string> | undefined;
}

function readConnect(r: WireReader, a: ConnectAcc): void {
  while (r.more()) {
    switch (r.tag('connect')) {
      case 1: a.token = r.string('connect.token'); break;
      case 2: a.data = r.bytes('connect.data'); break;
      case 3: {
        const outer = r.enter('connect.subs');
        let key = '';
        const sub: SubPosition = { recover: false, epoch: '', offset: 0 };
        while (r.more()) {
          const f = r.tag('connect.subs entry');
          if (f === 1) key = r.string('connect.subs key');
          else if (f === 2) {
            const o = r.enter('connect.subs value');
            readSubPosition(r, sub);
            r.leave(o);
          } else r.skip('connect.subs entry');
        }
        r.leave(outer);
        (a.subs ??= new Map()).set(key, sub);
        break;
      }
      case 4: a.name = r.string('connect.name'); break;
      case 5: a.version = r.string('connect.version'); break;
      case 6: {
        const outer = r.enter('connect.headers');
        let key = '';
        let val = '';
        while (r.more()) {
          const f = r.tag('connect.headers entry');
          if (f === 1) key = r.string('connect.headers key');
          else if (f === 2) val = r.string('connect.headers value');
          else r.skip('connect.headers entry');
        }
        r.leave(outer);
        (a.headers ??= new Map()).set(key, val);
        break;
      }
      default: r.skip('connect');
    }
  }
}

function newConnect(): ConnectAcc {
  return { token: '', data: undefined, subs: undefined, name: '', version: '', headers: undefined };
}

function connectParams(a: ConnectAcc): ConnectCommandParams {
  let subs: ConnectCommandParams['subs'];
  if (a.subs !== undefined) {
    subs = {};
    for (const [ch, s] of a.subs) setOwn(subs, ch, { recover: flag(s.recover), epoch: str(s.epoch), offset: num(s.offset) });
  }
  let headers: Record<string, string> | undefined;
  if (a.headers !== undefined) {
    headers = {};
    for (const [k, v] of a.headers) setOwn(headers, k, v);
  }
  return { token: str(a.token), data: value(a.data), subs, name: str(a.name), version: str(a.version), headers };
}

interface SubscribeAcc {
  channel: string;
  token: string;
  recover: boolean;
  epoch: string;
  offset: number;
  data: Buffer | undefined;
  positioned: boolean;
  recoverable: boolean;
  join_leave: boolean;
  delta: string;
}

function readSubscribe(r: WireReader, a: SubscribeAcc): void {
  while (r.more()) {
    switch (r.tag('subscribe')) {
      case 1: a.channel = r.string('subscribe.channel'); break;
      case 2: a.token = r.string('subscribe.token'); break;
      case 3: a.recover = r.bool('subscribe.recover'); break;
      case 6: a.epoch = r.string('subscribe.epoch'); break;
      case 7: a.offset = r.uint64('subscribe.offset'); break;
      case 8: a.data = r.bytes('subscribe.data'); break;
      case 9: a.positioned = r.bool('subscribe.positioned'); break;
      case 10: a.recoverable = r.bool('subscribe.recoverable'); break;
      case 11: a.join_leave = r.bool('subscribe.join_leave'); break;
      case 12: a.delta = r.string('subscribe.delta'); break;
      default: r.skip('subscribe');
    }
  }
}

function subscribeParams(a: SubscribeAcc): SubscribeCommandParams {
  return {
    channel: a.channel,
    token: str(a.token),
    recover: flag(a.recover),
    epoch: str(a.epoch),
    offset: num(a.offset),
    data: value(a.data),
    positioned: flag(a.positioned),
    recoverable: flag(a.recoverable),
    join_leave: flag(a.join_leave),
    delta: str(a.delta),
  };
}

interface HistoryAcc {
  channel: string;
  limit: number;
  since: { offset: number; epoch: string } | undefined;
  reverse: boolean;
}

function readHistory(r: WireReader, a: HistoryAcc): void {
  while (r.more()) {
    switch (r.tag('history')) {
      case 1: a.channel = r.string('history.channel'); break;
      case 7: a.limit = r.int32('history.limit'); break;
      case 8: {
        const since = (a.since ??= { offset: 0, epoch: '' });
        const outer = r.enter('history.since');
        while (r.more()) {
          const f = r.tag('history.since');
          if (f === 1) since.offset = r.uint64('history.since.offset');
          else if (f === 2) since.epoch = r.string('history.since.epoch');
          else r.skip('history.since');
        }
        r.leave(outer);
        break;
      }
      case 9: a.reverse = r.bool('history.reverse'); break;
      default: r.skip('history');
    }
  }
}

function historyParams(a: HistoryAcc): HistoryCommandParams {
  return {
    channel: a.channel,
    limit: num(a.limit),
    since: a.since && { offset: num(a.since.offset), epoch: str(a.since.epoch) },
    reverse: flag(a.reverse),
  };
}

/** The requests whose fields are only strings and bytes: field number -> [key, 'string' | 'bytes']. */
type Simple = Record<string, string | Buffer | undefined>;
type SimpleSchema = Readonly<Record<number, readonly [key: string, type: 'string' | 'bytes']>>;

const CHANNEL: SimpleSchema = { 1: ['channel', 'string'] };
const PUBLISH: SimpleSchema = { 1: ['channel', 'string'], 2: ['data', 'bytes'] };
const SEND: SimpleSchema = { 1: ['data', 'bytes'] };
const RPC: SimpleSchema = { 1: ['data', 'bytes'], 2: ['method', 'string'] };
const REFRESH: SimpleSchema = { 1: ['token', 'string'] };
const SUB_REFRESH: SimpleSchema = { 1: ['channel', 'string'], 2: ['token', 'string'] };

function readSimple(r: WireReader, a: Simple, schema: SimpleSchema, where: string): void {
  while (r.more()) {
    const f = schema[r.tag(where)];
    if (f === undefined) r.skip(where);
    else a[f[0]] = f[1] === 'string' ? r.string(`${where}.${f[0]}`) : r.bytes(`${where}.${f[0]}`);
  }
}

/** The requests of one Command, merged over repeated occurrences as protobuf merges messages. */
interface Requests {
  connect?: ConnectAcc;
  subscribe?: SubscribeAcc;
  unsubscribe?: Simple;
  publish?: Simple;
  presence?: Simple;
  presence_stats?: Simple;
  history?: HistoryAcc;
  ping?: true;
  send?: Simple;
  rpc?: Simple;
  refresh?: Simple;
  sub_refresh?: Simple;
}

const s = (a: Simple, key: string): string => (a[key] as string | undefined) ?? '';
const b = (a: Simple, key: string): Buffer | undefined => a[key] as Buffer | undefined;

function readRequest(r: WireReader, field: number, q: Requests): void {
  switch (field) {
    case 4: return readConnect(r, (q.connect ??= newConnect()));
    case 5:
      return readSubscribe(r, (q.subscribe ??= {
        channel: '', token: '', recover: false, epoch: '', offset: 0, data: undefined,
        positioned: false, recoverable: false, join_leave: false, delta: '',
      }));
    case 6: return readSimple(r, (q.unsubscribe ??= {}), CHANNEL, 'unsubscribe');
    case 7: return readSimple(r, (q.publish ??= {}), PUBLISH, 'publish');
    case 8: return readSimple(r, (q.presence ??= {}), CHANNEL, 'presence');
    case 9: return readSimple(r, (q.presence_stats ??= {}), CHANNEL, 'presence_stats');
    case 10: return readHistory(r, (q.history ??= { channel: '', limit: 0, since: undefined, reverse: false }));
    case 11:
      q.ping = true;
      while (r.more()) {
        r.tag('ping');
        r.skip('ping');
      }
      return;
    case 12: return readSimple(r, (q.send ??= {}), SEND, 'send');
    case 13: return readSimple(r, (q.rpc ??= {}), RPC, 'rpc');
    case 14: return readSimple(r, (q.refresh ??= {}), REFRESH, 'refresh');
    case 15: return readSimple(r, (q.sub_refresh ??= {}), SUB_REFRESH, 'sub_refresh');
  }
}

/** The first request present, in field-number order (the order of the JSON decoder's methods). */
function pickCommand(id: number, q: Requests): Command | undefined {
  if (q.connect) return { id, method: 'connect', params: connectParams(q.connect) };
  if (q.subscribe) return { id, method: 'subscribe', params: subscribeParams(q.subscribe) };
  if (q.unsubscribe) return { id, method: 'unsubscribe', params: { channel: s(q.unsubscribe, 'channel') } };
  if (q.publish) return { id, method: 'publish', params: { channel: s(q.publish, 'channel'), data: value(b(q.publish, 'data')) } };
  if (q.presence) return { id, method: 'presence', params: { channel: s(q.presence, 'channel') } };
  if (q.presence_stats) return { id, method: 'presence_stats', params: { channel: s(q.presence_stats, 'channel') } };
  if (q.history) return { id, method: 'history', params: historyParams(q.history) };
  if (q.ping) return { id, method: 'ping', params: {} };
  if (q.send) return { id, method: 'send', params: { data: value(b(q.send, 'data')) } };
  if (q.rpc) return { id, method: 'rpc', params: { method: str(s(q.rpc, 'method')), data: value(b(q.rpc, 'data')) } };
  if (q.refresh) return { id, method: 'refresh', params: { token: s(q.refresh, 'token') } };
  if (q.sub_refresh) {
    return { id, method: 'sub_refresh', params: { channel: s(q.sub_refresh, 'channel'), token: s(q.sub_refresh, 'token') } };
  }
  return undefined;
}

const REQUEST_NAMES = [
  '', '', '', '', 'connect', 'subscribe', 'unsubscribe', 'publish', 'presence', 'presence_stats',
  'history', 'ping', 'send', 'rpc', 'refresh', 'sub_refresh',
] as const;

/** Reads one Command (the reader's end is the message's end) into a frame entry. */
function readCommand(r: WireReader): DecodedEntry {
  let id = 0;
  const q: Requests = {};
  while (r.more()) {
    const field = r.tag('command');
    if (field === 1) id = r.uint32('command id');
    else if (field >= 4 && field <= 15) {
      const outer = r.enter(REQUEST_NAMES[field]!);
      readRequest(r, field, q);
      r.leave(outer);
    } else r.skip('command');
  }
  const command = pickCommand(id, q);
  if (command === undefined) return id === 0 ? { kind: 'pong' } : { kind: 'unknown', id };
  if (id === 0 && command.method !== 'send') fail(`${command.method} command without id`);
  return { kind: 'command', command };
}

/** Decodes a frame of varint-length-delimited Commands. */
export function decodeProtobufFrame(frame: Buffer): DecodedEntry[] {
  if (frame.length === 0) fail('empty frame');
  return strictly(() => {
    const r = new WireReader(frame);
    const out: DecodedEntry[] = [];
    while (r.more()) {
      const outer = r.enterDelimited('command');
      out.push(readCommand(r));
      r.leave(outer);
    }
    return out;
  });
}

/** Decodes a bare ConnectRequest (unidirectional transports). */
export function decodeProtobufConnectRequest(body: Buffer): ConnectCommandParams {
  return strictly(() => {
    const a = newConnect();
    readConnect(new WireReader(body), a);
    return connectParams(a);
  });
}

/** An EmulationRequest: the body of a client-to-server POST of the bidirectional emulation. */
export interface EmulationRequest {
  node: string;
  session: string;
  /** Commands, varint-length-delimited (a view of the body, not a copy). */
  data: Buffer;
}

/** Decodes an EmulationRequest; absent fields are '' and an empty Buffer, as proto3 defaults. */
export function decodeEmulationRequest(body: Buffer): EmulationRequest {
  return strictly(() => {
    const r = new WireReader(body);
    const out: EmulationRequest = { node: '', session: '', data: Buffer.alloc(0) };
    while (r.more()) {
      switch (r.tag('emulation')) {
        case 1: out.node = r.string('emulation.node'); break;
        case 2: out.session = r.string('emulation.session'); break;
        case 3: out.data = r.bytes('emulation.data'); break;
        default: r.skip('emulation');
      }
    }
    return out;
  });
}
