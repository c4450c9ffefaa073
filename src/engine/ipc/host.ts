/**
 * The embedded engine hosted by the primary process for its workers (`gyre serve --workers` with
 * the memory engine): one memory broker and one memory presence manager for every worker, so the
 * workers act as one server. Each worker's channel subscriptions decide which channel events it is
 * sent; control messages are relayed between workers. A worker that goes away takes its
 * subscriptions and its clients' presence with it, and the leaves of its clients are announced.
 *
 * Flow control: events and control messages for a worker queue in its {@link Outbox}, bounded in
 * bytes. When a worker does not keep up, the events of a channel that no longer fit are dropped
 * and, once there is room again, the worker is told which channels lost events, so their
 * subscribers recover (as after a Redis or NATS outage). Answers are never dropped: a worker bounds
 * the requests it has waiting.
 */
import type { Logger } from 'pino';
import { ProtocolException } from '../../protocol/codes.js';
import type { Payload, Publication, StreamPosition } from '../../protocol/types.js';
import type { PublishOptions, PublishResult } from '../types.js';
import { MemoryBroker } from '../memory/broker.js';
import { MemoryPresenceManager } from '../memory/presence.js';
import { decodeEvent, decodeInfo, encodeInfo, encodeJoinLeave, encodePublication, encodePublicationBody } from '../wire.js';
import type { EngineRequest, HistoryAnswer, PrimaryMessage, PublishAnswer, ResponseError, WorkerMessage } from './messages.js';
import { ChannelClients } from './channel-clients.js';
import { DEFAULT_OUTBOX_LIMITS, Outbox, type IpcEndpoint, type OutboxLimits } from './outbox.js';

export interface EngineHostOptions {
  /** Bounds of each worker's outgoing queue. */
  limits?: OutboxLimits;
}

/** The engine a primary hosts for its workers. */
export class EngineHost {
  private readonly broker = new MemoryBroker();
  private readonly presence = new MemoryPresenceManager();
  private readonly subscribers = new Map<string, Set<HostedWorker>>();
  private readonly nodes = new Map<string, HostedWorker>();
  private readonly workers = new Set<HostedWorker>();
  private readonly limits: OutboxLimits;
  /** Shutting down: workers detached now get no leaves announced (every worker is going). */
  private closing = false;

  constructor(
    private readonly log: Logger,
    opts: EngineHostOptions = {},
  ) {
    this.limits = opts.limits ?? DEFAULT_OUTBOX_LIMITS;
  }

  async start(): Promise<void> {
    await this.broker.run({
      onPublication: (channel, pub, position, useDelta) => this.onPublication(channel, pub, position, useDelta),
      onJoin: (channel, info) => this.fanOut(channel, encodeJoinLeave('join', info)),
      onLeave: (channel, info) => this.fanOut(channel, encodeJoinLeave('leave', info)),
    });
  }

  /** Serves a worker over its IPC endpoint; feed its engine messages to the returned handle. */
  attach(endpoint: IpcEndpoint, name: string): HostedWorker {
    const worker = new HostedWorker(this, endpoint, name, this.limits, this.log);
    this.workers.add(worker);
    return worker;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const w of [...this.workers]) w.detach();
    await this.broker.close();
    await this.presence.close();
  }

  // ---- used by HostedWorker ----

  /** @internal */
  answer(worker: HostedWorker, rq: EngineRequest): Promise<unknown> {
    switch (rq.op) {
      case 'publish':
        return this.publishFor(rq);
      case 'join': {
        const info = decodeInfo(rq.info);
        worker.joined.set(rq.ch, info.client, rq.info);
        return this.broker.publishJoin(rq.ch, info);
      }
      case 'leave': {
        const info = decodeInfo(rq.info);
        worker.joined.delete(rq.ch, info.client);
        return this.broker.publishLeave(rq.ch, info);
      }
      case 'subscribe':
        this.subscribe(worker, rq.ch);
        return Promise.resolve();
      case 'unsubscribe':
        this.unsubscribe(worker, rq.ch);
        return Promise.resolve();
      case 'history':
        return this.history(rq);
      case 'removeHistory':
        return this.broker.removeHistory(rq.ch);
      case 'addPresence':
        worker.present.set(rq.ch, rq.client, rq.info);
        return this.presence.addPresence(rq.ch, rq.client, decodeInfo(rq.info));
      case 'removePresence':
        worker.present.delete(rq.ch, rq.client);
        return this.presence.removePresence(rq.ch, rq.client, rq.user);
      case 'presence':
        return this.presence.presence(rq.ch).then((m) => [...m].map(([client, info]) => [client, encodeInfo(info)]));
      case 'presenceStats':
        return this.presence.presenceStats(rq.ch);
      case 'controlRun':
        this.register(worker, rq.node);
        return Promise.resolve();
    }
  }

  /**
   * Publishes from the primary itself into the hosted broker: the workers with subscribers get it
   * as if a worker had published it (used by the benchmarks; `opts.history` as the channel's options say).
   */
  publish(channel: string, data: Payload, opts: PublishOptions): Promise<PublishResult> {
    return this.broker.publish(channel, data, opts);
  }

  /** Sends a control message to every worker. */
  broadcastControl(message: string): void {
    for (const w of this.workers) w.control(message);
  }

  /** @internal Relays a control message from `from`. */
  relayControl(from: HostedWorker, message: string, to: string | undefined): void {
    if (to !== undefined) {
      this.nodes.get(to)?.control(message);
      return;
    }
    for (const w of this.workers) if (w !== from) w.control(message);
  }

  /**
   * @internal A worker is gone: its subscriptions, its clients' presence and its node are forgotten,
   * and a leave is announced to the other workers for each of its clients that had announced a join
   * (their connections ended with the worker, so nobody else would).
   */
  forget(worker: HostedWorker): void {
    this.workers.delete(worker);
    for (const ch of [...worker.channels]) this.unsubscribe(worker, ch);
    for (const [ch, client, info] of worker.present.entries()) void this.presence.removePresence(ch, client, userOf(info));
    if (this.closing) return this.forgetNode(worker);
    let leaves = 0;
    for (const [ch, , info] of worker.joined.entries()) {
      leaves++;
      void this.broker.publishLeave(ch, decodeInfo(info)).catch((e: unknown) => {
        this.log.warn({ worker: worker.name, channel: ch, err: e }, 'leave of a gone worker\'s client not announced');
      });
    }
    if (leaves > 0) this.log.info({ worker: worker.name, leaves }, 'announced the leaves of a gone worker\'s clients');
    this.forgetNode(worker);
  }

  private forgetNode(worker: HostedWorker): void {
    if (worker.node !== undefined && this.nodes.get(worker.node) === worker) this.nodes.delete(worker.node);
  }

  private register(worker: HostedWorker, node: string): void {
    worker.node = node;
    this.nodes.set(node, worker);
  }

  private subscribe(worker: HostedWorker, channel: string): void {
    let set = this.subscribers.get(channel);
    if (set === undefined) {
      set = new Set();
      this.subscribers.set(channel, set);
    }
    set.add(worker);
    worker.channels.add(channel);
  }

  private unsubscribe(worker: HostedWorker, channel: string): void {
    worker.channels.delete(channel);
    const set = this.subscribers.get(channel);
    if (set === undefined) return;
    set.delete(worker);
    if (set.size === 0) this.subscribers.delete(channel);
  }

  private async publishFor(rq: Extract<EngineRequest, { op: 'publish' }>): Promise<PublishAnswer> {
    const ev = decodeEvent(`p0::${rq.body}`);
    if (ev === null || ev.kind !== 'pub') throw new Error('malformed publication');
    const [size, ttl, metaTtl] = rq.hist;
    const result = await this.broker.publish(rq.ch, ev.pub.data, {
      history: { size, ttl, metaTtl },
      ...(ev.pub.info !== undefined && { info: ev.pub.info }),
      ...(ev.pub.tags !== undefined && { tags: ev.pub.tags }),
      ...(rq.key !== undefined && { idempotencyKey: rq.key }),
      ...(rq.keyTtl !== undefined && { idempotentResultTtl: rq.keyTtl }),
      useDelta: ev.useDelta,
    });
    return { o: result.position.offset, e: result.position.epoch, s: result.suppressed };
  }

  private async history(rq: Extract<EngineRequest, { op: 'history' }>): Promise<HistoryAnswer> {
    const r = await this.broker.history(rq.ch, {
      limit: rq.limit,
      metaTtl: rq.metaTtl,
      ...(rq.since !== undefined && { since: { offset: rq.since[0], epoch: rq.since[1] } }),
      ...(rq.reverse === true && { reverse: true }),
    });
    return {
      p: r.publications.map((pub) => encodePublication({ offset: pub.offset, epoch: r.position.epoch }, encodePublicationBody(pub.data, pub.info, pub.tags, false))),
      o: r.position.offset,
      e: r.position.epoch,
    };
  }

  private onPublication(channel: string, pub: Publication, position: StreamPosition, useDelta: boolean): void {
    if (!this.subscribers.has(channel)) return;
    this.fanOut(channel, encodePublication(position, encodePublicationBody(pub.data, pub.info, pub.tags, useDelta)));
  }

  private fanOut(channel: string, message: string): void {
    const set = this.subscribers.get(channel);
    if (set === undefined) return;
    for (const w of set) w.event(channel, message);
  }
}

/** The primary's side of one worker. */
export class HostedWorker {
  /** Channels the worker subscribed to. */
  readonly channels = new Set<string>();
  /** The node id the worker's control bus runs as. */
  node: string | undefined;
  /** The worker's clients in channels' presence. */
  readonly present = new ChannelClients();
  /** The worker's clients whose join was announced and whose leave was not yet. */
  readonly joined = new ChannelClients();
  private readonly outbox: Outbox<PrimaryMessage>;
  /** Channels whose events were dropped; told to the worker once there is room. */
  private lost: Set<string> | undefined;
  private droppedControl = 0;
  private detached = false;

  constructor(
    private readonly host: EngineHost,
    endpoint: IpcEndpoint,
    readonly name: string,
    limits: OutboxLimits,
    private readonly log: Logger,
  ) {
    this.outbox = new Outbox<PrimaryMessage>(endpoint, limits, () => this.afterWrite());
  }

  /** Bytes queued for the worker. */
  get queuedBytes(): number {
    return this.outbox.queuedBytes;
  }

  /** Takes the messages of one engine envelope from the worker. */
  receive(messages: readonly WorkerMessage[]): void {
    for (const msg of messages) {
      if (this.detached) return;
      if (msg.k === 'rq') this.request(msg.id, msg.rq);
      else if (msg.k === 'ctl') this.host.relayControl(this, msg.m, msg.to);
    }
  }

  /** The worker is gone: forget its subscriptions, its clients' presence and its node; announce their leaves. */
  detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.outbox.close();
    this.host.forget(this);
  }

  /** @internal A channel event for the worker. */
  event(channel: string, message: string): void {
    if (this.lost?.has(channel) === true) return;
    if (this.outbox.offer({ k: 'ev', ch: channel, m: message }, channel.length + message.length + 24)) return;
    if (this.lost === undefined) {
      this.lost = new Set();
      this.log.warn({ worker: this.name, queued: this.outbox.queuedBytes }, 'worker does not keep up: dropping channel events (its subscribers will recover)');
    }
    this.lost.add(channel);
  }

  /** @internal A control message for the worker (dropped when its queue is full: at most once). */
  control(message: string): void {
    if (this.outbox.offer({ k: 'ctl', m: message }, message.length + 16)) return;
    if (this.droppedControl++ % 1000 === 0) this.log.warn({ worker: this.name }, 'worker does not keep up: control message dropped');
  }

  private request(id: number, rq: EngineRequest): void {
    let answer: Promise<unknown>;
    try {
      answer = this.host.answer(this, rq);
    } catch (e) {
      answer = Promise.reject(e);
    }
    answer.then(
      (r) => this.outbox.force(r === undefined ? { k: 'rs', id } : { k: 'rs', id, r }, 64 + (r === undefined ? 0 : 256)),
      (e: unknown) => this.outbox.force({ k: 'rs', id, e: responseError(e) }, 128),
    );
  }

  private afterWrite(): void {
    if (this.lost === undefined || !this.outbox.roomy) return;
    const chs = [...this.lost].filter((c) => this.channels.has(c));
    this.lost = undefined;
    if (chs.length > 0) this.outbox.force({ k: 'lost', chs }, chs.reduce((n, c) => n + c.length + 3, 16));
  }
}

function userOf(infoText: string): string {
  try {
    return decodeInfo(infoText).user;
  } catch {
    return '';
  }
}

function responseError(e: unknown): ResponseError {
  if (e instanceof ProtocolException) {
    return e.error.temporary === true ? { c: e.error.code, m: e.error.message, t: true } : { c: e.error.code, m: e.error.message };
  }
  return { m: e instanceof Error ? e.message : String(e) };
}

