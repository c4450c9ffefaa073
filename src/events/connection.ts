/** One connection of the event endpoint: its socket, identity, user binding and message queue. */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type WebSocket from 'ws';
import type { ClientConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { ErrorBudget } from '../node/error-budget.js';
import type { WebSocketTransport } from '../transport/websocket.js';
import type { EventConnectionInfo } from './types.js';

export class EventConnection implements EventConnectionInfo {
  /** A UUID: unique across nodes. */
  readonly id = randomUUID();
  readonly connectedAt = Date.now();
  readonly headers: IncomingHttpHeaders;
  readonly secWebSocketKey: string;
  readonly remoteAddress: string | undefined;
  userId: string | undefined;
  /** Answered the last protocol ping. */
  alive = true;
  /** The socket has closed. */
  closed = false;
  /** The server started closing it: new frames from it are ignored. */
  closing = false;
  /** Messages received and not yet dispatched. */
  inbox = 0;
  /** The end of this connection's task chain: its hooks and messages run one after another. */
  private tail: Promise<void> = Promise.resolve();

  /** Its errors: counted against `client.error_limit`, a few log lines per interval. */
  readonly errors: ErrorBudget;

  constructor(
    readonly ws: WebSocket,
    readonly transport: WebSocketTransport,
    req: IncomingMessage,
    log: Logger,
    limits: Pick<ClientConfig, 'error_limit' | 'error_limit_interval'>,
  ) {
    this.errors = new ErrorBudget(log, { connection: this.id }, { limit: limits.error_limit, interval: limits.error_limit_interval });
    this.headers = req.headers;
    this.secWebSocketKey = req.headers['sec-websocket-key'] ?? '';
    this.remoteAddress = req.socket.remoteAddress;
  }

  /** Runs `task` after everything queued before it; `task` must not reject. */
  run(task: () => Promise<void>): Promise<void> {
    this.tail = this.tail.then(task);
    return this.tail;
  }
}
