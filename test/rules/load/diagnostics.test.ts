// Diagnostics (load/diagnostics.ts): the code table of docs/RULES.md, every statement id has a test
// in this folder, and the bounds, RE2 errors and libsinsp's warnings end in diagnostics.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DIAGNOSTIC_CODES } from "../../../agent/rules/load/diagnostics.ts";

import { ROOT, ruleYaml, load, errors, one } from "./helpers.ts";

describe("diagnostic codes", () => {
  test("[D1] the table in RULES.md lists every code of diagnostics.ts with its severity", () => {
    const inSource: [string, string][] = Object.entries(DIAGNOSTIC_CODES);
    const doc = readFileSync(join(ROOT, "docs/RULES.md"), "utf8");
    const inDoc = [...doc.matchAll(/^\| `([a-z_]+)` \| (error|warning) \|/gm)].map((m) => [m[1], m[2]]);
    expect(inSource.length).toBeGreaterThan(20);
    expect(inDoc).toEqual(inSource);
  });

  test("[D1] every id in RULES.md has a test in this folder (test/rules/load)", () => {
    const doc = readFileSync(join(ROOT, "docs/RULES.md"), "utf8");
    const ids = [...new Set([...doc.matchAll(/^\*\*\[([A-Z][0-9]+)\]\*\*/gm)].map((m) => m[1]))];
    const files = readdirSync(import.meta.dir).filter((f) => f.endsWith(".test.ts"));
    expect(files.length).toBeGreaterThan(5);
    const self = files.map((f) => readFileSync(join(import.meta.dir, f), "utf8")).join("\n");
    // The formatter may put a long test name on its own line: test(\n "[K1] ...".
    const missing = ids.filter((id) => !new RegExp(`test\\(\\s*"\\[${id}\\]`).test(self));
    expect(ids.length).toBeGreaterThan(60);
    expect(missing).toEqual([]);
  });
});

describe("limits, RE2 and libsinsp's warnings", () => {
  test("[B1] bounds end in diagnostics: aliases, list items, comparison values (the full set runs in hostile.test.ts)", () => {
    const bomb = load(
      "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
    );
    expect(one(bomb, "yaml_parse")).toMatchObject({ file: "f1.yaml", line: 5 });
    const items = Array(100_001).fill("a").join(",");
    const big = load(`- list: big\n  items: [${items}]\n`);
    expect(one(big, "limit_exceeded").message).toBe(
      "list 'big' has more than 100000 items (after expanding the lists it names)",
    );
  });

  test("[B2] regex is RE2's POSIX mode on the whole value; syntax errors point into the pattern", () => {
    const ok = load(ruleYaml("R", 'evt.type = execve and proc.name regex "[[:alpha:]]+sh"'));
    expect(errors(ok)).toEqual([]);
    const bad = load(ruleYaml("R", 'evt.type = execve and proc.name regex "ab\\\\d"'));
    const d = one(bad, "bad_literal");
    expect(d.message).toContain("invalid escape sequence: '\\d' at offset 2");
    // The column is the escape ('\\' in the condition text, read as one backslash) in the pattern.
    expect(d.snippet?.split("\n")[1].indexOf("^")).toBe(d.snippet?.split("\n")[0].indexOf("\\\\d"));
  });

  test("[B3] values that read as fields or transformers, and plain regexes, are warned about", () => {
    const l = load(
      ruleYaml(
        "R",
        'evt.type = open and proc.name = proc.pname and fd.name in (a, "tolower(proc.name)") and proc.cmdline regex "^curl.*"',
        "  exceptions:\n    - name: e\n      fields: proc.exe\n      values: [fd.name]\n",
      ),
    );
    expect(errors(l)).toEqual([]);
    const messages = l.diags.filter((d) => d.code === "suspicious_value").map((d) => d.message);
    expect(messages).toEqual([
      "'proc.pname' may be a valid field misused as a const string value",
      "'tolower(proc.name)' may be a valid field transformer misused as a const string value",
      "regex check with '^curl.*' may be optimized with simpler operators such as '=', 'contains', 'startswith', 'endswith'",
      "'fd.name' may be a valid field misused as a const string value",
    ]);
    expect(l.diags.find((d) => d.message.startsWith("'proc.pname'"))).toMatchObject({ line: 3, column: 46 });
    // A regex with syntax in the middle is what regex is for: no warning.
    const needed = load(ruleYaml("R", 'evt.type = open and proc.cmdline regex "a[0-9]+b"'));
    expect(needed.diags.filter((d) => d.code === "suspicious_value")).toEqual([]);
  });

  test("[B3] evt.dir is deprecated in a condition, through a macro (reported once, at the macro), and in an output", () => {
    const l = load(
      "- macro: exit_only\n  condition: evt.dir = <\n" +
        ruleYaml("A", "evt.type = open and exit_only") +
        ruleYaml("B", "evt.type = openat and exit_only and evt.latency > 0") +
        "- rule: C\n  desc: d\n  condition: evt.type = close\n  output: closed %evt.dir\n  priority: INFO\n",
    );
    expect(errors(l)).toEqual([]);
    const deprecated = l.diags.filter((d) => d.code === "deprecated");
    expect(deprecated.map((d) => [d.context[0], d.message.split(":")[0]])).toEqual([
      ["macro 'exit_only'", "usage of deprecated field 'evt.dir'"],
      ["rule 'B'", "usage of deprecated field 'evt.latency'"],
      ["rule 'C'", "usage of deprecated field 'evt.dir' has been detected in the rule output"],
    ]);
  });

  test("[B3] typos in macro, event type and appended names get suggestions", () => {
    const l = load(
      "- macro: open_read\n  condition: evt.is_open_read = true\n" +
        ruleYaml("R", "evt.type = open and open_raed") +
        ruleYaml("S", "evt.type = opne") +
        "- list: shell_binaries\n  items: [bash]\n- list: shell_binarie\n  items: [sh]\n  override:\n    items: append\n" +
        ruleYaml("T", "evt.type = open and proc.name in (shell_binaries)"),
    );
    const messages = errors(l).map((d) => d.message);
    expect(messages).toContain("undefined macro 'open_raed'; did you mean 'open_read'?");
    expect(messages).toContain("unknown event type 'opne'; did you mean 'open'?");
    expect(
      messages.some(
        (m) => m.includes("list 'shell_binarie'") && m.includes("did you mean 'shell_binaries'?"),
      ),
    ).toBe(true);
  });

  test("[B3] an unknown output field is reported even when the condition has an error", () => {
    const l = load(
      "- rule: R\n  desc: d\n  condition: evt.type = open and proc.nmae = x\n  output: o %proc.nmae\n  priority: INFO\n",
    );
    expect(errors(l).map((d) => [d.code, d.context.at(-1)])).toEqual([
      ["unknown_field", "condition"],
      ["unknown_field", "output"],
    ]);
  });
});
