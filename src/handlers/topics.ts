/**
 * The topic authorization registry: patterns like `order.{uuid}`, `user.{id}` or `item.{id:\d+}`
 * map topics (channels) to callbacks that decide whether a user may use them. Literal characters are
 * matched literally, constraints are enforced, and the first registered pattern that matches wins.
 */

/** Names of the `{param}` / `{param:constraint}` placeholders in a pattern. */
export type TopicParamNames<P extends string> = P extends `${string}{${infer Body}}${infer Rest}`
  ? (Body extends `${infer Name}:${string}` ? Name : Body) | TopicParamNames<Rest>
  : never;

/** The values of a pattern's placeholders. */
export type TopicParams<P extends string> = { readonly [K in TopicParamNames<P>]: string };

/** What a topic callback receives: the named parameters plus the topic, the user and the request. */
export type TopicContext<P extends string, Req> = TopicParams<P> & {
  readonly topic: string;
  readonly userId: string;
  readonly request: Req | undefined;
};

/** Decides whether the user may use the topic. */
export type TopicCallback<P extends string, Req> = (context: TopicContext<P, Req>) => boolean | Promise<boolean>;

/** The default constraint of a placeholder: one segment (no `.` or `:`). */
export const DEFAULT_SEGMENT = '[^.:]+';

const RESERVED = new Set(['topic', 'userId', 'request']);

interface Route<Req> {
  readonly pattern: string;
  readonly regex: RegExp;
  readonly names: readonly string[];
  readonly callback: TopicCallback<string, Req>;
}

/** A match: the callback and the parameter values. */
export interface TopicMatch<Req> {
  readonly pattern: string;
  readonly params: Readonly<Record<string, string>>;
  readonly callback: TopicCallback<string, Req>;
}

export class TopicRegistry<Req = unknown> {
  private readonly routes: Array<Route<Req>> = [];

  /** Registers a pattern; throws on a malformed pattern or constraint. */
  register<P extends string>(pattern: P, callback: TopicCallback<P, Req>): this {
    const { source, names } = compilePattern(pattern);
    this.routes.push({
      pattern,
      regex: new RegExp(`^${source}$`),
      names,
      callback: callback as unknown as TopicCallback<string, Req>,
    });
    return this;
  }

  /** The first registered pattern matching the topic, with its parameters. */
  findCallback(topic: string): TopicMatch<Req> | undefined {
    for (const route of this.routes) {
      const m = route.regex.exec(topic);
      if (m === null) continue;
      const params: Record<string, string> = {};
      for (const name of route.names) params[name] = m.groups?.[name] ?? '';
      return { pattern: route.pattern, params, callback: route.callback };
    }
    return undefined;
  }

  /** True when a pattern matches and its callback allows the user; false when no pattern matches. */
  async authorize(topic: string, userId: string, request?: Req): Promise<boolean> {
    const match = this.findCallback(topic);
    if (match === undefined) return false;
    const context = { ...match.params, topic, userId, request } as TopicContext<string, Req>;
    return (await match.callback(context)) === true;
  }

  /** Registered patterns, in order. */
  patterns(): string[] {
    return this.routes.map((r) => r.pattern);
  }
}

/** Turns a pattern into a regex source with named groups. */
export function compilePattern(pattern: string): { source: string; names: string[] } {
  let source = '';
  const names: string[] = [];
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === '}') throw new SyntaxError(`topic pattern "${pattern}": unbalanced "}" at ${i}`);
    if (ch !== '{') {
      source += escapeRegex(ch);
      i++;
      continue;
    }
    // A placeholder: read to the matching brace (constraints may hold braces, like \d{3}).
    let depth = 1;
    let j = i + 1;
    while (j < pattern.length && depth > 0) {
      if (pattern[j] === '\\') j++;
      else if (pattern[j] === '{') depth++;
      else if (pattern[j] === '}') depth--;
      j++;
    }
    if (depth !== 0) throw new SyntaxError(`topic pattern "${pattern}": unclosed "{" at ${i}`);
    const body = pattern.slice(i + 1, j - 1);
    const colon = body.indexOf(':');
    const name = colon === -1 ? body : body.slice(0, colon);
    const constraint = colon === -1 ? DEFAULT_SEGMENT : body.slice(colon + 1);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new SyntaxError(`topic pattern "${pattern}": bad parameter name "${name}"`);
    if (RESERVED.has(name)) throw new SyntaxError(`topic pattern "${pattern}": parameter name "${name}" is reserved`);
    if (names.includes(name)) throw new SyntaxError(`topic pattern "${pattern}": parameter "${name}" appears twice`);
    if (constraint === '') throw new SyntaxError(`topic pattern "${pattern}": empty constraint for "${name}"`);
    new RegExp(constraint); // throws SyntaxError on a bad constraint
    names.push(name);
    source += `(?<${name}>${constraint})`;
    i = j;
  }
  return { source, names };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
