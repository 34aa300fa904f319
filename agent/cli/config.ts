// `lanner config check FILE` validates a configuration without running anything (Falco's own
// falco.yaml included: its keys Lanner does not implement are warnings); `lanner config schema`
// prints the JSON Schema of the configuration, for editors.

import { z } from "zod";
import { configSchema } from "../config/index.ts";
import { many, parseArgs, UsageError } from "./args.ts";
import { EXIT_OK } from "./exit-codes.ts";
import { loadCliConfigDetailed } from "./setup.ts";

export const CONFIG_HELP = `Usage: lanner config <check|schema> [options]

  check [-o KEY=VALUE]... [FILE]   validate a configuration file (default: the embedded one),
                                   with the files it merges (config_files) and the overrides;
                                   prints every warning and error
  schema                           print the configuration's JSON Schema (for editors)

Exit codes: 0 valid (warnings allowed), 1 invalid, 2 usage or a file that cannot be read.`;

export interface CommandOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

const CONSOLE: CommandOutput = { out: (t) => console.log(t), err: (t) => console.error(t) };

export function configCommand(argv: readonly string[], io: CommandOutput = CONSOLE): number {
  const [sub, ...rest] = argv;
  switch (sub) {
    case "check":
      return checkCommand(rest, io);
    case "schema": {
      const args = parseArgs(rest, [{ name: "help", short: "h" }]);
      if (args.switches.has("help") || args.positional.length > 0) {
        if (args.positional.length > 0) throw new UsageError(`unexpected argument '${args.positional[0]}'`);
        io.out(CONFIG_HELP);
        return EXIT_OK;
      }
      io.out(JSON.stringify(configJsonSchema(), null, 2));
      return EXIT_OK;
    }
    case "-h":
    case "--help":
      io.out(CONFIG_HELP);
      return EXIT_OK;
    case undefined:
      throw new UsageError("missing config subcommand");
    default:
      throw new UsageError(`unknown config subcommand '${sub}'`);
  }
}

/** The JSON Schema editors use: what a file may contain (input side of the zod schema). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }),
    title: "Lanner configuration",
  };
}

function checkCommand(argv: readonly string[], io: CommandOutput): number {
  const args = parseArgs(argv, [
    { name: "option", short: "o", value: true, repeat: true },
    { name: "help", short: "h" },
  ]);
  if (args.switches.has("help")) {
    io.out(CONFIG_HELP);
    return EXIT_OK;
  }
  if (args.positional.length > 1) throw new UsageError(`unexpected argument '${args.positional[1]}'`);
  const path = args.positional[0];
  // Errors leave as CliFailure (exit 1 invalid, 2 unreadable), printed by main like run's.
  const loaded = loadCliConfigDetailed(path, many(args, "option"));
  for (const w of loaded.warnings) io.out(`warning: ${w}`);
  io.out(
    `${path ?? "<embedded default config>"}: valid; ${loaded.files.length} file(s) read, ${loaded.warnings.length} warning(s), 0 errors`,
  );
  return EXIT_OK;
}
