/**
 * Validation of a raw configuration tree: older keys lifted (once), every key read against the
 * definition, then the rules across keys; every problem is collected and reported together.
 */
import { checkAcrossKeys } from './checks/index.js';
import { configDefinition } from './definition/index.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { keyNode } from './keys.js';
import { liftLegacyKeys, type LiftedConfig } from './legacy.js';
import { isTree } from './tree.js';
import type { GyreConfig } from './types.js';
import { Walker } from './walk.js';

export { NAMESPACE_NAME_RE } from './definition/channel.js';

/** Options of {@link validateConfig}. */
export interface ValidateOptions {
  /**
   * Where values came from, for error messages: dotted key path → description
   * (e.g. `"client.insecure"` → `"env GYRE_CLIENT_INSECURE"`). A path also covers its children.
   */
  sources?: ReadonlyMap<string, string>;
}

/** A validated configuration and the non-fatal problems found on the way. */
export interface ConfigResult {
  config: GyreConfig;
  /** Human-readable warnings, e.g. `unknown key "client.ping_intervall" (did you mean "client.ping_interval"?)`. */
  warnings: string[];
}

/** What {@link inspectConfig} found: the configuration when there is no problem. */
export interface ConfigInspection {
  config: GyreConfig | undefined;
  warnings: string[];
  problems: ConfigProblem[];
}

/**
 * Validates a raw configuration tree in file form (the Centrifugo v6 layout, durations as strings,
 * older flat keys allowed) and returns the typed configuration, defaults filled in, durations in
 * milliseconds. Strict: a number given as a string, a boolean given as `"true"`, etc. are errors.
 * `null` values count as "not set".
 * @throws ConfigError listing every problem, one line each, naming the key, the expected kind and
 * the received value (`key` is the first problem's).
 */
export function validateConfig(input: unknown, options: ValidateOptions = {}): ConfigResult {
  // Older flat keys (proxy_connect_endpoint, grpc_api_port, ...) are read in their v6 place.
  const { config, warnings, problems } = inspectConfig(liftLegacyKeys(input), options.sources);
  if (config === undefined || problems.length > 0) throw new ConfigError(problems);
  return { config, warnings };
}

/**
 * {@link validateConfig} of an input whose older keys were lifted already (by
 * {@link liftLegacyKeys}, exactly once per input), without the throw: every problem is returned.
 * `sources` add to the lifted ones; `earlier`: problems found while gathering the input
 * (environment variables), listed after the lifting's.
 */
export function inspectConfig(
  input: LiftedConfig,
  sources: ReadonlyMap<string, string> = new Map(),
  earlier: readonly ConfigProblem[] = [],
): ConfigInspection {
  const walker = new Walker(new Map([...input.sources, ...sources]));
  walker.problems.push(...input.problems, ...earlier);
  const config = walker.config(keyNode(configDefinition), input.tree) as GyreConfig | undefined;
  // Rules across keys need every key valid on its own (a broken key would make them misfire).
  if (config !== undefined && walker.problems.length === 0) checkAcrossKeys(config, isTree(input.tree) ? input.tree : {}, walker);
  return { config: walker.problems.length === 0 ? config : undefined, warnings: walker.warnings, problems: walker.problems };
}
