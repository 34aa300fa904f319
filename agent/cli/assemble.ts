// What run and replay build the same way from the configuration: the rule engine and the outputs.

import { release } from "node:os";
import pkg from "../../package.json" with { type: "json" };
import { type CaptureHeader, eventTableHash } from "../capturefile/index.ts";
import type { MonotonicClock } from "../common/index.ts";
import type { LannerConfig } from "../config/index.ts";
import { type BootClock, SCHEMA_VERSION } from "../events/index.ts";
import type { Logger } from "../log.ts";
import { type AgentOutputs, agentOutputs } from "../agent/index.ts";
import { createOutputs, OutputsError } from "../outputs/index.ts";
import {
  type LoadResult,
  liveBinder,
  liveEventKey,
  liveText,
  parsePriority,
  RuleEngine,
} from "../rules/index.ts";
import type { EventContext } from "../state/index.ts";
import { EXIT_ENVIRONMENT } from "./exit-codes.ts";
import { CliFailure } from "./setup.ts";
import { appendOutputOrFail } from "./state-options.ts";

export function buildEngine(loaded: LoadResult, config: LannerConfig): RuleEngine<EventContext> {
  return new RuleEngine(
    loaded.ruleset,
    {
      minPriority: parsePriority(config.priority) ?? "Debug",
      matching: config.rule_matching,
      selection: config.rules.map((s) =>
        "enable" in s ? { action: "enable", ...s.enable } : { action: "disable", ...s.disable },
      ),
      appendOutput: appendOutputOrFail(config.append_output),
      // The pipeline evaluates each event under its own kind, which is what evt.type reads.
      planPerEventType: true,
    },
    liveBinder,
    liveText,
    liveEventKey,
  );
}

/**
 * Every configured sink (agent/outputs); a sink that cannot be opened is an environment error.
 * `clock` drives the outputs' rate limits (the agent's clock: event time on replay).
 */
export function buildOutputs(
  config: LannerConfig,
  log: Logger,
  host: string,
  clock?: MonotonicClock,
): AgentOutputs {
  try {
    return agentOutputs(createOutputs(config, { log, hostname: host, clock }), log);
  } catch (err) {
    if (err instanceof OutputsError) throw new CliFailure(err.message, EXIT_ENVIRONMENT);
    throw err;
  }
}

/** The header fields that describe this agent and host (shared by rule-triggered captures). */
export function captureHeaderBase(
  host: string,
  clock: BootClock,
): Omit<CaptureHeader, "reason" | "detail" | "startTime"> {
  return {
    schemaVersion: SCHEMA_VERSION,
    eventTableHash: eventTableHash(),
    agentVersion: pkg.version,
    hostname: host,
    kernelRelease: release(),
    bootTime: [clock.offsetSec, clock.offsetNsec],
  };
}
