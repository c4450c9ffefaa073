/**
 * The supervisor's messages between the primary of `gyre serve --workers` and its workers, over
 * Node's IPC channel beside the engine's envelopes (engine/ipc/messages.ts): `{"gyre": "sup", ...}`.
 */

export const SUPERVISOR_TAG = 'sup';

/** Primary → worker. */
export type ToWorker =
  | { gyre: typeof SUPERVISOR_TAG; t: 'ping'; seq: number }
  /** Shut down gracefully (clients get 3001), then exit. */
  | { gyre: typeof SUPERVISOR_TAG; t: 'stop' }
  /** Run an event endpoint call for the primary's `start_server` hooks. */
  | { gyre: typeof SUPERVISOR_TAG; t: 'events'; id: number; op: 'broadcast' | 'sendToUser'; user?: string | number; event: string; data: unknown }
  /** Hand over this worker's metrics (prom-client's JSON form) for a `/metrics` answer. */
  | { gyre: typeof SUPERVISOR_TAG; t: 'metrics-collect'; id: number }
  /** The answer to the worker's `metrics`: every worker's metrics combined, in the text format. */
  | { gyre: typeof SUPERVISOR_TAG; t: 'metrics-text'; id: number; text?: string; error?: string };

/** Worker → primary. */
export type ToPrimary =
  | { gyre: typeof SUPERVISOR_TAG; t: 'pong'; seq: number }
  /** Listening: the node's id and name, the main port. */
  | { gyre: typeof SUPERVISOR_TAG; t: 'ready'; node: string; name: string; port: number; engine: string }
  | { gyre: typeof SUPERVISOR_TAG; t: 'events-done'; id: number; error?: string }
  /** A `/metrics` request reached this worker: the primary gathers every worker's metrics. */
  | { gyre: typeof SUPERVISOR_TAG; t: 'metrics'; id: number }
  /** This worker's metrics, for the primary's `metrics-collect`. */
  | { gyre: typeof SUPERVISOR_TAG; t: 'metrics-json'; id: number; metrics?: unknown[]; error?: string };

export function isSupervisorMessage<T extends { gyre: string }>(value: unknown): value is T {
  return typeof value === 'object' && value !== null && (value as { gyre?: unknown }).gyre === SUPERVISOR_TAG;
}
