/**
 * The codec port: one implementation per client protocol (JSON, protobuf). A codec decodes the
 * frames a client sends into commands and encodes replies and pushes into {@link OutFrame}s, each
 * built once and shareable by every connection of that protocol, whatever its transport.
 */
import type { OutFrame } from './frame.js';
import type { Command, ConnectCommandParams, Publication } from './types.js';
import type { PublicationForm, PushMsg, ReplyMsg } from './messages.js';

/** A frame or command that cannot be decoded; `reason` goes to the log. */
export class CommandDecodeError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'CommandDecodeError';
  }
}

/**
 * A decoded entry of a frame: a command, an empty object (pong), a command with no known method, or
 * a command refused as a bad request (error 107) without closing the connection.
 */
export type DecodedEntry =
  | { kind: 'command'; command: Command }
  | { kind: 'pong' }
  | { kind: 'unknown'; id: number }
  | { kind: 'invalid'; id: number; reason: string };

/** Number of codecs (the size of a per-codec cache). */
export const CODEC_COUNT = 4;

/** The two client protocols. */
export type ProtocolName = 'json' | 'protobuf';

export interface ProtocolCodec {
  readonly name: ProtocolName;
  /**
   * Small dense number per codec, for per-codec frame caches: 0 JSON, 1 protobuf, 2 and 3 their
   * unidirectional variants (bare pushes).
   */
  readonly index: number;
  /**
   * Decodes one frame a client sent (JSON: UTF-8 text of `\n`-separated commands; protobuf:
   * varint-length-delimited Command messages). Throws {@link CommandDecodeError} when malformed.
   */
  decode(frame: Buffer): DecodedEntry[];
  /** Decodes a unidirectional connect request (a bare ConnectRequest); throws CommandDecodeError. */
  decodeConnectRequest(body: Buffer): ConnectCommandParams;
  reply(msg: ReplyMsg): OutFrame;
  push(msg: PushMsg): OutFrame;
  /**
   * A publication push for the fan-out path; null when the form cannot be carried (a JSON patch that
   * is not valid UTF-8: the caller sends the full form instead).
   */
  publicationPush(channel: string, pub: Publication, form: PublicationForm): OutFrame | null;
  /** The ping: an empty reply. */
  readonly ping: OutFrame;
}
