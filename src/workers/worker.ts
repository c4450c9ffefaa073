/**
 * A worker process of `gyre serve --workers`: a full Gyre node listening on the ports it shares
 * with the other workers (node:cluster). With the embedded engine its broker, presence manager and
 * control bus are the primary's, over IPC; with Redis or NATS it is a node of that cluster.
 * It answers the primary's heartbeats, shuts down gracefully on SIGTERM, SIGINT or the primary's
 * word, and exits when the primary is gone (node:cluster does that when the channel closes).
 * `/metrics` answers with every worker's metrics, which the primary gathers and combines.
 */
import type { GyreConfig } from '../config/types.js';
import { EngineLink } from '../engine/ipc/link.js';
import { ipcEngine } from '../engine/ipc/embedded.js';
import { isEngineEnvelope, type PrimaryMessage } from '../engine/ipc/messages.js';
import type { IpcEndpoint } from '../engine/ipc/outbox.js';
import { reopenLogFiles, type Logger } from '../log.js';
import { GyreServer } from '../server.js';
import { isSupervisorMessage, SUPERVISOR_TAG, type ToPrimary, type ToWorker } from './messages.js';

export interface WorkerOptions {
  config: GyreConfig;
  log: Logger;
  /** 1-based index of this worker. */
  index: number;
}

/** The IPC channel to the primary, as the engine's outbox sees it. */
const toPrimary: IpcEndpoint = {
  send(envelope, written) {
    if (process.send === undefined || !process.connected) return false;
    process.send(envelope, undefined, {}, (err: Error | null) => written(err));
    return true;
  },
};

function tell(msg: ToPrimary): void {
  if (process.send !== undefined && process.connected) process.send(msg, undefined, {}, () => {});
}

/** How long a `/metrics` request waits for the primary's answer (it waits for the workers less long). */
const METRICS_ANSWER_MS = 10_000;

/** `/metrics` requests of this worker waiting for the primary's answer, by id. */
const metricsRequests = new Map<number, { resolve: (text: string) => void; reject: (e: Error) => void }>();
let metricsSeq = 0;

/** Every worker's metrics, combined by the primary (the text format). */
function clusterMetrics(): Promise<string> {
  if (process.send === undefined || !process.connected) return Promise.reject(new Error('the primary is gone'));
  const id = ++metricsSeq;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      metricsRequests.delete(id);
      reject(new Error(`the primary did not answer within ${METRICS_ANSWER_MS} ms`));
    }, METRICS_ANSWER_MS);
    timer.unref();
    const settle = () => {
      clearTimeout(timer);
      metricsRequests.delete(id);
    };
    metricsRequests.set(id, {
      resolve: (text) => {
        settle();
        resolve(text);
      },
      reject: (e) => {
        settle();
        reject(e);
      },
    });
    tell({ gyre: SUPERVISOR_TAG, t: 'metrics', id });
  });
}

/** Runs this process as worker `index`: resolves once it listens. */
export async function runWorker(opts: WorkerOptions): Promise<GyreServer> {
  const { index } = opts;
  const log = opts.log.child({ worker: index });
  const base = opts.config.node.name;
  const config: GyreConfig = base === '' ? opts.config : { ...opts.config, node: { ...opts.config.node, name: `${base}-${index}` } };
  const link = new EngineLink(toPrimary);
  const server = new GyreServer({ config, log, embeddedEngine: ipcEngine(link, log), startServerHooks: false, clusterMetrics });

  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ why }, 'worker shutting down');
    server.shutdown().then(
      () => {
        link.close();
        log.flush?.();
        process.exit(0);
      },
      (e: unknown) => {
        log.error({ err: e }, 'worker shutdown failed');
        process.exit(1);
      },
    );
  };

  process.on('message', (m: unknown) => {
    if (isEngineEnvelope<PrimaryMessage>(m)) {
      for (const msg of m.b) link.receive(msg);
      return;
    }
    if (!isSupervisorMessage<ToWorker>(m)) return;
    switch (m.t) {
      case 'ping':
        tell({ gyre: SUPERVISOR_TAG, t: 'pong', seq: m.seq });
        return;
      case 'stop':
        stop('asked by the primary');
        return;
      case 'events': {
        const events = server.config.events.enabled ? server.events : undefined;
        const done = (error?: string) => tell({ gyre: SUPERVISOR_TAG, t: 'events-done', id: m.id, ...(error !== undefined && { error }) });
        if (events === undefined) return done('the event endpoint is disabled');
        const call = m.op === 'broadcast' ? events.broadcast(m.event, m.data) : events.sendToUser(m.user ?? '', m.event, m.data);
        call.then(
          () => done(),
          (e: unknown) => done(e instanceof Error ? e.message : String(e)),
        );
        return;
      }
      case 'metrics-collect':
        server.metricsJson().then(
          (metrics) => tell({ gyre: SUPERVISOR_TAG, t: 'metrics-json', id: m.id, metrics }),
          (e: unknown) => tell({ gyre: SUPERVISOR_TAG, t: 'metrics-json', id: m.id, error: e instanceof Error ? e.message : String(e) }),
        );
        return;
      case 'metrics-text': {
        const request = metricsRequests.get(m.id);
        if (request === undefined) return;
        if (m.text !== undefined) request.resolve(m.text);
        else request.reject(new Error(m.error ?? 'no metrics'));
        return;
      }
    }
  });
  process.on('SIGHUP', () => {
    const files = reopenLogFiles();
    log.info({ signal: 'SIGHUP' }, files > 0 ? 'log file reopened' : 'nothing to reopen (logging to stdout)');
  });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (reason: unknown) => {
    log.error({ err: reason }, 'unhandled promise rejection (worker keeps running)');
  });

  const port = await server.listen();
  tell({ gyre: SUPERVISOR_TAG, t: 'ready', node: server.node.id, name: server.node.name, port, engine: server.engine });
  return server;
}
