import { applyNamespaceEnv, ENV_PREFIXES, readEnvLayer } from './env.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { readConfigFile } from './files.js';
import { liftLegacyKeys } from './legacy.js';
import { deepMerge, isTree, type ConfigInput } from './tree.js';
import { inspectConfig, type ConfigResult } from './validate.js';

/** Inputs of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Config file (JSON, YAML or TOML, by extension or content). No file: defaults + env + overrides. */
  file?: string;
  /** Environment to read `CENTRIFUGO_*` / `GYRE_*` variables from; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * Applied last, in file form (the same nested layout and value kinds as a config file, e.g.
   * `{ http_server: { port: 9000 }, client: { ping_interval: "10s" } }`; v6 keys only, older flat
   * keys are read from the file); used by CLI flags and tests.
   */
  overrides?: ConfigInput;
}

/**
 * Loads the configuration: defaults ← file ← `CENTRIFUGO_*` env ← `GYRE_*` env ← overrides, then
 * validates it. Unknown keys give warnings; anything invalid throws, listing every problem
 * (variables that cannot be read included).
 * @throws ConfigError naming the offending keys (or key `""` for file problems).
 */
export function loadConfig(options: LoadConfigOptions = {}): ConfigResult {
  const env = options.env ?? process.env;
  // The file's older flat keys are lifted (here only) before the env layers merge, so that env
  // vars (v6 names) win over them and merge into what they became (`grpc_api: true` + GYRE_GRPC_API_PORT).
  const lifted = liftLegacyKeys(options.file === undefined ? {} : readConfigFile(options.file));
  const sources = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  const envLayers = ENV_PREFIXES.map((prefix) => {
    const layer = readEnvLayer(env, prefix);
    for (const [key, source] of layer.sources) sources.set(key, source);
    problems.push(...layer.problems);
    return layer.values;
  });
  const merged = deepMerge(isTree(lifted.tree) ? lifted.tree : {}, ...envLayers);
  for (const prefix of ENV_PREFIXES) applyNamespaceEnv(merged, env, prefix, sources, problems);
  if (options.overrides !== undefined) markSources(options.overrides, '', sources);
  const tree = deepMerge(merged, options.overrides);
  const result = inspectConfig({ ...lifted, tree }, sources, problems);
  if (result.config === undefined || result.problems.length > 0) throw new ConfigError(result.problems);
  return { config: result.config, warnings: result.warnings };
}

/** Records every leaf of `tree` as coming from the overrides (CLI flags). */
function markSources(tree: ConfigInput, path: string, sources: Map<string, string>): void {
  for (const [key, value] of Object.entries(tree)) {
    const at = path === '' ? key : `${path}.${key}`;
    if (isTree(value)) markSources(value, at, sources);
    else if (value !== undefined) sources.set(at, 'overrides');
  }
}
