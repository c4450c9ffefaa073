/** The base of drivers: argument checking and typed errors, around a driver's own `send`. */
import { ApiClientError } from '../api/client/types.js';
import { BroadcastError } from './errors.js';
import { toMessages, toTopics, type BroadcastMessage } from './normalize.js';
import type { Broadcast, DriverContext, Messages, Topics } from './types.js';

/**
 * A driver implements {@link send} with topic names and JSON messages already checked;
 * `publish` turns any failure into a {@link BroadcastError} naming the topic, driver and
 * connection (the original error is its `cause`).
 */
export abstract class AbstractBroadcast implements Broadcast {
  /** The connection's name (the driver's name when built outside a manager). */
  readonly connection: string;
  /** The driver's name (the class name when built outside a manager). */
  readonly driver: string;

  constructor(context: Partial<DriverContext> = {}) {
    this.driver = context.driver ?? new.target.name;
    this.connection = context.connection ?? this.driver;
  }

  async publish(topics: Topics, messages: Messages): Promise<void> {
    let names: string[];
    let list: BroadcastMessage[];
    try {
      names = toTopics(topics);
    } catch (e) {
      throw this.error(`${(e as Error).message}`, { cause: e });
    }
    try {
      list = toMessages(messages);
    } catch (e) {
      throw this.error(`${(e as Error).message}`, { topics: names, cause: e });
    }
    try {
      await this.send(names, list);
    } catch (e) {
      if (e instanceof BroadcastError) throw e;
      throw this.failure(names, e);
    }
  }

  /** Delivers every message, in order, to every topic (one or more, without duplicates). */
  protected abstract send(topics: readonly string[], messages: readonly BroadcastMessage[]): Promise<void>;

  /** A BroadcastError of this driver and connection. */
  protected error(message: string, details: { topic?: string; topics?: readonly string[]; code?: number; temporary?: boolean; cause?: unknown } = {}): BroadcastError {
    const topics = details.topics ?? (details.topic !== undefined ? [details.topic] : []);
    const topic = details.topic ?? topics[0];
    const where = topics.length === 0 ? '' : topics.length === 1 ? ` to "${topics[0]}"` : ` to ${topics.map((t) => `"${t}"`).join(', ')}`;
    return new BroadcastError(`broadcast${where} failed (connection "${this.connection}", driver "${this.driver}"): ${message}`, {
      ...details,
      topic,
      topics,
      driver: this.driver,
      connection: this.connection,
    });
  }

  /** Wraps an error thrown while sending to `topics`. */
  protected failure(topics: readonly string[], e: unknown): BroadcastError {
    const api = e instanceof ApiClientError ? e : undefined;
    return this.error(e instanceof Error ? e.message : String(e), {
      topics,
      ...(api !== undefined && { code: api.code, temporary: api.temporary }),
      cause: e,
    });
  }
}
