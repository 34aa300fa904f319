// Decoded kernel events for state tests: the record header and every parameter filled, the
// values a test cares about passed explicitly.

import type { ExecEvent, OpenEvent } from "../../agent/events/types.ts";

const AT_FDCWD = -100;

const head = (pid: number) => ({ num: 1, bootSec: 1, bootNsec: 0, tid: pid, pid, cut: 0 });

/** A successful execve by `pid` (thread-group leader), parent 1, root, in the root cgroup. */
export function execEvent(pid: number, over: Partial<ExecEvent> = {}): ExecEvent {
  return {
    ...head(pid),
    kind: "execve",
    res: 0,
    ppid: 1,
    uid: 0,
    gid: 0,
    comm: "true",
    filename: "/usr/bin/true",
    args: ["true"],
    cgroup: "/",
    ...over,
  };
}

/** An openat of `path` relative to the cwd, read-only, returning fd 3 unless `over` says. */
export function openEvent(pid: number, path: string, over: Partial<OpenEvent> = {}): OpenEvent {
  return {
    ...head(pid),
    kind: "openat",
    res: 3,
    dirfd: AT_FDCWD,
    path,
    flags: 0,
    mode: 0,
    resolve: 0,
    ...over,
  };
}
