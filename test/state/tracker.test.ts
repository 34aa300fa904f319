// The state tracker (agent/state/tracker.ts): what context each event kind gets, how relative
// paths find their base, and that one context object is handed out for every event. Path bases
// come from a fake resolver where the test needs a controlled answer, and from the real /proc of
// this test process where it checks procPathBases.

import { afterAll, describe, expect, test } from "bun:test";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Event, ExecEvent, ExitEvent, ForkEvent, OpenEvent } from "../../agent/events/types.ts";
import { AT_FDCWD, type PathBaseResolver } from "../../agent/state/fds.ts";
import { procPathBases, StateTracker } from "../../agent/state/tracker.ts";
import { UserTable } from "../../agent/state/users.ts";

const O_WRONLY = 0o1;
const O_CREAT = 0o100;
const O_CLOEXEC = 0o2000000;
const O_DIRECTORY = 0o200000;

/** Answers from fixed tables, recording what was asked. */
class FakeBases implements PathBaseResolver {
  readonly asked: string[] = [];
  constructor(
    private readonly cwds: Record<number, string>,
    private readonly fds: Record<string, string> = {},
  ) {}
  cwd(pid: number): string | undefined {
    this.asked.push(`cwd ${pid}`);
    return this.cwds[pid];
  }
  fdPath(pid: number, fd: number): string | undefined {
    this.asked.push(`fd ${pid} ${fd}`);
    return this.fds[`${pid}/${fd}`];
  }
}

const users = new UserTable();
users.parsePasswd("alice:x:1000:1000::/home/alice:/bin/bash\n");

function tracker(bases: PathBaseResolver = new FakeBases({})): StateTracker {
  return new StateTracker({
    processCapacity: 64,
    users,
    host: { hostname: "node-1", clock: { offsetSec: 1_700_000_000, offsetNsec: 0 } },
    pathBases: bases,
  });
}

let num = 0;
const base = (pid: number) => ({ num: ++num, bootSec: 10, bootNsec: 0, tid: pid, pid, cut: 0 });

function exec(pid: number, over: Partial<ExecEvent> = {}): ExecEvent {
  return {
    ...base(pid),
    kind: "execve",
    res: 0,
    ppid: 1,
    uid: 1000,
    gid: 1000,
    comm: "cat",
    filename: "/usr/bin/cat",
    args: ["cat", "/etc/shadow"],
    cgroup: "/",
    ...over,
  };
}

function open(pid: number, path: string, over: Partial<OpenEvent> = {}): OpenEvent {
  return {
    ...base(pid),
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

const fork = (pid: number, childPid: number): ForkEvent => ({
  ...base(pid),
  kind: "procfork",
  childTid: childPid,
  childPid,
});
const exit = (pid: number, tid = pid): ExitEvent => ({ ...base(pid), tid, kind: "procexit", exitCode: 0 });

describe("StateTracker: open events", () => {
  test("an absolute path gives the fd its number, normalised name, type and flags", () => {
    const t = tracker();
    t.apply(exec(10));
    const flags = O_WRONLY | O_CREAT | O_CLOEXEC;
    const ctx = t.apply(open(10, "/tmp//x/../out.txt", { res: 7, flags, mode: 0o644 }));
    expect(ctx.fd).toEqual({
      num: 7,
      type: "file",
      typechar: "f",
      name: "/tmp/out.txt",
      nameRaw: "/tmp//x/../out.txt",
      openFlags: flags,
      cloexec: true,
      ino: undefined,
      socket: undefined,
      directory: undefined,
      filename: undefined,
    });
    expect(ctx.process?.comm).toBe("cat");
  });

  test("O_DIRECTORY makes a directory fd", () => {
    const ctx = tracker().apply(open(10, "/etc/", { flags: O_DIRECTORY }));
    expect(ctx.fd?.type).toBe("directory");
    expect(ctx.fd?.typechar).toBe("d");
    expect(ctx.fd?.name).toBe("/etc");
  });

  test("a failed open has fd number -1 and still names the file", () => {
    const ctx = tracker().apply(open(10, "/etc/shadow", { res: -13 }));
    expect(ctx.fd?.num).toBe(-1);
    expect(ctx.fd?.name).toBe("/etc/shadow");
  });

  test.each(["open", "openat", "openat2"] as const)("%s builds an fd", (kind) => {
    const ctx = tracker().apply(open(10, "/etc/hosts", { kind }));
    expect(ctx.event.kind).toBe(kind);
    expect(ctx.fd?.name).toBe("/etc/hosts");
  });

  test("an absolute path asks the resolver nothing", () => {
    const bases = new FakeBases({ 10: "/home/alice" });
    tracker(bases).apply(open(10, "/etc/hosts", { dirfd: 5 }));
    expect(bases.asked).toEqual([]);
  });

  test("a relative path with AT_FDCWD is resolved against the process's cwd", () => {
    const bases = new FakeBases({ 10: "/home/alice" });
    const ctx = tracker(bases).apply(open(10, "../bob/.ssh/id_rsa"));
    expect(ctx.fd?.name).toBe("/home/bob/.ssh/id_rsa");
    expect(ctx.fd?.nameRaw).toBe("../bob/.ssh/id_rsa");
    expect(bases.asked).toEqual(["cwd 10"]);
  });

  test("a relative path with a dirfd is resolved against that fd's path", () => {
    const bases = new FakeBases({ 10: "/home/alice" }, { "10/5": "/etc/ssh" });
    const ctx = tracker(bases).apply(open(10, "sshd_config", { dirfd: 5 }));
    expect(ctx.fd?.name).toBe("/etc/ssh/sshd_config");
    expect(bases.asked).toEqual(["fd 10 5"]);
  });

  test.each([
    ["an unknown cwd", open(11, "notes.txt")],
    ["an unknown dirfd", open(10, "notes.txt", { dirfd: 9 })],
  ])("%s leaves fd.name undefined but keeps the raw path", (_, event) => {
    const bases = new FakeBases({ 10: "/home/alice" }, { "10/5": "/etc" });
    const ctx = tracker(bases).apply(event);
    expect(ctx.fd?.name).toBeUndefined();
    expect(ctx.fd?.nameRaw).toBe("notes.txt");
  });

  test("an open by an unknown process has no process and counts a miss", () => {
    const t = tracker();
    const ctx = t.apply(open(99, "/etc/hosts"));
    expect(ctx.process).toBeUndefined();
    expect(ctx.fd?.name).toBe("/etc/hosts");
    expect(t.processes.stats().misses).toBe(1);
  });
});

describe("StateTracker: exec, fork and exit", () => {
  test("an exec sets the process and clears the previous event's fd", () => {
    const t = tracker();
    t.apply(open(10, "/etc/hosts"));
    const ctx = t.apply(exec(10, { comm: "bash", args: ["bash", "-i"] }));
    expect(ctx.fd).toBeUndefined();
    expect(ctx.process?.comm).toBe("bash");
    expect(ctx.process?.args).toEqual(["-i"]);
    expect(ctx.processes.get(10)).toBe(ctx.process);
  });

  test("a failed exec keeps the old process in the context and the table", () => {
    const t = tracker();
    t.apply(exec(10, { comm: "bash" }));
    const ctx = t.apply(exec(10, { res: -2, comm: "nope", args: [] }));
    expect(ctx.process?.comm).toBe("bash");
    expect(t.processes.get(10)?.comm).toBe("bash");
  });

  test("a fork's context is the parent; afterwards the child is in the table", () => {
    const t = tracker();
    t.apply(exec(10, { comm: "bash" }));
    const ctx = t.apply(fork(10, 11));
    expect(ctx.process?.pid).toBe(10);
    expect(ctx.fd).toBeUndefined();
    expect(t.processes.get(11)?.comm).toBe("bash");
    expect(t.processes.get(11)?.ppid).toBe(10);
    // The child's open sees the inherited process.
    expect(t.apply(open(11, "/etc/hosts")).process?.comm).toBe("bash");
  });

  test("a new thread of an unknown process counts one miss", () => {
    const t = tracker();
    const ctx = t.apply({ ...fork(99, 99), childTid: 101 });
    expect(ctx.process).toBeUndefined();
    expect(t.processes.stats().misses).toBe(1);
  });

  test("procexit still sees the exiting process; then it is gone", () => {
    const t = tracker();
    t.apply(exec(10, { comm: "bash" }));
    const ctx = t.apply(exit(10));
    expect(ctx.process?.comm).toBe("bash");
    expect(ctx.process?.exited).toBe(true);
    expect(t.processes.get(10)).toBeUndefined();
    expect(t.apply(open(10, "/etc/hosts")).process).toBeUndefined();
  });

  test("a thread's exit keeps the process", () => {
    const t = tracker();
    t.apply(exec(10));
    const ctx = t.apply(exit(10, 12));
    expect(ctx.process?.pid).toBe(10);
    expect(ctx.process?.exited).toBe(false);
    expect(t.processes.get(10)?.pid).toBe(10);
  });
});

describe("StateTracker: the context object", () => {
  test("the same object is returned for every event, updated in place", () => {
    const t = tracker(new FakeBases({ 10: "/root" }));
    const events: Event[] = [exec(10), open(10, "a"), fork(10, 11), open(11, "/b"), exit(11), exit(10)];
    const contexts = events.map((e) => t.apply(e));
    for (const c of contexts) expect(c).toBe(contexts[0]);
    // It holds the last event now.
    expect(contexts[0].event).toBe(events[events.length - 1]);
    expect(contexts[0].fd).toBeUndefined();
  });

  test("it carries the users, the host and the process table", () => {
    const t = tracker();
    const ctx = t.apply(exec(10));
    expect(ctx.users.user(1000)?.name).toBe("alice");
    expect(ctx.host.hostname).toBe("node-1");
    expect(ctx.processes).toBe(t.processes);
  });
});

describe("procPathBases on the real /proc", () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), "lanner-tracker-")));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("cwd of this process is its real working directory", () => {
    expect(procPathBases("/proc").cwd(process.pid)).toBe(realpathSync(process.cwd()));
  });

  test("an open fd of this process resolves to its file", () => {
    const file = join(dir, "held-open.txt");
    writeFileSync(file, "x");
    const fd = openSync(file, "r");
    try {
      expect(procPathBases("/proc").fdPath(process.pid, fd)).toBe(file);
    } finally {
      closeSync(fd);
    }
  });

  test("a closed fd, a negative fd and a pid that does not exist give undefined", () => {
    const fd = openSync(join(dir, "closed.txt"), "w");
    closeSync(fd);
    const bases = procPathBases("/proc");
    expect(bases.fdPath(process.pid, fd)).toBeUndefined();
    expect(bases.fdPath(process.pid, AT_FDCWD)).toBeUndefined();
    // pid_max is at most 2^22.
    expect(bases.cwd(1 << 23)).toBeUndefined();
  });

  test("a procRoot laid out by hand: absolute link targets are bases, others are not", () => {
    // /proc/PID/fd/N of a pipe or socket reads "pipe:[inode]" / "socket:[inode]": not a path.
    const root = join(dir, "proc");
    mkdirSync(join(root, "42", "fd"), { recursive: true });
    symlinkSync("/srv/app", join(root, "42", "cwd"));
    symlinkSync("/var/log/app.log", join(root, "42", "fd", "3"));
    symlinkSync("pipe:[1234]", join(root, "42", "fd", "4"));
    symlinkSync("socket:[99]", join(root, "42", "fd", "5"));
    const bases = procPathBases(root);
    expect(bases.cwd(42)).toBe("/srv/app");
    expect(bases.fdPath(42, 3)).toBe("/var/log/app.log");
    expect(bases.fdPath(42, 4)).toBeUndefined();
    expect(bases.fdPath(42, 5)).toBeUndefined();
    expect(bases.fdPath(42, 6)).toBeUndefined();
    expect(bases.cwd(43)).toBeUndefined();
  });
});

describe("StateTracker with the default resolver", () => {
  test("a relative open by this very process resolves against its real cwd", () => {
    const t = new StateTracker({
      processCapacity: 16,
      users,
      host: { hostname: "h", clock: { offsetSec: 0, offsetNsec: 0 } },
    });
    const ctx = t.apply(open(process.pid, "package.json"));
    expect(ctx.fd?.name).toBe(join(realpathSync(process.cwd()), "package.json"));
  });
});

describe("misses are counted once", () => {
  test("a fork from an unknown parent counts one miss", () => {
    const t = tracker();
    t.apply(fork(99, 100));
    expect(t.processes.stats().misses).toBe(1);
    expect(t.processes.get(100)).toBeUndefined();
  });
});
