// The lanner executable: every subcommand is dispatched by agent/cli/dispatch.ts. A long-running
// command first sets the allocator up for itself (agent/cli/allocator.ts), which may execute the
// program again.

import { reexecWithAllocatorSetting, runCli } from "./cli/index.ts";

const argv = process.argv.slice(2);
reexecWithAllocatorSetting(argv);
process.exitCode = await runCli(argv);
