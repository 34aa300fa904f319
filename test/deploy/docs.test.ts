// The documents stay true: every test FAILURE_MODES.md names exists word for word, every relative
// link resolves, every repository path the operating documents mention exists, and the signal and
// capability tables say what the code does.

import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { SIGNAL_ACTIONS } from "../../agent/ops/signals.ts";
import { KEPT_AFTER_ATTACH } from "../../agent/security/capabilities.ts";

const ROOT = resolve(import.meta.dir, "../..");
const read = (p: string) => readFileSync(join(ROOT, p), "utf8");
const MARKDOWN = [
  "README.md",
  "CONTRIBUTING.md",
  ...readdirSync(join(ROOT, "docs")).map((f) => `docs/${f}`),
].filter((f) => f.endsWith(".md"));
const OPERATING_DOCS = [
  "docs/OPERATIONS.md",
  "docs/GKE.md",
  "docs/TRADEOFFS.md",
  "docs/FAILURE_MODES.md",
  "CONTRIBUTING.md",
];

describe("docs/FAILURE_MODES.md", () => {
  const text = read("docs/FAILURE_MODES.md");
  const refs: [string, string][] = [];
  for (const m of text.matchAll(/`(test\/[^`]+\.ts)`: ((?:"[^"]+"(?:; )?)+)/g))
    for (const name of m[2].matchAll(/"([^"]+)"/g)) refs.push([m[1], name[1]]);

  test("names tests, at least one per failure", () => {
    const rows = text
      .split("\n")
      .filter((l) => l.startsWith("| ") && !l.startsWith("| Failure") && !l.startsWith("|---"));
    expect(rows.length).toBeGreaterThan(20);
    for (const row of rows) expect(row).toMatch(/`test\/[^`]+\.ts`: "/);
    expect(refs.length).toBeGreaterThanOrEqual(rows.length);
  });

  test("every named test exists in its file, word for word", () => {
    const missing = refs.filter(
      ([file, name]) => !existsSync(join(ROOT, file)) || !read(file).includes(`"${name}"`),
    );
    expect(missing).toEqual([]);
  });
});

test("every relative link in README, CONTRIBUTING and docs/ resolves", () => {
  const broken: string[] = [];
  for (const doc of MARKDOWN) {
    for (const m of read(doc).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/.test(target)) continue;
      if (!existsSync(join(ROOT, dirname(doc), target))) broken.push(`${doc}: ${target}`);
    }
  }
  expect(broken).toEqual([]);
});

test("repository paths the operating documents mention exist", () => {
  const missing: string[] = [];
  for (const doc of OPERATING_DOCS) {
    for (const m of read(doc).matchAll(/`((?:agent|test|deploy|scripts|native|docs)\/[A-Za-z0-9_./-]+)`/g)) {
      const path = m[1].replace(/\/$/, "");
      if (!existsSync(join(ROOT, path))) missing.push(`${doc}: ${path}`);
    }
  }
  expect(missing).toEqual([]);
});

describe("docs/OPERATIONS.md", () => {
  const text = read("docs/OPERATIONS.md");
  test("lists every signal the agent handles, and no other", () => {
    const table = text.slice(text.indexOf("## Signals"), text.indexOf("## Hot reload"));
    const listed = [...table.matchAll(/`(SIG[A-Z0-9]+)`/g)].map((m) => m[1]);
    expect([...new Set(listed)].sort()).toEqual(Object.keys(SIGNAL_ACTIONS).sort());
  });
  test("lists the capabilities kept after attach", () => {
    const table = text.slice(text.indexOf("## Privileges"));
    const listed = [...table.matchAll(/^\| `(CAP_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(Object.keys(KEPT_AFTER_ATTACH).sort());
  });
});

test("LICENSE is the Apache License 2.0, and the probe's SPDX line is the dual licence CONTRIBUTING states", () => {
  expect(read("LICENSE")).toContain("Apache License\n                           Version 2.0, January 2004");
  expect(read("native/lanner.bpf.c").split("\n")[0]).toBe(
    "// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)",
  );
  expect(read("CONTRIBUTING.md")).toContain("GPL-2.0-only OR BSD-2-Clause");
});
