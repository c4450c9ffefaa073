/** Configuration: Centrifugo v6 layout in, typed {@link GyreConfig} (durations in ms) out. */
export type * from './types.js';
export { ConfigError, type ConfigProblem } from './errors.js';
export { defaultChannelOptions, defaultConfig, defaultRedis } from './defaults.js';
export { formatDuration, parseDuration } from './duration.js';
export { loadConfig, type LoadConfigOptions } from './load.js';
export { validateConfig, NAMESPACE_NAME_RE, type ConfigResult, type ValidateOptions } from './validate.js';
export { parseConfigText, readConfigFile, formatFromPath, type ConfigFormat } from './files.js';
export { readEnvLayer, applyNamespaceEnv, ENV_PREFIXES, type EnvLayer } from './env.js';
export { generateConfig, randomSecret, SCHEMA_REF, type GeneratedConfig, type GenerateOptions } from './generate.js';
export { compileConfigRegex } from './regex.js';
export { configDefinition } from './definition/index.js';
export { configJsonSchema, type JsonSchema } from './json-schema.js';
export type { ConfigInput } from './tree.js';
