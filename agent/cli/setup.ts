// What `run` (and later `replay`) share: the configuration and the rules, loaded and reported.

import {
  ConfigError,
  DEFAULT_CONFIG,
  DEFAULT_RULES,
  type LannerConfig,
  type LoadedConfig,
  loadConfigDetailed,
} from "../config/index.ts";
import {
  addLivenessWarnings,
  DiagnosticBag,
  formatDiagnostic,
  type LoadResult,
  loadRuleSources,
  readRuleSources,
} from "../rules/index.ts";
import { readYamlFile } from "../yaml/index.ts";
import { EXIT_ENVIRONMENT, EXIT_INVALID } from "./exit-codes.ts";

export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = "CliFailure";
  }
}

/** The config from -c FILE (or the embedded default), with -o overrides applied. */
export function loadCliConfig(path: string | undefined, overrides: readonly string[]): LannerConfig {
  return loadCliConfigDetailed(path, overrides).config;
}

/** As loadCliConfig, with the warnings and the files read (for reporting and watching). */
export function loadCliConfigDetailed(path: string | undefined, overrides: readonly string[]): LoadedConfig {
  for (const o of overrides) {
    // A malformed -o is a usage error; a well-formed one with a bad key or value is a config error.
    if (!/^[^=.]+(\.[^=.]+)*=/.test(o)) {
      throw new CliFailure(
        `-o ${o}: expected KEY.PATH=VALUE, e.g. -o file_output.enabled=false`,
        EXIT_ENVIRONMENT,
      );
    }
  }
  let source = DEFAULT_CONFIG;
  if (path !== undefined) {
    try {
      source = { name: path, text: readYamlFile(path) };
    } catch (err) {
      throw new CliFailure(`cannot read config file: ${(err as Error).message}`, EXIT_ENVIRONMENT);
    }
  }
  try {
    return loadConfigDetailed(source, overrides);
  } catch (err) {
    if (err instanceof ConfigError)
      throw new CliFailure(`invalid configuration:\n${err.problems.join("\n")}`, EXIT_INVALID);
    throw err;
  }
}

/**
 * Rules from the given paths, or the embedded default rules when there are none, with a liveness
 * warning for each rule that waits for uncaptured events or tests unfilled fields.
 */
export function loadCliRules(paths: readonly string[]): LoadResult {
  const diagnostics = new DiagnosticBag();
  const sources = paths.length === 0 ? [DEFAULT_RULES] : readRuleSources(paths, diagnostics);
  const result = loadRuleSources(sources, undefined, diagnostics);
  addLivenessWarnings(result.ruleset, diagnostics);
  return result;
}

/**
 * Loads rules for running: errors stop the agent (exit 1; exit 2 when a file cannot be read, as
 * `rules validate` says), warnings are reported.
 */
export function loadRulesOrFail(paths: readonly string[], warn: (text: string) => void): LoadResult {
  const result = loadCliRules(paths);
  const errors = result.diagnostics.items.filter((d) => d.severity === "error");
  for (const d of result.diagnostics.items) if (d.severity === "warning") warn(formatDiagnostic(d));
  if (errors.length > 0) {
    throw new CliFailure(
      `the rules have ${errors.length} error(s):\n${errors.map(formatDiagnostic).join("\n")}`,
      errors.some((d) => d.code === "file_read") ? EXIT_ENVIRONMENT : EXIT_INVALID,
    );
  }
  return result;
}
