// The lanner executable: every subcommand is dispatched by agent/cli/dispatch.ts.

import { runCli } from "./cli/index.ts";

process.exitCode = await runCli(process.argv.slice(2));
