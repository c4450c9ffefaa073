import { randomBytes } from 'node:crypto';
import { SCHEMA_FILE } from './json-schema.js';

/**
 * The `$schema` of a generated config: the JSON Schema shipped in the package, as installed next
 * to a project's config file (editors such as VS Code resolve it relative to the file).
 */
export const SCHEMA_REF = `./node_modules/gyre/${SCHEMA_FILE}`;

/** The starter configuration written by `gyre genconfig`, in file form (Centrifugo v6 layout). */
export interface GeneratedConfig {
  /** Where editors find the JSON Schema (completion and checks); Gyre ignores it. */
  $schema: string;
  http_server: { port: number };
  log: { level: string };
  client: {
    token: { hmac_secret_key: string };
    allowed_origins: string[];
  };
  http_api: { key: string };
  health: { enabled: boolean };
  admin: { enabled: boolean; password: string; secret: string };
  channel: {
    without_namespace: {
      presence: boolean;
      join_leave: boolean;
      force_push_join_leave: boolean;
      history_size: number;
      history_ttl: string;
      force_recovery: boolean;
      allow_subscribe_for_client: boolean;
      allow_history_for_subscriber: boolean;
      allow_presence_for_subscriber: boolean;
    };
    namespaces: Array<Record<string, unknown>>;
  };
}

/** A fresh random secret: 32 random bytes, base64url. */
export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Options of {@link generateConfig}. */
export interface GenerateOptions {
  /** The `$schema` written; default {@link SCHEMA_REF}. */
  schema?: string;
}

/**
 * A starter config, ready for `JSON.stringify(..., null, 2)`: `$schema` pointing at the shipped
 * JSON Schema, a fresh random `client.token.hmac_secret_key` and `http_api.key`, no allowed
 * origins (same-origin only), the health endpoint on, the admin web UI off with a fresh password and
 * secret, and channels without namespace with
 * presence, join/leave, a short history (100 publications for 300s) and forced recovery,
 * subscribable by authenticated users.
 */
export function generateConfig(options: GenerateOptions = {}): GeneratedConfig {
  return {
    $schema: options.schema ?? SCHEMA_REF,
    http_server: { port: 8000 },
    log: { level: 'info' },
    client: {
      token: { hmac_secret_key: randomSecret() },
      allowed_origins: [],
    },
    http_api: { key: randomSecret() },
    health: { enabled: true },
    // Off, with its keys ready: set enabled to true to open the admin web UI at "/".
    admin: { enabled: false, password: randomSecret(12), secret: randomSecret() },
    channel: {
      without_namespace: {
        presence: true,
        join_leave: true,
        force_push_join_leave: true,
        history_size: 100,
        history_ttl: '300s',
        force_recovery: true,
        allow_subscribe_for_client: true,
        allow_history_for_subscriber: true,
        allow_presence_for_subscriber: true,
      },
      namespaces: [],
    },
  };
}
