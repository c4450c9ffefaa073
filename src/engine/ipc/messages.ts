/**
 * The messages between worker processes and the primary that hosts the embedded engine for them
 * (`gyre serve --workers`). They travel over Node's IPC channel as JSON, batched: one envelope
 * `{"gyre": "engine", "b": [message, ...]}` per event-loop turn and direction.
 *
 * Channel events (`ev`) carry the engine wire format of engine/wire.ts, encoded once per event in
 * the primary and decoded once per worker, like a Redis or NATS message.
 */

/** The `gyre` tag of an engine envelope; other tags belong to the process supervisor. */
export const ENGINE_TAG = 'engine';

/** An engine envelope: the messages of one batch. */
export interface EngineEnvelope<M> {
  gyre: typeof ENGINE_TAG;
  b: M[];
}

/** What a worker asks of the primary's engine; answered by a {@link ResponseMessage}. */
export type EngineRequest =
  | { op: 'publish'; ch: string; body: string; hist: [size: number, ttl: number, metaTtl: number]; key?: string; keyTtl?: number }
  | { op: 'join' | 'leave'; ch: string; info: string }
  | { op: 'subscribe' | 'unsubscribe'; ch: string }
  | { op: 'history'; ch: string; since?: [offset: number, epoch: string]; limit: number; reverse?: boolean; metaTtl: number }
  | { op: 'removeHistory'; ch: string }
  | { op: 'addPresence'; ch: string; client: string; info: string }
  | { op: 'removePresence'; ch: string; client: string; user: string }
  | { op: 'presence' | 'presenceStats'; ch: string }
  | { op: 'controlRun'; node: string };

/** Worker → primary. */
export type WorkerMessage =
  | { k: 'rq'; id: number; rq: EngineRequest }
  /** A control message for every other worker (`to` absent) or for the worker running node `to`. */
  | { k: 'ctl'; m: string; to?: string };

/** A failed request: the protocol error code when it was a client-facing one. */
export interface ResponseError {
  c?: number;
  m: string;
  /** The protocol error is temporary (the client may retry). */
  t?: true;
}

/** The answer of a request. */
export interface ResponseMessage {
  k: 'rs';
  id: number;
  r?: unknown;
  e?: ResponseError;
}

/** Primary → worker. */
export type PrimaryMessage =
  | ResponseMessage
  /** A channel event (wire format) for a channel the worker subscribed to. */
  | { k: 'ev'; ch: string; m: string }
  | { k: 'ctl'; m: string }
  /** Events of these channels were dropped on the way to this worker: their subscribers must recover. */
  | { k: 'lost'; chs: string[] };

/** The result of `publish`. */
export interface PublishAnswer {
  o: number;
  e: string;
  s: boolean;
}

/** The result of `history`: publications in wire format and the stream top. */
export interface HistoryAnswer {
  p: string[];
  o: number;
  e: string;
}

/** True when `value` is an engine envelope. */
export function isEngineEnvelope<M>(value: unknown): value is EngineEnvelope<M> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { gyre?: unknown }).gyre === ENGINE_TAG &&
    Array.isArray((value as { b?: unknown }).b)
  );
}
