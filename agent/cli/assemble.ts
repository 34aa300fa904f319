// What run and replay build the same way from the configuration: the rule engine and the outputs.

import type { LannerConfig } from "../config/index.ts";
import type { Logger } from "../log.ts";
import { type AgentOutputs, routerOutputs } from "../agent/index.ts";
import { DEFAULT_ALERT_FORMAT } from "../outputs/alert.ts";
import { OutputRouter } from "../outputs/router.ts";
import { BoundedSink, type SinkWriter } from "../outputs/sink.ts";
import { FileWriter, StdoutWriter } from "../outputs/writers.ts";
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

export function buildEngine(loaded: LoadResult, config: LannerConfig): RuleEngine<EventContext> {
  return new RuleEngine(
    loaded.ruleset,
    {
      minPriority: parsePriority(config.priority) ?? "Debug",
      matching: config.rule_matching,
      selection: config.rules.map((s) =>
        "enable" in s ? { action: "enable", ...s.enable } : { action: "disable", ...s.disable },
      ),
    },
    liveBinder,
    liveText,
    liveEventKey,
  );
}

/** stdout and file sinks from the config; a file that cannot be opened is an environment error. */
export function buildOutputs(config: LannerConfig, log: Logger): AgentOutputs {
  const sinks: BoundedSink[] = [];
  const onSinkError = (sink: string, message: string) =>
    log.error("alert sink write failed", { sink, error: message });
  if (config.stdout_output.enabled)
    sinks.push(new BoundedSink(new StdoutWriter(), config.outputs_queue.capacity, onSinkError));
  if (config.file_output.enabled) {
    let writer: SinkWriter;
    try {
      writer = new FileWriter(config.file_output.filename);
    } catch (err) {
      for (const s of sinks) s.close();
      throw new CliFailure(
        `cannot open file_output.filename '${config.file_output.filename}': ${(err as Error).message}`,
        EXIT_ENVIRONMENT,
      );
    }
    sinks.push(new BoundedSink(writer, config.outputs_queue.capacity, onSinkError));
  }
  return routerOutputs(
    new OutputRouter(sinks, {
      ...DEFAULT_ALERT_FORMAT,
      json: config.json_output,
      includeOutput: config.json_include_output_property,
      includeTags: config.json_include_tags_property,
      isoTime: config.time_format_iso_8601,
    }),
  );
}
