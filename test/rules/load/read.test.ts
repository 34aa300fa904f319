// Reading rule files (load/read.ts), as docs/RULES.md states it: tests named after the statement
// ids ([W4] ...); see helpers.ts for the inline YAML helpers.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliFailure, loadRulesOrFail } from "../../../agent/cli/setup.ts";
import { diagnosticToJson } from "../../../agent/rules/load/diagnostics.ts";
import { loadRuleFiles } from "../../../agent/rules/load/load.ts";

import { y, ruleYaml, load, errors, cond, one, at, noErrors } from "./helpers.ts";

// ---------------------------------------------------------------------------------------------
// 1. Rule files

describe("rule files", () => {
  test("[F1] a file may hold several YAML documents; empty documents and entries are skipped", () => {
    const l = load(
      y(`
      ---
      - list: names
        items: [a]
      ---
      ---
      -
      - ~
      - rule: R
        desc: d
        condition: evt.type = open and proc.name in (names)
        output: o
        priority: info
      `),
    );
    noErrors(l);
    expect(cond(l, "R")).toBe("(evt.type = open and proc.name in (a))");
  });

  test("[F1] a document that is not a sequence is a schema error", () => {
    const l = load("rule: R\ndesc: d\n");
    const d = one(l, "schema");
    expect(d.severity).toBe("error");
    expect(at(d)).toBe("f1.yaml:1:1");
    expect(d.message).toContain("sequence");
  });

  test("[F2] an entry with no known kind gets unknown_item and is ignored", () => {
    const l = load(`- foo: bar\n  baz: 1\n${ruleYaml("R", "evt.type = open")}`);
    const d = one(l, "unknown_item");
    expect(d.severity).toBe("warning");
    expect(at(d)).toBe("f1.yaml:1:3");
    expect(errors(l)).toEqual([]);
    expect(l.rules.has("R")).toBe(true);
  });

  test("[F2] the kind is the first of required_engine_version, required_plugin_versions, list, macro, rule", () => {
    // Both `list` and `rule`: it is a list; `rule` is then an unknown key of the list.
    const l = load("- list: both\n  rule: both\n  items: [a]\n");
    expect(l.result.ruleset.lists.has("both")).toBe(true);
    expect(l.rules.size).toBe(0);
    const d = one(l, "unknown_key");
    expect(at(d)).toBe("f1.yaml:2:3");
  });

  test("[F3] an entry that is not a mapping is a schema error; the following entries are still read", () => {
    const l = load(`- just a string\n- [a, b]\n${ruleYaml("R", "evt.type = open")}`);
    const schema = l.diags.filter((d) => d.code === "schema");
    expect(schema.map(at)).toEqual(["f1.yaml:1:3", "f1.yaml:2:3"]);
    expect(schema.every((d) => d.severity === "error")).toBe(true);
    expect(l.rules.has("R")).toBe(true);
  });

  test("[F4] a YAML syntax error is yaml_parse at its line and column; that file is not used, others are", () => {
    const broken = y(`
      - list: a
        items: [x]
      - rule: R
        desc: [unclosed
        condition: evt.type = open
    `);
    const l = load(broken, ruleYaml("R2", "evt.type = open"));
    const d = one(l, "yaml_parse");
    expect(d.severity).toBe("error");
    expect(at(d)).toBe("f1.yaml:5:3");
    expect(l.result.ruleset.lists.has("a")).toBe(false);
    expect(l.rules.has("R2")).toBe(true);
  });

  test("[F4] a bad indentation is reported where it is", () => {
    const l = load("- rule: R\n  desc: d\n   condition: x\n");
    const d = one(l, "yaml_parse");
    expect(d.line).toBe(3);
  });

  test("[F5] unknown keys get unknown_key at the key; the entry is still used", () => {
    const l = load(
      ruleYaml("R", "evt.type = open and proc.name in (l)", "  colour: red\n") +
        "- list: l\n  items: [a]\n  extra: 1\n- macro: m\n  condition: evt.type = open\n  also: x\n",
    );
    const unknown = l.diags.filter((d) => d.code === "unknown_key");
    expect(unknown.map((d) => [d.severity, at(d), d.context.join(" > ")])).toEqual([
      ["warning", "f1.yaml:6:3", "rule 'R'"],
      ["warning", "f1.yaml:9:3", "list 'l'"],
      ["warning", "f1.yaml:12:3", "macro 'm'"],
    ]);
    expect(l.rules.has("R")).toBe(true);
  });

  test("[F6] loading two files is the same as loading their concatenation", () => {
    const a = "- list: l\n  items: [x]\n" + ruleYaml("R", "evt.type = open and proc.name in (l)");
    const b = "- list: l\n  items: [y]\n  override:\n    items: append\n";
    const split = load(a, b);
    const joined = load(a + b);
    noErrors(split);
    expect(cond(split, "R")).toBe("(evt.type = open and proc.name in (x, y))");
    expect(cond(joined, "R")).toBe(cond(split, "R"));
  });

  test("[F6] the order matters: the same files in the other order fail", () => {
    const a = "- list: l\n  items: [x]\n" + ruleYaml("R", "evt.type = open and proc.name in (l)");
    const b = "- list: l\n  items: [y]\n  override:\n    items: append\n";
    const l = load(b, a);
    expect(one(l, "no_previous_definition").file).toBe("f1.yaml");
    expect(cond(l, "R")).toBe("(evt.type = open and proc.name in (x))");
  });

  test("[F7] a directory loads its .yaml and .yml files sorted by name, not other files or subdirectories", () => {
    const dir = mkdtempSync(join(tmpdir(), "lanner-rules-dir-"));
    try {
      writeFileSync(join(dir, "20-b.yml"), "- list: l\n  items: [b]\n  override:\n    items: append\n");
      writeFileSync(join(dir, "10-a.yaml"), "- list: l\n  items: [a]\n");
      writeFileSync(join(dir, "30-c.yaml"), "- list: l\n  items: [c]\n  override:\n    items: append\n");
      writeFileSync(join(dir, "notes.txt"), "not yaml: [");
      mkdirSync(join(dir, "sub"));
      writeFileSync(
        join(dir, "sub", "40-d.yaml"),
        "- list: l\n  items: [d]\n  override:\n    items: append\n",
      );
      const r = loadRuleFiles([dir]);
      expect(r.files.map((f) => f.name)).toEqual([
        join(dir, "10-a.yaml"),
        join(dir, "20-b.yml"),
        join(dir, "30-c.yaml"),
      ]);
      expect(r.ruleset.lists.get("l")?.values).toEqual(["a", "b", "c"]);
      expect(r.diagnostics.errorCount).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("[F8] a path that cannot be read is a file_read error with no line", () => {
    const missing = join(tmpdir(), "lanner-no-such-rules-file.yaml");
    const r = loadRuleFiles([missing]);
    const d = r.diagnostics.items.map(diagnosticToJson);
    expect(d.length).toBe(1);
    expect(d[0]).toMatchObject({
      severity: "error",
      code: "file_read",
      file: missing,
      line: null,
      column: null,
    });
  });

  test("[F9] every error is reported, not only the first; entries without errors are used", () => {
    const l = load(
      y(`
      - rule: A
        desc: d
        condition: evt.type = open
        priority: info
      - rule: B
        desc: d
        condition: evt.type = open
        output: o
        priority: urgent
      `) + ruleYaml("C", "evt.type = open"),
      ruleYaml("D", "evt.type = opne") + ruleYaml("E", "evt.type = open"),
    );
    expect(errors(l).map((d) => `${d.code}@${at(d)}`)).toEqual([
      "schema@f1.yaml:1:3",
      "invalid_priority@f1.yaml:9:13",
      "unknown_event_type@f2.yaml:3:25",
    ]);
    expect([...l.rules.keys()]).toEqual(["C", "E"]);
  });

  test("[F9] lanner run refuses rules with any error (exit 1) and accepts warnings", () => {
    const dir = mkdtempSync(join(tmpdir(), "lanner-run-rules-"));
    try {
      const bad = join(dir, "bad.yaml");
      const warn = join(dir, "warn.yaml");
      writeFileSync(bad, ruleYaml("R", "evt.type = opne"));
      writeFileSync(warn, ruleYaml("R", "proc.name = x"));
      let failure: unknown;
      try {
        loadRulesOrFail([bad], () => {});
      } catch (err) {
        failure = err;
      }
      expect(failure).toBeInstanceOf(CliFailure);
      expect((failure as CliFailure).exitCode).toBe(1);
      const warned: string[] = [];
      expect(loadRulesOrFail([warn], (w) => warned.push(w)).ruleset.rules.length).toBe(1);
      expect(warned.join("\n")).toContain("warning[too_many_event_types]");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
