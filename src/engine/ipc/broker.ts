/**
 * A worker's broker when the primary hosts the embedded engine: every call is a request to the
 * primary's memory broker, which sends this worker the events of the channels it subscribed to.
 */
import type { Logger } from 'pino';
import type { ClientInfo, Payload } from '../../protocol/types.js';
import type {
  Broker,
  BrokerEventHandler,
  HistoryQuery,
  HistoryResult,
  PublishOptions,
  PublishResult,
} from '../types.js';
import { deliverEvent } from '../deliver.js';
import { decodePublication, encodeInfo, encodePublicationBody } from '../wire.js';
import type { EngineLink } from './link.js';
import type { HistoryAnswer, PublishAnswer } from './messages.js';

export class IpcBroker implements Broker {
  private handler: BrokerEventHandler | undefined;
  private badMessages = 0;

  constructor(
    private readonly link: EngineLink,
    private readonly log: Logger,
  ) {}

  async run(handler: BrokerEventHandler): Promise<void> {
    this.handler = handler;
    this.link.broker = {
      onEvent: (channel, message) => this.onEvent(channel, message),
      onStateLost: (channels) => {
        this.log.warn({ channels: channels.length }, 'events dropped on the way from the primary: subscribers must recover');
        this.handler?.onStateLost?.(channels);
      },
    };
  }

  private onEvent(channel: string, message: string): void {
    const handler = this.handler;
    if (handler === undefined) return;
    if (!deliverEvent(handler, channel, message) && this.badMessages++ % 1000 === 0) {
      this.log.warn({ channel }, 'undecodable channel event from the primary ignored');
    }
  }

  async subscribe(channel: string): Promise<void> {
    await this.link.request({ op: 'subscribe', ch: channel }, channel.length);
  }

  async unsubscribe(channel: string): Promise<void> {
    await this.link.request({ op: 'unsubscribe', ch: channel }, channel.length);
  }

  async publish(channel: string, data: Payload, opts: PublishOptions): Promise<PublishResult> {
    const body = encodePublicationBody(data, opts.info, opts.tags, opts.useDelta === true);
    const { size, ttl, metaTtl } = opts.history;
    const a = await this.link.request<PublishAnswer>(
      {
        op: 'publish',
        ch: channel,
        body,
        hist: [size, ttl, metaTtl],
        ...(opts.idempotencyKey !== undefined && { key: opts.idempotencyKey }),
        ...(opts.idempotentResultTtl !== undefined && { keyTtl: opts.idempotentResultTtl }),
      },
      channel.length + body.length,
    );
    return { position: { offset: a.o, epoch: a.e }, suppressed: a.s };
  }

  async publishJoin(channel: string, info: ClientInfo): Promise<void> {
    const text = encodeInfo(info);
    await this.link.request({ op: 'join', ch: channel, info: text }, channel.length + text.length);
  }

  async publishLeave(channel: string, info: ClientInfo): Promise<void> {
    const text = encodeInfo(info);
    await this.link.request({ op: 'leave', ch: channel, info: text }, channel.length + text.length);
  }

  async history(channel: string, query: HistoryQuery): Promise<HistoryResult> {
    const a = await this.link.request<HistoryAnswer>(
      {
        op: 'history',
        ch: channel,
        limit: query.limit,
        metaTtl: query.metaTtl,
        ...(query.since !== undefined && { since: [query.since.offset, query.since.epoch] as [number, string] }),
        ...(query.reverse === true && { reverse: true }),
      },
      channel.length,
    );
    const publications = [];
    for (const m of a.p) {
      const pub = decodePublication(m);
      if (pub !== null) publications.push(pub);
    }
    return { publications, position: { offset: a.o, epoch: a.e } };
  }

  async removeHistory(channel: string): Promise<void> {
    await this.link.request({ op: 'removeHistory', ch: channel }, channel.length);
  }

  async close(): Promise<void> {
    this.handler = undefined;
  }
}
