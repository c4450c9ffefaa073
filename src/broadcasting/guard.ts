/**
 * Topic authorization over HTTP: a {@link Guard} decides whether the user behind a request may use
 * a topic. {@link TopicGuard} reads `channel_name` from the request and asks a {@link TopicRegistry}.
 */
import type { TopicRegistry } from '../handlers/topics.js';

/** A guard's decision. */
export class AuthorizationStatus {
  constructor(
    /** Authorized or not. */
    readonly success: boolean,
    /** The topics the decision is about. */
    readonly topics: readonly string[],
    /**
     * What the guard learnt: {@link TopicGuard} sets `user` (used as the `sub` of a signed
     * subscription token), `pattern` and `params`.
     */
    readonly attributes: Readonly<Record<string, unknown>> = {},
    /** The guard's own answer (e.g. a Pusher-style `{auth}` body); the middleware sends it as is. */
    readonly response?: Response,
  ) {}
}

/** Decides whether a request may use the topics it names. */
export interface Guard<Req = Request> {
  authorize(request: Req): AuthorizationStatus | Promise<AuthorizationStatus>;
}

/** Who is asking: the application's user id for a request (`""` = anonymous). */
export type UserResolver = (request: Request) => string | Promise<string>;

export interface TopicGuardOptions {
  /** Default: everyone is anonymous (`""`). */
  userResolver?: UserResolver;
}

/** Largest body {@link channelNameOf} reads. */
export const MAX_AUTH_BODY = 64 * 1024;

/**
 * The `channel_name` a request asks about: from the query string, else from the body when it is
 * a form (`application/x-www-form-urlencoded`, `multipart/form-data`) or JSON. Reads a clone, so
 * the request's own body stays readable.
 */
export async function channelNameOf(request: Request): Promise<string | undefined> {
  const fromQuery = new URL(request.url).searchParams.get('channel_name');
  if (fromQuery !== null && fromQuery !== '') return fromQuery;
  if (request.method === 'GET' || request.method === 'HEAD' || request.body === null) return undefined;
  if (Number(request.headers.get('content-length') ?? 0) > MAX_AUTH_BODY) return undefined;
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  try {
    if (type === 'multipart/form-data') {
      const v = (await request.clone().formData()).get('channel_name');
      return typeof v === 'string' && v !== '' ? v : undefined;
    }
    const text = await request.clone().text();
    if (text.length > MAX_AUTH_BODY) return undefined;
    if (type === 'application/x-www-form-urlencoded') return new URLSearchParams(text).get('channel_name') || undefined;
    if (type === 'application/json' || type.endsWith('+json')) {
      const body = JSON.parse(text) as { channel_name?: unknown } | null;
      const v = typeof body === 'object' && body !== null ? body.channel_name : undefined;
      return typeof v === 'string' && v !== '' ? v : undefined;
    }
  } catch {
    // an unreadable or malformed body names no channel
  }
  return undefined;
}

/**
 * Authorizes the `channel_name` of a request through a topic registry: the first pattern matching
 * the channel decides, with its parameters, the topic, the user (from `userResolver`) and the
 * request; no pattern matching, or no channel named, is a refusal.
 */
export class TopicGuard implements Guard<Request> {
  private readonly userResolver: UserResolver;

  constructor(
    readonly topics: TopicRegistry<Request>,
    options: TopicGuardOptions = {},
  ) {
    this.userResolver = options.userResolver ?? (() => '');
  }

  async authorize(request: Request): Promise<AuthorizationStatus> {
    const topic = await channelNameOf(request);
    if (topic === undefined) return new AuthorizationStatus(false, []);
    const user = await this.userResolver(request);
    if (typeof user !== 'string') throw new TypeError('userResolver must return a string (the user id, "" = anonymous)');
    const match = this.topics.findCallback(topic);
    if (match === undefined) return new AuthorizationStatus(false, [topic], { user });
    const allowed = (await match.callback({ ...match.params, topic, userId: user, request } as Parameters<typeof match.callback>[0])) === true;
    return new AuthorizationStatus(allowed, [topic], { user, pattern: match.pattern, params: match.params });
  }
}
