// Every state table past its cap: the process table (least recently used out), fds per process
// and in total, and the heap staying bounded while ten times the cap of processes with 50 fds
// each go through (measured after full GCs, in a subprocess so other tests' garbage is not counted).

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { ExecEvent, OpenEvent } from "../../agent/events/types.ts";
import { StateTracker } from "../../agent/state/tracker.ts";
import { UserTable } from "../../agent/state/users.ts";

let n = 0;
const head = (pid: number) => ({ num: ++n, bootSec: 1, bootNsec: 0, tid: pid, pid, cut: 0 });
const exec = (pid: number): ExecEvent => ({
  ...head(pid),
  kind: "execve",
  res: 0,
  ppid: 1,
  uid: 0,
  gid: 0,
  comm: "p",
  filename: "/bin/p",
  args: ["p"],
  cgroup: "/",
});
const open = (pid: number, fd: number): OpenEvent => ({
  ...head(pid),
  kind: "openat",
  res: fd,
  dirfd: -100,
  path: `/data/f${fd}`,
  flags: 0,
  mode: 0,
  resolve: 0,
});

function tracker(processCapacity: number): StateTracker {
  return new StateTracker({
    processCapacity,
    users: new UserTable(),
    host: { hostname: "h", clock: { offsetSec: 0, offsetNsec: 0 } },
    pathBases: { cwd: () => "/", fdPath: () => undefined },
  });
}

const metric = (t: StateTracker, name: string) => t.metrics().find((m) => m.name === name)?.value;

describe("process table past its cap", () => {
  test("a process in use survives; the least recently used goes; counted", () => {
    const t = tracker(16);
    for (let pid = 1; pid <= 16; pid++) t.apply(exec(pid));
    // pid 1 keeps being used (more than 1/8 of the cap's worth of table uses apart).
    for (let i = 0; i < 10; i++) {
      t.apply(open(1, 3));
      for (let k = 0; k < 2; k++) t.apply(open(16, 3));
    }
    t.apply(exec(100));
    expect(t.processes.get(1)).toBeDefined();
    expect(t.processes.get(2)).toBeUndefined();
    for (let pid = 200; pid < 300; pid++) t.apply(exec(pid));
    expect(t.processes.size).toBe(16);
    expect(metric(t, "state_processes_evicted_total")).toBe(101);
    expect(metric(t, "state_processes")).toBe(16);
  });

  test("evicted processes give their fds back to the budget", () => {
    const t = tracker(4);
    for (let pid = 1; pid <= 40; pid++) {
      t.apply(exec(pid));
      for (let fd = 3; fd < 13; fd++) t.apply(open(pid, fd));
    }
    expect(metric(t, "state_fds")).toBe(40);
  });
});

describe("memory stays bounded past the caps", () => {
  test("10x the process cap with 50 fds each: the heap holds about the cap's worth", () => {
    const script = join(import.meta.dir, "caps-memory.fixture.ts");
    const r = Bun.spawnSync([process.execPath, script], { stdout: "pipe", stderr: "pipe", timeout: 60_000 });
    expect(r.exitCode).toBe(0);
    const m = JSON.parse(r.stdout.toString()) as { cap: number; bytes: number; evicted: number; fds: number };
    expect(m.evicted).toBe(9 * m.cap);
    expect(m.fds).toBe(m.cap * 50);
    // About 12 KB per process with 50 fds (docs/PERFORMANCE.md); 10x the cap would be ~120 MB.
    expect(m.bytes).toBeLessThan(m.cap * 30_000);
  }, 60_000);
});
