/**
 * Channel permission rules, as in Centrifugo: a grant comes from the `allow_*_for_client` or
 * `allow_*_for_subscriber` flags (the `allow_*_for_anonymous` flag extends them to anonymous users),
 * from a user-limited channel that lists the user, or from insecure mode.
 */
import type { ChannelRules, ResolvedChannel } from './channel-rules.js';

/** Who is asking. */
export interface Asker {
  readonly user: string;
  readonly insecure: boolean;
}

/** May this client subscribe without a subscription token? (Private channels never may.) */
export function maySubscribe(rules: ChannelRules, resolved: ResolvedChannel, who: Asker): boolean {
  if (resolved.isPrivate) return false;
  const o = resolved.options;
  const userLimited = rules.isUserLimited(resolved);
  if (userLimited && rules.userAllowed(resolved, who.user)) return true;
  if (!userLimited && o.allow_subscribe_for_client && (who.user !== '' || o.allow_subscribe_for_anonymous)) return true;
  return who.insecure;
}

/** May this client publish into the channel? */
export function mayPublish(resolved: ResolvedChannel, who: Asker, subscribed: boolean): boolean {
  const o = resolved.options;
  const userOk = who.user !== '' || o.allow_publish_for_anonymous;
  return (o.allow_publish_for_client && userOk) || (o.allow_publish_for_subscriber && subscribed && userOk) || who.insecure;
}

/** May this client read the channel's presence or history? */
export function mayRead(resolved: ResolvedChannel, kind: 'presence' | 'history', who: Asker, subscribed: boolean): boolean {
  const o = resolved.options;
  const forSubscriber = kind === 'presence' ? o.allow_presence_for_subscriber : o.allow_history_for_subscriber;
  const forClient = kind === 'presence' ? o.allow_presence_for_client : o.allow_history_for_client;
  const forAnonymous = kind === 'presence' ? o.allow_presence_for_anonymous : o.allow_history_for_anonymous;
  const userOk = who.user !== '' || forAnonymous;
  return (forClient && userOk) || (forSubscriber && subscribed && userOk) || who.insecure;
}
