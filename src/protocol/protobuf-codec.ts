/**
 * The protobuf client protocol as {@link ProtocolCodec}s (proto/client.proto; WebSocket subprotocol
 * `centrifuge-protobuf`): decoding in protobuf-decode.ts, encoding in protobuf-encode.ts.
 */
import type { DecodedEntry, ProtocolCodec } from './codec.js';
import { OutFrame } from './frame.js';
import { FrameType, pushFrameType, replyFrameType } from './frame-types.js';
import type { PublicationForm, PushMsg, ReplyMsg } from './messages.js';
import { decodeProtobufConnectRequest, decodeProtobufFrame } from './protobuf-decode.js';
import { encodeProtobufPublicationPush, encodeProtobufPush, encodeProtobufReply } from './protobuf-encode.js';
import type { ConnectCommandParams, Publication } from './types.js';

class ProtobufCodec implements ProtocolCodec {
  readonly name = 'protobuf' as const;
  /** The empty message, delimited (its length, 0): an empty Reply, or an empty Push. */
  readonly ping = new OutFrame(Buffer.from([0]), FrameType.server_ping);

  constructor(
    readonly index: number,
    private readonly barePushes: boolean,
  ) {}

  decode(frame: Buffer): DecodedEntry[] {
    return decodeProtobufFrame(frame);
  }

  decodeConnectRequest(body: Buffer): ConnectCommandParams {
    return decodeProtobufConnectRequest(body);
  }

  reply(msg: ReplyMsg): OutFrame {
    const frame = encodeProtobufReply(msg);
    frame.type = replyFrameType(msg.kind);
    frame.reply = true;
    return frame;
  }

  push(msg: PushMsg): OutFrame {
    const frame = encodeProtobufPush(msg, this.barePushes);
    frame.type = pushFrameType(msg.kind);
    return frame;
  }

  publicationPush(channel: string, pub: Publication, form: PublicationForm): OutFrame {
    const frame = encodeProtobufPublicationPush(channel, pub, form, this.barePushes);
    frame.type = FrameType.push_publication;
    return frame;
  }
}

/** Protobuf for bidirectional connections: every message a delimited Reply. */
export const protobufCodec: ProtocolCodec = new ProtobufCodec(1, false);
/**
 * Protobuf for unidirectional connections: pushes as bare delimited Push messages (a transport
 * that frames messages itself, like gRPC, drops the length prefix).
 */
export const uniProtobufCodec: ProtocolCodec = new ProtobufCodec(3, true);
