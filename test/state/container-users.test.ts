// Per-container user tables (agent/state/container-users.ts): read once per container through
// /proc/PID/root, capped with the oldest container's table dropped and counted. Real files in a
// host root laid out by hand.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ContainerUserTables } from "../../agent/state/container-users.ts";

const proc = mkdtempSync(join(tmpdir(), "lanner-cusers-"));
afterAll(() => rmSync(proc, { recursive: true, force: true }));
for (const pid of [10, 11, 12]) {
  mkdirSync(join(proc, String(pid), "root", "etc"), { recursive: true });
  writeFileSync(join(proc, String(pid), "root", "etc", "passwd"), `u${pid}:x:1000:1000::/home:/bin/sh\n`);
}

describe("ContainerUserTables", () => {
  test("one read per container; the table stays after the process is gone; capped", () => {
    const tables = new ContainerUserTables(proc, 2);
    expect(tables.tableFor("aaaaaaaaaaaa", 10).user(1000)?.name).toBe("u10");
    // Another process of the same container: the same table, no new read.
    expect(tables.tableFor("aaaaaaaaaaaa", 11).user(1000)?.name).toBe("u10");
    expect(tables.loads).toBe(1);
    rmSync(join(proc, "10"), { recursive: true });
    expect(tables.tableFor("aaaaaaaaaaaa", 10).user(1000)?.name).toBe("u10");
    tables.tableFor("bbbbbbbbbbbb", 11);
    tables.tableFor("cccccccccccc", 12);
    expect(tables.evicted).toBe(1);
    expect(tables.loads).toBe(3);
    // A container without files: no names.
    expect(tables.tableFor("dddddddddddd", 99).user(0)).toBeUndefined();
  });
});

describe("a container whose files could not be read", () => {
  test("is tried again after a while, through another process", () => {
    let now = 0;
    const tables = new ContainerUserTables(proc, 8, 100, () => now);
    expect(tables.tableFor("eeeeeeeeeeee", 999).user(1000)).toBeUndefined();
    // Within the retry delay: no new read.
    expect(tables.tableFor("eeeeeeeeeeee", 12).user(1000)).toBeUndefined();
    expect(tables.loads).toBe(1);
    now = 31_000;
    expect(tables.tableFor("eeeeeeeeeeee", 12).user(1000)?.name).toBe("u12");
    expect(tables.loads).toBe(2);
  });
});

describe("a short-lived process gone before its container's files are read", () => {
  test("another remembered process of the same container is read instead", () => {
    const tables = new ContainerUserTables(proc, 8);
    tables.notePid("ffffffffffff", 12);
    tables.notePid("ffffffffffff", 12);
    expect(tables.tableFor("ffffffffffff", 4242).user(1000)?.name).toBe("u12");
  });
});
