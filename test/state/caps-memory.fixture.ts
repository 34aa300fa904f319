// Run by caps.test.ts in its own process: pushes 10x the process cap of processes with 50 fds
// each through a tracker and prints the heap growth (after full GCs) and the counters as JSON.
import { heapStats } from "bun:jsc";
import type { ExecEvent, OpenEvent } from "../../agent/events/types.ts";
import { StateTracker } from "../../agent/state/tracker.ts";
import { UserTable } from "../../agent/state/users.ts";

const CAP = 2000;
const heap = () => {
  Bun.gc(true);
  Bun.gc(true);
  return heapStats().heapSize;
};
const t = new StateTracker({
  processCapacity: CAP,
  users: new UserTable(),
  host: { hostname: "h", clock: { offsetSec: 0, offsetNsec: 0 } },
  pathBases: { cwd: () => "/", fdPath: () => undefined },
  fdsTotal: 1_000_000,
});
const before = heap();
let num = 0;
for (let i = 0; i < CAP * 10; i++) {
  const pid = 10_000 + i;
  const exec: ExecEvent = {
    kind: "execve",
    num: ++num,
    bootSec: 1,
    bootNsec: 0,
    tid: pid,
    pid,
    cut: 0,
    res: 0,
    ppid: 1,
    uid: 0,
    gid: 0,
    comm: `p${i}`,
    filename: `/bin/p${i}`,
    args: [`p${i}`, `--arg=${i}`],
    cgroup: "/",
  };
  t.apply(exec);
  for (let fd = 3; fd < 53; fd++) {
    const open: OpenEvent = {
      kind: "openat",
      num: ++num,
      bootSec: 1,
      bootNsec: 0,
      tid: pid,
      pid,
      cut: 0,
      res: fd,
      dirfd: -100,
      path: `/data/${i}/file-${fd}`,
      flags: 0,
      mode: 0,
      resolve: 0,
    };
    t.apply(open);
  }
}
const bytes = heap() - before;
const m = (name: string) => t.metrics().find((x) => x.name === name)?.value ?? -1;
console.log(
  JSON.stringify({ cap: CAP, bytes, evicted: m("state_processes_evicted_total"), fds: m("state_fds") }),
);
