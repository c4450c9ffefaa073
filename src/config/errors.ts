/** One configuration problem: the dotted key path it is about (`""`: the input as a whole) and the message naming it. */
export interface ConfigProblem {
  readonly key: string;
  readonly message: string;
}

/**
 * Configuration problems that must stop the server before anything listens.
 *
 * `problems` lists every problem found, in the order of the config layout (legacy keys and
 * environment variables first, then each key, then rules across keys); `message` holds one line
 * per problem, each starting with its key path. `key` is the first problem's key path (e.g.
 * `client.ping_interval`, `channel.namespaces[0].history_size`), or `""` for problems with the
 * file as a whole (missing, unreadable, not parseable).
 */
export class ConfigError extends Error {
  readonly key: string;
  readonly problems: readonly ConfigProblem[];

  constructor(key: string, message: string);
  constructor(problems: readonly ConfigProblem[]);
  constructor(keyOrProblems: string | readonly ConfigProblem[], message = '') {
    const problems = typeof keyOrProblems === 'string' ? [{ key: keyOrProblems, message }] : keyOrProblems;
    super(problems.map((p) => p.message).join('\n'));
    this.name = 'ConfigError';
    this.key = problems[0]?.key ?? '';
    this.problems = problems;
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
