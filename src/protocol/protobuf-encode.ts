/**
 * Encoding of the protobuf client protocol (proto/client.proto), written with protobufjs's Writer:
 * one varint-length-delimited Reply per frame (a push is a Reply holding only `push`), or for
 * unidirectional transports a bare delimited Push. proto3 defaults (false, 0, empty) are omitted.
 */
import protobuf from 'protobufjs/minimal.js';
import type { Disconnect, ProtocolError } from './codes.js';
import { OutFrame } from './frame.js';
import type {
  ConnectResultMsg,
  PublicationForm,
  PushMsg,
  ReplyMsg,
  SubscribePushMsg,
  SubscribeResultMsg,
} from './messages.js';
import type { Payload } from './payload.js';
import type { ClientInfo, Publication } from './types.js';

type Writer = protobuf.Writer;
const { Writer } = protobuf;

const LEN = 2;
const tagOf = (field: number, wireType: number): number => ((field << 3) | wireType) >>> 0;

/** String methods of ES2024 (Node 20 has them; the TypeScript lib targeted here does not). */
interface WellFormed {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/**
 * The string as valid UTF-16: protobufjs writes a lone surrogate as invalid UTF-8 (Buffer.from
 * writes U+FFFD), so lone surrogates are replaced by U+FFFD first.
 */
function wellFormed(s: string): string {
  return (s as unknown as WellFormed).isWellFormed() ? s : (s as unknown as WellFormed).toWellFormed();
}

function putString(w: Writer, field: number, v: string | undefined): void {
  if (v) w.uint32(tagOf(field, LEN)).string(wellFormed(v));
}

function putUint32(w: Writer, field: number, v: number | undefined): void {
  if (v) w.uint32(tagOf(field, 0)).uint32(v);
}

function putUint64(w: Writer, field: number, v: number | undefined): void {
  if (v) w.uint32(tagOf(field, 0)).uint64(v);
}

function putInt64(w: Writer, field: number, v: number | undefined): void {
  if (v) w.uint32(tagOf(field, 0)).int64(v);
}

function putBool(w: Writer, field: number, v: boolean | undefined): void {
  if (v) w.uint32(tagOf(field, 0)).bool(true);
}

function putBytes(w: Writer, field: number, v: Uint8Array): void {
  if (v.length > 0) w.uint32(tagOf(field, LEN)).bytes(v);
}

/** A payload as `bytes`: JSON text as its UTF-8 bytes (written as a string: the same bytes, no copy). */
function putPayload(w: Writer, field: number, p: Payload | undefined): void {
  if (typeof p === 'string') putString(w, field, p);
  else if (p !== undefined) putBytes(w, field, p);
}

/** Starts an embedded message field (end it with `w.ldelim()`). */
function open(w: Writer, field: number): Writer {
  return w.uint32(tagOf(field, LEN)).fork();
}

function putClientInfo(w: Writer, field: number, info: ClientInfo): void {
  open(w, field);
  putString(w, 1, info.user);
  putString(w, 2, info.client);
  putPayload(w, 3, info.connInfo);
  putPayload(w, 4, info.chanInfo);
  w.ldelim();
}

/** A Publication with the given data; `delta` marks a fossil patch. */
function putPublication(w: Writer, field: number, pub: Publication, data: Payload, delta: boolean): void {
  open(w, field);
  putPayload(w, 4, data);
  if (pub.info !== undefined) putClientInfo(w, 5, pub.info);
  putUint64(w, 6, pub.offset);
  const tags = pub.tags;
  if (tags !== undefined) {
    for (const k of Object.keys(tags)) {
      open(w, 7);
      w.uint32(tagOf(1, LEN)).string(wellFormed(k)).uint32(tagOf(2, LEN)).string(wellFormed(tags[k]!));
      w.ldelim();
    }
  }
  putBool(w, 8, delta);
  w.ldelim();
}

function putForm(w: Writer, field: number, pub: Publication, form: PublicationForm): void {
  if (form.kind === 'patch') putPublication(w, field, pub, form.patch, true);
  else putPublication(w, field, pub, pub.data, false);
}

function putSubscribeResult(w: Writer, field: number, r: SubscribeResultMsg): void {
  open(w, field);
  putBool(w, 1, r.expires);
  putUint32(w, 2, r.ttl);
  putBool(w, 3, r.recoverable);
  putString(w, 6, r.epoch);
  // Recovered publications carry their full data: protobuf needs no delta form for them.
  if (r.publications !== undefined) for (const p of r.publications) putPublication(w, 7, p, p.data, false);
  putBool(w, 8, r.recovered);
  putUint64(w, 9, r.offset);
  putBool(w, 10, r.positioned);
  putPayload(w, 11, r.data);
  putBool(w, 12, r.was_recovering);
  putBool(w, 13, r.delta);
  w.ldelim();
}

function putSubs(w: Writer, field: number, subs: ConnectResultMsg['subs']): void {
  if (subs === undefined) return;
  for (const [channel, sub] of subs) {
    open(w, field);
    w.uint32(tagOf(1, LEN)).string(wellFormed(channel));
    putSubscribeResult(w, 2, sub);
    w.ldelim();
  }
}

/** ConnectResult (a reply), or with `push` Connect (a push): same content, fields 3-6 numbered apart. */
function putConnect(w: Writer, field: number, r: ConnectResultMsg, push: boolean): void {
  open(w, field);
  putString(w, 1, r.client);
  putString(w, 2, r.version);
  if (push) {
    putPayload(w, 3, r.data);
    putSubs(w, 4, r.subs);
    putBool(w, 5, r.expires);
    putUint32(w, 6, r.ttl);
  } else {
    putBool(w, 3, r.expires);
    putUint32(w, 4, r.ttl);
    putPayload(w, 5, r.data);
    putSubs(w, 6, r.subs);
  }
  putUint32(w, 7, r.ping);
  putBool(w, 8, r.pong);
  putString(w, 9, r.session);
  putString(w, 10, r.node);
  putInt64(w, 11, r.time);
  w.ldelim();
}

function putError(w: Writer, field: number, e: ProtocolError): void {
  open(w, field);
  putUint32(w, 1, e.code);
  putString(w, 2, e.message);
  putBool(w, 3, e.temporary);
  w.ldelim();
}

function putExpiry(w: Writer, field: number, expires: boolean | undefined, ttl: number | undefined): void {
  open(w, field);
  putBool(w, 1, expires);
  putUint32(w, 2, ttl);
  w.ldelim();
}

/** Unsubscribe (code 2, reason 3) and Disconnect (code 1, reason 2). */
function putCodeReason(w: Writer, field: number, d: Disconnect, codeField: number): void {
  open(w, field);
  putUint32(w, codeField, d.code);
  putString(w, codeField + 1, d.reason);
  w.ldelim();
}

function putSubscribePush(w: Writer, field: number, r: SubscribePushMsg): void {
  open(w, field);
  putBool(w, 1, r.recoverable);
  putString(w, 4, r.epoch);
  putUint64(w, 5, r.offset);
  putBool(w, 6, r.positioned);
  putPayload(w, 7, r.data);
  w.ldelim();
}

/** The Push message's fields (channel, then one push), without the Push around them. */
function putPushBody(w: Writer, msg: PushMsg): void {
  switch (msg.kind) {
    case 'pub':
      putString(w, 2, msg.channel);
      putForm(w, 4, msg.pub, msg.form);
      return;
    case 'join':
    case 'leave':
      putString(w, 2, msg.channel);
      open(w, msg.kind === 'join' ? 5 : 6);
      putClientInfo(w, 1, msg.info);
      w.ldelim();
      return;
    case 'unsubscribe':
      putString(w, 2, msg.channel);
      putCodeReason(w, 7, msg.reason, 2);
      return;
    case 'message':
      open(w, 8);
      putPayload(w, 1, msg.data);
      w.ldelim();
      return;
    case 'subscribe':
      putString(w, 2, msg.channel);
      putSubscribePush(w, 9, msg.result);
      return;
    case 'connect':
      putConnect(w, 10, msg.result, true);
      return;
    case 'disconnect':
      putCodeReason(w, 11, msg.reason, 1);
      return;
    case 'refresh':
      putExpiry(w, 12, msg.expires, msg.ttl);
      return;
  }
}

/** The Reply message's fields. */
function putReplyBody(w: Writer, msg: ReplyMsg): void {
  putUint32(w, 1, msg.id);
  switch (msg.kind) {
    case 'error':
      putError(w, 2, msg.error);
      return;
    case 'connect':
      putConnect(w, 5, msg.result, false);
      return;
    case 'subscribe':
      putSubscribeResult(w, 6, msg.result);
      return;
    case 'unsubscribe':
      open(w, 7).ldelim();
      return;
    case 'publish':
      open(w, 8).ldelim();
      return;
    case 'ping':
      open(w, 12).ldelim();
      return;
    case 'presence':
      open(w, 9);
      for (const [clientId, info] of msg.presence) {
        open(w, 1);
        w.uint32(tagOf(1, LEN)).string(wellFormed(clientId));
        putClientInfo(w, 2, info);
        w.ldelim();
      }
      w.ldelim();
      return;
    case 'presence_stats':
      open(w, 10);
      putUint32(w, 1, msg.numClients);
      putUint32(w, 2, msg.numUsers);
      w.ldelim();
      return;
    case 'history':
      open(w, 11);
      for (const p of msg.result.publications) putPublication(w, 1, p, p.data, false);
      putString(w, 2, msg.result.epoch);
      putUint64(w, 3, msg.result.offset);
      w.ldelim();
      return;
    case 'rpc':
      open(w, 13);
      putPayload(w, 1, msg.data);
      w.ldelim();
      return;
    case 'refresh':
      open(w, 14);
      putString(w, 1, msg.result.client);
      putString(w, 2, msg.result.version);
      putBool(w, 3, msg.result.expires);
      putUint32(w, 4, msg.result.ttl);
      w.ldelim();
      return;
    case 'sub_refresh':
      putExpiry(w, 15, msg.result.expires, msg.result.ttl);
      return;
  }
}

/** A new writer, already inside the one delimited message the frame holds. */
function startFrame(): Writer {
  return Writer.create().fork();
}

/** Ends the delimited message started by {@link startFrame} and wraps its bytes. */
function endFrame(w: Writer): OutFrame {
  const bytes = w.ldelim().finish();
  return new OutFrame(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

export function encodeProtobufReply(msg: ReplyMsg): OutFrame {
  const w = startFrame();
  putReplyBody(w, msg);
  return endFrame(w);
}

/** A push: a Reply holding only `push` (bidirectional), or (`bare`) the Push message itself. */
export function encodeProtobufPush(msg: PushMsg, bare = false): OutFrame {
  const w = startFrame();
  if (!bare) open(w, 4);
  putPushBody(w, msg);
  if (!bare) w.ldelim();
  return endFrame(w);
}

/** A publication push; protobuf carries every form (a patch is bytes like any other). */
export function encodeProtobufPublicationPush(channel: string, pub: Publication, form: PublicationForm, bare = false): OutFrame {
  const w = startFrame();
  if (!bare) open(w, 4);
  putString(w, 2, channel);
  putForm(w, 4, pub, form);
  if (!bare) w.ldelim();
  return endFrame(w);
}
