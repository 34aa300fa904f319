// Every field Lanner fills, read through the registry on a known sequence of real event shapes
// (exec of a shell, fork, exec of cat in a container cgroup, openat of /etc/shadow by one of its
// threads, a failed open, an exit). Expected values are worked out by hand from the events.

import { describe, expect, test } from "bun:test";
import type { Event } from "../../../agent/events/types.ts";
import { CONTAINER_FIELDS } from "../../../agent/rules/fields/extract/container.ts";
import { EVT_FIELDS } from "../../../agent/rules/fields/extract/evt.ts";
import { FD_FIELDS } from "../../../agent/rules/fields/extract/fd.ts";
import { PROC_FIELDS } from "../../../agent/rules/fields/extract/proc.ts";
import { USER_FIELDS } from "../../../agent/rules/fields/extract/user.ts";
import { FieldRegistry } from "../../../agent/rules/fields/registry.ts";
import type { FieldValue } from "../../../agent/rules/fields/values.ts";
import { type CheckScope, checkCondition } from "../../../agent/rules/condition/check.ts";
import { parseCondition, parseOperandPrefix } from "../../../agent/rules/condition/parser.ts";
import { planCondition } from "../../../agent/rules/condition/plan.ts";
import { liveBinder } from "../../../agent/rules/live.ts";
import type { EventContext } from "../../../agent/state/context.ts";
import { StateTracker } from "../../../agent/state/tracker.ts";
import { UserTable } from "../../../agent/state/users.ts";

const HEX = "0123456789abcdef".repeat(4);
const registry = FieldRegistry.default();

function scenario() {
  const users = new UserTable();
  users.parsePasswd("root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/zsh\n");
  users.parseGroup("root:x:0:\nalice:x:1000:\n");
  const state = new StateTracker({
    processCapacity: 64,
    users,
    host: { hostname: "node-1", clock: { offsetSec: 1_700_000_000, offsetNsec: 900_000_000 } },
    pathBases: { cwd: () => "/home/alice", fdPath: () => undefined },
  });
  const base = { cut: 0 };
  const events: Event[] = [
    {
      ...base,
      kind: "execve",
      num: 1,
      bootSec: 10,
      bootNsec: 0,
      tid: 100,
      pid: 100,
      res: 0,
      ppid: 1,
      uid: 1000,
      gid: 1000,
      comm: "bash",
      filename: "/usr/bin/bash",
      args: ["-bash"],
      cgroup: "/user.slice",
    },
    {
      ...base,
      kind: "procfork",
      num: 2,
      bootSec: 11,
      bootNsec: 0,
      tid: 100,
      pid: 100,
      childTid: 200,
      childPid: 200,
    },
    {
      ...base,
      kind: "execve",
      num: 3,
      bootSec: 12,
      bootNsec: 500,
      tid: 200,
      pid: 200,
      res: 0,
      ppid: 100,
      uid: 1000,
      gid: 1000,
      comm: "cat",
      filename: "/usr/bin/cat",
      args: ["cat", "/etc/shadow", "-n"],
      cgroup: `/kubepods/burstable/pod1/${HEX}`,
    },
  ];
  for (const e of events) state.apply(e);
  return state;
}

/** Reads a field written as in a rule ("proc.aname[2]", "evt.arg.flags") on a context. */
function read(ctx: EventContext, written: string): FieldValue | undefined {
  const parsed = parseOperandPrefix(written);
  if (parsed === undefined || parsed.operand.kind !== "field") throw new Error(`not a field: ${written}`);
  return registry.resolve(parsed.operand.name, parsed.operand.arg).extract(ctx);
}

describe("fields on an openat of /etc/shadow by a thread of cat", () => {
  const state = scenario();
  const ctx = state.apply({
    cut: 0,
    kind: "openat",
    num: 7,
    bootSec: 12,
    bootNsec: 600_000_000,
    tid: 201,
    pid: 200,
    res: 3,
    dirfd: -100,
    path: "/etc/shadow",
    flags: 0o2000000,
    mode: 0,
    resolve: 0,
  });
  test.each<[string, FieldValue | undefined]>([
    ["evt.num", 7],
    ["evt.type", "openat"],
    ["evt.dir", "<"],
    ["evt.source", "syscall"],
    ["evt.hostname", "node-1"],
    // boot 12.6 s + offset 1,700,000,000.9 s = 1,700,000,013.5 s = 2023-11-14T22:13:33.5Z
    ["evt.time", 1_700_000_013_500_000_000n],
    ["evt.time.s", "22:13:33"],
    ["evt.time.iso8601", "2023-11-14T22:13:33.500000000Z"],
    ["evt.datetime", "2023-11-14 22:13:33.500000000"],
    ["evt.datetime.s", "2023-11-14 22:13:33"],
    ["evt.rawtime", 1_700_000_013_500_000_000n],
    ["evt.rawtime.s", 1_700_000_013],
    ["evt.rawtime.ns", 500_000_000],
    ["evt.res", "SUCCESS"],
    ["evt.rawres", 3],
    ["evt.failed", false],
    ["evt.is_open_read", true],
    ["evt.is_open_write", false],
    ["evt.is_open_exec", false],
    // libsinsp's PT_FD: the thread's open fd shows as <typechar>name.
    ["evt.arg.fd", "<f>/etc/shadow"],
    ["evt.arg[0]", "<f>/etc/shadow"],
    ["evt.arg.dirfd", "AT_FDCWD"],
    ["evt.arg.name", "/etc/shadow"],
    ["evt.arg.flags", "O_RDONLY|O_CLOEXEC"],
    ["evt.arg.mode", "0"],
    ["evt.arg.uid", undefined],
    ["evt.rawarg.flags", 0o2000000],
    ["evt.rawarg.dirfd", -100],
    // name=value(rendering); the flags' number is the kernel's (libsinsp prints its own numbering).
    [
      "evt.args",
      "fd=3(<f>/etc/shadow) dirfd=-100(AT_FDCWD) name=/etc/shadow flags=524288(O_RDONLY|O_CLOEXEC) mode=0",
    ],
    ["proc.pid", 200],
    ["proc.ppid", 100],
    ["proc.name", "cat"],
    ["proc.exe", "cat"],
    ["proc.exepath", "/usr/bin/cat"],
    ["proc.cmdline", "cat /etc/shadow -n"],
    ["proc.args", "/etc/shadow -n"],
    ["proc.cmdnargs", 2],
    ["proc.cmdlenargs", 13],
    // forked at boot 11 s (an exec keeps the process's start, as Falco's clone time), event at 12.6 s
    ["proc.duration", 1_600_000_000],
    ["proc.pname", "bash"],
    ["proc.pexe", "-bash"],
    ["proc.pexepath", "/usr/bin/bash"],
    ["proc.pcmdline", "bash"],
    ["proc.aname[0]", "cat"],
    ["proc.aname[1]", "bash"],
    ["proc.aname[2]", undefined],
    ["proc.aname", ["bash"]],
    ["proc.apid[1]", 100],
    ["proc.apid", [100]],
    ["proc.aexe[1]", "-bash"],
    ["proc.aexepath[1]", "/usr/bin/bash"],
    ["proc.acmdline[1]", "bash"],
    ["thread.tid", 201],
    ["thread.ismain", false],
    ["user.uid", 1000],
    ["user.name", "alice"],
    ["user.homedir", "/home/alice"],
    ["user.shell", "/bin/zsh"],
    ["group.gid", 1000],
    ["group.name", "alice"],
    ["fd.num", 3],
    ["fd.name", "/etc/shadow"],
    ["fd.nameraw", "/etc/shadow"],
    ["fd.directory", "/etc"],
    ["fd.filename", "shadow"],
    ["fd.type", "file"],
    ["fd.typechar", "f"],
    ["container.id", HEX.slice(0, 12)],
  ])("%s", (field, expected) => {
    expect(read(ctx, field)).toEqual(expected);
  });

  test("evt.time prints as a clock time, its value is the nanosecond epoch", () => {
    const def = registry.lookup("evt.time");
    expect(def?.text?.(ctx)).toBe("22:13:33.500000000");
  });
});

describe("evt.rawarg conditions on live events (typed from libsinsp's parameter table)", () => {
  const scope: CheckScope = {
    registry,
    list: () => undefined,
    macro: (name) => ({ problem: "undefined_macro", message: `undefined macro '${name}'` }),
  };
  const holds = (condition: string, ctx: EventContext): boolean => {
    const result = checkCondition(parseCondition(condition), scope);
    if ("issue" in result) throw new Error(result.issue.message);
    return planCondition(result.checked, liveBinder)(ctx);
  };
  const failedOpen = scenario().apply({
    cut: 0,
    kind: "openat",
    num: 9,
    bootSec: 13,
    bootNsec: 0,
    tid: 200,
    pid: 200,
    res: -22,
    dirfd: -100,
    path: "x",
    flags: 0,
    mode: 0,
    resolve: 0,
  });

  const failedExec = scenario().apply({
    cut: 0,
    kind: "execve",
    num: 10,
    bootSec: 13,
    bootNsec: 0,
    tid: 200,
    pid: 200,
    res: -22,
    ppid: 100,
    uid: 1000,
    gid: 1000,
    comm: "cat",
    filename: "/usr/bin/cat",
    args: ["cat"],
    cgroup: "/",
  });

  test.each([
    ["evt.rawarg.res < -1", true],
    ["evt.rawarg.res = -22", true],
    ["evt.rawarg.res > 0", false],
  ])("execve: %s is %p", (condition, want) => {
    expect(holds(condition, failedExec)).toBe(want);
  });

  test.each([
    // openat's result is its 'fd' parameter; it has no 'res' (as in libsinsp's event table).
    ["evt.rawarg.res < -1", false],
    ["evt.rawarg.fd < -1", true],
    ["evt.rawarg.fd = -22", true],
    ["evt.rawarg.dirfd = -100", true],
    ["evt.rawarg.dirfd != -100", false],
    ["evt.rawarg.flags = 0", true],
  ])("openat: %s is %p", (condition, want) => {
    expect(holds(condition, failedOpen)).toBe(want);
  });
});

describe("fields on other events", () => {
  test("a failed relative open: ENOENT, fd.num -1, the name resolved against the cwd", () => {
    const ctx = scenario().apply({
      cut: 0,
      kind: "open",
      num: 8,
      bootSec: 13,
      bootNsec: 0,
      tid: 200,
      pid: 200,
      res: -2,
      dirfd: -100,
      path: "notes/../todo.txt",
      flags: 0o101,
      mode: 0o640,
      resolve: 0,
    });
    expect(read(ctx, "evt.res")).toBe("ENOENT");
    expect(read(ctx, "evt.rawres")).toBe(-2);
    expect(read(ctx, "evt.failed")).toBe(true);
    expect(read(ctx, "evt.is_open_write")).toBe(true);
    expect(read(ctx, "evt.arg.fd")).toBe("ENOENT");
    expect(read(ctx, "evt.arg.flags")).toBe("O_WRONLY|O_CREAT");
    expect(read(ctx, "evt.arg.mode")).toBe("0640");
    expect(read(ctx, "evt.arg.dirfd")).toBeUndefined(); // open has no dirfd parameter
    expect(read(ctx, "fd.num")).toBe(-1);
    expect(read(ctx, "fd.name")).toBe("/home/alice/todo.txt");
    expect(read(ctx, "fd.nameraw")).toBe("notes/../todo.txt");
  });

  test("an O_DIRECTORY open is a directory: fd.directory is itself, no fd.filename", () => {
    const ctx = scenario().apply({
      cut: 0,
      kind: "openat",
      num: 8,
      bootSec: 13,
      bootNsec: 0,
      tid: 200,
      pid: 200,
      res: 4,
      dirfd: -100,
      path: "/var/log/",
      flags: 0o200000,
      mode: 0,
      resolve: 0,
    });
    expect(read(ctx, "fd.type")).toBe("directory");
    expect(read(ctx, "fd.typechar")).toBe("d");
    expect(read(ctx, "fd.directory")).toBe("/var/log");
    expect(read(ctx, "fd.filename")).toBeUndefined();
    expect(read(ctx, "evt.arg.flags")).toBe("O_RDONLY|O_DIRECTORY");
  });

  test("an exec: its parameters, and no fd", () => {
    const ctx = scenario().apply({
      cut: 0,
      kind: "execve",
      num: 9,
      bootSec: 14,
      bootNsec: 0,
      tid: 300,
      pid: 300,
      res: 0,
      ppid: 200,
      uid: 0,
      gid: 0,
      comm: "sh",
      filename: "/bin/sh",
      args: ["sh", "-c", "id"],
      cgroup: "/",
    });
    expect(read(ctx, "evt.arg.exe")).toBe("sh");
    expect(read(ctx, "evt.arg.args")).toBe("-c id");
    expect(read(ctx, "evt.arg.ptid")).toBe("200");
    expect(read(ctx, "evt.arg.res")).toBe("0"); // PT_ERRNO names only a negative result
    expect(read(ctx, "evt.arg.uid")).toBe("root"); // PT_UID: the name from the user database
    expect(read(ctx, "evt.arg.flags")).toBe("0"); // no exe flag
    expect(read(ctx, "evt.is_open_read")).toBeUndefined();
    expect(read(ctx, "fd.name")).toBeUndefined();
    expect(read(ctx, "proc.aname")).toEqual(["cat", "bash"]);
    expect(read(ctx, "user.name")).toBe("root");
    expect(read(ctx, "container.id")).toBe("host");
    expect(read(ctx, "thread.ismain")).toBe(true);
  });

  test("an exec's flags in Falco's numbering and names (PPM_EXE_*), from the probe's bits", () => {
    const exec = (pid: number, exeFlags: number) =>
      scenario().apply({
        cut: 0,
        kind: "execve",
        num: 9,
        bootSec: 14,
        bootNsec: 0,
        tid: pid,
        pid,
        res: 0,
        ppid: 200,
        uid: 0,
        gid: 0,
        comm: "sh",
        filename: "/bin/sh",
        args: ["sh"],
        cgroup: "/",
        exeFlags,
      });
    // Probe bits: 1 memfd, 2 upper layer, 4 lower layer, 8 layer read.
    const upperMemfd = exec(301, 1 | 2 | 8);
    expect(read(upperMemfd, "evt.arg.flags")).toBe("EXE_UPPER_LAYER|EXE_FROM_MEMFD");
    expect(read(upperMemfd, "evt.rawarg.flags")).toBe(2 | 4);
    const lower = exec(302, 4 | 8);
    expect(read(lower, "evt.arg.flags")).toBe("EXE_LOWER_LAYER");
    expect(read(lower, "evt.rawarg.flags")).toBe(8);
  });

  test("a process exit: status, return code and signal", () => {
    const ctx = scenario().apply({
      cut: 0,
      kind: "procexit",
      num: 9,
      bootSec: 14,
      bootNsec: 0,
      tid: 200,
      pid: 200,
      exitCode: (3 << 8) | 0x80 | 9,
    });
    expect(read(ctx, "evt.arg.ret")).toBe("3");
    expect(read(ctx, "evt.arg.sig")).toBe("SIGKILL");
    expect(read(ctx, "evt.arg.core")).toBe("1");
    expect(read(ctx, "evt.res")).toBeUndefined();
    expect(read(ctx, "proc.name")).toBe("cat");
  });

  test("an event of an unknown process: process fields are missing, not wrong", () => {
    const ctx = scenario().apply({
      cut: 0,
      kind: "openat",
      num: 9,
      bootSec: 14,
      bootNsec: 0,
      tid: 999,
      pid: 999,
      res: 3,
      dirfd: -100,
      path: "/etc/hosts",
      flags: 0,
      mode: 0,
      resolve: 0,
    });
    for (const f of [
      "proc.name",
      "proc.cmdline",
      "proc.pname",
      "user.uid",
      "user.name",
      "container.id",
      "proc.duration",
    ]) {
      expect(read(ctx, f)).toBeUndefined();
    }
    expect(read(ctx, "fd.name")).toBe("/etc/hosts");
  });
});

test("every field Lanner fills is a Falco field in the catalog", () => {
  const implemented = [EVT_FIELDS, PROC_FIELDS, FD_FIELDS, USER_FIELDS, CONTAINER_FIELDS].flatMap((m) =>
    Object.keys(m),
  );
  expect(implemented.filter((name) => !registry.isImplemented(name))).toEqual([]);
  expect(implemented.length).toBeGreaterThan(50);
});
