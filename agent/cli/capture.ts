// `lanner capture -w FILE`: records the kernel's records, with a snapshot of the state at start,
// into a capture file that `lanner replay` runs anywhere, without root or BPF (docs/CAPTURE.md).

import { hostname } from "node:os";
import { join } from "node:path";
import { Agent, agentOutputs, liveFrameSource } from "../agent/index.ts";
import { CaptureTap, CaptureWriter, type Compression } from "../capturefile/index.ts";
import { Logger } from "../log.ts";
import { createOutputs, defaultOutputSettings } from "../outputs/index.ts";
import { formatDiagnostic, loadRuleSources, type RuleEngine } from "../rules/index.ts";
import { type EventContext, snapshotState, StateTracker, type UserTable } from "../state/index.ts";
import { many, parseArgs, single } from "./args.ts";
import { buildEngine, captureHeaderBase } from "./assemble.ts";
import { EXIT_ENVIRONMENT, EXIT_INVALID, EXIT_OK } from "./exit-codes.ts";
import { openProbe } from "./probe-setup.ts";
import { CliFailure, loadCliConfig } from "./setup.ts";
import { stateOptions } from "./state-options.ts";

export const CAPTURE_HELP = `Usage: lanner capture -w FILE [--duration S] [--max-size MB] [--max-events N]
                      [--filter CONDITION] [--compress none|gzip|zstd] [-c CONFIG] [-o KEY=VALUE]...

Records kernel events into FILE (mode 0600, replaced if it exists) with a snapshot of the
processes, fds, users and groups at start, for 'lanner replay'. Stops at the first limit reached,
or on SIGTERM/SIGINT.

  -w, --write FILE       the capture file
  --duration S           stop after S seconds
  --max-size MB          stop once the file reaches MB megabytes (it may end one block, 1 MiB, over)
  --max-events N         stop after N records
  --filter CONDITION     keep only events matching a Falco condition, e.g. "fd.name startswith /etc";
                         exec, fork and exit records are always kept (the replay needs the processes)
  --compress KIND        compress each block: none (default), gzip or zstd
  -c, --config FILE      configuration file (ring buffer size, drain interval, host_root)
  -o, --option K=V       override a config key
  -h, --help             this help

Exit codes: 0 ok, 1 invalid config or filter, 2 environment (not root, no BPF/BTF, ...) or usage.`;

/** A stats block (the kernel's counters) this often. */
const STATS_EVERY_MS = 1000;

export async function captureCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, [
    { name: "write", short: "w", value: true },
    { name: "duration", value: true },
    { name: "max-size", value: true },
    { name: "max-events", value: true },
    { name: "filter", value: true },
    { name: "compress", value: true },
    { name: "config", short: "c", value: true },
    { name: "option", short: "o", value: true, repeat: true },
    { name: "help", short: "h" },
  ]);
  if (args.switches.has("help")) {
    console.log(CAPTURE_HELP);
    return EXIT_OK;
  }
  if (args.positional.length > 0)
    throw new CliFailure(`unexpected argument '${args.positional[0]}'\n\n${CAPTURE_HELP}`, EXIT_ENVIRONMENT);
  const path = single(args, "write");
  if (path === undefined) throw new CliFailure(`-w FILE is required\n\n${CAPTURE_HELP}`, EXIT_ENVIRONMENT);
  const durationS = positiveNumber(args, "duration");
  const maxMb = positiveNumber(args, "max-size");
  const maxEvents = positiveNumber(args, "max-events");
  const compression = (single(args, "compress") ?? "none") as Compression;
  if (!["none", "gzip", "zstd"].includes(compression))
    throw new CliFailure(`--compress ${compression}: expected none, gzip or zstd`, EXIT_ENVIRONMENT);

  const config = loadCliConfig(single(args, "config"), many(args, "option"));
  const log = new Logger(config.log_level);
  const filterText = single(args, "filter");
  const filter = filterText === undefined ? undefined : filterEngine(filterText, config);

  const probe = openProbe(config);
  const host = hostname();
  const options = stateOptions(config, host, probe.clock);
  const users = options.users as UserTable;
  const state = new StateTracker(options);
  // After attach and before the snapshot: the processes that existed before the capture.
  log.info("state seeded from /proc", { ...state.seedFromProc() });
  const now = Date.now();
  let writer: CaptureWriter;
  try {
    writer = new CaptureWriter(
      path,
      {
        ...captureHeaderBase(host, probe.clock),
        startTime: [Math.floor(now / 1000), (now % 1000) * 1_000_000],
        reason: "command",
        detail: filterText ?? "",
      },
      snapshotState(state.processes, users, join(config.state.host_root, "proc")),
      compression,
      {
        maxBytes: maxMb === undefined ? undefined : Math.floor(maxMb * 1024 * 1024),
        maxRecords: maxEvents,
      },
    );
  } catch (error) {
    probe.stop();
    throw new CliFailure(
      `cannot write capture file '${path}': ${(error as Error).message}`,
      EXIT_ENVIRONMENT,
    );
  }

  let stopBy: ((reason: string) => void) | undefined;
  const tap = new CaptureTap(writer, filter, (reason) => stopBy?.(reason));
  const agent = new Agent({
    source: liveFrameSource(probe),
    state,
    engine: buildEngine(loadRuleSources([]), config),
    // Capture raises no alerts: outputs with every sink off.
    outputs: agentOutputs(
      createOutputs(defaultOutputSettings({ stdout_output: { enabled: false } }), { log, hostname: host }),
      log,
    ),
    log,
    hostname: host,
    clock: "kernel",
    statsIntervalMs: 0,
    taps: [tap],
  });
  const writeStats = () => {
    const k = probe.counters();
    writer.addStats({ at: agent.clock.lastEvent(), ...k });
  };
  agent.start();
  log.info("capture started", { file: path, pid: process.pid, compression, filter: filterText });

  const statsTimer = setInterval(writeStats, STATS_EVERY_MS);
  let durationTimer: ReturnType<typeof setTimeout> | undefined;
  const stoppedBy = await new Promise<string>((resolve) => {
    stopBy = resolve;
    process.on("SIGTERM", () => resolve("signal"));
    process.on("SIGINT", () => resolve("signal"));
    if (durationS !== undefined) durationTimer = setTimeout(() => resolve("duration"), durationS * 1000);
  });
  clearInterval(statsTimer);
  clearTimeout(durationTimer);
  await agent.stop();
  writeStats();
  writer.close(stoppedBy);
  const k = probe.counters();
  log.info("capture written", {
    file: path,
    records: writer.records,
    bytes: writer.size,
    filtered_out: tap.filtered,
    stopped_by: stoppedBy,
    kernel_drops: k.ringFull + k.tooBig,
  });
  return EXIT_OK;
}

function positiveNumber(args: ReturnType<typeof parseArgs>, name: string): number | undefined {
  const text = single(args, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!(Number.isFinite(n) && n > 0))
    throw new CliFailure(`--${name} ${text}: expected a positive number`, EXIT_ENVIRONMENT);
  return n;
}

/** The --filter condition as a one-rule engine; a bad condition is exit 1 with its column. */
function filterEngine(
  condition: string,
  config: Parameters<typeof buildEngine>[1],
): RuleEngine<EventContext> {
  const loaded = loadRuleSources([
    {
      name: "--filter",
      text: `- rule: capture filter\n  desc: --filter\n  condition: ${JSON.stringify(condition)}\n  output: "%evt.type"\n  priority: DEBUG\n`,
    },
  ]);
  const errors = loaded.diagnostics.items.filter((d) => d.severity === "error");
  if (errors.length > 0)
    throw new CliFailure(`invalid --filter: ${errors.map(formatDiagnostic).join("\n")}`, EXIT_INVALID);
  return buildEngine(loaded, { ...config, priority: "debug", rules: [], rule_matching: "first" });
}
