// `lanner run`'s operations: the web server, signals, hot reload and periodic metrics of
// agent/ops, wired to the running Agent. Reload loads the same -c/-o/-r as the start did.

import type { Agent, AgentOutputs } from "../agent/index.ts";
import { metricTotal } from "../common/index.ts";
import type { LannerConfig, LoadedConfig } from "../config/index.ts";
import type { Logger } from "../log.ts";
import { Operations, type PreparedSet } from "../ops/index.ts";
import { countFullyLive, type LoadResult, type RuleEngine, rulesetLiveness } from "../rules/index.ts";
import { captureCheck, kernelDropCheck, sinksCheck } from "../server/index.ts";
import type { EventContext } from "../state/index.ts";
import { buildEngine } from "./assemble.ts";
import { loadCliConfigDetailed, loadRulesOrFail } from "./setup.ts";

/** The kernel seeing events that reach nobody for this long makes the agent not ready. */
export const MAX_CAPTURE_STALL_MS = 10_000;

export interface RunSources {
  configPath: string | undefined;
  overrides: readonly string[];
  /** -r paths; empty: the config's rules_files. */
  rulesFlags: readonly string[];
}

interface PreparedRun extends PreparedSet {
  engine: RuleEngine<EventContext>;
  rules: RulesCount;
}

interface RulesCount {
  loaded: number;
  fullyLive: number;
}

function countRules(rules: LoadResult): RulesCount {
  return { loaded: rules.ruleset.rules.length, fullyLive: countFullyLive(rulesetLiveness(rules.ruleset)) };
}

/** Files a configuration and its rules were read from, for watch_config_files. */
export function watchedPaths(
  loaded: LoadedConfig,
  rulePaths: readonly string[],
  sources: RunSources,
): string[] {
  const configFiles = sources.configPath === undefined ? [] : loaded.files;
  return [...configFiles, ...loaded.directories, ...rulePaths];
}

export function startRunOperations(parts: {
  sources: RunSources;
  loaded: LoadedConfig;
  rulePaths: readonly string[];
  /** The rules the agent started with. */
  rules: LoadResult;
  agent: Agent;
  outputs: AgentOutputs;
  log: Logger;
  hostname: string;
  stop: (signal: string) => void;
  /** After a reload swapped the engine: updates what the kernel records (LiveProbe.setSelection). */
  onEngineSwapped?: (engine: RuleEngine<EventContext>) => void;
}): Operations<PreparedRun> {
  const { agent, outputs, log, sources } = parts;
  const config: LannerConfig = parts.loaded.config;
  const samples = () => agent.metrics.metrics();
  let rulesNow = countRules(parts.rules);
  agent.metrics.register({
    metrics: () => [
      { name: "rules_loaded", type: "gauge", help: "Rules in the loaded rule files", value: rulesNow.loaded },
      {
        name: "rules_fully_live",
        type: "gauge",
        help: "Loaded rules whose event types are captured and whose fields are filled",
        value: rulesNow.fullyLive,
      },
    ],
  });
  return new Operations<PreparedRun>({
    config,
    watched: watchedPaths(parts.loaded, parts.rulePaths, sources),
    log,
    hostname: parts.hostname,
    metrics: agent.metrics,
    readiness: [
      captureCheck(() => {
        const s = samples();
        return {
          attached: agent.status === "running",
          kernelSeen: metricTotal(s, "kernel_events_seen_total"),
          decoded: metricTotal(s, "events_total") + metricTotal(s, "malformed_records_total"),
        };
      }, MAX_CAPTURE_STALL_MS),
      kernelDropCheck(() => {
        const s = samples();
        return {
          seen: metricTotal(s, "kernel_events_seen_total"),
          dropped: metricTotal(s, "kernel_drops_total"),
        };
      }, config.syscall_event_drops.threshold),
      sinksCheck(() => {
        const h = outputs.health();
        return h.healthy
          ? [{ name: "outputs", healthy: true, detail: "delivering" }]
          : [{ name: "outputs", healthy: false, detail: h.problems.join("; ") }];
      }),
    ],
    publish: (alert) => outputs.publish(alert),
    reload: {
      prepare(): PreparedRun {
        const loaded = loadCliConfigDetailed(sources.configPath, sources.overrides);
        for (const w of loaded.warnings) log.warning("config warning", { detail: w });
        const rulePaths = sources.rulesFlags.length > 0 ? sources.rulesFlags : loaded.config.rules_files;
        const rules = loadRulesOrFail(rulePaths, (w) => log.warning("rules warning", { detail: w }));
        const engine = buildEngine(rules, loaded.config);
        return {
          config: loaded.config,
          watched: watchedPaths(loaded, rulePaths, sources),
          engine,
          rules: countRules(rules),
        };
      },
      apply(next) {
        agent.reload(next.engine);
        rulesNow = next.rules;
        parts.onEngineSwapped?.(next.engine);
        log.info("rules reloaded", { active: next.engine.active.length });
      },
    },
    reopen: () => outputs.reopen(),
    summary: () => ({
      phase: agent.status,
      rules_active: agent.engine.active.length,
      ...agent.statsFields(),
    }),
    stop: parts.stop,
  });
}
