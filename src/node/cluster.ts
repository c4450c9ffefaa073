/**
 * The node registry and cluster-wide operations, over the engine's {@link ControlBus} (Redis
 * PUB/SUB or NATS subjects; a no-op bus for the single-node memory engine).
 *
 * - Every node announces itself and its stats every `announceInterval` (and on start, and to a node
 *   it sees for the first time); a node not heard from for `nodeTimeout` drops out of the registry,
 *   a node that shuts down says so at once.
 * - Server API commands that act on connections (subscribe, unsubscribe, disconnect, refresh) are
 *   applied locally by the caller and sent to every other node, which applies them to its own.
 * - Surveys ask every live node for its part of an answer (the channels API) and gather the replies
 *   sent back to the asking node, waiting for all known nodes or `surveyTimeout`.
 *
 * - Commands an emulation endpoint took for a session another node holds (`http_stream`, `sse`)
 *   are sent to that node alone, at most once, without waiting for an acknowledgement.
 *
 * Messages are JSON: `{"t": type, "from": node id, ...}` with type `info` (`n`: node info),
 * `leave`, `api` (`m` method, `p` params), `survey` (`id`, `op`, `p`), `reply` (`id`, `r`) and
 * `emulation` (`s` session, `e` protocol, `d` the commands: JSON text, or protobuf as base64).
 */
import type { Logger } from 'pino';
import type { ControlBus } from '../engine/types.js';
import { MessageType, Metrics } from '../metrics/metrics.js';
import type { ProtocolName } from '../protocol/codec.js';

/** What `/api/info` says about a node. */
export interface NodeInfo {
  uid: string;
  name: string;
  version: string;
  num_clients: number;
  num_users: number;
  num_channels: number;
  num_subs: number;
  uptime: number;
}

export interface ClusterOptions {
  /** How often a node announces itself, ms (default 3000). */
  announceInterval?: number;
  /** A node not heard from for this long is gone, ms (default 2 × interval + 1s). */
  nodeTimeout?: number;
  /** How long a survey waits for replies, ms (default 3000). */
  surveyTimeout?: number;
}

/** What a node does with control messages addressed to its connections. */
export interface ClusterHandler {
  /** Applies a server API command (already validated by the sending node) to local connections. */
  applyApi(method: string, params: Record<string, unknown>): Promise<void>;
  /** This node's part of a survey answer. */
  survey(op: string, params: Record<string, unknown>): Promise<unknown>;
}

/** Called with the commands another node's emulation endpoint took for a session of this node. */
export type EmulationHandler = (session: string, protocol: ProtocolName, data: Buffer) => void;

interface ControlMessage {
  t: 'info' | 'leave' | 'api' | 'survey' | 'reply' | 'emulation';
  from: string;
  n?: NodeInfo;
  m?: string;
  p?: Record<string, unknown>;
  id?: number;
  op?: string;
  r?: unknown;
  s?: string;
  e?: ProtocolName;
  d?: string;
}

/**
 * The message saying that node `nodeId` left the cluster, for whoever learns of a node's end
 * before the node could say it (the primary of `gyre serve --workers`, when a worker dies).
 */
export function leaveMessage(nodeId: string): string {
  return JSON.stringify({ t: 'leave', from: nodeId } satisfies ControlMessage);
}

interface PendingSurvey {
  waiting: Set<string>;
  replies: unknown[];
  done: () => void;
}

export class Cluster {
  private readonly nodes = new Map<string, { info: NodeInfo; seenAt: number }>();
  private readonly surveys = new Map<number, PendingSurvey>();
  private handler: ClusterHandler | undefined;
  private emulationHandler: EmulationHandler | undefined;
  private nodeId = '';
  private timer: NodeJS.Timeout | undefined;
  private surveySeq = 0;
  private running = false;
  private readonly announceInterval: number;
  private readonly nodeTimeout: number;
  private readonly surveyTimeout: number;

  constructor(
    private readonly bus: ControlBus,
    private readonly self: () => NodeInfo,
    private readonly log: Logger,
    opts: ClusterOptions = {},
    /** Counts the control messages and times the surveys. */
    private readonly metrics: Metrics = new Metrics(),
  ) {
    this.announceInterval = opts.announceInterval ?? 3000;
    this.nodeTimeout = opts.nodeTimeout ?? this.announceInterval * 2 + 1000;
    this.surveyTimeout = opts.surveyTimeout ?? 3000;
  }

  /** Sets who applies API commands and answers surveys (the server API executor). */
  setHandler(handler: ClusterHandler): void {
    this.handler = handler;
  }

  /** Sets who takes the emulation commands other nodes forward to this one (the node's sessions). */
  setEmulationHandler(handler: EmulationHandler): void {
    this.emulationHandler = handler;
  }

  async start(nodeId: string): Promise<void> {
    this.nodeId = nodeId;
    this.running = true;
    await this.bus.run(nodeId, (m) => this.onMessage(m));
    this.timer = setInterval(() => {
      this.prune(Date.now());
      void this.announce();
    }, this.announceInterval);
    this.timer.unref();
    await this.announce();
  }

  /** This node, then every other live node. */
  nodeInfos(): NodeInfo[] {
    this.prune(Date.now());
    return [this.self(), ...[...this.nodes.values()].map((n) => n.info)];
  }

  /** Live nodes of the cluster, this one included. */
  nodeCount(): number {
    this.prune(Date.now());
    return this.nodes.size + 1;
  }

  /** Ids of the other live nodes. */
  otherNodes(): string[] {
    this.prune(Date.now());
    return [...this.nodes.keys()];
  }

  /** True when `nodeId` is another live node of the cluster. */
  knows(nodeId: string): boolean {
    this.prune(Date.now());
    return this.nodes.has(nodeId);
  }

  /**
   * Sends commands posted to this node's emulation endpoint to the node holding the session: at
   * most once, resolved once handed to the bus (rejects when the bus fails). That node drops them,
   * with a log line, when the session is gone.
   */
  async sendEmulation(nodeId: string, session: string, protocol: ProtocolName, data: Buffer): Promise<void> {
    const d = protocol === 'json' ? data.toString('utf8') : data.toString('base64');
    this.metrics.messagesSent[MessageType.control]!++;
    await this.bus.publishTo(nodeId, JSON.stringify({ t: 'emulation', from: this.nodeId, s: session, e: protocol, d } satisfies ControlMessage));
  }

  /** Sends a server API command to every other node (they apply it to their connections). */
  async broadcastApi(method: string, params: Record<string, unknown>): Promise<void> {
    if (!this.running) return;
    await this.send({ t: 'api', from: this.nodeId, m: method, p: params });
  }

  /** Asks every other live node; resolves with their replies (those that came in time). */
  async survey(op: string, params: Record<string, unknown>): Promise<unknown[]> {
    const others = this.otherNodes();
    if (!this.running || others.length === 0) return [];
    const id = ++this.surveySeq;
    let timer: NodeJS.Timeout | undefined;
    const pending: PendingSurvey = { waiting: new Set(others), replies: [], done: () => {} };
    const finished = new Promise<void>((resolve) => {
      pending.done = resolve;
      timer = setTimeout(resolve, this.surveyTimeout);
      timer.unref();
    });
    this.surveys.set(id, pending);
    const started = performance.now();
    try {
      await this.send({ t: 'survey', from: this.nodeId, id, op, p: params });
      await finished;
    } finally {
      clearTimeout(timer);
      this.surveys.delete(id);
      this.metrics.surveyDuration(op, (performance.now() - started) / 1000);
    }
    if (pending.waiting.size > 0) this.log.warn({ op, missing: [...pending.waiting] }, 'survey: some nodes did not answer in time');
    return pending.replies;
  }

  private async send(msg: ControlMessage): Promise<void> {
    this.metrics.messagesSent[MessageType.control]!++;
    await this.bus.publish(JSON.stringify(msg));
  }

  private async announce(): Promise<void> {
    if (!this.running) return;
    try {
      await this.send({ t: 'info', from: this.nodeId, n: this.self() });
    } catch (e) {
      this.log.debug({ err: e instanceof Error ? e.message : String(e) }, 'node announcement failed');
    }
  }

  private prune(now: number): void {
    for (const [id, n] of this.nodes) {
      if (now - n.seenAt > this.nodeTimeout) {
        this.nodes.delete(id);
        this.log.warn({ node: id, name: n.info.name }, 'node left the cluster (not heard from in time)');
      }
    }
  }

  private onMessage(text: string): void {
    this.metrics.messagesReceived[MessageType.control]!++;
    let msg: ControlMessage;
    try {
      msg = JSON.parse(text) as ControlMessage;
    } catch {
      this.log.warn('undecodable control message ignored');
      return;
    }
    if (typeof msg.from !== 'string' || msg.from === this.nodeId) return;
    switch (msg.t) {
      case 'info': {
        if (msg.n === undefined) return;
        const known = this.nodes.has(msg.from);
        this.nodes.set(msg.from, { info: msg.n, seenAt: Date.now() });
        if (!known) {
          this.log.info({ node: msg.from, name: msg.n.name }, 'node joined the cluster');
          // Let the newcomer know about this node without waiting for the next round.
          void this.announce();
        }
        return;
      }
      case 'leave':
        if (this.nodes.delete(msg.from)) this.log.info({ node: msg.from }, 'node left the cluster');
        return;
      case 'api':
        if (this.handler === undefined || msg.m === undefined) return;
        this.handler.applyApi(msg.m, msg.p ?? {}).catch((e: unknown) => {
          this.log.warn({ method: msg.m, from: msg.from, err: e instanceof Error ? e.message : String(e) }, 'control command failed');
        });
        return;
      case 'survey':
        void this.answer(msg);
        return;
      case 'emulation':
        this.onEmulation(msg);
        return;
      case 'reply': {
        const pending = msg.id !== undefined ? this.surveys.get(msg.id) : undefined;
        if (pending === undefined || !pending.waiting.delete(msg.from)) return;
        pending.replies.push(msg.r);
        if (pending.waiting.size === 0) pending.done();
        return;
      }
    }
  }

  private onEmulation(msg: ControlMessage): void {
    const { s, e, d } = msg;
    if (this.emulationHandler === undefined) return;
    if (typeof s !== 'string' || (e !== 'json' && e !== 'protobuf') || typeof d !== 'string') {
      this.log.warn({ from: msg.from }, 'malformed emulation control message ignored');
      return;
    }
    try {
      this.emulationHandler(s, e, e === 'json' ? Buffer.from(d, 'utf8') : Buffer.from(d, 'base64'));
    } catch (err) {
      this.log.error({ from: msg.from, err }, 'emulation commands from another node failed');
    }
  }

  private async answer(msg: ControlMessage): Promise<void> {
    if (this.handler === undefined || msg.op === undefined || msg.id === undefined) return;
    try {
      const r = await this.handler.survey(msg.op, msg.p ?? {});
      this.metrics.messagesSent[MessageType.control]!++;
      await this.bus.publishTo(msg.from, JSON.stringify({ t: 'reply', from: this.nodeId, id: msg.id, r } satisfies ControlMessage));
    } catch (e) {
      this.log.warn({ op: msg.op, err: e instanceof Error ? e.message : String(e) }, 'survey answer failed');
    }
  }

  /** Says goodbye (other nodes drop this one at once) and stops. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.running) {
      this.running = false;
      try {
        await this.send({ t: 'leave', from: this.nodeId });
      } catch {
        // Others drop this node after the timeout.
      }
    }
    for (const s of this.surveys.values()) s.done();
    await this.bus.close();
  }
}
