// The host's users and groups (agent/state/users.ts): passwd and group text, and loading both
// from a root directory (a real temporary directory laid out like a host's /etc).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserTable } from "../../agent/state/users.ts";

const PASSWD = `root:x:0:0:root:/root:/bin/bash
# a comment line: root:x:1:1:c:/c:/c
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin

short:x:2:2
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
notanumber:x:abc:0::/x:/bin/sh
alice:x:1000:1000:Alice Example,,,:/home/alice:/bin/zsh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
`;

const GROUP = `root:x:0:
# comment:x:5:
daemon:x:1:
wheel:x:10:alice,bob
x
noid:x:zz:
alice:x:1000:
`;

describe("UserTable.parsePasswd", () => {
  const table = new UserTable();
  table.parsePasswd(PASSWD);

  test.each([
    [0, { name: "root", home: "/root", shell: "/bin/bash" }],
    [1, { name: "daemon", home: "/usr/sbin", shell: "/usr/sbin/nologin" }],
    [33, { name: "www-data", home: "/var/www", shell: "/usr/sbin/nologin" }],
    [1000, { name: "alice", home: "/home/alice", shell: "/bin/zsh" }],
    [65534, { name: "nobody", home: "/nonexistent", shell: "/usr/sbin/nologin" }],
  ])("uid %p", (uid, entry) => {
    expect(table.user(uid)).toEqual(entry);
  });

  test("a comment, a short line and a blank line add no user", () => {
    // The comment would have defined uid 1 as "root"; it stays "daemon".
    expect(table.user(1)?.name).toBe("daemon");
    expect(table.user(2)).toBeUndefined();
  });

  test("a line whose uid is not a number adds no user", () => {
    expect(table.user(Number.NaN)).toBeUndefined();
    expect([0, 1, 33, 1000, 65534].map((uid) => table.user(uid)?.name)).not.toContain("notanumber");
  });

  test("an unknown uid has no entry", () => {
    expect(table.user(4242)).toBeUndefined();
  });

  test("the group table is separate", () => {
    expect(table.groupName(0)).toBeUndefined();
  });
});

describe("UserTable.parseGroup", () => {
  const table = new UserTable();
  table.parseGroup(GROUP);

  test.each([
    [0, "root"],
    [1, "daemon"],
    [10, "wheel"],
    [1000, "alice"],
  ])("gid %p is %p", (gid, name) => {
    expect(table.groupName(gid)).toBe(name);
  });

  test("a comment, a short line and a non-numeric gid add nothing", () => {
    expect(table.groupName(5)).toBeUndefined();
    expect(table.groupName(Number.NaN)).toBeUndefined();
  });

  test("the user table is separate", () => {
    expect(table.user(0)).toBeUndefined();
  });
});

describe("UserTable.load", () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "lanner-users-"));
    mkdirSync(join(root, "etc"));
    writeFileSync(join(root, "etc/passwd"), PASSWD);
    writeFileSync(join(root, "etc/group"), GROUP);
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  test.each([
    ["without a trailing slash", ""],
    ["with a trailing slash", "/"],
  ])("reads etc/passwd and etc/group below the root, %s", (_, suffix) => {
    const table = UserTable.load(root + suffix);
    expect(table.user(1000)).toEqual({ name: "alice", home: "/home/alice", shell: "/bin/zsh" });
    expect(table.groupName(10)).toBe("wheel");
  });

  test("a root with no etc files gives an empty table, not an error", () => {
    const empty = mkdtempSync(join(tmpdir(), "lanner-users-empty-"));
    try {
      const table = UserTable.load(empty);
      expect(table.user(0)).toBeUndefined();
      expect(table.groupName(0)).toBeUndefined();
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test("a missing group file leaves the users readable", () => {
    const partial = mkdtempSync(join(tmpdir(), "lanner-users-partial-"));
    try {
      mkdirSync(join(partial, "etc"));
      writeFileSync(join(partial, "etc/passwd"), "svc:x:500:500::/srv:/bin/false\n");
      const table = UserTable.load(partial);
      expect(table.user(500)?.name).toBe("svc");
      expect(table.groupName(500)).toBeUndefined();
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
  });

  test("the default root is the real host's /", () => {
    // Every Linux host has a root user in /etc/passwd.
    expect(UserTable.load().user(0)?.name).toBe("root");
  });
});

describe("ids are parsed strictly", () => {
  test("NIS '+' lines and non-decimal ids are not ids, so root keeps its name", () => {
    const t = new UserTable();
    t.parsePasswd(
      "root:x:0:0:root:/root:/bin/bash\n+::::::\nhexy:x:0x10:0::/:/bin/sh\nneg:x:-1:0::/:/bin/sh\n",
    );
    t.parseGroup("root:x:0:\n+:::\n");
    expect(t.user(0)?.name).toBe("root");
    expect(t.user(16)).toBeUndefined();
    expect(t.groupName(0)).toBe("root");
  });

  test("the first entry for an id wins, as getpwuid answers", () => {
    const t = new UserTable();
    t.parsePasswd("root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0:root:/root:/bin/sh\n");
    expect(t.user(0)?.name).toBe("root");
  });
});
