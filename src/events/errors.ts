/**
 * Errors of the simple event protocol. A problem with a client's message is answered with an
 * `error` event, `{"event": "error", "data": {"code", "reason", "event"?}}`; `code` is one of
 * {@link EventErrorCodes} or an application's own code from an {@link EventError}.
 */
import { Disconnects, WebSocketCloses } from '../protocol/codes.js';

/** The `code` values Gyre itself sends in `error` events. */
export const EventErrorCodes = Object.freeze({
  /** The frame is not valid JSON. */
  badJson: 'bad_json',
  /** Valid JSON but not a message: not an object, `event` missing or not a non-empty string, or a binary frame. */
  badMessage: 'bad_message',
  /** No listener is registered for the event. */
  unknownEvent: 'unknown_event',
  /** A listener failed with an unexpected error (its message is logged, not sent). */
  internal: 'internal',
});

/** The name of the event Gyre sends to report a problem with a message. */
export const ERROR_EVENT = 'error';

/**
 * An error a listener throws on purpose: its `code` and `message` are sent to the client in the
 * `error` event (anything else a listener throws is reported as `internal`, without details).
 */
export class EventError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EventError';
  }
}

/**
 * Close codes used by the event endpoint (besides 3008 "slow" and 3009 "write error" for a peer
 * that cannot keep up, from the transport): the protocol's own, from the one registry.
 */
export const EventCloses = Object.freeze({
  /** Server shutdown (WebSocket "going away"). */
  shutdown: WebSocketCloses.goingAway,
  /** More messages waiting for their listeners than allowed. */
  tooManyRequests: Disconnects.tooManyRequests,
  /** More bad messages than `client.error_limit` allows. */
  tooManyErrors: Disconnects.tooManyErrors,
});
