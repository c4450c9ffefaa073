/**
 * The broadcasting contract: application code publishes messages to topics (channels) through a
 * {@link Broadcast}, without caring which real-time backend carries them.
 */

/** Anything that names a topic by its `toString()`, like a topic class (`new Order(uuid)` → `order.<uuid>`). */
export interface Stringable {
  toString(): string;
}

/** One topic: a string, or an object whose own `toString()` gives the topic name. */
export type Topic = string | Stringable;

/** One topic, or an iterable of them (array, Set, generator ...). */
export type Topics = Topic | Iterable<Topic>;

/** A JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * One message:
 * - a **string** is sent as a JSON string (the client's `ctx.data` is that same string);
 * - **bytes** (`Uint8Array`, `Buffer`, `ArrayBuffer`) are an already serialized payload, UTF-8 JSON
 *   text (what a serializer produced), sent as the JSON value they encode; invalid JSON is an error;
 * - any other **JSON value** (object, number, boolean, null) is sent as that value. Objects with
 *   `toJSON()` (like `Date`) are sent as what `JSON.stringify` makes of them.
 *
 * A top-level array is a list of messages, never one message: to send a JSON array as one
 * message, wrap it (`[[1, 2, 3]]`) or pass its bytes.
 */
export type Message = string | Uint8Array | ArrayBuffer | number | boolean | null | object;

/** One message, or an iterable of them: each is published in order. */
export type Messages = Message | Iterable<Message>;

/** Publishes messages to topics. */
export interface Broadcast {
  /**
   * Publishes every message, in order, to every topic. Resolves when the backend accepted all of
   * them; rejects with a {@link BroadcastError} naming the topic, driver and connection. The
   * topics and messages are checked before anything is sent.
   */
  publish(topics: Topics, messages: Messages): Promise<void>;
}

/** A broadcast that holds resources (connections to a server) and can release them. */
export interface ClosableBroadcast extends Broadcast {
  close(): Promise<void>;
}

/** What the manager tells a driver about where it runs. */
export interface DriverContext {
  /** The connection's name (after aliases). */
  readonly connection: string;
  /** The driver's name (its alias, e.g. `http`, or the factory's name). */
  readonly driver: string;
}
