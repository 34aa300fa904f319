// State tracker costs on one core: time per event for the kinds that change state (exec, open,
// fork + exit, close) over a populated process table, and the memory one process with 50 fds
// costs (10,000 such processes, heap measured after a full GC before and after).
//
//   node_modules/.bin/bun scripts/bench-state.ts [--events N] [--processes P] [--fds F] [--json]
import { reexecBenchmarkWithAllocatorSetting } from "../agent/allocator.ts";

import { heapStats } from "bun:jsc";
import type { Event, ExecEvent, ExitEvent, ForkEvent, OpenEvent } from "../agent/events/types.ts";
import { StateTracker } from "../agent/state/tracker.ts";
import { UserTable } from "../agent/state/users.ts";

// The allocator setting `lanner run` and `replay` run with (agent/allocator.ts); may exec again.
reexecBenchmarkWithAllocatorSetting("run");

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const events = opt("--events", 1_000_000);
const processes = opt("--processes", 10_000);
const fdsEach = opt("--fds", 50);
const asJson = args.includes("--json");

function tracker(): StateTracker {
  return new StateTracker({
    processCapacity: 65_536,
    users: new UserTable(),
    host: { hostname: "bench", clock: { offsetSec: 0, offsetNsec: 0 } },
    pathBases: { cwd: () => "/", fdPath: () => undefined },
    fdsPerProcess: 1024,
    fdsTotal: 4_000_000,
  });
}

let num = 0;
const head = (pid: number) => ({ num: ++num, bootSec: 100, bootNsec: num % 1e9, tid: pid, pid, cut: 0 });
const exec = (pid: number, i: number): ExecEvent => ({
  ...head(pid),
  kind: "execve",
  res: 0,
  ppid: 1,
  uid: 1000,
  gid: 1000,
  comm: `prog${i % 50}`,
  filename: `/usr/bin/prog${i % 50}`,
  args: [`prog${i % 50}`, "--flag", `/var/lib/app/file-${i}.dat`],
  cgroup: `/kubepods/besteffort/pod0/${(i % 20).toString(16).padStart(64, "a")}`,
});
const open = (pid: number, fd: number): OpenEvent => ({
  ...head(pid),
  kind: "openat",
  res: fd,
  dirfd: -100,
  path: `/var/lib/app/data/file-${fd}.dat`,
  flags: 0,
  mode: 0,
  resolve: 0,
});

function populate(t: StateTracker, n: number, fds: number): void {
  for (let i = 0; i < n; i++) {
    const pid = 1000 + i;
    t.apply(exec(pid, i));
    for (let fd = 3; fd < 3 + fds; fd++) t.apply(open(pid, fd));
  }
}

function timeIt(
  label: string,
  n: number,
  make: (i: number) => Event,
  t: StateTracker,
): { label: string; nsPerEvent: number } {
  const batch: Event[] = [];
  for (let i = 0; i < Math.min(n, 100_000); i++) batch.push(make(i));
  const start = Bun.nanoseconds();
  for (let i = 0; i < n; i++) t.apply(batch[i % batch.length]);
  return { label, nsPerEvent: (Bun.nanoseconds() - start) / n };
}

function heapBytes(): number {
  Bun.gc(true);
  Bun.gc(true);
  return heapStats().heapSize;
}

// Memory: P processes x F fds, measured as heap growth after full GCs.
const before = heapBytes();
const big = tracker();
populate(big, processes, fdsEach);
const after = heapBytes();
const memory = {
  processes,
  fdsEach,
  heapBytes: after - before,
  bytesPerProcess: Math.round((after - before) / processes),
  bytesPerFd: Math.round((after - before) / (processes * (fdsEach + 1))),
};

// Time: over the populated table (cache behaviour of a busy node).
const results = [
  timeIt("openat (known process, new fd)", events, (i) => open(1000 + (i % processes), 3 + (i % 200)), big),
  timeIt(
    "read of a known fd (by name)",
    events,
    (i) => {
      const pid = 1000 + (i % processes);
      return { ...head(pid), kind: "read", res: 1, fd: 3 + (i % fdsEach) } as unknown as Event;
    },
    big,
  ),
  timeIt("execve (replaces a process)", Math.floor(events / 4), (i) => exec(1000 + (i % processes), i), big),
  timeIt(
    "fork + exit (50 fds copied)",
    Math.floor(events / 10),
    (i) => {
      const pid = 1000 + (i % processes);
      return i % 2 === 0
        ? ({
            ...head(pid),
            kind: "procfork",
            childPid: 900_000 + (i % 1000),
            childTid: 900_000 + (i % 1000),
          } as ForkEvent)
        : ({ ...head(900_000 + ((i - 1) % 1000)), kind: "procexit", exitCode: 0 } as ExitEvent);
    },
    big,
  ),
];

if (asJson) console.log(JSON.stringify({ memory, results }));
else {
  console.log(
    `memory: ${processes} processes x ${fdsEach} fds: ${(memory.heapBytes / 1048576).toFixed(1)} MiB heap, ${memory.bytesPerProcess} B per process (${memory.bytesPerFd} B per fd incl. its share of the process)`,
  );
  for (const r of results)
    console.log(`${r.label.padEnd(34)} ${r.nsPerEvent.toFixed(0).padStart(7)} ns/event`);
}
