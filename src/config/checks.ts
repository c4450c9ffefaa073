import { ConfigError } from './errors.js';
import { compileConfigRegex } from './regex.js';
import type { ChannelOptions, GyreConfig, TokenConfig } from './types.js';

type Label = (key: string) => string;

/**
 * Cross-key rules that a per-key schema cannot express (history needs both size and TTL, recovery
 * needs history, regexes compile, referenced namespaces and proxies exist, ...).
 * `raw` is the unvalidated input, used only for hints.
 * @throws ConfigError naming the offending key.
 */
export function checkConfig(config: GyreConfig, raw: Record<string, unknown>, label: Label): void {
  const fail = (key: string, message: string): never => {
    throw new ConfigError(key, `${label(key)}: ${message}`);
  };
  const proxyNames = new Set(['default', ...config.proxies.map((p) => p.name)]);
  const channel = config.channel;
  checkChannelOptions(channel.without_namespace, 'channel.without_namespace', channel.history_meta_ttl, proxyNames, fail);
  channel.namespaces.forEach((ns, i) => {
    checkChannelOptions(ns, `channel.namespaces[${i}]`, channel.history_meta_ttl, proxyNames, fail);
  });
  for (const key of ['private_prefix', 'namespace_boundary', 'user_boundary', 'user_separator'] as const) {
    if (channel[key] === '') fail(`channel.${key}`, 'must not be empty');
  }

  checkToken(config.client.token, 'client.token', fail);
  checkToken(config.client.subscription_token, 'client.subscription_token', fail);

  const { ping_interval: ping, pong_timeout: pong } = config.client;
  if (ping > 0 && pong > 0 && pong >= ping) {
    fail('client.pong_timeout', `must be less than client.ping_interval (${ping}ms), got ${pong}ms`);
  }

  if (config.client.error_limit > 0 && config.client.error_limit_interval <= 0) {
    fail('client.error_limit_interval', 'must be positive while client.error_limit is set');
  }

  const personal = config.client.subscribe_to_user_personal_channel;
  const personalKey = 'client.subscribe_to_user_personal_channel';
  if (personal.enabled) {
    const ns = personal.personal_channel_namespace;
    const options = ns === '' ? channel.without_namespace : channel.namespaces.find((n) => n.name === ns);
    if (options === undefined) fail(`${personalKey}.personal_channel_namespace`, `namespace "${ns}" is not defined in channel.namespaces`);
    if (personal.single_connection && options !== undefined && !options.presence) {
      fail(`${personalKey}.single_connection`, `needs presence enabled in ${ns === '' ? 'channel.without_namespace' : `namespace "${ns}"`}`);
    }
  }

  const { read_header_timeout: headers, read_timeout: request } = config.http_server;
  if (headers > 0 && request > 0 && headers > request) {
    fail('http_server.read_header_timeout', `must not be longer than http_server.read_timeout (${request}ms), got ${headers}ms`);
  }

  const tls = config.http_server.tls;
  if (tls.enabled && (tls.cert_pem_file === '' || tls.key_pem_file === '')) {
    const rawTls = (raw['http_server'] as { tls?: Record<string, unknown> } | undefined)?.tls ?? {};
    const hint = 'cert_pem' in rawTls || 'key_pem' in rawTls ? ' (Gyre does not read cert_pem/key_pem yet; use the *_file keys)' : '';
    fail(tls.cert_pem_file === '' ? 'http_server.tls.cert_pem_file' : 'http_server.tls.key_pem_file', `TLS is enabled but cert_pem_file and key_pem_file are not both set${hint}`);
  }
}

function checkChannelOptions(
  o: ChannelOptions,
  at: string,
  globalMetaTtl: number,
  proxyNames: ReadonlySet<string>,
  fail: (key: string, message: string) => never,
): void {
  if (o.history_size > 0 && o.history_ttl === 0) {
    fail(`${at}.history_size`, 'history_size needs history_ttl (both are required for history)');
  }
  if (o.history_ttl > 0 && o.history_size === 0) {
    fail(`${at}.history_ttl`, 'history_ttl needs history_size (both are required for history)');
  }
  const metaTtl = o.history_meta_ttl > 0 ? o.history_meta_ttl : globalMetaTtl;
  if (o.history_ttl > metaTtl) {
    fail(`${at}.history_ttl`, `history_ttl (${o.history_ttl}ms) can not be greater than history_meta_ttl (${metaTtl}ms)`);
  }
  const hasHistory = o.history_size > 0 && o.history_ttl > 0;
  for (const key of ['force_recovery', 'allow_recovery'] as const) {
    if (o[key] && !hasHistory) fail(`${at}.${key}`, `${key} needs history (set history_size and history_ttl)`);
  }
  if (o.channel_regex !== '') {
    try {
      compileConfigRegex(o.channel_regex);
    } catch (err) {
      fail(`${at}.channel_regex`, `invalid regular expression ${JSON.stringify(o.channel_regex)}: ${(err as Error).message}`);
    }
  }
  for (const key of ['subscribe_proxy_name', 'publish_proxy_name', 'sub_refresh_proxy_name'] as const) {
    if (o[key] !== '' && !proxyNames.has(o[key])) {
      fail(`${at}.${key}`, `proxy "${o[key]}" is not defined (known: ${[...proxyNames].map((n) => `"${n}"`).join(', ')})`);
    }
  }
}

function checkToken(t: TokenConfig, at: string, fail: (key: string, message: string) => never): void {
  if (t.user_id_claim !== '' && !/^[a-zA-Z_]+$/.test(t.user_id_claim)) {
    fail(`${at}.user_id_claim`, `must match ^[a-zA-Z_]+$, got ${JSON.stringify(t.user_id_claim)}`);
  }
  for (const key of ['audience_regex', 'issuer_regex'] as const) {
    if (t[key] === '') continue;
    try {
      compileConfigRegex(t[key]);
    } catch (err) {
      fail(`${at}.${key}`, `invalid regular expression ${JSON.stringify(t[key])}: ${(err as Error).message}`);
    }
  }
}
