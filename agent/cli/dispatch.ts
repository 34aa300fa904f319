// The command line's dispatcher: the subcommands and their errors turned into exit codes. The
// executable's entry (agent/main.ts) only calls runCli; tests call it in-process. The long-running
// commands (run, capture, replay, selftest) are imported when used: the rules and config commands
// start without loading the probe, the outputs or the capture file code.

import { EXIT_ENVIRONMENT, EXIT_OK } from "./exit-codes.ts";
import { UsageError } from "./args.ts";
import { configCommand } from "./config.ts";
import { explainCommand } from "./rules-explain.ts";
import { testCommand } from "./rules-test.ts";
import { validateCommand } from "./rules-validate.ts";
import { CliFailure } from "./setup.ts";
import { versionCommand } from "./version.ts";

export const HELP = `Lanner: a runtime-security agent for Kubernetes nodes. eBPF capture, Falco-compatible rules.

Usage: lanner <command> [options]

Commands:
  run              run the agent (capture, rules, alerts)
  capture          record kernel events and the state into a capture file
  replay           run a capture file through the rules, anywhere, without root
  rules validate   check rule files: every error and warning with file, line and column
  rules explain    show what each rule really runs and where every piece was defined
  rules test       run rule test files
  config check     validate a configuration file (Falco's falco.yaml too) without running
  config schema    print the configuration's JSON Schema
  selftest         harmless actions through the live agent: does each default rule fire?
  version          print versions

Run 'lanner <command> --help' for a command's options.
Exit codes: 0 ok, 1 invalid rules or config, 2 environment or usage.`;

export const RULES_HELP = `Usage: lanner rules <validate|explain|test> [options]

  validate   check rule files (lanner rules validate --help)
  explain    show effective conditions and provenance (lanner rules explain --help)
  test       run rule test files (lanner rules test --help)`;

export function dispatch(argv: readonly string[]): number | Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case "-h":
    case "--help":
    case "help":
      console.log(HELP);
      return command === undefined ? EXIT_ENVIRONMENT : EXIT_OK;
    case "run":
      return longRunning(command, rest);
    case "config":
      return configCommand(rest);
    case "capture":
      return longRunning(command, rest);
    case "replay":
      return longRunning(command, rest);
    case "selftest":
      return longRunning(command, rest);
    case "version":
    case "--version":
      return versionCommand(rest);
    case "rules": {
      const [sub, ...subArgs] = rest;
      if (sub === "validate") return validateCommand(subArgs);
      if (sub === "explain") return explainCommand(subArgs);
      if (sub === "test") return testCommand(subArgs);
      if (sub === "-h" || sub === "--help") {
        console.log(RULES_HELP);
        return EXIT_OK;
      }
      throw new UsageError(
        sub === undefined ? "missing rules subcommand" : `unknown rules subcommand '${sub}'`,
      );
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

/** The commands that run until stopped, loaded only when one of them is asked for. */
async function longRunning(
  command: "run" | "capture" | "replay" | "selftest",
  argv: readonly string[],
): Promise<number> {
  switch (command) {
    case "run":
      return (await import("./run.ts")).runCommand(argv);
    case "capture":
      return (await import("./capture.ts")).captureCommand(argv);
    case "replay":
      return (await import("./replay.ts")).replayCommand(argv);
    case "selftest":
      return (await import("./selftest.ts")).selftestCommand(argv);
  }
}

/** Usage errors and CLI failures as the executable reports them: a message on stderr, an exit code. */
export function reportFailure(err: unknown): number {
  if (err instanceof UsageError) {
    console.error(`lanner: ${err.message}\n\n${HELP}`);
    return EXIT_ENVIRONMENT;
  }
  if (err instanceof CliFailure) {
    console.error(`lanner: ${err.message}`);
    return err.exitCode;
  }
  throw err;
}

/** Runs one command line to its exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (err) {
    return reportFailure(err);
  }
}
