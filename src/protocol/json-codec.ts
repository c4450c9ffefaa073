/**
 * The JSON protocol as a {@link ProtocolCodec}: `\n`-separated JSON commands in, one JSON object per
 * outgoing frame. {@link jsonCodec} wraps pushes in a Reply (`{"push":{...}}`) for bidirectional
 * connections; {@link uniJsonCodec} sends bare Push objects, as the unidirectional transports do.
 */
import { CommandDecodeError, type ProtocolCodec } from './codec.js';
import { OutFrame } from './frame.js';
import { FrameType, pushFrameType, replyFrameType } from './frame-types.js';
import { decodeConnectObject, decodeFrame } from './json-decode.js';
import { jsonTooDeep, MAX_JSON_DEPTH } from './json-depth.js';
import { encodePublicationForm, encodePushBody, encodeReply, PING } from './json-encode.js';
import type { PublicationForm, PushMsg, ReplyMsg } from './messages.js';
import type { ConnectCommandParams, Publication } from './types.js';

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** A frame's bytes as text; frames that are not valid UTF-8 are malformed. */
export function frameText(frame: Buffer): string {
  try {
    return utf8Strict.decode(frame);
  } catch {
    throw new CommandDecodeError('frame is not valid UTF-8');
  }
}

class JsonCodec implements ProtocolCodec {
  readonly name = 'json' as const;
  readonly ping = new OutFrame(PING, FrameType.server_ping);

  constructor(
    readonly index: number,
    private readonly wrapPushes: boolean,
  ) {}

  decode(frame: Buffer): ReturnType<ProtocolCodec['decode']> {
    return decodeFrame(frameText(frame));
  }

  decodeConnectRequest(body: Buffer): ConnectCommandParams {
    let value: unknown;
    const text = frameText(body).trim();
    if (jsonTooDeep(text)) throw new CommandDecodeError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    try {
      value = JSON.parse(text === '' ? '{}' : text);
    } catch {
      throw new CommandDecodeError('malformed JSON');
    }
    return decodeConnectObject(value);
  }

  reply(msg: ReplyMsg): OutFrame {
    const frame = new OutFrame(encodeReply(msg), replyFrameType(msg.kind));
    frame.reply = true;
    return frame;
  }

  push(msg: PushMsg): OutFrame {
    const body = encodePushBody(msg);
    return new OutFrame(this.wrapPushes ? `{"push":${body}}` : body, pushFrameType(msg.kind));
  }

  publicationPush(channel: string, pub: Publication, form: PublicationForm): OutFrame | null {
    const encoded = encodePublicationForm(pub, form);
    if (encoded === null) return null;
    const body = `{"channel":${JSON.stringify(channel)},"pub":${encoded}}`;
    return new OutFrame(this.wrapPushes ? `{"push":${body}}` : body, FrameType.push_publication);
  }
}

/** JSON for bidirectional connections. */
export const jsonCodec: ProtocolCodec = new JsonCodec(0, true);
/** JSON for unidirectional connections (bare Push objects). */
export const uniJsonCodec: ProtocolCodec = new JsonCodec(2, false);
