/** Unknown-key suggestions: nearest known sibling key (Levenshtein), plus common Centrifugo v5 → v6 moves. */

/** Edit distance between two strings (insertions, deletions, substitutions). */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * The candidate closest to `key` if it is a plausible typo: within an edit distance of a third of
 * the key's length (at least 2), or containing / contained in the key (e.g. `hmac_secret` for
 * `hmac_secret_key`).
 */
export function nearest(key: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(key.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = levenshtein(key, candidate);
    const contained = Math.min(key.length, candidate.length) >= 4 && (candidate.includes(key) || key.includes(candidate));
    if ((d <= limit || contained) && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Flat Centrifugo v5 top-level keys and where v6 moved them. */
export const V5_MOVES: Readonly<Record<string, string>> = {
  token_hmac_secret_key: 'client.token.hmac_secret_key',
  token_rsa_public_key: 'client.token.rsa_public_key',
  token_ecdsa_public_key: 'client.token.ecdsa_public_key',
  token_jwks_public_endpoint: 'client.token.jwks_public_endpoint',
  token_audience: 'client.token.audience',
  token_issuer: 'client.token.issuer',
  token_user_id_claim: 'client.token.user_id_claim',
  api_key: 'http_api.key',
  api_insecure: 'http_api.insecure',
  allowed_origins: 'client.allowed_origins',
  allow_anonymous_connect_without_token: 'client.allow_anonymous_connect_without_token',
  client_insecure: 'client.insecure',
  client_channel_limit: 'client.channel_limit',
  client_queue_max_size: 'client.queue_max_size',
  client_concurrency: 'client.concurrency',
  namespaces: 'channel.namespaces',
  presence: 'channel.without_namespace.presence',
  join_leave: 'channel.without_namespace.join_leave',
  history_size: 'channel.without_namespace.history_size',
  history_ttl: 'channel.without_namespace.history_ttl',
  force_recovery: 'channel.without_namespace.force_recovery',
  allow_subscribe_for_client: 'channel.without_namespace.allow_subscribe_for_client',
  allow_publish_for_client: 'channel.without_namespace.allow_publish_for_client',
  channel_max_length: 'channel.max_length',
  port: 'http_server.port',
  address: 'http_server.address',
  internal_port: 'http_server.internal_port',
  log_level: 'log.level',
  log_file: 'log.file',
  name: 'node.name',
  websocket_compression: 'websocket.compression',
  websocket_message_size_limit: 'websocket.message_size_limit',
  websocket_write_timeout: 'websocket.write_timeout',
  ping_interval: 'client.ping_interval',
  pong_timeout: 'client.pong_timeout',
  shutdown_timeout: 'shutdown.timeout',
};
