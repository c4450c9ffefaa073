/**
 * A configuration problem that must stop the server before anything listens.
 *
 * `key` is the dotted key path the problem is about (e.g. `client.ping_interval`,
 * `channel.namespaces[0].history_size`), or `""` for problems with the file as a whole
 * (missing, unreadable, not parseable).
 */
export class ConfigError extends Error {
  readonly key: string;

  constructor(key: string, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.key = key;
  }
}

/** A short, human-readable description of a received value, for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array ${clip(safeJson(value))}`;
  switch (typeof value) {
    case 'string':
      return `the string ${clip(JSON.stringify(value))}`;
    case 'number':
      return `the number ${String(value)}`;
    case 'bigint':
      return `the number ${value.toString()}`;
    case 'boolean':
      return `the boolean ${String(value)}`;
    case 'object':
      return `an object ${clip(safeJson(value))}`;
    default:
      return `a ${typeof value}`;
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
