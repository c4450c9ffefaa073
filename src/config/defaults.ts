/**
 * Defaults, derived from the definition: each key's default (file form, as the JSON Schema shows
 * it) read the way a value in a file is, so `"25s"` becomes 25000 ms.
 */
import type { Static, TSchema } from 'typebox';
import { channelOptions, configDefinition, redis } from './definition/index.js';
import { keyNode } from './keys.js';
import type { ChannelOptions, GyreConfig, RedisConfig } from './types.js';
import { Walker } from './walk.js';

const cache = new WeakMap<TSchema, unknown>();

/** The defaults of a definition node, validated form; a fresh copy on every call. */
function defaultsOf<S extends TSchema>(schema: S): Static<S> {
  let value = cache.get(schema);
  if (value === undefined) {
    const walker = new Walker();
    value = walker.value(keyNode(schema), undefined, '');
    if (walker.problems.length > 0) throw new Error(`config definition: invalid defaults: ${walker.problems.map((p) => p.message).join('; ')}`);
    cache.set(schema, value);
  }
  return structuredClone(value) as Static<S>;
}

/**
 * Channel options as Centrifugo v6 defaults them: everything off, no history, and proxy names
 * `"default"` (the proxies configured under `channel.proxy.*`).
 */
export function defaultChannelOptions(): ChannelOptions {
  return defaultsOf(channelOptions);
}

/** Redis connection settings as Centrifugo v6 defaults them. */
export function defaultRedis(): RedisConfig {
  return defaultsOf(redis);
}

/** A fresh copy of the whole configuration with Centrifugo v6 defaults (durations in ms). */
export function defaultConfig(): GyreConfig {
  return defaultsOf(configDefinition);
}
