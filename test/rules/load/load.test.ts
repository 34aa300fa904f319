// Loading end to end (load/load.ts): loaded rules running, the rules commands, and the fixes after
// the first review, as docs/RULES.md states it: tests named after the statement ids.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { explainRule, renderExplanation } from "../../../agent/cli/rules-explain.ts";
import { type RuleSelectionStep, RuleEngine, selectRules } from "../../../agent/rules/engine.ts";
import { FieldRegistry } from "../../../agent/rules/fields/registry.ts";
import type { FieldValue } from "../../../agent/rules/fields/values.ts";
import type { Priority } from "../../../agent/rules/load/items.ts";
import { readTestFile } from "../../../agent/rules/testing/cases.ts";
import { runRuleTests } from "../../../agent/rules/testing/runner.ts";
import { sourceFile } from "../../../agent/yaml/source.ts";

import {
  ROOT,
  BUN,
  y,
  ruleYaml,
  type Loaded,
  load,
  errors,
  rule,
  cond,
  one,
  at,
  noErrors,
  type Event,
  bind,
  event,
  holds,
} from "./helpers.ts";

// ---------------------------------------------------------------------------------------------
// 9. Running rules

function engineFor(
  l: Loaded,
  options: { minPriority?: Priority; matching?: "first" | "all"; selection?: RuleSelectionStep[] } = {},
): RuleEngine<Event> {
  return new RuleEngine<Event>(
    l.result.ruleset,
    {
      minPriority: options.minPriority ?? "Debug",
      matching: options.matching ?? "all",
      selection: options.selection ?? [],
    },
    bind,
  );
}

function fired(engine: RuleEngine<Event>, fields: Record<string, FieldValue>): string[] {
  const names: string[] = [];
  engine.evaluate(String(fields["evt.type"]), event(fields), (a) => names.push(a.rule.name));
  return names;
}

describe("running rules", () => {
  test("[X1] a comparison on a missing field is false, its negation true, exists false", () => {
    const l = load(
      ruleYaml("eq", "evt.type = open and proc.name = cat") +
        ruleYaml("not", "evt.type = open and not proc.name in (cat)") +
        ruleYaml("exists", "evt.type = open and proc.name exists"),
    );
    const missing = { "evt.type": "open" };
    expect(holds(rule(l, "eq"), missing)).toBe(false);
    expect(holds(rule(l, "not"), missing)).toBe(true);
    expect(holds(rule(l, "exists"), missing)).toBe(false);
    expect(holds(rule(l, "exists"), { ...missing, "proc.name": "x" })).toBe(true);
  });

  test("[X2] rules less severe than the priority threshold are not run", () => {
    const l = load(
      ruleYaml("crit", "evt.type = open", "", "CRITICAL") +
        ruleYaml("warn", "evt.type = open", "", "WARNING") +
        ruleYaml("note", "evt.type = open", "", "NOTICE") +
        ruleYaml("dbg", "evt.type = open", "", "DEBUG"),
    );
    expect(engineFor(l, { minPriority: "Warning" }).active.map((a) => a.rule.name)).toEqual(["crit", "warn"]);
    expect(engineFor(l, { minPriority: "Debug" }).active.length).toBe(4);
  });

  test("[X3] selection steps by name wildcard and tag apply in order over the enabled flag", () => {
    const l = load(
      ruleYaml("Net one", "evt.type = connect", "  tags: [network]\n") +
        ruleYaml("Net two", "evt.type = connect", "  tags: [network, mitre]\n") +
        ruleYaml("File off", "evt.type = open", "  enabled: false\n") +
        ruleYaml("Shell", "evt.type = execve", "  tags: [process]\n"),
    );
    const rules = l.result.ruleset.rules;
    const sel = (steps: RuleSelectionStep[]) => [...selectRules(rules, steps)].sort();
    expect(sel([])).toEqual(["Net one", "Net two", "Shell"]);
    expect(
      sel([
        { action: "disable", rule: "*" },
        { action: "enable", tag: "network" },
      ]),
    ).toEqual(["Net one", "Net two"]);
    expect(
      sel([
        { action: "enable", tag: "network" },
        { action: "disable", rule: "*" },
      ]),
    ).toEqual([]);
    expect(sel([{ action: "enable", rule: "File*" }])).toEqual(["File off", "Net one", "Net two", "Shell"]);
    expect(
      sel([
        { action: "disable", rule: "*two" },
        { action: "disable", tag: "process" },
      ]),
    ).toEqual(["Net one"]);
    // Only '*' is special, and the whole name must match.
    expect(
      sel([
        { action: "disable", rule: "Net.one" },
        { action: "disable", rule: "Net" },
      ]),
    ).toEqual(["Net one", "Net two", "Shell"]);
    expect(sel([{ action: "disable", rule: "Net ?ne" }])).toEqual(["Net one", "Net two", "Shell"]);
    const engine = engineFor(l, { selection: [{ action: "disable", tag: "mitre" }] });
    expect(engine.active.map((a) => a.rule.name)).toEqual(["Net one", "Shell"]);
  });

  test("[X4] rule_matching first reports the first match in rule order; all reports every match", () => {
    const l = load(
      ruleYaml("B", "evt.type = open and proc.name = cat") + ruleYaml("A", "evt.type = open"),
      ruleYaml("B", "evt.type = open"),
    );
    const ev = { "evt.type": "open", "proc.name": "ls" };
    expect(fired(engineFor(l, { matching: "all" }), ev)).toEqual(["B", "A"]);
    expect(fired(engineFor(l, { matching: "first" }), ev)).toEqual(["B"]);
  });

  test("[X5] an event is tested only against rules that run on its type", () => {
    const l = load(
      ruleYaml("opens", "evt.type in (open, openat)") +
        ruleYaml("closes", "evt.type = close") +
        ruleYaml("anything", "proc.name = cat", "  warn_evttypes: false\n"),
    );
    const engine = engineFor(l);
    expect(engine.candidates("openat").map((a) => a.rule.name)).toEqual(["opens", "anything"]);
    expect(engine.candidates("close").map((a) => a.rule.name)).toEqual(["closes", "anything"]);
    // A predicate that would hold is not even tried on another type.
    expect(fired(engine, { "evt.type": "read", "proc.name": "cat" })).toEqual(["anything"]);
  });
});

// ---------------------------------------------------------------------------------------------
// 11. Commands

/** Tests that run the CLI several times; each run starts Bun, which is slow on a loaded machine. */
const CLI_TEST_TIMEOUT_MS = 60_000;

function runCli(args: string[]): { code: number; stdout: string; stderr: string } {
  const p = Bun.spawnSync([BUN, join(ROOT, "agent/main.ts"), ...args], { cwd: ROOT });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

describe("commands", () => {
  test(
    "[K1] rules validate prints diagnostics and a summary, --json the same as data; exit 1 on errors",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "lanner-validate-"));
      try {
        const good = join(dir, "good.yaml");
        const bad = join(dir, "bad.yaml");
        writeFileSync(good, ruleYaml("R", "evt.type = open") + "- list: unused\n  items: [a]\n");
        writeFileSync(bad, ruleYaml("S", "evt.type = open and proc.nmae = x"));

        const ok = runCli(["rules", "validate", good]);
        expect(ok.code).toBe(0);
        expect(ok.stdout).toContain(`${good}:6:3: warning[unused_list]`);
        expect(ok.stdout.trim().split("\n").pop()).toBe(
          "1 file(s): 1 rules, 0 macros, 1 lists; 0 error(s), 1 warning(s)",
        );

        const failed = runCli(["rules", "validate", good, bad]);
        expect(failed.code).toBe(1);
        expect(failed.stdout).toContain(`${bad}:3:34: error[unknown_field]`);
        expect(failed.stdout).toContain("in rule 'S' > condition");
        expect(failed.stdout.trim().split("\n").pop()).toBe(
          "2 file(s): 1 rules, 0 macros, 1 lists; 1 error(s), 1 warning(s)",
        );

        const json = runCli(["rules", "validate", "--json", good, bad]);
        expect(json.code).toBe(1);
        const parsed = JSON.parse(json.stdout);
        expect(parsed).toMatchObject({
          files: [good, bad],
          rules: 1,
          macros: 0,
          lists: 1,
          errors: 1,
          warnings: 1,
        });
        expect(parsed.diagnostics).toContainEqual({
          severity: "error",
          code: "unknown_field",
          message: "unknown field 'proc.nmae'; did you mean 'proc.name'?",
          file: bad,
          line: 3,
          column: 34,
          context: ["rule 'S'", "condition"],
          snippet:
            "3 |   condition: evt.type = open and proc.nmae = x\n                                     ^",
        });

        const embedded = runCli(["rules", "validate"]);
        expect(embedded.code).toBe(0);
        expect(embedded.stdout).toContain("0 error(s)");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    CLI_TEST_TIMEOUT_MS,
  );

  test(
    "[K2] explain shows the condition as written, the effective condition, event types and history",
    () => {
      const l = load(
        "- macro: opens\n  condition: evt.type in (open, openat)\n- list: l\n  items: [cat]\n" +
          ruleYaml(
            "R",
            "opens and proc.name in (l)",
            "  exceptions:\n    - name: e\n      fields: fd.name\n      values: [/tmp/x]\n",
          ),
        "- rule: R\n  condition: and fd.num >= 0\n  override:\n    condition: append\n",
      );
      noErrors(l);
      const e = explainRule(rule(l, "R"), l.result.ruleset);
      expect(e.condition).toBe("opens and proc.name in (l) and fd.num >= 0");
      expect(e.effectiveCondition).toBe(
        "((evt.type in (open, openat) and proc.name in (cat) and fd.num >= 0) and not fd.name in (/tmp/x))",
      );
      expect(e.eventTypes).toEqual(["open", "openat"]);
      expect(e.exceptions).toEqual(["e"]);
      expect(e.macros.map((m) => m.name)).toEqual(["opens"]);
      expect(e.lists.map((m) => m.name)).toEqual(["l"]);
      const text = renderExplanation(e);
      expect(text).toContain("event types: open, openat");
      expect(text).toContain("f2.yaml:1  appended to [condition]");

      const cli = runCli([
        "rules",
        "explain",
        "rules/lanner_rules.yaml",
        "Credential file opened for reading",
      ]);
      expect(cli.code).toBe(0);
      expect(cli.stdout).toContain("Rule: Credential file opened for reading");
      expect(cli.stdout).toContain("event types: open, openat, openat2");
    },
    CLI_TEST_TIMEOUT_MS,
  );

  test(
    "[K3] rules test passes (exit 0) and fails (exit 1) with the rule, event and deciding check",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "lanner-ruletest-"));
      try {
        writeFileSync(join(dir, "r.yaml"), ruleYaml("R", "evt.type = open and not proc.name in (ok)"));
        writeFileSync(
          join(dir, "pass.tests.yaml"),
          "rules_files: [r.yaml]\ntests:\n  - rule: R\n    fires:\n      - fields: {evt.type: open, proc.name: bad}\n    does_not_fire:\n      - fields: {evt.type: open, proc.name: ok}\n",
        );
        writeFileSync(
          join(dir, "fail.tests.yaml"),
          "rules_files: [r.yaml]\ntests:\n  - rule: R\n    fires:\n      - name: ok is excluded\n        fields: {evt.type: open, proc.name: ok}\n",
        );
        const pass = runCli(["rules", "test", join(dir, "pass.tests.yaml")]);
        expect(pass.code).toBe(0);
        expect(pass.stdout).toContain("2 case(s), 2 passed, 0 failed");
        const fail = runCli(["rules", "test", join(dir, "fail.tests.yaml")]);
        expect(fail.code).toBe(1);
        expect(fail.stdout).toContain("FAIL R :: ok is excluded (should fire)");
        expect(fail.stdout).toContain('event: evt.type="open" proc.name="ok"');
        expect(fail.stdout).toContain("true : proc.name in (ok)   (proc.name = ok)");
        writeFileSync(join(dir, "invalid.tests.yaml"), "tests: nope\n");
        expect(runCli(["rules", "test", join(dir, "invalid.tests.yaml")]).code).toBe(1);
        expect(runCli(["rules", "test", join(dir, "missing.tests.yaml")]).code).toBe(2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    CLI_TEST_TIMEOUT_MS,
  );

  test("[K4] the test-file format: rules_files relative to the file, evt.type required, empty values, unknown names", () => {
    const text = y(`
      rules_files: [rules.yaml, sub/more.yaml]
      tests:
        - rule: R
          fires:
            - name: an empty value is no value
              fields: {evt.type: open, proc.name: }
            - fields:
                evt.type: open
                proc.name: cat
                proc.aname[2]: sshd
          does_not_fire:
            - name: no type
              fields: {proc.name: ok}
            - name: bad field
              fields: {evt.type: open, proc.nmae: x}
        - rule: Nope
          fires:
            - fields: {evt.type: open}
    `);
    const file = readTestFile(sourceFile("/base/dir/t.tests.yaml", text), (p) => resolve("/base/dir", p));
    expect(file.rulesFiles).toEqual(["/base/dir/rules.yaml", "/base/dir/sub/more.yaml"]);
    expect(file.tests.map((t) => [t.rule, t.cases.map((c) => `${c.expect}:${c.name}`)])).toEqual([
      [
        "R",
        [
          "fires:an empty value is no value",
          "fires:fires #2",
          "does_not_fire:no type",
          "does_not_fire:bad field",
        ],
      ],
      ["Nope", ["fires:fires #1"]],
    ]);
    expect(file.tests[0].cases[0].fields.get("proc.name")).toBe(null);
    expect(file.tests[0].cases[0].where).toBe("/base/dir/t.tests.yaml:5");

    const l = load(ruleYaml("R", "evt.type = open and not proc.name in (ok) and not proc.aname[2] = init"));
    const results = runRuleTests(l.result.ruleset, file.tests, FieldRegistry.default());
    expect(results.map((r) => r.passed)).toEqual([true, true, false, false, false]);
    expect(results[2].explanation[0]).toContain("must set evt.type");
    expect(results[3].explanation[0]).toContain("proc.nmae");
    expect(results[4].explanation[0]).toContain("no rule named 'Nope'");
  });
});

// ---------------------------------------------------------------------------------------------
// 12. Diagnostic codes

describe("review fixes", () => {
  test("[W11] output, desc, tags and priority in an append: true rule entry are ignored with an ignored_key warning", () => {
    const l = load(
      ruleYaml("R", "evt.type = open"),
      "- rule: R\n  condition: and fd.num >= 0\n  output: more\n  desc: more\n  append: true\n",
    );
    noErrors(l);
    expect(l.diags.filter((d) => d.code === "ignored_key").map(at)).toEqual(["f2.yaml:3:11", "f2.yaml:4:9"]);
    expect(rule(l, "R").outputText).toBe("R fired (proc=%proc.name)");
    expect(rule(l, "R").desc).toBe("test rule R");
    expect(cond(l, "R")).toBe("(evt.type = open and fd.num >= 0)");
  });

  test("[W15] appending or overriding with another source is a schema error; the entry is left out", () => {
    const l = load(
      ruleYaml("R", "evt.type = open"),
      "- rule: R\n  source: k8s_audit\n  condition: and fd.num >= 0\n  override:\n    condition: append\n" +
        "- rule: R\n  source: k8s_audit\n  condition: and fd.num >= 1\n  append: true\n",
    );
    expect(errors(l).map((d) => [d.code, at(d)])).toEqual([
      ["schema", "f2.yaml:1:3"],
      ["schema", "f2.yaml:6:3"],
    ]);
    expect(cond(l, "R")).toBe("evt.type = open");
  });

  test("[V5] each unmet plugin requirement is reported at its own entry", () => {
    const l = load(
      "- required_plugin_versions:\n    - name: k8saudit\n      version: 0.1.0\n    - name: json\n      version: 0.1.0\n",
    );
    expect(errors(l).map(at)).toEqual(["f1.yaml:2:7", "f1.yaml:4:7"]);
  });

  test("[E2] exception values written as a block sequence of flow tuples (- [a, /x]) work", () => {
    const l = load(
      ruleYaml(
        "R",
        "evt.type = open",
        "  exceptions:\n    - name: e\n      fields: [proc.name, fd.name]\n      values:\n        - [a, /x]\n        - [b, /y]\n",
      ),
    );
    noErrors(l);
    expect(cond(l, "R")).toBe(
      "(evt.type = open and not ((proc.name = a and fd.name = /x) or (proc.name = b and fd.name = /y)))",
    );
  });

  test("[F2] an entry written as a flow mapping (- {list: l, items: [a]}) is read like a block one", () => {
    const l = load("- {list: l, items: [a, b]}\n" + ruleYaml("R", "evt.type = open and proc.name in (l)"));
    noErrors(l);
    expect(l.diags).toEqual([]);
    expect(cond(l, "R")).toBe("(evt.type = open and proc.name in (a, b))");
  });

  test("[R1] an empty required value is reported on its own line, after its key", () => {
    const l = load("- rule: r\n  desc:\n  condition: evt.type = open\n  output: o\n  priority: INFO\n");
    const d = one(l, "schema");
    expect(at(d)).toBe("f1.yaml:2:8");
  });

  test("[O6] %container.info is removed with a deprecated warning", () => {
    const l = load(
      "- rule: R\n  desc: d\n  condition: evt.type = open\n  output: opened %fd.name %container.info\n  priority: INFO\n",
    );
    noErrors(l);
    expect(one(l, "deprecated").line).toBe(4);
    expect(
      rule(l, "R")
        .output.filter((t) => t.kind === "field")
        .map((t) => (t.kind === "field" ? t.display : "")),
    ).toEqual(["fd.name"]);
  });
});
