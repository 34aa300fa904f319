// `lanner run`: the agent. Loads config and rules, opens the outputs, attaches the probe and
// streams alerts until SIGTERM/SIGINT, then drains what the kernel still holds and exits 0.

import { hostname } from "node:os";
import { join } from "node:path";
import { Agent, KernelDropWatch, liveFrameSource } from "../agent/index.ts";
import { captureSelection, type LiveProbe } from "../capture/index.ts";
import type { LannerConfig } from "../config/index.ts";
import { Logger } from "../log.ts";
import { countFullyLive, rulesetLiveness } from "../rules/index.ts";
import { RuleCaptureTap } from "../capturefile/index.ts";
import { dropPrivilegesAfterAttach } from "../security/index.ts";
import { WebServerError } from "../server/index.ts";
import { joinAndNormalize, StateTracker, snapshotState, type UserTable } from "../state/index.ts";
import { many, parseArgs, single } from "./args.ts";
import { buildEngine, buildOutputs, captureHeaderBase } from "./assemble.ts";
import { EXIT_ENVIRONMENT, EXIT_KERNEL_DROPS, EXIT_OK } from "./exit-codes.ts";
import { enginePrefilter, openProbe, selectionLogFields } from "./probe-setup.ts";
import { startRunOperations } from "./run-operations.ts";
import { stateOptions } from "./state-options.ts";
import { CliFailure, loadCliConfigDetailed, loadRulesOrFail } from "./setup.ts";

export const RUN_HELP = `Usage: lanner run [-c CONFIG] [-r RULES]... [-o KEY=VALUE]...

Runs the agent: captures kernel events, evaluates the rules, writes alerts.

  -c, --config FILE      configuration file (default: the embedded default config)
  -r, --rules PATH       rules file or directory; repeat for several, loaded in order;
                         replaces rules_files from the config (default: embedded rules)
  -o, --option K=V       override a config key, e.g. -o file_output.enabled=false
  -h, --help             this help

Signals: SIGHUP reloads the configuration and rules (kept on error), SIGUSR1 reopens output
files, SIGUSR2 logs a summary; SIGTERM, SIGINT and SIGQUIT stop after delivering what was
captured (exit 0).
Exit codes: 0 ok, 1 invalid config or rules, 2 environment (not root, no BPF/BTF, ...) or usage,
3 stopped because the kernel dropped events (syscall_event_drops.actions has exit).`;

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
  const engine = buildEngine(loaded, config);
  log.info("rules loaded", {
    loaded: loaded.ruleset.rules.length,
    active: engine.active.length,
    files: loaded.files.map((f) => f.name).join(","),
  });
  log.info("rule liveness", {
    loaded: loaded.ruleset.rules.length,
    fully_live: countFullyLive(rulesetLiveness(loaded.ruleset)),
    hint: "see the uncaptured_event_type and unfilled_field warnings, or 'lanner rules explain'",
  });

  const outputs = buildOutputs(config, log, hostname());
  let probe: LiveProbe;
  try {
    probe = openProbe(config, captureSelection(engine.eventTypes()), enginePrefilter(engine, config));
  } catch (err) {
    await outputs.shutdown();
    throw err;
  }

  log.info("capture selection", selectionLogFields(probe));
  const host = hostname();
  const options = stateOptions(config, host, probe.clock);
  const state = new StateTracker(options);
  const ruleCapture = config.capture.enabled
    ? ruleCaptureTap(config, state, options.users as UserTable, host, probe, log)
    : undefined;
  const agent = new Agent({
    source: liveFrameSource(probe),
    state,
    engine,
    outputs,
    log,
    hostname: host,
    clock: "kernel",
    taps: ruleCapture === undefined ? [] : [ruleCapture],
  });
  if (ruleCapture !== undefined) agent.metrics.register(ruleCapture);
  agent.start();
  // After attach: what existed before the agent is read from /proc, in steps so the ring keeps
  // being drained; events applied meanwhile win over it.
  log.info("state seeded from /proc", { ...(await state.seedFromProcInSteps()) });
  // After seeding (it reads every process's /proc entries): keep only what running needs.
  dropPrivilegesAfterAttach(log);
  // Web server, signals (HUP reload, USR1 reopen, USR2 summary, TERM/INT/QUIT stop), hot reload.
  let resolveExit: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });
  let operations: ReturnType<typeof startRunOperations> | undefined;
  const stop = (signal: string, code = EXIT_OK) => {
    if (agent.status === "draining" || agent.status === "stopped") return;
    log.info("stopping", { signal });
    kernelDrops.stop();
    operations?.close();
    void agent.stop().then(() => {
      ruleCapture?.close("signal");
      resolveExit(code);
    });
  };
  // syscall_event_drops: once a second; the exit action stops like a signal, with its own code.
  const kernelDrops = new KernelDropWatch({
    counters: () => probe.counters(),
    settings: config.syscall_event_drops,
    log,
    publish: (alert) => outputs.publish(alert),
    hostname: host,
    exit: () => stop("kernel drops", EXIT_KERNEL_DROPS),
  });
  agent.metrics.register(kernelDrops);
  kernelDrops.start();
  try {
    operations = startRunOperations({
      sources: {
        configPath: single(args, "config"),
        overrides: many(args, "option"),
        rulesFlags: many(args, "rules"),
      },
      loaded: loadedConfig,
      rulePaths,
      rules: loaded,
      onEngineSwapped: (next) => {
        probe.setSelection(captureSelection(next.eventTypes()), enginePrefilter(next, config));
        log.info("capture selection updated", selectionLogFields(probe));
      },
      agent,
      outputs,
      log,
      hostname: host,
      stop,
    });
  } catch (err) {
    await agent.stop();
    if (err instanceof WebServerError) throw new CliFailure(err.message, EXIT_ENVIRONMENT);
    throw err;
  }
  // After the operations: "capture started" means the agent is fully up (tests wait for it).
  log.info("capture started", {
    hostname: host,
    pid: process.pid,
    host_root: joinAndNormalize("/", config.state.host_root),
    rings: probe.rings().length,
  });
  return await exited;
}

/** Rule-triggered capture (config `capture`): a ring of recent records, written around an alert. */
function ruleCaptureTap(
  config: LannerConfig,
  state: StateTracker,
  users: UserTable,
  host: string,
  probe: LiveProbe,
  log: Logger,
): RuleCaptureTap {
  const c = config.capture;
  return new RuleCaptureTap({
    pathPrefix: c.path_prefix,
    mode: c.mode,
    defaultDurationMs: c.default_duration,
    maxFileBytes: c.max_file_size_mb * 1024 * 1024,
    ringBytes: c.ring_size_mb * 1024 * 1024,
    compression: c.compression,
    header: captureHeaderBase(host, probe.clock),
    snapshot: () => snapshotState(state.processes, users, join(config.state.host_root, "proc")),
    onWritten: (file, rule, records) => log.info("rule-triggered capture written", { file, rule, records }),
    onError: (error) => log.error("rule-triggered capture failed", { error }),
  });
}
