// Lists, macros and rules as rule-file items (load/items.ts and how they are collected), as
// docs/RULES.md states it: tests named after the statement ids.

import { describe, expect, test } from "bun:test";
import type { Priority } from "../../../agent/rules/load/items.ts";

import { y, ruleYaml, load, errors, rule, cond, one, at, noErrors, types, holds } from "./helpers.ts";

// ---------------------------------------------------------------------------------------------
// 3. Lists

describe("lists", () => {
  test("[L1] a list needs items, a sequence of single values", () => {
    const l = load("- list: a\n  items: x\n- list: b\n  items: [[x]]\n- list: c\n- list: d\n  items: []\n");
    expect(errors(l).map((d) => `${d.code}@${at(d)}`)).toEqual([
      "schema@f1.yaml:2:10",
      "schema@f1.yaml:4:11",
      "schema@f1.yaml:5:3",
    ]);
    expect([...l.result.ruleset.lists.keys()]).toEqual(["d"]);
  });

  test("[L2] a list name no condition can use gets invalid_name", () => {
    const l = load(
      '- list: "my list"\n  items: [a]\n- list: "a,b"\n  items: [a]\n- list: ok_name-1.2\n  items: [a]\n',
    );
    const names = l.diags.filter((d) => d.code === "invalid_name");
    expect(names.map((d) => [d.severity, at(d)])).toEqual([
      ["warning", "f1.yaml:1:9"],
      ["warning", "f1.yaml:3:9"],
    ]);
  });

  test("[L3] an item with its own quotes is the string between them", () => {
    const l = load(
      `- list: l\n  items: ['"a b"', "c", '''d''']\n` + ruleYaml("R", "evt.type = open and proc.name in (l)"),
    );
    noErrors(l);
    expect(l.result.ruleset.lists.get("l")?.values).toEqual(["a b", "c", "d"]);
    expect(holds(rule(l, "R"), { "evt.type": "open", "proc.name": "a b" })).toBe(true);
  });

  test("[L4] a list named in a list expands when defined before it, at every depth", () => {
    const l = load(
      y(`
      - list: a
        items: [x]
      - list: b
        items: [a, y]
      - list: c
        items: [b, z]
      `) + ruleYaml("R", "evt.type = open and proc.name in (c)"),
    );
    noErrors(l);
    expect(l.result.ruleset.lists.get("c")?.values).toEqual(["x", "y", "z"]);
    expect(cond(l, "R")).toBe("(evt.type = open and proc.name in (x, y, z))");
  });

  test("[L4] a list defined after the list that names it stays a plain value", () => {
    const l = load(
      "- list: outer\n  items: [inner, c]\n- list: inner\n  items: [a]\n" +
        ruleYaml("R", "evt.type = open and proc.name in (outer, inner)"),
    );
    noErrors(l);
    expect(l.result.ruleset.lists.get("outer")?.values).toEqual(["inner", "c"]);
    expect(cond(l, "R")).toBe("(evt.type = open and proc.name in (inner, c, a))");
  });

  test("[L4] an append moves the list's visibility: a list defined before the append now expands", () => {
    const l = load(
      "- list: outer\n  items: [c]\n- list: inner\n  items: [a]\n",
      "- list: outer\n  items: [inner]\n  override:\n    items: append\n" +
        ruleYaml("R", "evt.type = open and proc.name in (outer)"),
    );
    noErrors(l);
    expect(l.result.ruleset.lists.get("outer")?.values).toEqual(["c", "a"]);
  });

  test("[L4] the included list contributes its final items (appends in later files included)", () => {
    const l = load(
      "- list: a\n  items: [x]\n- list: b\n  items: [a, y]\n" +
        ruleYaml("R", "evt.type = open and proc.name in (b)"),
      "- list: a\n  items: [w]\n  override:\n    items: append\n",
    );
    noErrors(l);
    expect(cond(l, "R")).toBe("(evt.type = open and proc.name in (x, w, y))");
  });

  test("[L5] list names expand wherever a set is expected, in their final form, whatever the order", () => {
    const l = load(
      ruleYaml("in_parens", "evt.type = open and proc.name in (l)") +
        ruleYaml("in_bare", "evt.type = open and proc.name in l") +
        ruleYaml("mixed", "evt.type = open and proc.name in (x, l)") +
        ruleYaml("pmatch", "evt.type = open and fd.name pmatch (paths)") +
        ruleYaml("intersects", "evt.type = open and proc.aname intersects (l)") +
        ruleYaml("modified", "evt.type = open and proc.name startswith oneof (l)") +
        ruleYaml("single", "evt.type = open and proc.name = l") +
        "- list: l\n  items: [a, b]\n- list: paths\n  items: [/tmp]\n",
      "- list: l\n  items: [c]\n  override:\n    items: append\n",
    );
    noErrors(l);
    expect(cond(l, "in_parens")).toBe("(evt.type = open and proc.name in (a, b, c))");
    expect(cond(l, "in_bare")).toBe("(evt.type = open and proc.name in (a, b, c))");
    expect(cond(l, "mixed")).toBe("(evt.type = open and proc.name in (x, a, b, c))");
    expect(cond(l, "pmatch")).toBe("(evt.type = open and fd.name pmatch (/tmp))");
    expect(cond(l, "intersects")).toBe("(evt.type = open and proc.aname intersects (a, b, c))");
    expect(cond(l, "modified")).toBe("(evt.type = open and proc.name startswith oneof (a, b, c))");
    expect(cond(l, "single")).toBe("(evt.type = open and proc.name = l)");
  });

  test("[L6] a quoted name in a condition is a string, not a list", () => {
    const l = load(
      "- list: l\n  items: [a]\n" + ruleYaml("R", "evt.type = open and proc.name in (l, 'l', \"l\")"),
    );
    noErrors(l);
    expect(cond(l, "R")).toBe("(evt.type = open and proc.name in (a, l, l))");
  });

  test("[L7] a list nothing uses gets unused_list at its first definition; a list used only in a list counts as used", () => {
    const l = load(
      "- list: lonely\n  items: [a]\n- list: inner\n  items: [b]\n- list: outer\n  items: [inner]\n" +
        ruleYaml("R", "evt.type = open and proc.name in (outer)"),
      "- list: lonely\n  items: [c]\n  override:\n    items: append\n",
    );
    const unused = l.diags.filter((d) => d.code === "unused_list");
    expect(unused.map((d) => [d.severity, at(d), d.context[0]])).toEqual([
      ["warning", "f1.yaml:1:3", "list 'lonely'"],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Macros

describe("macros", () => {
  test("[M1] a macro needs a non-empty condition; a name that is no identifier gets invalid_name", () => {
    const l = load("- macro: m\n- macro: m2\n  condition: ''\n- macro: 1m\n  condition: evt.type = open\n");
    expect(errors(l).map((d) => `${d.code}@${at(d)}`)).toEqual(["schema@f1.yaml:1:3", "schema@f1.yaml:3:14"]);
    const name = one(l, "invalid_name");
    expect([name.severity, at(name)]).toEqual(["warning", "f1.yaml:4:10"]);
  });

  test("[M2] a macro may use macros first defined before it", () => {
    const l = load(
      "- macro: base\n  condition: evt.type = open\n- macro: top\n  condition: base and proc.name = x\n" +
        ruleYaml("R", "top"),
    );
    noErrors(l);
    expect(cond(l, "R")).toBe("(evt.type = open and proc.name = x)");
  });

  test("[M2] using a macro defined later is undefined_macro at the name", () => {
    const l = load(
      "- macro: top\n  condition: proc.name = x and base\n- macro: base\n  condition: evt.type = open\n" +
        ruleYaml("R", "top"),
    );
    const e = errors(l);
    expect(e[0].code).toBe("undefined_macro");
    expect(at(e[0])).toBe("f1.yaml:2:32");
    expect(e[0].message).toContain("used before it is defined");
    expect(e[0].context).toEqual(["macro 'top'", "condition"]);
    expect(l.rules.has("R")).toBe(false);
  });

  test("[M2] an append moves the using macro's visibility, so the later macro becomes usable", () => {
    const l = load(
      "- macro: top\n  condition: evt.type = open\n- macro: base\n  condition: proc.name = x\n",
      "- macro: top\n  condition: and base\n  override:\n    condition: append\n" + ruleYaml("R", "top"),
    );
    noErrors(l);
    expect(cond(l, "R")).toBe("(evt.type = open and proc.name = x)");
  });

  test("[M3] a used macro is taken in its final form, with later redefinitions and appends", () => {
    const l = load(
      "- macro: base\n  condition: evt.type = open\n- macro: top\n  condition: base and proc.name = x\n" +
        ruleYaml("R", "top"),
      "- macro: base\n  condition: evt.type = openat\n- macro: base\n  condition: or evt.type = openat2\n  override:\n    condition: append\n",
    );
    noErrors(l);
    expect(cond(l, "R")).toBe("((evt.type = openat or evt.type = openat2) and proc.name = x)");
    expect(types(rule(l, "R"))).toEqual(["openat", "openat2"]);
  });

  test("[M4] a name that is no macro is undefined_macro at its line and column", () => {
    const l = load(ruleYaml("R", "evt.type = open and\n    not no_such_macro"));
    const d = one(l, "undefined_macro");
    expect(at(d)).toBe("f1.yaml:4:9");
    expect(d.message).toContain("no_such_macro");
    expect(l.rules.size).toBe(0);
  });

  test("[M5] a macro that uses itself through a redefinition is a macro_cycle", () => {
    const l = load(
      "- macro: m\n  condition: evt.type = open\n- macro: m\n  condition: m and proc.name = x\n" +
        ruleYaml("R", "m"),
    );
    const d = one(l, "macro_cycle");
    expect(d.severity).toBe("error");
    expect(at(d)).toBe("f1.yaml:4:14");
    expect(l.rules.size).toBe(0);
  });

  test("[M5] a macro that uses itself through an append is a macro_cycle", () => {
    const l = load(
      "- macro: m\n  condition: evt.type = open\n" + ruleYaml("R", "m"),
      "- macro: m\n  condition: or m\n  override:\n    condition: append\n",
    );
    expect(at(one(l, "macro_cycle"))).toBe("f2.yaml:2:17");
  });

  test("[M6] a macro with an error is reported at its definition; rules using it are left out", () => {
    const l = load(
      "- macro: bad\n  condition: proc.nmae = x\n" +
        ruleYaml("R1", "evt.type = open and bad") +
        ruleYaml("R2", "evt.type = open and bad"),
    );
    const e = errors(l);
    expect(e.map((d) => `${d.code}@${at(d)}`)).toEqual([
      "unknown_field@f1.yaml:2:14",
      "undefined_macro@f1.yaml:5:34",
      "undefined_macro@f1.yaml:10:34",
    ]);
    expect(e[1].message).toContain("has errors");
    expect(l.rules.size).toBe(0);
  });

  test("[M7] a macro nothing uses gets unused_macro; one used only by an unused macro counts as used", () => {
    const l = load(
      "- macro: inner\n  condition: proc.name = x\n- macro: outer\n  condition: inner\n- macro: used\n  condition: evt.type = open\n" +
        ruleYaml("R", "used"),
    );
    const unused = l.diags.filter((d) => d.code === "unused_macro");
    expect(unused.map((d) => [d.severity, at(d), d.context[0]])).toEqual([
      ["warning", "f1.yaml:3:3", "macro 'outer'"],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Rules

describe("rules", () => {
  test("[R1] a rule definition without condition, output, desc or priority is a schema error at the entry", () => {
    for (const missing of ["condition", "output", "desc", "priority"]) {
      const keys: Record<string, string> = {
        desc: "d",
        condition: "evt.type = open",
        output: "o",
        priority: "info",
      };
      delete keys[missing];
      const text = `- rule: R\n${Object.entries(keys)
        .map(([k, v]) => `  ${k}: ${v}\n`)
        .join("")}`;
      const l = load(text);
      const d = one(l, "schema");
      expect(at(d)).toBe("f1.yaml:1:3");
      expect(d.message).toContain(`'${missing}'`);
      expect(l.rules.size).toBe(0);
    }
  });

  test("[R2] priorities are read in any case, info included; others are invalid_priority at the value", () => {
    const names: [string, Priority][] = [
      ["EMERGENCY", "Emergency"],
      ["alert", "Alert"],
      ["Critical", "Critical"],
      ["ERROR", "Error"],
      ["warning", "Warning"],
      ["NOTICE", "Notice"],
      ["informational", "Informational"],
      ["INFO", "Informational"],
      ["debug", "Debug"],
    ];
    const l = load(names.map(([p], i) => ruleYaml(`R${i}`, "evt.type = open", "", p)).join(""));
    noErrors(l);
    expect(names.map((_, i) => rule(l, `R${i}`).priority)).toEqual(names.map(([, p]) => p));
    expect(rule(l, "R0").priorityRank).toBe(0);
    expect(rule(l, "R8").priorityRank).toBe(7);

    const bad = load(ruleYaml("R", "evt.type = open", "", "urgent"));
    const d = one(bad, "invalid_priority");
    expect(at(d)).toBe("f1.yaml:5:13");
    expect(bad.rules.size).toBe(0);
  });

  test("[R3] keys not given take their defaults", () => {
    const l = load(ruleYaml("R", "evt.type = open"));
    const r = rule(l, "R");
    expect(r.source).toBe("syscall");
    expect(r.enabled).toBe(true);
    expect(r.tags).toEqual([]);
    expect(r.definition.exceptions).toEqual([]);
    expect(r.capture).toBe(false);
    expect(r.captureDuration).toBe(0);
    expect(r.definition.warnEvttypes).toBe(true);
    expect(r.definition.skipIfUnknownFilter).toBe(false);
  });

  test("[R3] given keys are used", () => {
    const l = load(
      ruleYaml(
        "R",
        "evt.type = open",
        "  source: syscall\n  enabled: false\n  tags: [a]\n  capture: true\n  capture_duration: 5000\n  warn_evttypes: false\n  skip-if-unknown-filter: true\n",
      ),
    );
    const r = rule(l, "R");
    expect([r.enabled, r.tags, r.capture, r.captureDuration]).toEqual([false, ["a"], true, 5000]);
    expect([r.definition.warnEvttypes, r.definition.skipIfUnknownFilter]).toEqual([false, true]);
  });

  test("[R4] yes/no keys accept yaml-cpp's spellings; other values are schema errors at the value", () => {
    const yes = ["true", "True", "TRUE", "yes", "Yes", "on", "ON", "y", "Y"];
    const no = ["false", "False", "FALSE", "no", "NO", "off", "Off", "n", "N"];
    const l = load(
      [...yes, ...no].map((v, i) => ruleYaml(`R${i}`, "evt.type = open", `  enabled: ${v}\n`)).join(""),
    );
    noErrors(l);
    expect([...yes, ...no].map((_, i) => rule(l, `R${i}`).enabled)).toEqual([
      ...yes.map(() => true),
      ...no.map(() => false),
    ]);
    const bad = load(ruleYaml("R", "evt.type = open", "  enabled: maybe\n"));
    const d = one(bad, "schema");
    expect(at(d)).toBe("f1.yaml:6:12");
    expect(bad.rules.size).toBe(0);
  });

  test("[R5] the output is trimmed", () => {
    const l = load(
      "- rule: R\n  desc: d\n  condition: evt.type = open\n  output: >\n    opened %fd.name\n\n  priority: info\n",
    );
    expect(rule(l, "R").outputText).toBe("opened %fd.name");
  });

  test("[R6] tags are sorted and without duplicates", () => {
    const l = load(ruleYaml("R", "evt.type = open", "  tags: [network, T1059, container, network]\n"));
    expect(rule(l, "R").tags).toEqual(["T1059", "container", "network"]);
  });

  test("[R7] a rule may use macros and lists defined after it, in a later file", () => {
    const l = load(
      ruleYaml("R", "opens and proc.name in (names)"),
      "- macro: opens\n  condition: evt.type = open\n- list: names\n  items: [cat]\n",
    );
    noErrors(l);
    expect(cond(l, "R")).toBe("(evt.type = open and proc.name in (cat))");
  });

  test("[R8] rules are ordered by their first definition; a redefinition keeps the place", () => {
    const l = load(
      ruleYaml("A", "evt.type = open") + ruleYaml("B", "evt.type = open") + ruleYaml("C", "evt.type = open"),
      ruleYaml("A", "evt.type = close") + ruleYaml("D", "evt.type = open"),
    );
    noErrors(l);
    expect(l.result.ruleset.rules.map((r) => [r.name, r.index])).toEqual([
      ["A", 0],
      ["B", 1],
      ["C", 2],
      ["D", 4],
    ]);
    expect(types(rule(l, "A"))).toEqual(["close"]);
  });

  test("[R9] capture_duration must be a whole number", () => {
    const l = load(ruleYaml("R", "evt.type = open", "  capture_duration: 1.5\n"));
    const d = one(l, "schema");
    expect(at(d)).toBe("f1.yaml:6:21");
  });
});
