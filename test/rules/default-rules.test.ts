// The embedded default rules (rules/lanner_rules.yaml): they load without errors, every rule has
// firing and benign test cases that pass, every rule can be tuned through a user_known_* list or
// macro, program names fit the kernel's 15-character comm, the example custom file tunes them as
// docs/RULES.md says, and the rules a build cannot see yet are exactly those its liveness names.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEFAULT_RULES } from "../../agent/config/embedded.ts";
import { type CheckedExpr, printChecked } from "../../agent/rules/condition/checked.ts";
import { FieldRegistry } from "../../agent/rules/fields/registry.ts";
import { rulesetLiveness } from "../../agent/rules/liveness.ts";
import { loadRuleFiles, loadRuleSources } from "../../agent/rules/load/load.ts";
import { readTestFile } from "../../agent/rules/testing/cases.ts";
import { runRuleTests } from "../../agent/rules/testing/runner.ts";
import { sourceFile } from "../../agent/yaml/source.ts";

const ROOT = resolve(import.meta.dir, "../..");
const BUN = join(ROOT, "node_modules/.bin/bun");
const RULES = join(ROOT, "rules/lanner_rules.yaml");
const TESTS = join(ROOT, "rules/tests/lanner_rules.tests.yaml");
const EXAMPLE = join(ROOT, "rules/examples/custom_rules.yaml");
const EXAMPLE_TESTS = join(ROOT, "rules/examples/custom_rules.tests.yaml");

const loaded = loadRuleSources([DEFAULT_RULES]);
const rules = loaded.ruleset.rules;

function readTests(path: string) {
  return readTestFile(sourceFile(path, readFileSync(path, "utf8")), (p) => resolve(join(path, ".."), p));
}

/** Every (macro, list) name a checked condition uses, macros expanded. */
function uses(expr: CheckedExpr, out: Set<string>): Set<string> {
  switch (expr.kind) {
    case "and":
    case "or":
      for (const c of expr.children) uses(c, out);
      break;
    case "not":
      uses(expr.child, out);
      break;
    case "macro":
      out.add(expr.name);
      uses(expr.body, out);
      break;
    case "compare":
      for (const l of expr.lists ?? []) out.add(l);
  }
  return out;
}

/** Literal values compared with a process-name field, per rule. */
function processNames(expr: CheckedExpr, out: string[]): string[] {
  switch (expr.kind) {
    case "and":
    case "or":
      for (const c of expr.children) processNames(c, out);
      break;
    case "not":
      processNames(expr.child, out);
      break;
    case "macro":
      processNames(expr.body, out);
      break;
    case "compare":
      if (
        expr.left.kind === "field" &&
        ["proc.name", "proc.pname", "proc.aname"].includes(expr.left.field.def.name) &&
        (expr.op === "=" || expr.op === "in")
      )
        out.push(...(expr.literals ?? []));
  }
  return out;
}

describe("the embedded default rules", () => {
  test("are the file in rules/ and load without errors", () => {
    expect(DEFAULT_RULES.text).toBe(readFileSync(RULES, "utf8"));
    expect(loaded.diagnostics.items.filter((d) => d.severity === "error")).toEqual([]);
    // No unused macros or lists: every definition is there for a rule.
    expect(loaded.diagnostics.items.filter((d) => d.code.startsWith("unused_"))).toEqual([]);
  });

  test("cover the threat classes of the issue, one rule or more each", () => {
    const names = rules.map((r) => r.name);
    expect(names.length).toBeGreaterThanOrEqual(22);
    for (const fragment of [
      "Credential file",
      "SSH key",
      "Cloud credentials",
      "Service account token",
      "shell in a container",
      "Shell started by a server",
      "shared memory or a memfd",
      "dropped and run",
      "binary directory",
      "below /etc",
      "Link to a sensitive file",
      "Packet socket",
      "ptrace",
      "Kernel module",
      "Reverse shell",
      "Log file cleared",
      "Bulk deletion",
      "private keys or credentials",
      "release_agent",
      "Sensitive mount",
      "system user",
      "unusual port",
      "BPF program",
    ]) {
      expect(names.filter((n) => n.includes(fragment))).not.toEqual([]);
    }
  });

  test("every rule can be tuned: its condition uses a user_known_* list or macro", () => {
    const untunable = rules
      .filter((r) => r.name !== "Cgroup release_agent written")
      .filter((r) => ![...uses(r.condition, new Set())].some((n) => n.startsWith("user_known_")))
      .map((r) => r.name);
    // Writing release_agent has no legitimate writer to allow; every other rule has a placeholder.
    expect(untunable).toEqual([]);
  });

  test("every user_known_* placeholder is empty or never true, so tuning only ever narrows", () => {
    for (const [name, l] of loaded.ruleset.lists)
      if (name.startsWith("user_known_")) expect(l.values).toEqual([]);
    const never = loaded.ruleset.macros.get("never_true")?.checked;
    const neverTrue = never === undefined ? "" : printChecked(never);
    expect(neverTrue).toBe("evt.num = 0");
    for (const [name, m] of loaded.ruleset.macros) {
      if (name.startsWith("user_known_"))
        expect(m.checked === undefined ? "" : printChecked(m.checked)).toBe(neverTrue);
    }
  });

  test("program names compared with proc.name/pname fit the kernel's 15-character comm", () => {
    const tooLong = rules.flatMap((r) => processNames(r.condition, []).filter((n) => n.length > 15));
    expect(tooLong).toEqual([]);
  });

  test("every rule has firing and benign look-alike cases in rules/tests, and they pass", () => {
    const file = readTests(TESTS);
    const byRule = new Map<string, { fires: number; quiet: number }>();
    for (const t of file.tests) {
      const e = byRule.get(t.rule) ?? { fires: 0, quiet: 0 };
      for (const c of t.cases) c.expect === "fires" ? e.fires++ : e.quiet++;
      byRule.set(t.rule, e);
    }
    const missing = rules.filter((r) => {
      const e = byRule.get(r.name);
      return e === undefined || e.fires === 0 || e.quiet === 0;
    });
    expect(missing.map((r) => r.name)).toEqual([]);
    const results = runRuleTests(loaded.ruleset, file.tests, FieldRegistry.default());
    expect(results.filter((r) => !r.passed).map((r) => `${r.rule} :: ${r.testCase.name}`)).toEqual([]);
    expect(results.length).toBeGreaterThan(2 * rules.length);
  });

  test("a firing case with one deciding field changed does not fire (the cases can fail)", () => {
    const file = readTests(TESTS);
    const shadow = file.tests.find((t) => t.rule === "Private SSH key read by an unexpected program");
    const firing = shadow?.cases.find((c) => c.expect === "fires");
    expect(firing).toBeDefined();
    if (firing === undefined || shadow === undefined) return;
    const changed = { ...firing, fields: new Map(firing.fields).set("proc.name", "ssh") };
    const [r] = runRuleTests(loaded.ruleset, [{ ...shadow, cases: [changed] }], FieldRegistry.default());
    expect(r.passed).toBe(false);
  });
});

describe("tuning with rules/examples/custom_rules.yaml", () => {
  test("loads on top of the defaults without errors and its cases pass through `lanner rules test`", () => {
    const r = loadRuleFiles([RULES, EXAMPLE]);
    expect(r.diagnostics.errorCount).toBe(0);
    expect(r.ruleset.rules.find((x) => x.name === "Interactive session of a system user")?.enabled).toBe(
      false,
    );
    const p = Bun.spawnSync([BUN, "agent/main.ts", "rules", "test", EXAMPLE_TESTS], { cwd: ROOT });
    expect(p.stdout.toString()).toMatch(/^([0-9]+) case\(s\), \1 passed, 0 failed$/m);
    expect(p.exitCode).toBe(0);
  });

  test("rules explain names the winning definition of a redefined placeholder", () => {
    const p = Bun.spawnSync([BUN, "agent/main.ts", "rules", "explain", RULES, EXAMPLE, "Write below /etc"], {
      cwd: ROOT,
    });
    const text = p.stdout.toString();
    expect(p.exitCode).toBe(0);
    expect(text).toMatch(
      /user_known_etc_write\n\s+\S*lanner_rules\.yaml:\d+ {2}defined\n\s+\S*custom_rules\.yaml:\d+ {2}redefined \(replaces the whole earlier definition\) {2}<- this definition wins/,
    );
  });
});

describe("liveness of the default rules on this build", () => {
  test("docs/RULES.md lists every default rule that waits for capture or state, with what it waits for", () => {
    const doc = readFileSync(join(ROOT, "docs/RULES.md"), "utf8");
    const section = doc.slice(doc.indexOf("<!-- liveness:start -->"), doc.indexOf("<!-- liveness:end -->"));
    expect(section.length).toBeGreaterThan(0);
    // Each row: | Rule | event types | fields |. A blind spot of this build must be in the table;
    // a row may outlive its blind spot until the table is refreshed (capture and state grow).
    const rows = new Map(
      [...section.matchAll(/^\| ([^|]+?) \| ([^|]*?) \| ([^|]*?) \|$/gm)]
        .filter((m) => m[1] !== "Rule")
        .map((m) => [m[1], [m[2], m[3]]]),
    );
    for (const l of rulesetLiveness(loaded.ruleset).filter((x) => !x.fullyLive)) {
      const row = rows.get(l.rule);
      expect(row).toBeDefined();
      for (const t of l.uncapturedEventTypes) expect(row?.[0]).toContain(t);
      for (const f of l.unfilledFields) expect(row?.[1]).toContain(f);
    }
    for (const name of rows.keys()) expect(rules.map((r) => r.name)).toContain(name);
  });
});
