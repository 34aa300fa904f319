// The lanner executable: subcommands run, rules (validate, explain, test), version.

import { EXIT_ENVIRONMENT, EXIT_OK } from "./cli/exit-codes.ts";
import { UsageError } from "./cli/args.ts";
import { explainCommand } from "./cli/rules-explain.ts";
import { testCommand } from "./cli/rules-test.ts";
import { validateCommand } from "./cli/rules-validate.ts";
import { captureCommand } from "./cli/capture.ts";
import { replayCommand } from "./cli/replay.ts";
import { runCommand } from "./cli/run.ts";
import { CliFailure } from "./cli/setup.ts";
import { versionCommand } from "./cli/version.ts";

const HELP = `Lanner: a runtime-security agent for Kubernetes nodes. eBPF capture, Falco-compatible rules.

Usage: lanner <command> [options]

Commands:
  run              run the agent (capture, rules, alerts)
  capture          record kernel events and the state into a capture file
  replay           run a capture file through the rules, anywhere, without root
  rules validate   check rule files: every error and warning with file, line and column
  rules explain    show what each rule really runs and where every piece was defined
  rules test       run rule test files
  version          print versions

Run 'lanner <command> --help' for a command's options.
Exit codes: 0 ok, 1 invalid rules or config, 2 environment or usage.`;

const RULES_HELP = `Usage: lanner rules <validate|explain|test> [options]

  validate   check rule files (lanner rules validate --help)
  explain    show effective conditions and provenance (lanner rules explain --help)
  test       run rule test files (lanner rules test --help)`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case "-h":
    case "--help":
    case "help":
      console.log(HELP);
      return command === undefined ? EXIT_ENVIRONMENT : EXIT_OK;
    case "run":
      return await runCommand(rest);
    case "capture":
      return await captureCommand(rest);
    case "replay":
      return await replayCommand(rest);
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

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError) {
    console.error(`lanner: ${err.message}\n\n${HELP}`);
    process.exitCode = EXIT_ENVIRONMENT;
  } else if (err instanceof CliFailure) {
    console.error(`lanner: ${err.message}`);
    process.exitCode = err.exitCode;
  } else {
    throw err;
  }
}
