/** Definition of `client`: connection tokens, limits and timing of client connections. */
import { bool, duration, int, objectList, section, str, strings, unixSeconds } from '../keys.js';
import { clientProxy } from './proxy.js';

const tokenFields = {
  hmac_secret_key: str('', 'HMAC secret of HS256/384/512 tokens.'),
  hmac_previous_secret_key: str('', 'The previous HMAC secret, still accepted while rotating keys.'),
  hmac_previous_secret_key_valid_until: unixSeconds('When the previous HMAC secret stops being accepted (Unix seconds); 0 = while it is set.'),
  rsa_public_key: str('', 'RSA public key (PEM) of RS256/384/512 tokens.'),
  ecdsa_public_key: str('', 'ECDSA public key (PEM) of ES256/384/512 tokens.'),
  jwks_public_endpoint: str('', 'JWKS URL to fetch token verification keys from.'),
  audience: str('', 'Required `aud` claim.'),
  audience_regex: str('', 'Regular expression the `aud` claim must match.'),
  issuer: str('', 'Required `iss` claim.'),
  issuer_regex: str('', 'Regular expression the `iss` claim must match.'),
  user_id_claim: str('', 'Claim holding the user ID instead of `sub` (letters and _ only).'),
};
const TOKEN_UNTYPED = ['insecure_skip_jwks_endpoint_safety_check'];

/** Settings to verify connection tokens (`client.token`). */
export const token = section(tokenFields, 'How connection tokens are verified.', { untyped: TOKEN_UNTYPED });

/** Settings to verify subscription tokens (`client.subscription_token`). */
export const subscriptionToken = section(
  { enabled: bool(false, 'Verify subscription tokens with these settings; false = with client.token.'), ...tokenFields },
  'How subscription tokens are verified.',
  { untyped: TOKEN_UNTYPED },
);

/** `client`. */
export const client = section(
  {
    allowed_origins: strings([], 'Origins browsers may connect from ([] = same origin only); patterns like `https://*.example.com`.'),
    token,
    subscription_token: subscriptionToken,
    allow_anonymous_connect_without_token: bool(false, 'Clients may connect without a token, as anonymous users.'),
    disallow_anonymous_connection_tokens: bool(false, 'Reject connection tokens with an empty user.'),
    ping_interval: duration('25s', 'How often the server pings a client; -1 = never.', { negativeDisables: true }),
    pong_timeout: duration('8s', 'How long a client may take to answer a ping (less than ping_interval); -1 = forever.', {
      negativeDisables: true,
    }),
    expired_close_delay: duration('25s', 'Grace time to refresh an expired connection before it is closed.'),
    expired_sub_close_delay: duration('25s', 'Grace time to refresh an expired subscription before it ends.'),
    stale_close_delay: duration('10s', 'How long a connection may stay open without sending connect.'),
    channel_limit: int(128, 'Most channels one connection may subscribe to.'),
    queue_max_size: int(1_048_576, 'Bytes of outgoing data queued per connection before it is closed with 3008 "slow".'),
    connection_limit: int(0, 'Most connections to this node; 0 = no limit.'),
    user_connection_limit: int(0, 'Most connections of one user to this node; 0 = no limit.'),
    connection_rate_limit: int(0, 'Most new connections per second to this node; 0 = no limit.'),
    history_max_publication_limit: int(300, 'Most publications one history call returns.'),
    recovery_max_publication_limit: int(300, 'Most publications one recovery returns (more: recovered false).'),
    insecure: bool(false, 'Insecure mode: every client may connect and use every channel. Never in production.'),
    concurrency: int(
      0,
      'Most commands of one connection processed at once: 0 or 1 = one after another; above 1, up to that many concurrently (replies may then come out of order, each matched by its id).',
    ),
    write_delay: duration(
      '0',
      'How long messages for a connection may be collected before they are written to it together (fewer writes, more latency); 0 = written at the end of the event-loop turn.',
    ),
    max_messages_in_frame: int(
      16,
      'With write_delay: most messages joined into one WebSocket frame (newline-separated JSON, or consecutive protobuf messages); -1 = no limit, 0 = 16.',
      { min: -1 },
    ),
    reply_without_queue: bool(
      false,
      'With write_delay: replies to commands do not wait for the delay; a reply leaves at the end of its event-loop turn, with what was queued before it.',
    ),
    error_limit: int(1000, 'Gyre: error replies a connection may get within error_limit_interval before it is closed with 3509; 0 = no limit.'),
    error_limit_interval: duration('10s', "Gyre: the interval of error_limit; a connection's error log lines come at most once per interval."),
    subscribe_to_user_personal_channel: section(
      {
        enabled: bool(false, "Subscribe every connection to its user's personal channel."),
        personal_channel_namespace: str('', 'Namespace of personal channels ("" = without namespace).'),
        single_connection: bool(false, 'Keep one connection per user (needs presence in that namespace).'),
      },
      "Server-side subscription of each connection to its user's channel.",
    ),
    connect_code_to_unidirectional_disconnect: section(
      {
        enabled: bool(false, 'Map the codes of refused connects on unidirectional transports with transforms.'),
        transforms: objectList(
          section(
            {
              code: int(0, 'The error code the connect was refused with (e.g. 109, 103, or an application code).'),
              to: section(
                {
                  code: int(0, 'The disconnect code sent instead.'),
                  reason: str('', 'The disconnect reason (ASCII).'),
                },
                'The disconnect.',
              ),
            },
            'One error code and its disconnect.',
          ),
          'Error codes and the disconnects that replace them.',
        ),
      },
      'Disconnect codes of refused connects on unidirectional transports (default: 109/110 → 3005, 111 → 3013, 103 → 3507, others 3004).',
    ),
    proxy: clientProxy,
  },
  'Client connections: tokens, limits and timing.',
  {
    untyped: [
      'presence_update_interval',
      'channel_position_check_delay',
      'channel_position_max_time_lag',
      'connect_include_server_time',
      'insecure_skip_token_signature_verify',
      'user_id_http_header',
      'write_with_timer',
      'queue_shrink_delay',
      'queue_initial_cap',
    ],
  },
);
