/** Channel events in the wire format (engine/wire.ts), as brokers hand them to their node. */
import type { BrokerEventHandler } from './types.js';
import { decodeEvent } from './wire.js';

/** Decodes one channel event and hands it to `handler`; false (nothing delivered) when it is malformed. */
export function deliverEvent(handler: BrokerEventHandler, channel: string, message: string): boolean {
  const ev = decodeEvent(message);
  if (ev === null) return false;
  if (ev.kind === 'pub') handler.onPublication(channel, ev.pub, ev.position, ev.useDelta);
  else if (ev.kind === 'join') handler.onJoin(channel, ev.info);
  else handler.onLeave(channel, ev.info);
  return true;
}
