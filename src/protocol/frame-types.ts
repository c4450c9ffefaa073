/**
 * The types of the messages a connection sends and receives, as Centrifugo counts them in its
 * metrics (the `frame_type` and `method` labels): a ping / pong pair, the pushes, and the commands
 * (a reply counts as its command's type). Not part of the wire format: each {@link OutFrame} carries
 * its type as a small number, so that counting it is an array increment.
 */
import type { PushMsg, ReplyMsg } from './messages.js';
import type { CommandMethod } from './types.js';

/** The label of each frame type, by its number (Centrifugo's `FrameType.String()`). */
export const FRAME_TYPE_NAMES = [
  'unknown',
  'server_ping',
  'client_pong',
  'push_connect',
  'push_subscribe',
  'push_publication',
  'push_join',
  'push_leave',
  'push_unsubscribe',
  'push_message',
  'push_refresh',
  'push_disconnect',
  'connect',
  'subscribe',
  'publish',
  'unsubscribe',
  'rpc',
  'presence',
  'presence_stats',
  'history',
  'refresh',
  'sub_refresh',
  'send',
] as const;

export type FrameTypeName = (typeof FRAME_TYPE_NAMES)[number];

/** Number of frame types (the size of an array indexed by them). */
export const FRAME_TYPE_COUNT = FRAME_TYPE_NAMES.length;

/** The number of a frame type. */
export const FrameType: { readonly [N in FrameTypeName]: number } = Object.freeze(
  Object.fromEntries(FRAME_TYPE_NAMES.map((n, i) => [n, i])) as { [N in FrameTypeName]: number },
);

const PUSH: { readonly [K in PushMsg['kind']]: number } = {
  pub: FrameType.push_publication,
  join: FrameType.push_join,
  leave: FrameType.push_leave,
  unsubscribe: FrameType.push_unsubscribe,
  message: FrameType.push_message,
  subscribe: FrameType.push_subscribe,
  connect: FrameType.push_connect,
  disconnect: FrameType.push_disconnect,
  refresh: FrameType.push_refresh,
};

const COMMAND: { readonly [M in CommandMethod]: number } = {
  connect: FrameType.connect,
  subscribe: FrameType.subscribe,
  unsubscribe: FrameType.unsubscribe,
  publish: FrameType.publish,
  presence: FrameType.presence,
  presence_stats: FrameType.presence_stats,
  history: FrameType.history,
  // Not a command of Centrifugo's protocol (its pings are empty replies): counted as unknown.
  ping: FrameType.unknown,
  send: FrameType.send,
  rpc: FrameType.rpc,
  refresh: FrameType.refresh,
  sub_refresh: FrameType.sub_refresh,
};

/** The frame type of a push. */
export function pushFrameType(kind: PushMsg['kind']): number {
  return PUSH[kind];
}

/** The frame type of a command (and of its reply). */
export function commandFrameType(method: CommandMethod): number {
  return COMMAND[method];
}

/** The frame type of a reply: its command's; an error reply is `unknown` until its sender names the command. */
export function replyFrameType(kind: ReplyMsg['kind']): number {
  return kind === 'error' ? FrameType.unknown : COMMAND[kind];
}
