// The lanner executable: every subcommand is dispatched by agent/cli/dispatch.ts. A long-running
// command first sets the allocator up for itself (agent/allocator.ts), which may execute the
// program again: before the commands are loaded, so the process that executes itself again has
// loaded only that module (loading every command first cost about 0.13 s of each start).

import { reexecWithAllocatorSetting } from "./allocator.ts";

const argv = process.argv.slice(2);
reexecWithAllocatorSetting(argv);
// A promise chain, not a top-level await: the executable is compiled to bytecode (scripts/build),
// which needs a module without one.
import("./cli/index.ts")
  .then(({ runCli }) => runCli(argv))
  .then((code) => {
    process.exitCode = code;
  });
