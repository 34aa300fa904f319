// evt.arg of file-path parameters as libsinsp shows them: a relative PT_FSPATH is joined to the
// process's cwd, a relative PT_FSRELPATH to the path of its directory-fd parameter (AT_FDCWD: the
// cwd); evt.rawarg keeps the path as passed, evt.args shows both. Plain strings (a symlink's
// target, chdir's path) stay as passed. Falco's "Create Hardlink Over Sensitive Files" depends on
// it: `cd /etc && ln shadow /tmp/x` has oldpath "shadow".

import { describe, expect, test } from "bun:test";
import type { Event, ExecEvent } from "../../../agent/events/types.ts";
import { StateTracker } from "../../../agent/state/tracker.ts";
import { UserTable } from "../../../agent/state/users.ts";
import { execEvent } from "../../state/events.ts";
import { readField as read } from "../../state/read-field.ts";

const AT_FDCWD = -100;
const O_DIRECTORY = 0o200000;
let n = 0;
const head = (pid: number) => ({ num: ++n, bootSec: 5, bootNsec: 0, tid: pid, pid, cut: 0 });

function tracker(): StateTracker {
  return new StateTracker({
    processCapacity: 16,
    users: new UserTable(),
    host: { hostname: "h", clock: { offsetSec: 0, offsetNsec: 0 } },
    pathBases: { cwd: () => undefined, fdPath: () => undefined },
  });
}

function exec(pid: number, cwd: string, filename = "/bin/ln"): ExecEvent {
  return execEvent(pid, { comm: "ln", filename, args: ["ln"], cwd });
}

/** A decoded record of `kind` with the event table's field names. */
function sys(pid: number, kind: string, params: Record<string, unknown>): Event {
  return { ...head(pid), kind, res: 0, ...params } as unknown as Event;
}

describe("evt.arg of path parameters", () => {
  test("linkat with AT_FDCWD and a relative oldpath: resolved against the cwd, normalized; rawarg as passed", () => {
    const t = tracker();
    t.apply(exec(10, "/etc"));
    const ctx = t.apply(
      sys(10, "linkat", {
        olddir: AT_FDCWD,
        oldpath: "./shadow",
        newdir: AT_FDCWD,
        newpath: "../tmp/x",
        flags: 0,
      }),
    );
    expect(read(ctx, "evt.arg.oldpath")).toBe("/etc/shadow");
    expect(read(ctx, "evt.rawarg.oldpath")).toBe("./shadow");
    expect(read(ctx, "evt.arg.newpath")).toBe("/tmp/x");
    expect(read(ctx, "evt.args")).toContain("oldpath=./shadow(/etc/shadow)");
  });

  test("a relative path against a directory fd the process opened; an unknown fd leaves it as passed", () => {
    const t = tracker();
    t.apply(exec(11, "/"));
    t.apply(
      sys(11, "openat", {
        res: 5,
        dirfd: AT_FDCWD,
        path: "/var/log",
        flags: O_DIRECTORY,
        mode: 0,
        resolve: 0,
      }),
    );
    const known = t.apply(sys(11, "unlinkat", { dirfd: 5, name: "../tmp/f", flags: 0 }));
    expect(read(known, "evt.arg.name")).toBe("/var/tmp/f");
    const unknown = t.apply(sys(11, "unlinkat", { dirfd: 9, name: "f", flags: 0 }));
    expect(read(unknown, "evt.arg.name")).toBe("f");
    // openat's name against its dirfd, open's against the cwd.
    const openat = t.apply(
      sys(11, "openat", { res: 6, dirfd: 5, path: "syslog", flags: 0, mode: 0, resolve: 0 }),
    );
    expect(read(openat, "evt.arg.name")).toBe("/var/log/syslog");
    const open = t.apply(
      sys(11, "open", { res: 7, dirfd: AT_FDCWD, path: "etc/hosts", flags: 0, mode: 0, resolve: 0 }),
    );
    expect(read(open, "evt.arg.name")).toBe("/etc/hosts");
  });

  test("symlink: the linkpath is resolved, the target (a plain string) is not; absolute paths stay as they are", () => {
    const t = tracker();
    t.apply(exec(12, "/srv/app"));
    const rel = t.apply(sys(12, "symlink", { target: "../../etc/shadow", linkpath: "s" }));
    expect(read(rel, "evt.arg.target")).toBe("../../etc/shadow");
    expect(read(rel, "evt.arg.linkpath")).toBe("/srv/app/s");
    const abs = t.apply(sys(12, "symlinkat", { target: "/etc/shadow", linkdirfd: 3, linkpath: "/tmp/s" }));
    expect(read(abs, "evt.arg.linkpath")).toBe("/tmp/s");
    expect(read(abs, "evt.args")).toEndWith("linkpath=/tmp/s");
    // chdir's path is a plain string in Falco's table.
    expect(read(t.apply(sys(12, "chdir", { res: -2, path: "nowhere" })), "evt.arg.path")).toBe("nowhere");
  });

  test("an exec's filename is resolved against the cwd; with no cwd known, a path stays as passed", () => {
    const t = tracker();
    const ctx = t.apply(exec(13, "/opt/tool", "./run"));
    expect(read(ctx, "evt.arg.filename")).toBe("/opt/tool/run");
    expect(read(ctx, "evt.rawarg.filename")).toBe("./run");
    const unknown = t.apply(sys(99, "mkdir", { path: "d", mode: 0o755 }));
    expect(read(unknown, "evt.arg.path")).toBe("d");
  });
});
