import { applyNamespaceEnv, ENV_PREFIXES, readEnvLayer } from './env.js';
import { readConfigFile } from './files.js';
import { liftLegacyKeys } from './proxy.js';
import { deepMerge, isTree, type ConfigInput } from './tree.js';
import { validateConfig, type ConfigResult } from './validate.js';

/** Inputs of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Config file (JSON, YAML or TOML, by extension or content). No file: defaults + env + overrides. */
  file?: string;
  /** Environment to read `CENTRIFUGO_*` / `GYRE_*` variables from; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * Applied last, in file form (the same nested layout and value kinds as a config file, e.g.
   * `{ http_server: { port: 9000 }, client: { ping_interval: "10s" } }`); used by CLI flags and tests.
   */
  overrides?: ConfigInput;
}

/**
 * Loads the configuration: defaults ← file ← `CENTRIFUGO_*` env ← `GYRE_*` env ← overrides, then
 * validates it. Unknown keys give warnings; anything invalid throws.
 * @throws ConfigError naming the offending key (or key `""` for file problems).
 */
export function loadConfig(options: LoadConfigOptions = {}): ConfigResult {
  const env = options.env ?? process.env;
  // Older flat keys are lifted before the env layers merge, so that env vars (v6 names) win over them.
  const lifted = liftLegacyKeys(options.file === undefined ? {} : readConfigFile(options.file));
  const fromFile = lifted.tree;
  const sources = new Map<string, string>(lifted.sources);
  const envLayers = ENV_PREFIXES.map((prefix) => {
    const layer = readEnvLayer(env, prefix);
    for (const [key, source] of layer.sources) sources.set(key, source);
    return layer.values;
  });
  const merged = deepMerge(fromFile, ...envLayers);
  for (const prefix of ENV_PREFIXES) applyNamespaceEnv(merged, env, prefix, sources);
  if (options.overrides !== undefined) markSources(options.overrides, '', sources);
  return validateConfig(deepMerge(merged, options.overrides), { sources });
}

/** Records every leaf of `tree` as coming from the overrides (CLI flags). */
function markSources(tree: ConfigInput, path: string, sources: Map<string, string>): void {
  for (const [key, value] of Object.entries(tree)) {
    const at = path === '' ? key : `${path}.${key}`;
    if (isTree(value)) markSources(value, at, sources);
    else if (value !== undefined) sources.set(at, 'overrides');
  }
}
