/**
 * Channel naming rules: namespace lookup, private (`$`) and user-limited (`#`) channels, and the
 * name checks of channels named by clients. Built once from config; consulted on every subscribe,
 * publish, presence and history.
 */
import { compileConfigRegex } from '../config/regex.js';
import type { ChannelConfig, ChannelOptions } from '../config/types.js';
import { Errors, ProtocolException } from '../protocol/codes.js';

/**
 * The first character of Gyre's internal channels (the event endpoint's user and broadcast
 * channels): names starting with it are reserved, refused (107) to clients and the server API.
 */
export const INTERNAL_CHANNEL_PREFIX = '\u00a7';

/** True for one of Gyre's internal channels (see {@link INTERNAL_CHANNEL_PREFIX}). */
export function isInternalChannel(name: string): boolean {
  return name.startsWith(INTERNAL_CHANNEL_PREFIX);
}

/** A channel resolved to its namespace. */
export interface ResolvedChannel {
  readonly channel: string;
  readonly namespace: string;
  readonly options: ChannelOptions;
  readonly isPrivate: boolean;
  /** True when history is on (both history_size and history_ttl set). */
  readonly history: boolean;
  /** The name after the private prefix and the namespace (what `channel_regex` applies to). */
  readonly name: string;
}

function resolved(channel: string, namespace: string, options: ChannelOptions, isPrivate: boolean, name: string): ResolvedChannel {
  return { channel, namespace, options, isPrivate, history: options.history_size > 0 && options.history_ttl > 0, name };
}

export class ChannelRules {
  private readonly namespaces = new Map<string, { options: ChannelOptions; regex: RegExp | undefined }>();
  private readonly rootRegex: RegExp | undefined;

  constructor(private readonly config: ChannelConfig) {
    for (const ns of config.namespaces) {
      this.namespaces.set(ns.name, { options: ns, regex: compile(ns.channel_regex) });
    }
    this.rootRegex = compile(config.without_namespace.channel_regex);
  }

  /**
   * Resolves a channel to its namespace, or throws 102 (unknown namespace) / 107 (empty, not valid
   * UTF-8, or internal). This is all the server API and token-given channels are checked for, as in
   * Centrifugo; channels named by clients also pass {@link resolveForClient}'s name checks.
   */
  resolve(channel: string): ResolvedChannel {
    const cfg = this.config;
    if (channel.length === 0 || isInternalChannel(channel) || LONE_SURROGATE.test(channel)) {
      throw new ProtocolException(Errors.badRequest);
    }
    const isPrivate = cfg.private_prefix !== '' && channel.startsWith(cfg.private_prefix);
    const bare = isPrivate ? channel.slice(cfg.private_prefix.length) : channel;
    const boundary = bare.indexOf(cfg.namespace_boundary);
    if (boundary > 0) {
      const namespace = bare.slice(0, boundary);
      const ns = this.namespaces.get(namespace);
      if (ns === undefined) throw new ProtocolException(Errors.unknownChannel);
      return resolved(channel, namespace, ns.options, isPrivate, bare.slice(boundary + cfg.namespace_boundary.length));
    }
    return resolved(channel, '', cfg.without_namespace, isPrivate, bare);
  }

  /**
   * Resolves a channel a client names (subscribe, publish, presence, history), with Centrifugo's
   * name checks: at most `channel.max_length` bytes, and, in a namespace with `channel_regex`, the
   * name after the namespace matches it (any characters it allows); without one, ASCII only. 107
   * otherwise.
   */
  resolveForClient(channel: string): ResolvedChannel {
    const r = this.resolve(channel);
    // Bytes, as Centrifugo counts: at least one per UTF-16 unit and at most three.
    const max = this.config.max_length;
    if (channel.length > max || (channel.length * 3 > max && Buffer.byteLength(channel) > max)) {
      throw new ProtocolException(Errors.badRequest);
    }
    const regex = r.namespace === '' ? this.rootRegex : this.namespaces.get(r.namespace)?.regex;
    if (regex !== undefined ? !regex.test(r.name) : !isAscii(channel)) throw new ProtocolException(Errors.badRequest);
    return r;
  }

  /**
   * True for a `#` channel whose namespace has allow_user_limited_channels: only the users it lists
   * may subscribe (allow_subscribe_for_client does not apply to it).
   */
  isUserLimited(resolved: ResolvedChannel): boolean {
    const boundary = this.config.user_boundary;
    return resolved.options.allow_user_limited_channels && boundary !== '' && resolved.channel.includes(boundary);
  }

  /** True for a user-limited channel (see {@link isUserLimited}) that lists `user` among its users. */
  userAllowed(resolved: ResolvedChannel, user: string): boolean {
    if (!this.isUserLimited(resolved) || user === '') return false;
    const at = resolved.channel.lastIndexOf(this.config.user_boundary);
    if (at < 0) return false;
    const users = resolved.channel.slice(at + this.config.user_boundary.length).split(this.config.user_separator);
    return users.includes(user);
  }

  /** The personal channel of a user, `ns:#user` (or `#user` without namespace). */
  personalChannel(namespace: string, user: string): string {
    const prefix = namespace === '' ? '' : namespace + this.config.namespace_boundary;
    return prefix + this.config.user_boundary + user;
  }

  /** The stream meta TTL of a channel: its own, or the global default. */
  metaTtl(resolved: ResolvedChannel): number {
    return resolved.options.history_meta_ttl > 0 ? resolved.options.history_meta_ttl : this.config.history_meta_ttl;
  }
}

/** A `channel_regex` in Go syntax, compiled as config validation checked it (inline flags, named groups). */
function compile(pattern: string): RegExp | undefined {
  return pattern === '' ? undefined : compileConfigRegex(pattern);
}

/** A UTF-16 surrogate without its pair: a string that has one is not valid UTF-8 text. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}
