/** The transport port: what a client needs from the connection it lives on. */
import type { Disconnect, ProtocolError } from '../protocol/codes.js';
import type { ProtocolName } from '../protocol/codec.js';
import type { OutFrame } from '../protocol/frame.js';

export interface Transport {
  /** Transport name as reported to handlers and proxies (`websocket`, `http_stream`, `uni_sse`, ...). */
  readonly name: string;
  /** The client protocol spoken on this connection. */
  readonly protocol: ProtocolName;
  /** Push-only: the client sends one connect request and never a command (uni_* transports). */
  readonly unidirectional: boolean;
  /**
   * Bidirectional emulation (HTTP-streaming, SSE): the client's commands arrive on separate
   * requests, addressed by the session id the connect result carries.
   */
  readonly emulation: boolean;
  /** True when the client answers pings with pongs (bidirectional transports). */
  readonly pongs: boolean;
  /** HTTP headers of the request that opened the connection (lower-cased names). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /**
   * Queues a frame built by the connection's codec; false when the connection can take no more
   * (it is being closed).
   */
  send(frame: OutFrame): boolean;
  /**
   * Flushes what is queued (not after 3008 / 3009: the peer cannot take it), then closes with the
   * code and the reason cut to what the transport carries (a close frame, or a `disconnect` push
   * before the stream ends). Never throws; idempotent. `refusedConnect`: the error a unidirectional
   * connection's connect was refused with (an error code such as 109, or the disconnect's own code
   * and reason); transports that can answer with an HTTP status instead use it.
   */
  close(disconnect: Disconnect, refusedConnect?: ProtocolError): void;
}
