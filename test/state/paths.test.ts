// Falco's textual path normalisation (agent/state/paths.ts): joining a relative path to its base,
// dropping "." and empty components, ".." removing the previous one, never climbing above "/".

import { describe, expect, test } from "bun:test";
import { basename, dirname, joinAndNormalize } from "../../agent/state/paths.ts";

describe("joinAndNormalize", () => {
  test.each([
    // [base, path, expected]
    ["/", "/etc/passwd", "/etc/passwd"],
    ["/", "/", "/"],
    ["/anything", "/etc/./passwd", "/etc/passwd"],
    ["/anything", "/etc/.", "/etc"],
    ["/anything", "/./etc", "/etc"],
    ["/anything", "/etc/ssh/../passwd", "/etc/passwd"],
    ["/anything", "/etc/..", "/"],
    ["/anything", "//etc//passwd", "/etc/passwd"],
    ["/anything", "/etc/ssh/", "/etc/ssh"],
    ["/anything", "/etc///", "/etc"],
    ["/anything", "/..", "/"],
    ["/anything", "/../../etc/shadow", "/etc/shadow"],
    ["/anything", "/a/b/c/../../../..", "/"],
    // Names that only look like dot components stay.
    ["/anything", "/etc/.ssh", "/etc/.ssh"],
    ["/anything", "/etc/..hidden", "/etc/..hidden"],
    ["/anything", "/etc/...", "/etc/..."],
    ["/anything", "/etc/a.", "/etc/a."],
    // Relative paths start at the base.
    ["/home/user", "notes.txt", "/home/user/notes.txt"],
    ["/home/user", "./notes.txt", "/home/user/notes.txt"],
    ["/home/user", "../other/notes.txt", "/home/other/notes.txt"],
    ["/home/user", "a//b/./c/", "/home/user/a/b/c"],
    ["/home/user", ".", "/home/user"],
    ["/home/user", "..", "/home"],
    ["/home/user", "", "/home/user"],
    ["/home/user/", "x", "/home/user/x"],
    ["/", "etc/shadow", "/etc/shadow"],
    // ".." above the root stays at the root.
    ["/home/user", "../../../../etc/shadow", "/etc/shadow"],
    ["/", "..", "/"],
    // The base itself is normalised along with the path.
    ["/home/./user/../admin", "x", "/home/admin/x"],
    ["//srv//", "data", "/srv/data"],
  ])("(%p, %p) -> %p", (base, path, expected) => {
    expect(joinAndNormalize(base, path)).toBe(expected);
  });

  test("an absolute path ignores the base", () => {
    expect(joinAndNormalize("/home/user", "/etc/../tmp/x")).toBe("/tmp/x");
  });

  test("a clean absolute path (the fast path) comes back unchanged, whatever the base", () => {
    // JS strings compare by value, so identity cannot be observed; what matters is that the fast
    // path accepts exactly the clean paths and returns them as they are.
    const clean = ["/", "/etc", "/etc/passwd", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/a/.b/..c/...d"];
    for (const p of clean) expect(joinAndNormalize("/ignored/../base", p)).toBe(p);
  });

  test("a path of many components normalises in one pass", () => {
    // Components d0 d1 .. d3 d4 .. ...: each ".." removes the component just before it.
    const deep = `/${Array.from({ length: 2000 }, (_, i) => (i % 3 === 2 ? ".." : `d${i}`)).join("/")}`;
    const kept = Array.from({ length: 2000 }, (_, i) => i).filter((i) => i % 3 === 0);
    // 2000 = 3 * 666 + 2: the last two components, d1998 and d1999, have no ".." after them.
    kept.push(1999);
    expect(joinAndNormalize("/", deep)).toBe(`/${kept.map((i) => `d${i}`).join("/")}`);
  });
});

describe("dirname and basename", () => {
  test.each([
    ["/etc/passwd", "/etc", "passwd"],
    ["/etc", "/", "etc"],
    ["/", "/", ""],
    ["/a/b/c", "/a/b", "c"],
  ])("%p: dirname %p, basename %p", (path, dir, base) => {
    expect(dirname(path)).toBe(dir);
    expect(basename(path)).toBe(base);
  });

  test("basename ignores one trailing slash", () => {
    expect(basename("/a/b/")).toBe("b");
  });
});
