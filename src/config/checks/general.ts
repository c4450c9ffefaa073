/** Cross-key rules of channels, tokens, client timing and the HTTP server. */
import { compileConfigRegex } from '../regex.js';
import type { ChannelOptions, GyreConfig, TokenConfig } from '../types.js';
import type { CheckReport } from './report.js';

/**
 * Rules that a per-key definition cannot express: history needs both size and TTL, recovery needs
 * history, regexes compile, referenced namespaces and proxies exist, ping/pong and read timeouts
 * agree, TLS has its files. `raw` is the unvalidated input, used only for hints.
 */
export function checkGeneral(config: GyreConfig, raw: Record<string, unknown>, report: CheckReport): void {
  const proxyNames = new Set(['default', ...config.proxies.map((p) => p.name)]);
  const channel = config.channel;
  checkChannelOptions(channel.without_namespace, 'channel.without_namespace', channel.history_meta_ttl, proxyNames, report);
  channel.namespaces.forEach((ns, i) => {
    checkChannelOptions(ns, `channel.namespaces[${i}]`, channel.history_meta_ttl, proxyNames, report);
  });
  for (const key of ['private_prefix', 'namespace_boundary', 'user_boundary', 'user_separator'] as const) {
    if (channel[key] === '') report.problem(`channel.${key}`, 'must not be empty');
  }

  checkToken(config.client.token, 'client.token', report);
  checkToken(config.client.subscription_token, 'client.subscription_token', report);

  const { ping_interval: ping, pong_timeout: pong } = config.client;
  if (ping > 0 && pong > 0 && pong >= ping) {
    report.problem('client.pong_timeout', `must be less than client.ping_interval (${ping}ms), got ${pong}ms`);
  }

  if (config.client.error_limit > 0 && config.client.error_limit_interval <= 0) {
    report.problem('client.error_limit_interval', 'must be positive while client.error_limit is set');
  }

  const personal = config.client.subscribe_to_user_personal_channel;
  const personalKey = 'client.subscribe_to_user_personal_channel';
  if (personal.enabled) {
    const ns = personal.personal_channel_namespace;
    const options = ns === '' ? channel.without_namespace : channel.namespaces.find((n) => n.name === ns);
    if (options === undefined) {
      report.problem(`${personalKey}.personal_channel_namespace`, `namespace "${ns}" is not defined in channel.namespaces`);
    } else if (personal.single_connection && !options.presence) {
      report.problem(`${personalKey}.single_connection`, `needs presence enabled in ${ns === '' ? 'channel.without_namespace' : `namespace "${ns}"`}`);
    }
  }

  const { read_header_timeout: headers, read_timeout: request } = config.http_server;
  if (headers > 0 && request > 0 && headers > request) {
    report.problem('http_server.read_header_timeout', `must not be longer than http_server.read_timeout (${request}ms), got ${headers}ms`);
  }

  const tls = config.http_server.tls;
  if (tls.enabled && (tls.cert_pem_file === '' || tls.key_pem_file === '')) {
    const rawTls = (raw['http_server'] as { tls?: Record<string, unknown> } | undefined)?.tls ?? {};
    const hint = 'cert_pem' in rawTls || 'key_pem' in rawTls ? ' (Gyre does not read cert_pem/key_pem yet; use the *_file keys)' : '';
    report.problem(
      tls.cert_pem_file === '' ? 'http_server.tls.cert_pem_file' : 'http_server.tls.key_pem_file',
      `TLS is enabled but cert_pem_file and key_pem_file are not both set${hint}`,
    );
  }
}

function checkChannelOptions(o: ChannelOptions, at: string, globalMetaTtl: number, proxyNames: ReadonlySet<string>, report: CheckReport): void {
  if (o.history_size > 0 && o.history_ttl === 0) {
    report.problem(`${at}.history_size`, 'history_size needs history_ttl (both are required for history)');
  }
  if (o.history_ttl > 0 && o.history_size === 0) {
    report.problem(`${at}.history_ttl`, 'history_ttl needs history_size (both are required for history)');
  }
  const metaTtl = o.history_meta_ttl > 0 ? o.history_meta_ttl : globalMetaTtl;
  if (o.history_ttl > metaTtl) {
    report.problem(`${at}.history_ttl`, `history_ttl (${o.history_ttl}ms) can not be greater than history_meta_ttl (${metaTtl}ms)`);
  }
  const hasHistory = o.history_size > 0 && o.history_ttl > 0;
  for (const key of ['force_recovery', 'allow_recovery'] as const) {
    if (o[key] && !hasHistory) report.problem(`${at}.${key}`, `${key} needs history (set history_size and history_ttl)`);
  }
  if (o.channel_regex !== '') checkRegex(o.channel_regex, `${at}.channel_regex`, report);
  for (const key of ['subscribe_proxy_name', 'publish_proxy_name', 'sub_refresh_proxy_name'] as const) {
    if (o[key] !== '' && !proxyNames.has(o[key])) {
      report.problem(`${at}.${key}`, `proxy "${o[key]}" is not defined (known: ${[...proxyNames].map((n) => `"${n}"`).join(', ')})`);
    }
  }
}

function checkToken(t: TokenConfig, at: string, report: CheckReport): void {
  if (t.user_id_claim !== '' && !/^[a-zA-Z_]+$/.test(t.user_id_claim)) {
    report.problem(`${at}.user_id_claim`, `must match ^[a-zA-Z_]+$, got ${JSON.stringify(t.user_id_claim)}`);
  }
  for (const key of ['audience_regex', 'issuer_regex'] as const) {
    if (t[key] !== '') checkRegex(t[key], `${at}.${key}`, report);
  }
}

function checkRegex(pattern: string, key: string, report: CheckReport): void {
  try {
    compileConfigRegex(pattern);
  } catch (err) {
    report.problem(key, `invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
}
