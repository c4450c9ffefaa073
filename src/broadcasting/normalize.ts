/**
 * Turning the `publish(topics, messages)` arguments into a list of topic names and a list of JSON
 * messages, checking everything before anything is sent.
 */
import type { JsonValue, Message, Messages, Topics } from './types.js';

/** One message, ready to send: its JSON value and its compact JSON text. */
export class BroadcastMessage {
  private text: string | undefined;

  private constructor(
    /** The JSON value clients receive. */
    readonly data: JsonValue,
    text?: string,
  ) {
    this.text = text;
  }

  /** The compact JSON text of {@link data}. */
  get json(): string {
    return (this.text ??= JSON.stringify(this.data));
  }

  /** Makes a message from a value; throws a TypeError (see {@link Message} for the rules). */
  static from(value: Message): BroadcastMessage {
    if (typeof value === 'string') return new BroadcastMessage(value);
    const bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : value instanceof Uint8Array ? value : undefined;
    if (bytes !== undefined) {
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        throw new TypeError('bytes are not valid UTF-8 (bytes must be serialized JSON text)');
      }
      try {
        const data = JSON.parse(text) as JsonValue;
        return new BroadcastMessage(data);
      } catch (e) {
        throw new TypeError(`bytes are not valid JSON text (${(e as Error).message})`);
      }
    }
    if (value === null) return new BroadcastMessage(null, 'null');
    const kind = typeof value;
    if (kind !== 'number' && kind !== 'boolean' && kind !== 'object') throw new TypeError(`a value of type ${kind} is not JSON`);
    if (kind === 'number' && !Number.isFinite(value)) throw new TypeError(`${String(value)} is not a JSON value`);
    let text: string | undefined;
    try {
      text = JSON.stringify(value) as string | undefined;
    } catch (e) {
      throw new TypeError(`not serializable to JSON (${(e as Error).message})`);
    }
    if (text === undefined) throw new TypeError('not serializable to JSON');
    return new BroadcastMessage(JSON.parse(text) as JsonValue, text);
  }
}

function isIterable(v: unknown): v is Iterable<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}

function isBytes(v: unknown): boolean {
  return v instanceof Uint8Array || v instanceof ArrayBuffer;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** One topic's name; throws a TypeError for anything that is not a string or a Stringable. */
export function topicName(topic: unknown): string {
  let name: string;
  if (typeof topic === 'string') name = topic;
  else if (typeof topic === 'number' || typeof topic === 'bigint') name = String(topic);
  else if (
    typeof topic === 'object' &&
    topic !== null &&
    typeof (topic as { toString?: unknown }).toString === 'function' &&
    (topic as { toString: unknown }).toString !== Object.prototype.toString
  ) {
    name = String((topic as { toString(): unknown }).toString());
  } else {
    throw new TypeError(`a topic must be a string or an object with its own toString(), got ${describe(topic)}`);
  }
  if (name === '') throw new TypeError('a topic must not be empty');
  return name;
}

/**
 * The topic names, in order, without duplicates: a string or a Stringable is one topic; any other
 * iterable is a list of them. No topic at all is an error.
 */
export function toTopics(topics: Topics): string[] {
  const list: unknown[] = typeof topics !== 'string' && isIterable(topics) ? [...topics] : [topics];
  const names = [...new Set(list.map(topicName))];
  if (names.length === 0) throw new TypeError('no topic given');
  return names;
}

/**
 * The messages, in order: a string, bytes or a non-iterable JSON value is one message; an array or
 * another iterable is a list of them. No message at all is an error.
 */
export function toMessages(messages: Messages): BroadcastMessage[] {
  const list: unknown[] = typeof messages !== 'string' && !isBytes(messages) && isIterable(messages) ? [...messages] : [messages];
  if (list.length === 0) throw new TypeError('no message given');
  return list.map((m, i) => {
    try {
      return BroadcastMessage.from(m as Message);
    } catch (e) {
      throw new TypeError(list.length === 1 ? `bad message: ${(e as Error).message}` : `bad message #${i}: ${(e as Error).message}`);
    }
  });
}
