// `lanner run`: the agent. Loads config and rules, opens the outputs, attaches the probe and
// streams alerts until SIGTERM/SIGINT, then drains what the kernel still holds and exits 0.

import { hostname } from "node:os";
import { CaptureError, openLiveProbe } from "../capture/probe.ts";
import { ringBytesForPreset } from "../config/schema.ts";
import { Logger } from "../log.ts";
import { DEFAULT_ALERT_FORMAT } from "../outputs/alert.ts";
import { OutputRouter } from "../outputs/router.ts";
import { BoundedSink, type SinkWriter } from "../outputs/sink.ts";
import { FileWriter, StdoutWriter } from "../outputs/writers.ts";
import { Pipeline } from "../pipeline.ts";
import { RuleEngine } from "../rules/engine.ts";
import { parsePriority } from "../rules/load/items.ts";
import { liveBinder, liveEventKey, liveText } from "../rules/live.ts";
import { dropPrivilegesAfterAttach } from "../security/drop.ts";
import { StateTracker } from "../state/tracker.ts";
import { UserTable } from "../state/users.ts";
import { joinAndNormalize } from "../state/paths.ts";
import { many, parseArgs, single } from "./args.ts";
import { EXIT_ENVIRONMENT, EXIT_OK } from "./exit-codes.ts";
import { CliFailure, loadCliConfigDetailed, loadRulesOrFail } from "./setup.ts";

export const RUN_HELP = `Usage: lanner run [-c CONFIG] [-r RULES]... [-o KEY=VALUE]...

Runs the agent: captures kernel events, evaluates the rules, writes alerts.

  -c, --config FILE      configuration file (default: the embedded default config)
  -r, --rules PATH       rules file or directory; repeat for several, loaded in order;
                         replaces rules_files from the config (default: embedded rules)
  -o, --option K=V       override a config key, e.g. -o file_output.enabled=false
  -h, --help             this help

Stops on SIGTERM or SIGINT after delivering what was captured (exit 0).
Exit codes: 0 ok, 1 invalid config or rules, 2 environment (not root, no BPF/BTF, ...) or usage.`;

const STATS_INTERVAL_MS = 60_000;

export async function runCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, [
    { name: "config", short: "c", value: true },
    { name: "rules", short: "r", value: true, repeat: true },
    { name: "option", short: "o", value: true, repeat: true },
    { name: "help", short: "h" },
  ]);
  if (args.switches.has("help")) {
    console.log(RUN_HELP);
    return EXIT_OK;
  }
  if (args.positional.length > 0)
    throw new CliFailure(`unexpected argument '${args.positional[0]}'\n\n${RUN_HELP}`, EXIT_ENVIRONMENT);

  const loadedConfig = loadCliConfigDetailed(single(args, "config"), many(args, "option"));
  const config = loadedConfig.config;
  const log = new Logger(config.log_level);
  for (const w of loadedConfig.warnings) log.warning("config warning", { detail: w });
  const rulePaths = many(args, "rules").length > 0 ? many(args, "rules") : config.rules_files;
  const loaded = loadRulesOrFail(rulePaths, (w) => log.warning("rules warning", { detail: w }));

  const engine = new RuleEngine(
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
  log.info("rules loaded", {
    loaded: loaded.ruleset.rules.length,
    active: engine.active.length,
    files: loaded.files.map((f) => f.name).join(","),
  });

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
      throw new CliFailure(
        `cannot open file_output.filename '${config.file_output.filename}': ${(err as Error).message}`,
        EXIT_ENVIRONMENT,
      );
    }
    sinks.push(new BoundedSink(writer, config.outputs_queue.capacity, onSinkError));
  }
  const outputs = new OutputRouter(sinks, {
    ...DEFAULT_ALERT_FORMAT,
    json: config.json_output,
    includeOutput: config.json_include_output_property,
    includeTags: config.json_include_tags_property,
    isoTime: config.time_format_iso_8601,
  });

  let probe: ReturnType<typeof openLiveProbe>;
  try {
    probe = openLiveProbe({
      ringBytes: ringBytesForPreset(config.engine.modern_ebpf.buf_size_preset),
      drainIntervalMs: config.engine.modern_ebpf.drain_interval_ms,
      batchBytes: 1 << 20,
    });
  } catch (err) {
    outputs.close();
    if (err instanceof CaptureError) {
      const detail = err.detail === "" ? "" : `\n${err.detail}`;
      throw new CliFailure(`${err.message}${detail}`, EXIT_ENVIRONMENT);
    }
    throw err;
  }

  const host = hostname();
  const state = new StateTracker({
    processCapacity: config.state.max_processes,
    users: UserTable.load(config.state.host_root),
    host: { hostname: host, clock: probe.clock },
  });
  const pipeline = new Pipeline({ engine, state, outputs, log, hostname: host });
  probe.start(pipeline.onFrames);
  dropPrivilegesAfterAttach(log);
  log.info("capture started", {
    hostname: host,
    pid: process.pid,
    host_root: joinAndNormalize("/", config.state.host_root),
  });

  // Every loss is reported: the stats line always, and a warning whenever a drop counter moved.
  let lastLosses = { kernel: 0, sinks: 0 };
  const report = () => {
    const k = probe.counters();
    const p = pipeline.stats();
    const s = state.processes.stats();
    const sinkDrops = outputs.stats().reduce((n, x) => n + x.droppedQueueFull + x.failedWrites, 0);
    log.info("stats", {
      events: p.events,
      alerts: p.alerts,
      malformed_records: p.malformed,
      kernel_seen: k.seen,
      kernel_written: k.written,
      kernel_drops_ring_full: k.ringFull,
      kernel_drops_too_big: k.tooBig,
      processes: s.size,
      processes_evicted: s.evicted,
      sink_drops: sinkDrops,
    });
    const kernelDrops = k.ringFull + k.tooBig;
    if (kernelDrops > lastLosses.kernel) {
      log.warning("the kernel dropped events", {
        dropped: kernelDrops - lastLosses.kernel,
        ring_full: k.ringFull,
        too_big: k.tooBig,
        hint: "raise engine.modern_ebpf.buf_size_preset or lower engine.modern_ebpf.drain_interval_ms",
      });
    }
    if (sinkDrops > lastLosses.sinks) {
      log.warning("alerts were dropped by a sink", {
        dropped: sinkDrops - lastLosses.sinks,
        hint: "see outputs_queue.capacity",
      });
    }
    lastLosses = { kernel: kernelDrops, sinks: sinkDrops };
  };
  const statsTimer = setInterval(report, STATS_INTERVAL_MS);

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info("stopping", { signal });
      clearInterval(statsTimer);
      probe.stop();
      outputs.close();
      report();
      resolve(EXIT_OK);
    };
    process.on("SIGTERM", () => stop("SIGTERM"));
    process.on("SIGINT", () => stop("SIGINT"));
  });
}
