/** The transport port: what a client needs from the connection it lives on. */
import type { Disconnect } from '../protocol/codes.js';
import type { OutFrame } from '../protocol/frame.js';

export interface Transport {
  /** Transport name as reported to handlers and proxies (`websocket`). */
  readonly name: string;
  readonly protocol: 'json';
  /** True when the client answers pings with pongs (bidirectional transports). */
  readonly pongs: boolean;
  /** HTTP headers of the request that opened the connection (lower-cased names). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Queues a frame; false when the connection can take no more (it is being closed). */
  send(frame: OutFrame): boolean;
  /**
   * Flushes what is queued (not after 3008 / 3009: the peer cannot take it), then closes with the
   * code and the reason cut to what the transport carries. Never throws; idempotent.
   */
  close(disconnect: Disconnect): void;
}
