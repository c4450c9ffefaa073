/**
 * Channel naming rules: namespace lookup, private (`$`) and user-limited (`#`) channels, length and
 * regex checks. Built once from config; consulted on every subscribe, publish, presence and history.
 */
import { compileConfigRegex } from '../config/regex.js';
import type { ChannelConfig, ChannelOptions } from '../config/types.js';
import { Errors, ProtocolException } from '../protocol/codes.js';

/** A channel resolved to its namespace. */
export interface ResolvedChannel {
  readonly channel: string;
  readonly namespace: string;
  readonly options: ChannelOptions;
  readonly isPrivate: boolean;
  /** True when history is on (both history_size and history_ttl set). */
  readonly history: boolean;
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
   * Resolves a channel or throws 102 (unknown namespace) / 107 (bad name: empty, too long, not ASCII,
   * or not matching the namespace's channel_regex, as in Centrifugo).
   */
  resolve(channel: string): ResolvedChannel {
    const cfg = this.config;
    if (channel.length === 0 || channel.length > cfg.max_length || !isAscii(channel)) {
      throw new ProtocolException(Errors.badRequest);
    }
    const isPrivate = cfg.private_prefix !== '' && channel.startsWith(cfg.private_prefix);
    const bare = isPrivate ? channel.slice(cfg.private_prefix.length) : channel;
    const boundary = bare.indexOf(cfg.namespace_boundary);
    let options: ChannelOptions;
    let regex: RegExp | undefined;
    let namespace = '';
    let rest = bare;
    if (boundary > 0) {
      namespace = bare.slice(0, boundary);
      const ns = this.namespaces.get(namespace);
      if (ns === undefined) throw new ProtocolException(Errors.unknownChannel);
      options = ns.options;
      regex = ns.regex;
      rest = bare.slice(boundary + cfg.namespace_boundary.length);
    } else {
      options = cfg.without_namespace;
      regex = this.rootRegex;
    }
    if (regex !== undefined && !regex.test(rest)) throw new ProtocolException(Errors.badRequest);
    return { channel, namespace, options, isPrivate, history: options.history_size > 0 && options.history_ttl > 0 };
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

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return false;
  return true;
}
