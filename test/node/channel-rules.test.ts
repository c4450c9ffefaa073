/**
 * Unit tests of ChannelRules: namespace resolution, private and user-limited channels, the personal
 * channel name, meta TTL, and the errors for bad channel names.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChannelConfig } from '../../src/config/types.js';
import { validateConfig } from '../../src/config/validate.js';
import { ChannelRules } from '../../src/node/channel-rules.js';
import { ProtocolException } from '../../src/protocol/codes.js';

function channelConfig(channel: Record<string, unknown> = {}): ChannelConfig {
  const { config } = validateConfig({
    channel: {
      without_namespace: { presence: true },
      namespaces: [
        { name: 'chat', history_size: 10, history_ttl: '5s', history_meta_ttl: '10s' },
        { name: 'news', allow_user_limited_channels: true },
        { name: 'ids', channel_regex: '^[0-9]+$' },
      ],
      ...channel,
    },
  });
  return config.channel;
}

function rules(channel: Record<string, unknown> = {}): ChannelRules {
  return new ChannelRules(channelConfig(channel));
}

/** Asserts that `fn` throws a ProtocolException with `code`. */
function throwsCode(fn: () => unknown, code: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ProtocolException, `expected ProtocolException, got ${String(e)}`);
    assert.equal(e.error.code, code);
    return true;
  });
}

test('a channel without namespace resolves to channel.without_namespace', () => {
  const r = rules().resolve('plain');
  assert.equal(r.channel, 'plain');
  assert.equal(r.namespace, '');
  assert.equal(r.isPrivate, false);
  assert.equal(r.options.presence, true);
  assert.equal(r.history, false);
});

test('a namespaced channel resolves to its namespace and options', () => {
  const r = rules().resolve('chat:room-1');
  assert.equal(r.namespace, 'chat');
  assert.equal(r.options.history_size, 10);
  assert.equal(r.history, true);
  assert.equal(r.options.presence, false);
});

test('only the part before the first boundary is the namespace', () => {
  const r = rules().resolve('chat:a:b');
  assert.equal(r.namespace, 'chat');
  assert.equal(r.channel, 'chat:a:b');
});

test('history needs both history_size and history_ttl', () => {
  // Config validation rejects one without the other; the rules must not count on it.
  const cfg = channelConfig();
  cfg.namespaces.push({ ...cfg.without_namespace, name: 'sizeonly', history_size: 10, history_ttl: 0 });
  cfg.namespaces.push({ ...cfg.without_namespace, name: 'ttlonly', history_size: 0, history_ttl: 1000 });
  const r = new ChannelRules(cfg);
  assert.equal(r.resolve('sizeonly:x').history, false);
  assert.equal(r.resolve('ttlonly:x').history, false);
});

test('an unknown namespace is 102', () => {
  throwsCode(() => rules().resolve('nope:x'), 102);
  throwsCode(() => rules().resolve('$nope:x'), 102);
});

test('a private channel strips the prefix before the namespace lookup', () => {
  const r = rules().resolve('$chat:secret');
  assert.equal(r.isPrivate, true);
  assert.equal(r.namespace, 'chat');
  assert.equal(r.channel, '$chat:secret');
  assert.equal(rules().resolve('$top').isPrivate, true);
  assert.equal(rules().resolve('$top').namespace, '');
});

test('a custom private prefix and namespace boundary are honoured', () => {
  const r = rules({ private_prefix: '!', namespace_boundary: '/' });
  const res = r.resolve('!chat/x');
  assert.equal(res.isPrivate, true);
  assert.equal(res.namespace, 'chat');
  throwsCode(() => r.resolve('$chat/x'), 102);
  assert.equal(r.resolve('chat:x').namespace, '');
});

test('channel_regex applies to the part after the namespace; a mismatch is 107 as in Centrifugo', () => {
  const r = rules();
  assert.equal(r.resolveForClient('ids:123').namespace, 'ids');
  assert.equal(r.resolveForClient('$ids:123').isPrivate, true);
  assert.equal(r.resolveForClient('$ids:123').name, '123');
  throwsCode(() => r.resolveForClient('ids:12a'), 107);
  throwsCode(() => r.resolveForClient('ids:'), 107);
});

test('channel_regex of channels without namespace', () => {
  const r = rules({ without_namespace: { channel_regex: '^[a-z]+$' } });
  assert.equal(r.resolveForClient('abc').channel, 'abc');
  throwsCode(() => r.resolveForClient('ABC'), 107);
});

test('client-named channels: empty, non-ASCII (without channel_regex) or longer than max_length bytes are 107', () => {
  const r = rules();
  throwsCode(() => r.resolveForClient(''), 107);
  throwsCode(() => r.resolveForClient('café'), 107);
  throwsCode(() => r.resolveForClient('chat:привет'), 107);
  throwsCode(() => r.resolveForClient('emoji-\u{1F600}'), 107);
  assert.equal(r.resolveForClient('x'.repeat(255)).channel.length, 255);
  throwsCode(() => r.resolveForClient('x'.repeat(256)), 107);
});

test('a channel_regex decides alone: any characters it allows pass, max_length counts UTF-8 bytes', () => {
  const r = rules({ max_length: 12, without_namespace: { channel_regex: '^[\\p{L}0-9-]+$' } });
  assert.equal(r.resolveForClient('café').channel, 'café');
  assert.equal(r.resolveForClient('привет').channel, 'привет'); // 12 bytes
  throwsCode(() => r.resolveForClient('приветы'), 107); // 7 characters, 14 bytes
  throwsCode(() => r.resolveForClient('a b'), 107);
});

test('server API and token channels: any valid UTF-8 name, as in Centrifugo; lone surrogates are 107', () => {
  const r = rules();
  assert.equal(r.resolve('café').channel, 'café');
  assert.equal(r.resolve('chat:日本').namespace, 'chat');
  assert.equal(r.resolve('x'.repeat(300)).channel.length, 300);
  assert.equal(r.resolve('emoji-\u{1F600}').channel, 'emoji-\u{1F600}');
  throwsCode(() => r.resolve(''), 107);
  throwsCode(() => r.resolve('bad-\uD800'), 107);
  throwsCode(() => r.resolve('bad-\uDC00x'), 107);
  throwsCode(() => r.resolve('nope:x'), 102);
});

test('a configured max_length is the limit', () => {
  const r = rules({ max_length: 10 });
  assert.equal(r.resolveForClient('0123456789').channel, '0123456789');
  throwsCode(() => r.resolveForClient('0123456789a'), 107);
});

test('isUserLimited: a `#` channel in a namespace with allow_user_limited_channels', () => {
  const r = rules();
  assert.equal(r.isUserLimited(r.resolve('news:#42')), true);
  assert.equal(r.isUserLimited(r.resolve('news:dialog#42,43')), true);
  assert.equal(r.isUserLimited(r.resolve('news:plain')), false);
  assert.equal(r.isUserLimited(r.resolve('chat:x#42')), false);
  assert.equal(r.isUserLimited(r.resolve('#42')), false);
});

test('userAllowed: listed users only, and only with allow_user_limited_channels', () => {
  const r = rules();
  const one = r.resolve('news:#42');
  assert.equal(r.userAllowed(one, '42'), true);
  assert.equal(r.userAllowed(one, '7'), false);
  assert.equal(r.userAllowed(one, '4'), false);
  assert.equal(r.userAllowed(one, ''), false);
  const dialog = r.resolve('news:dialog#42,43');
  assert.equal(r.userAllowed(dialog, '42'), true);
  assert.equal(r.userAllowed(dialog, '43'), true);
  assert.equal(r.userAllowed(dialog, '42,43'), false);
  assert.equal(r.userAllowed(dialog, '44'), false);
  // No `#`: not a user-limited channel.
  assert.equal(r.userAllowed(r.resolve('news:plain'), '42'), false);
  // Without the option a `#` channel grants nothing.
  assert.equal(r.userAllowed(r.resolve('chat:x#42'), '42'), false);
  assert.equal(r.userAllowed(r.resolve('#42'), '42'), false);
});

test('userAllowed uses the last user boundary', () => {
  const r = rules();
  const res = r.resolve('news:a#1#42');
  assert.equal(r.userAllowed(res, '42'), true);
  assert.equal(r.userAllowed(res, '1'), false);
});

test('personalChannel builds ns:#user, or #user without namespace', () => {
  const r = rules();
  assert.equal(r.personalChannel('', '42'), '#42');
  assert.equal(r.personalChannel('news', '42'), 'news:#42');
  const custom = rules({ namespace_boundary: '/', user_boundary: '@' });
  assert.equal(custom.personalChannel('news', '42'), 'news/@42');
});

test('metaTtl: the namespace own value, else the channel.history_meta_ttl default', () => {
  const r = rules({ history_meta_ttl: '1h' });
  assert.equal(r.metaTtl(r.resolve('chat:x')), 10_000);
  assert.equal(r.metaTtl(r.resolve('plain')), 3_600_000);
});
