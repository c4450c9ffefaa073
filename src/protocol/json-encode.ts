/**
 * Encoding of replies and pushes in the JSON protocol. Payloads ({@link Payload}) are spliced in as
 * they are (JSON text) or, for bytes JSON cannot carry, as a JSON string of their base64; everything
 * else goes through `JSON.stringify`. Each function returns one JSON object as text, never holding a
 * newline outside strings (several objects in one frame are joined by `\n`).
 */
import type { ProtocolError, Disconnect } from './codes.js';
import type {
  ConnectResultMsg,
  HistoryResultMsg,
  PublicationForm,
  PushMsg,
  RefreshResultMsg,
  ReplyMsg,
  SubRefreshResultMsg,
  SubscribePushMsg,
  SubscribeResultMsg,
} from './messages.js';
import { payloadJson } from './payload.js';
import type { ClientInfo, Payload, Publication, RawJson } from './types.js';

const q = JSON.stringify;

/** `{"user":..,"client":..,"conn_info":..,"chan_info":..}`. */
export function encodeClientInfo(info: ClientInfo): string {
  let s = `{"user":${q(info.user)},"client":${q(info.client)}`;
  if (info.connInfo !== undefined) s += `,"conn_info":${info.connInfo}`;
  if (info.chanInfo !== undefined) s += `,"chan_info":${info.chanInfo}`;
  return s + '}';
}

/**
 * A publication object. `data` is the payload's JSON form to embed (the publication's own data, or
 * for fossil delta mode a JSON string holding the patch or the full payload); `delta` marks a patch.
 */
export function encodePublication(pub: Publication, data: RawJson = payloadJson(pub.data), delta = false): string {
  let s = `{"data":${data}`;
  if (pub.info !== undefined) s += `,"info":${encodeClientInfo(pub.info)}`;
  if (pub.offset > 0) s += `,"offset":${pub.offset}`;
  if (pub.tags !== undefined && Object.keys(pub.tags).length > 0) s += `,"tags":${q(pub.tags)}`;
  if (delta) s += ',"delta":true';
  return s + '}';
}

/** A publication in delta mode's full form: its data's JSON text as a JSON string. */
export function encodeFullPublication(pub: Publication): string {
  return encodePublication(pub, q(payloadJson(pub.data)));
}

/**
 * A publication in a given form; null for a patch JSON cannot carry (not valid UTF-8).
 */
export function encodePublicationForm(pub: Publication, form: PublicationForm): string | null {
  switch (form.kind) {
    case 'plain':
      return encodePublication(pub);
    case 'full':
      return encodeFullPublication(pub);
    case 'patch': {
      let text: string;
      try {
        text = utf8Strict.decode(form.patch);
      } catch {
        return null;
      }
      return encodePublication(pub, q(text), true);
    }
  }
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** `{"code":..,"reason":..}` for unsubscribe and disconnect pushes. */
export function encodeCodeReason(d: Disconnect): string {
  return `{"code":${d.code},"reason":${q(d.reason)}}`;
}

/** A reply carrying an error. */
export function encodeError(id: number, error: ProtocolError): string {
  const temporary = error.temporary === true ? ',"temporary":true' : '';
  return `{"id":${id},"error":{"code":${error.code},"message":${q(error.message)}${temporary}}}`;
}

/** Appends `,"key":value` (the value JSON-encoded) when the value is defined; `key` is a field name of the protocol, nothing to escape. */
function field(key: string, value: unknown): string {
  return value === undefined ? '' : `,"${key}":${q(value)}`;
}

/** Appends `,"key":<payload>` when the payload is defined (`key` as for {@link field}). */
function payloadField(key: string, value: Payload | undefined): string {
  return value === undefined ? '' : `,"${key}":${payloadJson(value)}`;
}

/** Joins `,"k":v` fragments into an object. */
function object(fragments: string): string {
  return '{' + fragments.slice(1) + '}';
}

export function encodeSubscribeResult(r: SubscribeResultMsg): string {
  let s = field('expires', r.expires) + field('ttl', r.ttl) + field('recoverable', r.recoverable);
  s += field('positioned', r.positioned) + field('epoch', r.epoch) + field('offset', r.offset);
  if (r.publications !== undefined && r.publications.length > 0) {
    const encode = r.delta === true ? encodeFullPublication : (p: Publication) => encodePublication(p);
    s += `,"publications":[${r.publications.map(encode).join(',')}]`;
  }
  s += field('was_recovering', r.was_recovering) + field('recovered', r.recovered);
  s += payloadField('data', r.data) + field('delta', r.delta);
  return object(s);
}

function encodeSubscribePush(r: SubscribePushMsg): string {
  const s = field('recoverable', r.recoverable) + field('positioned', r.positioned) + field('epoch', r.epoch) + field('offset', r.offset);
  return object(s + payloadField('data', r.data));
}

export function encodeConnectResult(r: ConnectResultMsg): string {
  let s = field('client', r.client) + field('version', r.version) + field('expires', r.expires) + field('ttl', r.ttl);
  s += payloadField('data', r.data);
  if (r.subs !== undefined && r.subs.length > 0) {
    s += `,"subs":{${r.subs.map(([ch, sub]) => `${q(ch)}:${encodeSubscribeResult(sub)}`).join(',')}}`;
  }
  s += field('ping', r.ping) + field('pong', r.pong) + field('session', r.session) + field('node', r.node) + field('time', r.time);
  return object(s);
}

function encodeRefreshResult(r: RefreshResultMsg | SubRefreshResultMsg): string {
  const head = 'client' in r ? field('client', r.client) + field('version', r.version) : '';
  const s = head + field('expires', r.expires) + field('ttl', r.ttl);
  return s === '' ? '{}' : object(s);
}

function encodeHistoryResult(r: HistoryResultMsg): string {
  return `{"publications":[${r.publications.map((p) => encodePublication(p)).join(',')}],"epoch":${q(r.epoch)},"offset":${r.offset}}`;
}

/** A whole reply. */
export function encodeReply(msg: ReplyMsg): string {
  const head = `{"id":${msg.id},`;
  switch (msg.kind) {
    case 'error':
      return encodeError(msg.id, msg.error);
    case 'connect':
      return `${head}"connect":${encodeConnectResult(msg.result)}}`;
    case 'subscribe':
      return `${head}"subscribe":${encodeSubscribeResult(msg.result)}}`;
    case 'unsubscribe':
    case 'publish':
    case 'ping':
      return `${head}"${msg.kind}":{}}`;
    case 'presence': {
      const entries: string[] = [];
      for (const [clientId, info] of msg.presence) entries.push(`${q(clientId)}:${encodeClientInfo(info)}`);
      return `${head}"presence":{"presence":{${entries.join(',')}}}}`;
    }
    case 'presence_stats':
      return `${head}"presence_stats":{"num_clients":${msg.numClients},"num_users":${msg.numUsers}}}`;
    case 'history':
      return `${head}"history":${encodeHistoryResult(msg.result)}}`;
    case 'rpc':
      return `${head}"rpc":${msg.data === undefined ? '{}' : `{"data":${payloadJson(msg.data)}}`}}`;
    case 'refresh':
    case 'sub_refresh':
      return `${head}"${msg.kind}":${encodeRefreshResult(msg.result)}}`;
  }
}

/** A Push object (without the Reply around it, as unidirectional transports send it). */
export function encodePushBody(msg: PushMsg): string {
  switch (msg.kind) {
    case 'pub':
      return `{"channel":${q(msg.channel)},"pub":${encodePublicationForm(msg.pub, msg.form) ?? encodeFullPublication(msg.pub)}}`;
    case 'join':
    case 'leave':
      return `{"channel":${q(msg.channel)},"${msg.kind}":{"info":${encodeClientInfo(msg.info)}}}`;
    case 'unsubscribe':
      return `{"channel":${q(msg.channel)},"unsubscribe":${encodeCodeReason(msg.reason)}}`;
    case 'message':
      return `{"message":{"data":${payloadJson(msg.data)}}}`;
    case 'subscribe':
      return `{"channel":${q(msg.channel)},"subscribe":${encodeSubscribePush(msg.result)}}`;
    case 'connect':
      return `{"connect":${encodeConnectResult(msg.result)}}`;
    case 'disconnect':
      return `{"disconnect":${encodeCodeReason(msg.reason)}}`;
    case 'refresh':
      return `{"refresh":${encodeRefreshResult({ expires: msg.expires, ttl: msg.ttl })}}`;
  }
}

/** The ping frame: an empty reply. */
export const PING = '{}';
