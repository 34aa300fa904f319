// The config stage's entry module: loading, the schema's type, the embedded defaults.

export { DEFAULT_CONFIG, DEFAULT_RULES } from "./embedded.ts";
export { ConfigError, type ConfigSource, type LoadedConfig, loadConfig, loadConfigDetailed } from "./load.ts";
export { configSchema, durationMs, type LannerConfig, ringBytesForPreset } from "./schema.ts";
