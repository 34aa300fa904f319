// `lanner replay FILE`: runs a capture file through the same agent assembly as `lanner run`, with
// the events' own timestamps as the clock and the captured state as the starting state, so the
// same file and rules give the same alerts, byte for byte, on any machine, without root or BPF.

import { Agent, AgentClock } from "../agent/index.ts";
import { CaptureFileError, CaptureFileSource, CaptureReader, eventTableHash } from "../capturefile/index.ts";
import { SCHEMA_VERSION } from "../events/index.ts";
import { Logger, stderrIsTerminal } from "../log.ts";
import { parseSnapshot, restoreState, SnapshotError } from "../state/index.ts";
import { many, parseArgs, single } from "./args.ts";
import { buildEngine, buildOutputs } from "./assemble.ts";
import { EXIT_ENVIRONMENT, EXIT_INVALID, EXIT_OK } from "./exit-codes.ts";
import { CliFailure, loadCliConfig, loadRulesOrFail } from "./setup.ts";

export const REPLAY_HELP = `Usage: lanner replay FILE [-r RULES]... [-c CONFIG] [-o KEY=VALUE]... [--json] [--skip-bad]

Runs a capture file (from 'lanner capture' or a rule-triggered capture) through the rules and
writes the alerts as 'lanner run' would, using the events' own times and the captured state.
Needs neither root nor BPF.

  -r, --rules PATH       rules file or directory; repeat for several (default: the config's, or embedded)
  -c, --config FILE      configuration file (outputs, priority, rule selection)
  -o, --option K=V       override a config key, e.g. -o file_output.enabled=false
  --json                 print a JSON summary on stdout at the end (events, alerts per rule, drops)
  --skip-bad             skip corrupt blocks and records (counted in the summary) instead of stopping
  -h, --help             this help

Exit codes: 0 ok, 1 invalid config, rules or capture file (the message names the byte offset),
2 a file that cannot be opened, or usage.`;

export async function replayCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, [
    { name: "config", short: "c", value: true },
    { name: "rules", short: "r", value: true, repeat: true },
    { name: "option", short: "o", value: true, repeat: true },
    { name: "json" },
    { name: "skip-bad" },
    { name: "help", short: "h" },
  ]);
  if (args.switches.has("help")) {
    console.log(REPLAY_HELP);
    return EXIT_OK;
  }
  if (args.positional.length !== 1)
    throw new CliFailure(
      `${args.positional.length === 0 ? "missing the capture FILE" : `unexpected argument '${args.positional[1]}'`}\n\n${REPLAY_HELP}`,
      EXIT_ENVIRONMENT,
    );
  const path = args.positional[0];
  const skipBad = args.switches.has("skip-bad");
  const json = args.switches.has("json");

  const config = loadCliConfig(single(args, "config"), many(args, "option"));
  const log = new Logger(config.log_level);
  const rulePaths = many(args, "rules").length > 0 ? many(args, "rules") : config.rules_files;
  const engine = buildEngine(
    loadRulesOrFail(rulePaths, (w) => log.warning("rules warning", { detail: w })),
    config,
  );

  const reader = openReader(path, skipBad);
  const header = reader.header;
  let snapshot: ReturnType<typeof parseSnapshot>;
  try {
    snapshot = parseSnapshot(reader.snapshot);
  } catch (error) {
    reader.close();
    if (error instanceof SnapshotError)
      throw new CliFailure(`${path}: state snapshot block: ${error.message}`, EXIT_INVALID);
    throw error;
  }
  if (header.schemaVersion === SCHEMA_VERSION && header.eventTableHash !== eventTableHash())
    log.warning("the capture's event table differs from this agent's at the same schema version", {
      file: path,
      captured: header.eventTableHash,
    });
  const source = new CaptureFileSource(reader);
  const state = restoreState(snapshot, {
    processCapacity: config.state.max_processes,
    host: { hostname: header.hostname, clock: source.clock },
  });
  // Event time drives every rate limit, so throttling replays as it happened live.
  const clock = new AgentClock("event", source.clock);
  const outputs = buildOutputs(config, log, header.hostname, clock.monotonicNs);
  let agent: Agent;
  try {
    agent = new Agent({
      source,
      state,
      engine,
      outputs,
      log,
      hostname: header.hostname,
      clock,
      schemaVersion: header.schemaVersion,
      statsIntervalMs: 0,
      onMalformed: skipBad
        ? undefined
        : (offset, reason) => {
            throw source.malformed(offset, reason);
          },
    });
  } catch (error) {
    // The decoder refuses a record schema it cannot read (the message names both versions).
    reader.close();
    await outputs.shutdown();
    throw new CliFailure(`${path}: ${(error as Error).message}`, EXIT_INVALID);
  }
  const progress = stderrIsTerminal() && !json ? startProgress(source, agent) : undefined;
  agent.start();
  const end = await agent.ended;
  progress?.stop();
  await agent.stop();
  if (end.error !== undefined) {
    const hint =
      end.error instanceof CaptureFileError && !skipBad
        ? "\n(--skip-bad skips corrupt blocks and records)"
        : "";
    throw new CliFailure(`${end.error.message}${hint}`, EXIT_INVALID);
  }
  if (reader.end === undefined)
    log.warning(
      "the capture file has no end block: the capture was not closed and may be missing its last records",
      {
        file: path,
      },
    );
  if (json) console.log(JSON.stringify(summary(path, reader, agent)));
  return EXIT_OK;
}

function openReader(path: string, skipBad: boolean): CaptureReader {
  try {
    return new CaptureReader(path, { skipBad });
  } catch (error) {
    if (error instanceof CaptureFileError)
      throw new CliFailure(error.message, error.offset < 0 ? EXIT_ENVIRONMENT : EXIT_INVALID);
    throw error;
  }
}

/** The --json summary: no wall-clock figures in it, so it is the same run after run. */
function summary(path: string, reader: CaptureReader, agent: Agent) {
  const s = agent.stats();
  const fields = agent.statsFields();
  return {
    file: path,
    hostname: reader.header.hostname,
    agent_version: reader.header.agentVersion,
    schema_version: reader.header.schemaVersion,
    closed: reader.end !== undefined,
    records: reader.records,
    events: s.events,
    malformed_records: s.malformed,
    bad_blocks: reader.badBlocks,
    alerts: s.alerts,
    alerts_by_rule: Object.fromEntries([...agent.alertCounts()].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
    kernel_drops_recorded: { ring_full: fields.kernel_drops_ring_full, too_big: fields.kernel_drops_too_big },
  };
}

/** A one-line progress display on a terminal, redrawn five times a second. */
function startProgress(source: CaptureFileSource, agent: Agent): { stop(): void } {
  const draw = () => {
    const p = source.progress();
    const width = 30;
    const done = Math.round(p * width);
    const s = agent.stats();
    process.stderr.write(
      `\r[${"=".repeat(done)}${" ".repeat(width - done)}] ${(p * 100).toFixed(0).padStart(3)}%  ${s.events} events  ${s.alerts} alerts`,
    );
  };
  const timer = setInterval(draw, 200);
  return {
    stop() {
      clearInterval(timer);
      draw();
      process.stderr.write("\n");
    },
  };
}
