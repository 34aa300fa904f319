// The process table (agent/state/processes.ts): what exec, fork and exit do to it, the cap with
// FIFO eviction, and the counters it reports.

import { describe, expect, test } from "bun:test";
import type { ExecEvent, ExitEvent, ForkEvent } from "../../agent/events/types.ts";
import { ProcessTable } from "../../agent/state/processes.ts";

const CONTAINER = "0123456789abcdef".repeat(4);

function exec(pid: number, over: Partial<ExecEvent> = {}): ExecEvent {
  return {
    kind: "execve",
    num: 1,
    bootSec: 100,
    bootNsec: 5,
    tid: pid,
    pid,
    cut: 0,
    res: 0,
    ppid: 1,
    uid: 1000,
    gid: 1001,
    comm: `comm${pid}`,
    filename: `/usr/bin/prog${pid}`,
    args: [`prog${pid}`, "-x", "file"],
    cgroup: "/",
    ...over,
  };
}

function fork(pid: number, childPid: number, over: Partial<ForkEvent> = {}): ForkEvent {
  return {
    kind: "procfork",
    num: 2,
    bootSec: 200,
    bootNsec: 7,
    tid: pid,
    pid,
    cut: 0,
    childTid: childPid,
    childPid,
    ...over,
  };
}

function exit(pid: number, tid = pid): ExitEvent {
  return { kind: "procexit", num: 3, bootSec: 300, bootNsec: 0, tid, pid, cut: 0, exitCode: 0 };
}

/** Pids in the table, checked one by one against `candidates`. */
function present(table: ProcessTable, candidates: number[]): number[] {
  return candidates.filter((pid) => table.get(pid) !== undefined);
}

describe("ProcessTable: exec", () => {
  test("a successful exec records everything the event says", () => {
    const table = new ProcessTable(16);
    const info = table.onExec(
      exec(42, {
        ppid: 7,
        uid: 0,
        gid: 5,
        comm: "curl",
        filename: "/usr/bin/curl",
        args: ["curl", "-s", "https://example.com"],
        cgroup: `/kubepods/besteffort/pod1/${CONTAINER}`,
        bootSec: 12,
        bootNsec: 345,
      }),
    );
    expect(info).toMatchObject({
      pid: 42,
      ppid: 7,
      comm: "curl",
      exe: "curl",
      exepath: "/usr/bin/curl",
      args: ["-s", "https://example.com"],
      argsText: "-s https://example.com",
      cmdline: "curl -s https://example.com",
      uid: 0,
      gid: 5,
      cgroup: `/kubepods/besteffort/pod1/${CONTAINER}`,
      containerId: CONTAINER.slice(0, 12),
      startBootNs: 12e9 + 345,
      pidTsBootNs: 12e9 + 345,
      source: "exec",
      loginuid: -1,
      tty: 0,
      exited: false,
    });
    expect(table.get(42)).toBe(info);
    expect(table.stats()).toEqual({ size: 1, capacity: 16, evicted: 0, misses: 0 });
  });

  test("an exec with an empty argv uses the filename as proc.exe and has no args", () => {
    const table = new ProcessTable(16);
    const info = table.onExec(exec(42, { args: [], filename: "/bin/sh" }));
    expect(info?.exe).toBe("/bin/sh");
    expect(info?.args).toEqual([]);
  });

  test("a failed exec (res < 0) does not replace the process and returns the old one", () => {
    const table = new ProcessTable(16);
    const before = table.onExec(exec(42, { comm: "bash", filename: "/bin/bash" }));
    const after = table.onExec(
      exec(42, { res: -2, comm: "ignored", filename: "/nope", args: [], bootSec: 999 }),
    );
    expect(after).toBe(before);
    expect(table.get(42)?.comm).toBe("bash");
    expect(table.get(42)?.exepath).toBe("/bin/bash");
    expect(table.stats().misses).toBe(0);
  });

  test("a failed exec of an unknown process is a miss and adds nothing", () => {
    const table = new ProcessTable(16);
    expect(table.onExec(exec(42, { res: -13 }))).toBeUndefined();
    expect(table.get(42)).toBeUndefined();
    expect(table.stats()).toEqual({ size: 0, capacity: 16, evicted: 0, misses: 1 });
  });

  test("a second exec of the same pid replaces the entry (same size)", () => {
    const table = new ProcessTable(16);
    table.onExec(exec(42, { comm: "sh" }));
    table.onExec(exec(42, { comm: "python3" }));
    expect(table.get(42)?.comm).toBe("python3");
    expect(table.stats().size).toBe(1);
  });
});

describe("ProcessTable: fork", () => {
  test("a child process inherits its parent's information with its own pid, ppid and start", () => {
    const table = new ProcessTable(16);
    const parent = table.onExec(
      exec(10, { comm: "bash", uid: 33, cgroup: `/docker/${CONTAINER}`, args: ["bash", "-c", "x"] }),
    );
    if (parent === undefined) throw new Error("exec did not record the parent");
    table.onFork(fork(10, 11, { bootSec: 500, bootNsec: 1 }));
    const child = table.get(11);
    const { fds: _parentFds, touched: _t1, ...parentRest } = parent;
    const { fds: childFds, touched: _t2, ...childRest } = child ?? parent;
    expect(childRest).toEqual({
      ...parentRest,
      pid: 11,
      ppid: 10,
      vpid: 11,
      startBootNs: 500e9 + 1,
      pidTsBootNs: 500e9 + 1,
      source: "fork",
      exited: false,
    });
    // Its own fd table (a copy), not the parent's.
    expect(childFds).not.toBe(parent.fds);
    // The child is its own entry: changing it later must not touch the parent.
    expect(child).not.toBe(parent);
    expect(table.stats().size).toBe(2);
  });

  test("a new thread (childPid === pid) adds nothing", () => {
    const table = new ProcessTable(16);
    table.onExec(exec(10));
    table.onFork(fork(10, 10, { childTid: 12 }));
    expect(table.get(12)).toBeUndefined();
    expect(table.stats()).toEqual({ size: 1, capacity: 16, evicted: 0, misses: 0 });
  });

  test("a fork from an unknown parent is a miss and adds nothing", () => {
    const table = new ProcessTable(16);
    table.onFork(fork(10, 11));
    expect(table.get(11)).toBeUndefined();
    expect(table.stats()).toEqual({ size: 0, capacity: 16, evicted: 0, misses: 1 });
  });

  test("a child that execs gets its own identity and keeps its parent", () => {
    const table = new ProcessTable(16);
    table.onExec(exec(10, { comm: "bash" }));
    table.onFork(fork(10, 11));
    table.onExec(exec(11, { ppid: 10, comm: "cat" }));
    expect(table.get(11)?.comm).toBe("cat");
    expect(table.get(11)?.ppid).toBe(10);
    expect(table.get(10)?.comm).toBe("bash");
  });
});

describe("ProcessTable: exit", () => {
  test("the main thread's exit removes the process and marks the entry exited", () => {
    const table = new ProcessTable(16);
    const info = table.onExec(exec(42));
    table.onExit(exit(42));
    expect(table.get(42)).toBeUndefined();
    expect(info?.exited).toBe(true);
    expect(table.stats().size).toBe(0);
  });

  test("another thread's exit keeps the process", () => {
    const table = new ProcessTable(16);
    const info = table.onExec(exec(42));
    table.onExit(exit(42, 43));
    expect(table.get(42)).toBe(info);
    expect(info?.exited).toBe(false);
  });

  test("the exit of an unknown process changes nothing", () => {
    const table = new ProcessTable(16);
    table.onExec(exec(1));
    table.onExit(exit(42));
    expect(table.stats()).toEqual({ size: 1, capacity: 16, evicted: 0, misses: 0 });
  });
});

describe("ProcessTable: lookups and misses", () => {
  test("lookupForEvent counts each unknown pid, get never does", () => {
    const table = new ProcessTable(16);
    table.onExec(exec(1));
    expect(table.lookupForEvent(1)?.pid).toBe(1);
    expect(table.lookupForEvent(2)).toBeUndefined();
    expect(table.lookupForEvent(3)).toBeUndefined();
    expect(table.get(4)).toBeUndefined();
    expect(table.stats().misses).toBe(2);
  });
});

describe("ProcessTable: the cap", () => {
  test.each([0, -1, 1.5, Number.NaN])("capacity %p is rejected", (capacity) => {
    expect(() => new ProcessTable(capacity)).toThrow(RangeError);
  });

  test("filling past capacity evicts the oldest entries first and counts them", () => {
    const capacity = 5;
    const table = new ProcessTable(capacity);
    const pids = [100, 101, 102, 103, 104, 105, 106, 107];
    for (const pid of pids) table.onExec(exec(pid));
    expect(table.stats()).toEqual({ size: 5, capacity: 5, evicted: 3, misses: 0 });
    expect(present(table, pids)).toEqual([103, 104, 105, 106, 107]);
  });

  test("a re-exec moves the process to the young end, so it outlives older ones", () => {
    const table = new ProcessTable(3);
    table.onExec(exec(1));
    table.onExec(exec(2));
    table.onExec(exec(3));
    table.onExec(exec(1, { comm: "again" })); // 1 is now the youngest
    expect(table.stats().evicted).toBe(0);
    table.onExec(exec(4)); // evicts 2, the oldest
    expect(present(table, [1, 2, 3, 4])).toEqual([1, 3, 4]);
    table.onExec(exec(5)); // evicts 3
    expect(present(table, [1, 2, 3, 4, 5])).toEqual([1, 4, 5]);
    expect(table.get(1)?.comm).toBe("again");
    expect(table.stats().evicted).toBe(2);
  });

  test("a failed exec is a use of the process: it refreshes the position (least recently used goes)", () => {
    const table = new ProcessTable(2);
    table.onExec(exec(1));
    table.onExec(exec(2));
    table.onExec(exec(1, { res: -2 }));
    table.onExec(exec(3));
    expect(present(table, [1, 2, 3])).toEqual([1, 3]);
  });

  test("forked children count against the cap and evict in insertion order", () => {
    const table = new ProcessTable(2);
    table.onExec(exec(1));
    table.onFork(fork(1, 2));
    table.onFork(fork(1, 3)); // evicts 1, the parent
    expect(present(table, [1, 2, 3])).toEqual([2, 3]);
    expect(table.get(3)?.ppid).toBe(1);
    table.onFork(fork(1, 4)); // the parent is gone now: a miss
    expect(table.stats()).toEqual({ size: 2, capacity: 2, evicted: 1, misses: 1 });
  });

  test("an exited process frees its slot without counting an eviction", () => {
    const table = new ProcessTable(2);
    table.onExec(exec(1));
    table.onExec(exec(2));
    table.onExit(exit(1));
    table.onExec(exec(3));
    expect(present(table, [1, 2, 3])).toEqual([2, 3]);
    expect(table.stats().evicted).toBe(0);
  });

  test("a large table stays at its cap", () => {
    const table = new ProcessTable(1000);
    for (let pid = 1; pid <= 5000; pid++) table.onExec(exec(pid));
    expect(table.stats()).toEqual({ size: 1000, capacity: 1000, evicted: 4000, misses: 0 });
    expect(table.get(4000)).toBeUndefined();
    expect(table.get(4001)?.pid).toBe(4001);
  });
});
