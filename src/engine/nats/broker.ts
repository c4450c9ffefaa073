/**
 * The NATS broker: PUB/SUB only, at most once, as in Centrifugo. One subject per channel,
 * `<prefix>.client.<channel>` (channels that are not valid NATS subjects, with spaces, `*`, `>` or
 * empty tokens, go to `<prefix>.client_b64.<base64url of the channel>`), subscribed while the node
 * has local subscribers. NATS keeps no history: `history` and `history_remove` answer 108 (not
 * available), and so does a subscription that needs positioning or recovery; publications carry
 * offset 0. Presence comes from the configured presence manager. Idempotency keys are not kept.
 */
import type { Logger } from 'pino';
import { Errors, ProtocolException } from '../../protocol/codes.js';
import type { ClientInfo, Payload } from '../../protocol/types.js';
import type {
  Broker,
  BrokerEventHandler,
  ControlBus,
  HistoryResult,
  PublishOptions,
  PublishResult,
} from '../types.js';
import { deliverEvent } from '../deliver.js';
import { encodeJoinLeave, encodePublication, encodePublicationBody } from '../wire.js';
import type { NatsConn, NatsListener } from './connection.js';

const SAFE_SUBJECT = /^[^\s*>.]+(\.[^\s*>.]+)*$/;

export class NatsBroker implements Broker, NatsListener {
  private handler: BrokerEventHandler | undefined;
  /** Channels this node is subscribed to. */
  private readonly channels = new Set<string>();
  /**
   * Channels subscribed when the connection was lost: their messages are dropped until their
   * subscribers were told (once the connection is back), so that none gets a publication right
   * after a gap it does not know about.
   */
  private stale: Set<string> | undefined;
  private badMessages = 0;
  private closed = false;

  constructor(
    private readonly conn: NatsConn,
    private readonly log: Logger,
  ) {
    conn.acquire();
    conn.listen(this);
  }

  private subject(channel: string): string {
    const prefix = this.conn.config.prefix;
    if (SAFE_SUBJECT.test(channel)) return `${prefix}.client.${channel}`;
    return `${prefix}.client_b64.${Buffer.from(channel, 'utf8').toString('base64url')}`;
  }

  async run(handler: BrokerEventHandler): Promise<void> {
    this.handler = handler;
    await this.conn.start();
  }

  onDisconnected(): void {
    if (this.stale === undefined) this.stale = new Set(this.channels);
    else for (const c of this.channels) this.stale.add(c);
  }

  onReconnected(): void {
    const lost = [...(this.stale ?? [])].filter((c) => this.channels.has(c));
    this.stale = undefined;
    if (lost.length === 0) return;
    this.log.warn({ channels: lost.length }, 'NATS restored: subscribers must resubscribe (publications may have been missed)');
    this.handler?.onStateLost?.(lost);
  }

  subscribe(channel: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('broker closed'));
    this.channels.add(channel);
    return this.conn.subscribe(this.subject(channel), (message) => this.onMessage(channel, message));
  }

  async unsubscribe(channel: string): Promise<void> {
    this.channels.delete(channel);
    if (!this.closed) this.conn.unsubscribe(this.subject(channel));
  }

  private onMessage(channel: string, message: string): void {
    const handler = this.handler;
    if (handler === undefined || this.stale?.has(channel) === true) return;
    if (!deliverEvent(handler, channel, message) && this.badMessages++ % 1000 === 0) {
      this.log.warn({ channel }, 'undecodable message from NATS ignored');
    }
  }

  async publish(channel: string, data: Payload, opts: PublishOptions): Promise<PublishResult> {
    const position = { offset: 0, epoch: '' };
    const body = encodePublicationBody(data, opts.info, opts.tags, opts.useDelta === true);
    this.conn.publish(this.subject(channel), encodePublication(position, body));
    return { position, suppressed: false };
  }

  async publishJoin(channel: string, info: ClientInfo): Promise<void> {
    if (!this.closed) this.conn.publish(this.subject(channel), encodeJoinLeave('join', info));
  }

  async publishLeave(channel: string, info: ClientInfo): Promise<void> {
    if (!this.closed) this.conn.publish(this.subject(channel), encodeJoinLeave('leave', info));
  }

  async history(): Promise<HistoryResult> {
    throw new ProtocolException(Errors.notAvailable, { msg: 'the NATS broker keeps no history' });
  }

  async removeHistory(): Promise<void> {
    throw new ProtocolException(Errors.notAvailable, { msg: 'the NATS broker keeps no history' });
  }

  unavailable(): string | undefined {
    return this.conn.isConnected ? undefined : 'NATS is not connected';
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channels.clear();
    await this.conn.release();
  }
}

/** Control messages over NATS: `<prefix>.control` for all nodes, `<prefix>.node.<id>` for one. */
export class NatsControlBus implements ControlBus {
  private closed = false;

  constructor(
    private readonly conn: NatsConn,
    private readonly log: Logger,
  ) {
    conn.acquire();
  }

  async run(nodeId: string, onMessage: (message: string) => void): Promise<void> {
    await this.conn.start();
    const prefix = this.conn.config.prefix;
    await Promise.all(
      [`${prefix}.control`, `${prefix}.node.${nodeId}`].map((subject) =>
        this.conn.subscribe(subject, onMessage).catch((e: unknown) => {
          this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'control subject not subscribed yet');
        }),
      ),
    );
  }

  async publish(message: string): Promise<void> {
    if (!this.closed) this.conn.publish(`${this.conn.config.prefix}.control`, message);
  }

  async publishTo(nodeId: string, message: string): Promise<void> {
    if (!this.closed) this.conn.publish(`${this.conn.config.prefix}.node.${nodeId}`, message);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.conn.release();
  }
}
