/** Definition of `channel`: channel options (without namespace and per namespace) and channel naming. */
import { bool, duration, int, name, namedList, oneOf, section, str, stringsOf } from '../keys.js';
import { channelProxy } from './proxy.js';

/** A namespace name as Centrifugo requires it. */
export const NAMESPACE_NAME_RE = /^[-a-zA-Z0-9_]{2,}$/;

const proxyName = (event: string) =>
  str('default', `Which proxy ${event} events use: "default" = channel.proxy.${event}, else a name from proxies.`);

/** Channel options (of `channel.without_namespace` and of each namespace). */
const channelOptionsFields = {
  presence: bool(false, 'Keep presence information (who is subscribed).'),
  join_leave: bool(false, 'Send join and leave messages to subscribers that ask for them.'),
  force_push_join_leave: bool(false, 'Send join and leave messages to every subscriber.'),
  history_size: int(0, 'Publications kept in history; 0 = no history (history needs history_size and history_ttl).'),
  history_ttl: duration('0s', 'How long publications stay in history; 0 = no history.', { wholeSeconds: true }),
  history_meta_ttl: duration('0s', 'Retention of the stream meta (epoch, top offset); 0 = channel.history_meta_ttl.', { wholeSeconds: true }),
  force_positioning: bool(false, 'Check the stream position of every subscriber.'),
  allow_positioning: bool(false, 'Let subscribers ask for position checks.'),
  force_recovery: bool(false, 'Recover missed publications on every resubscribe (needs history).'),
  allow_recovery: bool(false, 'Let subscribers ask for recovery (needs history).'),
  force_recovery_mode: oneOf(['', 'stream', 'cache'], '', 'Recovery mode forced on subscribers ("" = as they ask).'),
  allow_subscribe_for_client: bool(false, 'Authenticated clients may subscribe without a subscription token.'),
  allow_subscribe_for_anonymous: bool(false, 'Anonymous clients may subscribe without a subscription token.'),
  allow_publish_for_subscriber: bool(false, 'Subscribers may publish.'),
  allow_publish_for_client: bool(false, 'Authenticated clients may publish.'),
  allow_publish_for_anonymous: bool(false, 'Anonymous clients may publish.'),
  allow_presence_for_subscriber: bool(false, 'Subscribers may ask for presence.'),
  allow_presence_for_client: bool(false, 'Authenticated clients may ask for presence.'),
  allow_presence_for_anonymous: bool(false, 'Anonymous clients may ask for presence.'),
  allow_history_for_subscriber: bool(false, 'Subscribers may ask for history.'),
  allow_history_for_client: bool(false, 'Authenticated clients may ask for history.'),
  allow_history_for_anonymous: bool(false, 'Anonymous clients may ask for history.'),
  allow_user_limited_channels: bool(false, 'Channels like `dialog#42,43` may be subscribed only by the users listed.'),
  channel_regex: str('', 'Regular expression (Go syntax) the channel name after the namespace must match; "" = any.'),
  allowed_delta_types: stringsOf(['fossil'], 'Delta compressions subscribers may ask for.'),
  delta_publish: bool(false, 'Publish with delta compression by default.'),
  subscribe_proxy_enabled: bool(false, 'Ask a backend about subscriptions.'),
  subscribe_proxy_name: proxyName('subscribe'),
  publish_proxy_enabled: bool(false, 'Ask a backend about publications of clients.'),
  publish_proxy_name: proxyName('publish'),
  sub_refresh_proxy_enabled: bool(false, 'Ask a backend to refresh expiring subscriptions.'),
  sub_refresh_proxy_name: proxyName('sub_refresh'),
};

/** Channel option keys of newer Centrifugo v6 releases that Gyre accepts but does not implement yet. */
const CHANNEL_OPTIONS_UNTYPED = [
  'subscribe_stream_proxy_enabled',
  'subscribe_stream_proxy_name',
  'subscribe_stream_proxy_bidirectional',
  'subscribe_stream_bidirectional',
  'publication_data_format',
  'auto_cache_recovery',
  'allow_tags_filter',
  'subscription_type',
  'map',
  'shared_poll',
  'map_clients_presence_channel_prefix',
  'map_users_presence_channel_prefix',
];

/** Options of channels without namespace. */
export const channelOptions = section(channelOptionsFields, 'Options of channels without namespace.', { untyped: CHANNEL_OPTIONS_UNTYPED });

/** One `channel.namespaces` entry. */
export const namespace = section(
  { name: name(NAMESPACE_NAME_RE, 'The namespace: channels `name:...` belong to it.'), ...channelOptionsFields },
  'A channel namespace and its options.',
  { untyped: CHANNEL_OPTIONS_UNTYPED },
);

/** `channel`. */
export const channel = section(
  {
    without_namespace: channelOptions,
    namespaces: namedList(namespace, 'Channel namespaces (`chat:room1` is channel room1 of namespace chat).', 'namespace'),
    history_meta_ttl: duration('720h', 'Default retention of the stream meta (epoch, top offset) of channels with history.', { wholeSeconds: true }),
    max_length: int(255, 'Longest channel name a client may use, in bytes.', { min: 1 }),
    private_prefix: str('$', 'Prefix of private channels (they need a subscription token).'),
    namespace_boundary: str(':', 'Separates the namespace from the rest of a channel name.'),
    user_boundary: str('#', 'Starts the user list of a user-limited channel.'),
    user_separator: str(',', 'Separates the users of a user-limited channel.'),
    proxy: channelProxy,
  },
  'Channels: options, namespaces and naming.',
  { untyped: ['publication_data_format'] },
);
