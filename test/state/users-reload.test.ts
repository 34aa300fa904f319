// Users and groups re-read when the host's files change (agent/state/users.ts): real files on
// disk, a clock the test moves, the table's caps, and what a uid without an entry reads as.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecEvent } from "../../agent/events/types.ts";
import { USER_FIELDS } from "../../agent/rules/fields/extract/user.ts";
import { StateTracker } from "../../agent/state/tracker.ts";
import { UserTable } from "../../agent/state/users.ts";

const root = mkdtempSync(join(tmpdir(), "lanner-users-reload-"));
mkdirSync(join(root, "etc"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("re-reading passwd and group", () => {
  test("a changed file is re-read at most once per interval; an unchanged one is not", () => {
    writeFileSync(join(root, "etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
    writeFileSync(join(root, "etc/group"), "root:x:0:\n");
    let now = 0;
    const table = new UserTable(100, 1000, () => now);
    // Point it at the files the way load() does.
    Object.assign(table, { passwdPath: join(root, "etc/passwd"), groupPath: join(root, "etc/group") });
    table.reloadIfChanged(true);
    expect(table.user(1001)).toBeUndefined();
    writeFileSync(
      join(root, "etc/passwd"),
      "root:x:0:0::/root:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/bash\n",
    );
    // Within the interval nothing is checked.
    now = 500;
    expect(table.user(1001)).toBeUndefined();
    now = 1500;
    expect(table.user(1001)?.name).toBe("bob");
    expect(table.stats().reloads).toBe(1);
    now = 3000;
    table.user(0);
    expect(table.stats().reloads).toBe(1);
    writeFileSync(join(root, "etc/group"), "root:x:0:\nbob:x:1001:\n");
    now = 4500;
    expect(table.groupName(1001)).toBe("bob");
    expect(table.stats().reloads).toBe(2);
  });

  test("UserTable.load watches the files below the root", () => {
    writeFileSync(join(root, "etc/passwd"), "carol:x:2000:2000::/home/carol:/bin/zsh\n");
    const table = UserTable.load(root, 100, 0);
    expect(table.user(2000)?.name).toBe("carol");
    writeFileSync(
      join(root, "etc/passwd"),
      "carol:x:2000:2000::/home/carol:/bin/zsh\ndave:x:2001:2001::/:/bin/sh\n",
    );
    expect(table.user(2001)?.name).toBe("dave");
  });

  test("each table is capped; what does not fit is counted", () => {
    const table = new UserTable(3);
    table.parsePasswd(Array.from({ length: 10 }, (_, i) => `u${i}:x:${i}:0::/:/bin/sh`).join("\n"));
    expect(table.stats()).toMatchObject({ users: 3, dropped: 7 });
  });
});

describe("a uid with no entry", () => {
  test("user.name, homedir, shell and group.name read <NA>; the ids stay; loginname of an unset loginuid is <NA>", () => {
    const users = new UserTable();
    users.parsePasswd("root:x:0:0::/root:/bin/sh\n");
    const t = new StateTracker({
      processCapacity: 16,
      users,
      host: { hostname: "h", clock: { offsetSec: 0, offsetNsec: 0 } },
    });
    const e: ExecEvent = {
      kind: "execve",
      num: 1,
      bootSec: 1,
      bootNsec: 0,
      tid: 9,
      pid: 9,
      cut: 0,
      res: 0,
      ppid: 1,
      uid: 4242,
      gid: 4242,
      comm: "x",
      filename: "/x",
      args: ["x"],
      cgroup: "/",
    };
    const ctx = t.apply(e);
    const read = (f: string) => USER_FIELDS[f](undefined)(ctx);
    expect(read("user.uid")).toBe(4242);
    expect(read("user.name")).toBe("<NA>");
    expect(read("user.homedir")).toBe("<NA>");
    expect(read("user.shell")).toBe("<NA>");
    expect(read("group.name")).toBe("<NA>");
    expect(read("user.loginuid")).toBe(-1);
    expect(read("user.loginname")).toBe("<NA>");
    const withLogin = t.apply({ ...e, num: 2, pid: 10, tid: 10, loginuid: 0 } as ExecEvent);
    expect(USER_FIELDS["user.loginname"](undefined)(withLogin)).toBe("root");
  });
  test("id 0 with no entry (an empty passwd, as a container's unread one): root, /root, as libsinsp shows it", () => {
    const t = new StateTracker({
      processCapacity: 16,
      users: new UserTable(),
      host: { hostname: "h", clock: { offsetSec: 0, offsetNsec: 0 } },
    });
    const ctx = t.apply({
      kind: "execve",
      num: 1,
      bootSec: 1,
      bootNsec: 0,
      tid: 11,
      pid: 11,
      cut: 0,
      res: 0,
      ppid: 1,
      uid: 0,
      gid: 0,
      loginuid: 0,
      comm: "x",
      filename: "/x",
      args: ["x"],
      cgroup: "/",
    } as ExecEvent);
    const read = (f: string) => USER_FIELDS[f](undefined)(ctx);
    expect(read("user.name")).toBe("root");
    expect(read("user.homedir")).toBe("/root");
    expect(read("user.shell")).toBe("<NA>");
    expect(read("group.name")).toBe("root");
    expect(read("user.loginname")).toBe("root");
  });
});
