/**
 * The primary process of `gyre serve --workers N`: it forks N workers (node:cluster, which shares
 * the listening ports between them), hosts the embedded engine for them when the configuration
 * uses it, and supervises them:
 *
 * - each worker's start and exit is logged; a worker that dies is restarted (after a pause that
 *   grows while it keeps dying young), and the others learn at once that its node left;
 * - a worker that leaves the heartbeat unanswered for `worker_timeout` is killed and replaced;
 * - SIGTERM / SIGINT (to the primary alone or to the whole process group) asks every worker to shut
 *   down gracefully (their clients get 3001); the primary exits 0 once they are gone, or kills what
 *   is left when `shutdown.timeout` is up;
 * - `start_server` hooks (`events.hooks`) run once, here, when every worker listens;
 * - a `/metrics` request (`prometheus.enabled`), whichever worker it reaches, is answered with every
 *   worker's metrics: that worker asks here, this process gathers them all and combines them.
 */
import cluster, { type Worker } from 'node:cluster';
import type { GyreConfig } from '../config/types.js';
import { EngineHost, type HostedWorker } from '../engine/ipc/host.js';
import { isEngineEnvelope, type EngineEnvelope, type WorkerMessage } from '../engine/ipc/messages.js';
import type { IpcEndpoint } from '../engine/ipc/outbox.js';
import { loadHook } from '../events/load.js';
import type { Logger } from '../log.js';
import { leaveMessage } from '../node/cluster.js';
import { isSupervisorMessage, SUPERVISOR_TAG, type ToPrimary, type ToWorker } from './messages.js';
import { PrimaryEventsApi } from './primary-events.js';

/** The environment variable telling a forked process which worker it is (1-based). */
export const WORKER_INDEX_ENV = 'GYRE_WORKER_INDEX';

export interface PrimaryOptions {
  config: GyreConfig;
  log: Logger;
  /** Number of workers (≥ 1). */
  workers: number;
}

/** What the primary knows once every worker listens. */
export interface PrimaryReady {
  port: number;
  engine: string;
  /** Node ids of the workers, by index. */
  nodes: string[];
}

const RESTART_PAUSE_MS = 250;
const MAX_RESTART_PAUSE_MS = 10_000;
/** A worker that lived shorter than this counts as dying young (the restart pause grows). */
const YOUNG_MS = 10_000;
/** How long a `/metrics` answer waits for the workers' metrics; the silent ones are left out. */
const METRICS_WAIT_MS = 3000;

/** A gathering of the workers' metrics for one `/metrics` answer. */
interface MetricsGathering {
  waiting: Set<Slot>;
  results: unknown[][];
  done: () => void;
}

class Slot {
  worker: Worker | undefined;
  hosted: HostedWorker | undefined;
  node: string | undefined;
  ready = false;
  lastPong = 0;
  startedAt = 0;
  pause = RESTART_PAUSE_MS;
  restartTimer: NodeJS.Timeout | undefined;
  constructor(readonly index: number) {}
}

export class Primary {
  private readonly slots: Slot[] = [];
  private readonly host: EngineHost;
  private readonly log: Logger;
  private heartbeat: NodeJS.Timeout | undefined;
  private pingSeq = 0;
  private stopping: Promise<void> | undefined;
  private started = false;
  private eventsSeq = 0;
  private readonly eventCalls = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private metricsSeq = 0;
  private readonly gatherings = new Map<number, MetricsGathering>();
  private resolveReady!: (r: PrimaryReady) => void;
  private rejectReady!: (e: Error) => void;
  private port = 0;
  private engine = '';
  /** Resolves once every worker listens; rejects when one fails to start. */
  readonly ready: Promise<PrimaryReady>;

  constructor(private readonly opts: PrimaryOptions) {
    this.log = opts.log;
    this.host = new EngineHost(opts.log.child({ component: 'engine-host' }));
    this.ready = new Promise<PrimaryReady>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {});
    for (let i = 1; i <= opts.workers; i++) this.slots.push(new Slot(i));
  }

  async start(): Promise<PrimaryReady> {
    await this.host.start();
    // Frozen by the first setupPrimary / fork: chosen here, before them.
    const accept = this.opts.config.worker_accept;
    if (accept !== 'auto') cluster.schedulingPolicy = accept === 'workers' ? cluster.SCHED_NONE : cluster.SCHED_RR;
    cluster.setupPrimary({ serialization: 'json' });
    this.log.info(
      { worker_accept: cluster.schedulingPolicy === cluster.SCHED_NONE ? 'workers' : 'primary' },
      cluster.schedulingPolicy === cluster.SCHED_NONE ? 'workers accept connections from the shared socket' : 'the primary accepts connections and hands each to the next worker',
    );
    for (const slot of this.slots) this.fork(slot);
    const timeout = this.opts.config.worker_timeout;
    if (timeout > 0) {
      this.heartbeat = setInterval(() => this.beat(timeout), Math.max(50, Math.min(1000, Math.floor(timeout / 4))));
      this.heartbeat.unref();
    }
    const ready = await this.ready;
    this.started = true;
    await this.runStartServerHooks(ready.port);
    return ready;
  }

  /** The embedded engine this primary hosts for its workers (unused with Redis or NATS). */
  get engineHost(): EngineHost {
    return this.host;
  }

  /** Sends a signal to every live worker (SIGHUP: they reopen their log files). */
  signalWorkers(signal: NodeJS.Signals): void {
    for (const slot of this.slots) if (slot.worker !== undefined && !slot.worker.isDead()) slot.worker.process.kill(signal);
  }

  /** Worker pids by index (1-based), for tests and logs. */
  pids(): Array<number | undefined> {
    return this.slots.map((s) => s.worker?.process.pid);
  }

  /**
   * Stops every worker gracefully (clients get 3001) and the engine; resolves once all are gone,
   * killing those still there when `shutdown.timeout` is up.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.rejectReady(new Error('stopped before every worker listened'));
    const live: Worker[] = [];
    for (const slot of this.slots) {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      const w = slot.worker;
      if (w === undefined || w.isDead()) continue;
      live.push(w);
      this.send(w, { gyre: SUPERVISOR_TAG, t: 'stop' });
    }
    const timeout = Math.max(this.opts.config.shutdown.timeout, 1000);
    let timer: NodeJS.Timeout | undefined;
    const gone = Promise.all(live.map((w) => (w.isDead() ? Promise.resolve() : new Promise<void>((r) => w.once('exit', () => r())))));
    const late = await Promise.race([
      gone.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeout);
      }),
    ]);
    clearTimeout(timer);
    if (late) {
      const left = live.filter((w) => !w.isDead());
      this.log.warn({ workers: left.map((w) => w.process.pid) }, 'shutdown timeout reached: killing the workers left');
      for (const w of left) w.process.kill('SIGKILL');
      await Promise.all(left.map((w) => (w.isDead() ? Promise.resolve() : new Promise<void>((r) => w.once('exit', () => r())))));
    }
    await this.host.close();
  }

  private fork(slot: Slot): void {
    slot.restartTimer = undefined;
    slot.ready = false;
    slot.node = undefined;
    slot.startedAt = Date.now();
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(slot.index) });
    slot.worker = worker;
    const endpoint: IpcEndpoint = {
      send: (envelope: EngineEnvelope<unknown>, written) => {
        if (!worker.isConnected()) return false;
        worker.send(envelope, undefined, (err: Error | null) => written(err));
        return true;
      },
    };
    const hosted = this.host.attach(endpoint, `worker ${slot.index}`);
    slot.hosted = hosted;
    this.log.info({ worker: slot.index, pid: worker.process.pid }, 'worker started');
    worker.on('message', (m: unknown) => {
      if (isEngineEnvelope<WorkerMessage>(m)) hosted.receive(m.b);
      else if (isSupervisorMessage<ToPrimary>(m)) this.onSupervisorMessage(slot, m);
    });
    // An IPC write to a worker that died is an error event: the exit handler deals with the worker.
    worker.on('error', (err: Error) => this.log.debug({ worker: slot.index, err: err.message }, 'worker channel error'));
    worker.once('exit', (code: number | null, signal: string | null) => this.onExit(slot, worker, code, signal));
  }

  private onSupervisorMessage(slot: Slot, m: ToPrimary): void {
    switch (m.t) {
      case 'pong':
        slot.lastPong = Date.now();
        return;
      case 'ready':
        slot.ready = true;
        slot.node = m.node;
        slot.lastPong = Date.now();
        this.port = m.port;
        this.engine = m.engine;
        this.log.info({ worker: slot.index, pid: slot.worker?.process.pid, node: m.node, name: m.name, port: m.port }, 'worker listening');
        if (!this.started && this.slots.every((s) => s.ready)) {
          this.resolveReady({ port: this.port, engine: this.engine, nodes: this.slots.map((s) => s.node ?? '') });
        }
        return;
      case 'events-done': {
        const call = this.eventCalls.get(m.id);
        if (call === undefined) return;
        this.eventCalls.delete(m.id);
        if (m.error !== undefined) call.reject(new Error(m.error));
        else call.resolve();
        return;
      }
      case 'metrics': {
        const worker = slot.worker;
        this.clusterMetrics().then(
          (text) => worker !== undefined && this.send(worker, { gyre: SUPERVISOR_TAG, t: 'metrics-text', id: m.id, text }),
          (e: unknown) => worker !== undefined && this.send(worker, { gyre: SUPERVISOR_TAG, t: 'metrics-text', id: m.id, error: e instanceof Error ? e.message : String(e) }),
        );
        return;
      }
      case 'metrics-json': {
        const gathering = this.gatherings.get(m.id);
        if (gathering === undefined || !gathering.waiting.delete(slot)) return;
        if (m.metrics !== undefined) gathering.results.push(m.metrics);
        else this.log.warn({ worker: slot.index, err: m.error }, 'a worker could not hand over its metrics');
        if (gathering.waiting.size === 0) gathering.done();
        return;
      }
    }
  }

  /**
   * Every live worker's metrics, combined (metrics/aggregate.ts), in the text format: each is asked
   * for its own; those that have not answered within {@link METRICS_WAIT_MS} are left out.
   */
  private async clusterMetrics(): Promise<string> {
    const id = ++this.metricsSeq;
    const targets = this.slots.filter((s) => s.ready && s.worker?.isConnected() === true);
    let timer: NodeJS.Timeout | undefined;
    const gathering: MetricsGathering = { waiting: new Set(targets), results: [], done: () => {} };
    const finished = new Promise<void>((resolve) => {
      gathering.done = resolve;
      timer = setTimeout(resolve, METRICS_WAIT_MS);
      timer.unref();
    });
    this.gatherings.set(id, gathering);
    try {
      for (const slot of targets) this.send(slot.worker!, { gyre: SUPERVISOR_TAG, t: 'metrics-collect', id });
      if (targets.length > 0) await finished;
    } finally {
      clearTimeout(timer);
      this.gatherings.delete(id);
    }
    if (gathering.waiting.size > 0) {
      this.log.warn({ workers: [...gathering.waiting].map((s) => s.index) }, 'metrics: some workers did not answer in time (left out)');
    }
    const { aggregateMetrics } = await import('../metrics/aggregate.js');
    return aggregateMetrics(gathering.results);
  }

  private onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.hosted?.detach();
    slot.hosted = undefined;
    slot.worker = undefined;
    // Metrics gatherings do not wait for a worker that is gone.
    for (const g of this.gatherings.values()) if (g.waiting.delete(slot) && g.waiting.size === 0) g.done();
    if (slot.node !== undefined) this.host.broadcastControl(leaveMessage(slot.node));
    const wasReady = slot.ready;
    slot.ready = false;
    const lived = Date.now() - slot.startedAt;
    if (this.stopping !== undefined) {
      this.log.info({ worker: slot.index, pid: worker.process.pid, code, signal }, 'worker exited');
      return;
    }
    this.log.error({ worker: slot.index, pid: worker.process.pid, code, signal, livedMs: lived }, 'worker exited unexpectedly');
    if (!this.started && !wasReady) {
      // A worker that cannot start (port taken, a hook that throws): restarting would loop.
      this.rejectReady(new Error(`worker ${slot.index} exited before listening (code ${code}, signal ${signal}); see its log lines above`));
      void this.stop();
      return;
    }
    slot.pause = lived < YOUNG_MS ? Math.min(slot.pause * 2, MAX_RESTART_PAUSE_MS) : RESTART_PAUSE_MS;
    this.log.info({ worker: slot.index, inMs: slot.pause }, 'restarting worker');
    slot.restartTimer = setTimeout(() => {
      if (this.stopping === undefined) this.fork(slot);
    }, slot.pause);
  }

  private beat(timeout: number): void {
    const now = Date.now();
    const seq = ++this.pingSeq;
    for (const slot of this.slots) {
      const w = slot.worker;
      if (w === undefined || !slot.ready || w.isDead()) continue;
      if (now - slot.lastPong > timeout) {
        this.log.error({ worker: slot.index, pid: w.process.pid, silentMs: now - slot.lastPong }, 'worker does not answer: killing it');
        slot.ready = false;
        w.process.kill('SIGKILL');
        continue;
      }
      this.send(w, { gyre: SUPERVISOR_TAG, t: 'ping', seq });
    }
  }

  private send(worker: Worker, msg: ToWorker): void {
    if (worker.isConnected()) worker.send(msg, undefined, () => {});
  }

  private relayEvents(op: 'broadcast' | 'sendToUser', event: string, data: unknown, user?: string | number): Promise<void> {
    const slot = this.slots.find((s) => s.ready && s.worker?.isConnected() === true);
    if (slot?.worker === undefined) return Promise.reject(new Error('no worker is running'));
    const id = ++this.eventsSeq;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.eventCalls.delete(id);
        reject(new Error(`worker ${slot.index} did not run ${op} within 10 s`));
      }, 10_000);
      timer.unref();
      this.eventCalls.set(id, {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.send(slot.worker!, { gyre: SUPERVISOR_TAG, t: 'events', id, op, event, data, ...(user !== undefined && { user }) });
    });
  }

  private async runStartServerHooks(port: number): Promise<void> {
    const events = this.opts.config.events;
    if (!events.enabled) return;
    const api = new PrimaryEventsApi('primary', (op, event, data, user) => this.relayEvents(op, event, data, user));
    for (const [i, spec] of events.hooks.entries()) {
      if (spec.event !== 'start_server') continue;
      const hook = await loadHook(spec, i);
      await hook(api, {
        nodeId: 'primary',
        nodeName: 'primary',
        host: events.port > 0 ? events.address : this.opts.config.http_server.address,
        port: events.port > 0 ? events.port : port,
        path: events.handler_prefix,
      });
    }
  }
}
