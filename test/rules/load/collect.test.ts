// Applying items in load order (load/collect.ts): version requirements and which definition
// wins (define, append, override, enable), as docs/RULES.md states it: tests named after the ids.

import { describe, expect, test } from "bun:test";
import { explainRule, renderExplanation } from "../../../agent/cli/rules-explain.ts";
import { BUILTIN_PLUGINS, ENGINE_VERSION } from "../../../agent/rules/load/collect.ts";

import { y, ruleYaml, load, errors, rule, cond, one, at, noErrors, history } from "./helpers.ts";

// ---------------------------------------------------------------------------------------------
// 2. Version requirements

describe("version requirements", () => {
  test("[V1] a whole number N means 0.N.0; x.y.z is taken as is; anything else is a schema error", () => {
    expect(load("- required_engine_version: 57\n").result.ruleset.requiredEngineVersion).toBe("0.57.0");
    expect(load("- required_engine_version: 0.50.1\n").result.ruleset.requiredEngineVersion).toBe("0.50.1");
    const l = load("- required_engine_version: abc\n");
    const d = one(l, "schema");
    expect(at(d)).toBe("f1.yaml:1:28");
    expect(d.context).toEqual(["required_engine_version"]);
  });

  test("[V2] a newer version or another major version is an engine_version error", () => {
    expect(ENGINE_VERSION).toBe("0.63.0");
    const l = load(
      y(`
      - required_engine_version: 64
      - required_engine_version: 0.63.1
      - required_engine_version: 1.0.0
      - required_engine_version: 0.63.0
      - required_engine_version: 0.10.0
      `),
    );
    expect(errors(l).map((d) => `${d.code}@${d.line}:${d.column}`)).toEqual([
      "engine_version@1:28",
      "engine_version@2:28",
      "engine_version@3:28",
    ]);
  });

  test("[V3] the highest accepted requirement is kept", () => {
    const l = load(
      "- required_engine_version: 0.57.0\n",
      "- required_engine_version: 30\n- required_engine_version: 0.60.2\n",
    );
    noErrors(l);
    expect(l.result.ruleset.requiredEngineVersion).toBe("0.60.2");
  });

  test("[V4] the container plugin is provided as 0.7.0: a requirement up to that version, or an alternative naming it, is met", () => {
    expect(BUILTIN_PLUGINS).toEqual({ container: "0.7.0" });
    const l = load(
      y(`
      - required_plugin_versions:
          - name: container
            version: 0.4.0
          - name: container
            version: 0.7.0
          - name: json
            version: 0.1.0
            alternatives:
              - name: container
                version: 0.2.0
      `),
    );
    expect(l.diags).toEqual([]);
  });

  test("[V5] an unknown plugin or a newer container plugin is a plugin_version error", () => {
    const l = load(
      y(`
      - required_plugin_versions:
          - name: k8saudit
            version: 0.1.0
          - name: container
            version: 0.8.0
          - name: container
            version: 1.0.0
      `),
    );
    const e = errors(l);
    expect(e.map((d) => d.code)).toEqual(["plugin_version", "plugin_version", "plugin_version"]);
    expect(e[0].message).toContain("k8saudit 0.1.0");
    expect(e[1].message).toContain("container 0.8.0");
    expect(e[0].line).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------
// 6. Which definition wins

describe("which definition wins", () => {
  test("[W1] redefining a rule replaces it completely: omitted keys return to their defaults, appends are gone", () => {
    const l = load(
      ruleYaml(
        "R",
        "evt.type = open",
        "  enabled: false\n  tags: [a]\n  exceptions:\n    - name: e\n      fields: proc.name\n      values: [x]\n",
      ),
      "- rule: R\n  condition: and proc.name = y\n  override:\n    condition: append\n",
      ruleYaml("R", "evt.type = close", "", "ERROR"),
    );
    noErrors(l);
    const r = rule(l, "R");
    expect(cond(l, "R")).toBe("evt.type = close");
    expect([r.enabled, r.tags, r.priority, r.definition.exceptions.length]).toEqual([true, [], "Error", 0]);
    expect(history(r)).toEqual(["define", "append[condition]", "redefine"]);
  });

  test("[W1] redefining a list or a macro replaces it", () => {
    const l = load(
      "- list: l\n  items: [a, b]\n- macro: m\n  condition: evt.type = open\n" +
        ruleYaml("R", "m and proc.name in (l)"),
      "- list: l\n  items: [c]\n- macro: m\n  condition: evt.type = close\n",
    );
    noErrors(l);
    expect(cond(l, "R")).toBe("(evt.type = close and proc.name in (c))");
    expect(history(l.result.ruleset.lists.get("l")!)).toEqual(["define", "redefine"]);
    expect(history(l.result.ruleset.macros.get("m")!)).toEqual(["define", "redefine"]);
  });

  test("[W2] a redefinition keeps the index and moves the visibility", () => {
    // 'top' is first defined before 'base', so at first it cannot use it; its redefinition after
    // 'base' can, and keeps the first position.
    const l = load(
      "- macro: top\n  condition: evt.type = open\n- macro: base\n  condition: proc.name = x\n- macro: top\n  condition: evt.type = open and base\n" +
        ruleYaml("R", "top"),
    );
    noErrors(l);
    const top = l.result.ruleset.macros.get("top")?.definition;
    expect([top?.index, top?.visibility]).toEqual([0, 2]);
    expect(cond(l, "R")).toBe("(evt.type = open and proc.name = x)");
  });

  test("[W3] keys that cannot be appended or replaced, and unknown operations, are invalid_override", () => {
    const base = ruleYaml("R", "evt.type = open");
    const cases: [string, string, string][] = [
      ["  priority: debug\n  override:\n    priority: append\n", "f1.yaml:9:5", "cannot be appended"],
      ["  source: syscall\n  override:\n    source: replace\n", "f1.yaml:9:5", "cannot be replaced"],
      ["  priority: debug\n  override:\n    priority: merge\n", "f1.yaml:9:15", "invalid override operation"],
      ["  override: [condition]\n  condition: x\n", "f1.yaml:7:13", "must be a mapping"],
    ];
    for (const [entry, where, message] of cases) {
      const l = load(`${base}- rule: R\n${entry}`);
      const d = one(l, "invalid_override");
      expect([at(d), d.severity]).toEqual([where, "error"]);
      expect(d.message).toContain(message);
      expect(history(rule(l, "R"))).toEqual(["define"]);
    }
    const list = load(
      "- list: l\n  items: [a]\n- list: l\n  items: [b]\n  override:\n    condition: replace\n",
    );
    expect(at(one(list, "invalid_override"))).toBe("f1.yaml:6:5");
    const macro = load(
      "- macro: m\n  condition: evt.type = open\n- macro: m\n  condition: x\n  override:\n    items: append\n",
    );
    expect(at(one(macro, "invalid_override"))).toBe("f1.yaml:6:5");
  });

  test("[W3] every appendable and replaceable rule key is accepted", () => {
    const l = load(
      ruleYaml("R", "evt.type = open"),
      y(`
      - rule: R
        condition: and proc.name = x
        output: "(more)"
        desc: more
        tags: [t]
        exceptions:
          - name: e
            fields: proc.name
            values: [z]
        override:
          condition: append
          output: append
          desc: append
          tags: append
          exceptions: append
      - rule: R
        priority: debug
        enabled: false
        warn_evttypes: false
        skip-if-unknown-filter: true
        capture: true
        capture_duration: 10
        override:
          priority: replace
          enabled: replace
          warn_evttypes: replace
          skip-if-unknown-filter: replace
          capture: replace
          capture_duration: replace
      `),
    );
    noErrors(l);
    const r = rule(l, "R");
    expect(history(r)).toEqual([
      "define",
      "append[condition,output,desc,tags,exceptions]",
      "replace[priority,enabled,warnEvttypes,skipIfUnknownFilter,capture,captureDuration]",
    ]);
    expect([r.priority, r.enabled, r.capture, r.captureDuration]).toEqual(["Debug", false, true, 10]);
    expect([r.definition.warnEvttypes, r.definition.skipIfUnknownFilter]).toEqual([false, true]);
  });

  test("[W4] appending to a list adds items at the end; replace sets them", () => {
    const l = load(
      "- list: l\n  items: [a]\n" + ruleYaml("R", "evt.type = open and proc.name in (l)"),
      "- list: l\n  items: [b]\n  override:\n    items: append\n- list: l\n  items: [c]\n  append: true\n",
    );
    expect(errors(l)).toEqual([]);
    expect(l.result.ruleset.lists.get("l")?.values).toEqual(["a", "b", "c"]);

    const replaced = load(
      "- list: l\n  items: [a]\n" + ruleYaml("R", "evt.type = open and proc.name in (l)"),
      "- list: l\n  items: [b]\n  override:\n    items: replace\n",
    );
    expect(replaced.result.ruleset.lists.get("l")?.values).toEqual(["b"]);
    expect(history(replaced.result.ruleset.lists.get("l")!)).toEqual(["define", "replace[items]"]);
  });

  test("[W4] appending to a macro joins the text with a blank; the result is read as one condition", () => {
    const l = load(
      "- macro: m\n  condition: evt.type = open and proc.name = a\n" + ruleYaml("R", "m"),
      "- macro: m\n  condition: or proc.name = b\n  override:\n    condition: append\n",
    );
    noErrors(l);
    expect(cond(l, "R")).toBe("((evt.type = open and proc.name = a) or proc.name = b)");
    expect(l.result.ruleset.macros.get("m")?.definition.pieces.map((p) => p.text)).toEqual([
      "evt.type = open and proc.name = a",
      "or proc.name = b",
    ]);
    const replaced = load(
      "- macro: m\n  condition: evt.type = open\n" + ruleYaml("R", "m"),
      "- macro: m\n  condition: evt.type = close\n  override:\n    condition: replace\n",
    );
    expect(cond(replaced, "R")).toBe("evt.type = close");
    expect(history(replaced.result.ruleset.macros.get("m")!)).toEqual(["define", "replace[condition]"]);
  });

  test("[W5] appending to a rule adds condition, output and desc after a blank and unites the tags", () => {
    const l = load(
      ruleYaml("R", "evt.type = open", "  tags: [b, a]\n"),
      y(`
      - rule: R
        condition: and proc.name = x
        output: "(more=%fd.name)"
        desc: Also more.
        tags: [c, a]
        override:
          condition: append
          output: append
          desc: append
          tags: append
      `),
    );
    noErrors(l);
    const r = rule(l, "R");
    expect(r.conditionText).toBe("evt.type = open and proc.name = x");
    expect(r.outputText).toBe("R fired (proc=%proc.name) (more=%fd.name)");
    expect(r.desc).toBe("test rule R Also more.");
    expect(r.tags).toEqual(["a", "b", "c"]);
  });

  test("[W6] replacing rule keys sets them; tags and exceptions are replaced as a whole", () => {
    const l = load(
      ruleYaml(
        "R",
        "evt.type = open",
        "  tags: [a, b]\n  exceptions:\n    - name: e\n      fields: proc.name\n      values: [x]\n",
      ),
      y(`
      - rule: R
        condition: evt.type = close
        output: new output
        desc: new desc
        tags: [c]
        exceptions:
          - name: f
            fields: fd.name
            values: [/tmp/x]
        override:
          condition: replace
          output: replace
          desc: replace
          tags: replace
          exceptions: replace
      `),
    );
    noErrors(l);
    const r = rule(l, "R");
    expect([r.outputText, r.desc, r.tags]).toEqual(["new output", "new desc", ["c"]]);
    expect(cond(l, "R")).toBe("(evt.type = close and not fd.name in (/tmp/x))");
  });

  test("[W7] one entry may append and replace: appends first, then replaces, two history records", () => {
    const l = load(
      ruleYaml("R", "evt.type = open", "  tags: [x]\n"),
      "- rule: R\n  condition: and proc.name = z\n  priority: critical\n  tags: [y]\n  override:\n    condition: append\n    priority: replace\n    tags: replace\n",
    );
    noErrors(l);
    const r = rule(l, "R");
    expect(cond(l, "R")).toBe("(evt.type = open and proc.name = z)");
    expect([r.priority, r.tags]).toEqual(["Critical", ["y"]]);
    expect(history(r)).toEqual(["define", "append[condition]", "replace[priority,tags]"]);
  });

  test("[W8] a key present but not under override is invalid_override at the key", () => {
    const l = load(
      ruleYaml("R", "evt.type = open"),
      "- rule: R\n  condition: and proc.name = x\n  output: other\n  override:\n    condition: append\n",
    );
    const d = one(l, "invalid_override");
    expect(at(d)).toBe("f2.yaml:3:11");
    expect(d.message).toContain("'output'");
    expect(cond(l, "R")).toBe("evt.type = open");
  });

  test("[W9] a key listed under override but absent from the entry is invalid_override", () => {
    const l = load(
      ruleYaml("R", "evt.type = open"),
      "- rule: R\n  priority: debug\n  override:\n    condition: append\n    priority: replace\n",
    );
    const d = one(l, "invalid_override");
    expect(at(d)).toBe("f2.yaml:4:5");
    expect(d.message).toContain("'condition' is not defined");
    expect(rule(l, "R").priority).toBe("Informational");
  });

  test("[W10] override and append: true together are invalid_override; the entry is left out", () => {
    const l = load(
      ruleYaml("R", "evt.type = open"),
      "- rule: R\n  condition: and proc.name = x\n  append: true\n  override:\n    condition: append\n",
    );
    const d = one(l, "invalid_override");
    expect(at(d)).toBe("f2.yaml:1:3");
    expect(cond(l, "R")).toBe("evt.type = open");
    const list = load(
      "- list: l\n  items: [a]\n- list: l\n  items: [b]\n  append: true\n  override:\n    items: append\n",
    );
    expect(at(one(list, "invalid_override"))).toBe("f1.yaml:3:3");
    expect(list.result.ruleset.lists.get("l")?.values).toEqual(["a"]);
  });

  test("[W11] append: true appends a list's items, a macro's condition, a rule's condition and exceptions, with a deprecated warning", () => {
    const l = load(
      "- list: l\n  items: [a]\n- macro: m\n  condition: evt.type = open\n" +
        ruleYaml(
          "R",
          "m and proc.name in (l)",
          "  exceptions:\n    - name: e\n      fields: fd.name\n      values: [/a]\n",
        ),
      y(`
      - list: l
        items: [b]
        append: true
      - macro: m
        condition: or evt.type = close
        append: true
      - rule: R
        condition: and fd.num >= 0
        exceptions:
          - name: e
            values: [/b]
        append: true
      `),
    );
    noErrors(l);
    const deprecated = l.diags.filter((d) => d.code === "deprecated");
    expect(deprecated.map((d) => [d.severity, at(d)])).toEqual([
      ["warning", "f2.yaml:3:11"],
      ["warning", "f2.yaml:6:11"],
      ["warning", "f2.yaml:12:11"],
    ]);
    expect(cond(l, "R")).toBe(
      "(((evt.type = open or evt.type = close) and proc.name in (a, b) and fd.num >= 0) and not fd.name in (/a, /b))",
    );
    expect(history(rule(l, "R"))).toEqual(["define", "append[condition,exceptions]"]);
  });

  test("[W12] an append: true rule entry with nothing to append gets empty_append", () => {
    const l = load(ruleYaml("R", "evt.type = open"), "- rule: R\n  append: true\n");
    const d = one(l, "empty_append");
    expect([d.severity, at(d)]).toEqual(["warning", "f2.yaml:1:3"]);
    expect(errors(l)).toEqual([]);
    expect(cond(l, "R")).toBe("evt.type = open");
  });

  test("[W13] append, replace or enabled without an earlier definition is no_previous_definition", () => {
    const l = load(
      y(`
      - list: l
        items: [a]
        override:
          items: append
      - macro: m
        condition: and x
        override:
          condition: append
      - rule: R
        priority: debug
        override:
          priority: replace
      - rule: S
        enabled: false
      `),
      ruleYaml("R", "evt.type = open"),
    );
    const e = errors(l);
    expect(e.map((d) => `${d.code}@${at(d)}@${d.context[0]}`)).toEqual([
      "no_previous_definition@f1.yaml:1:3@list 'l'",
      "no_previous_definition@f1.yaml:5:3@macro 'm'",
      "no_previous_definition@f1.yaml:9:3@rule 'R'",
      "no_previous_definition@f1.yaml:13:3@rule 'S'",
    ]);
    expect(rule(l, "R").priority).toBe("Informational");
  });

  test("[W13] when the earlier definition had an error, only that error is reported", () => {
    const l = load(
      "- rule: R\n  desc: d\n  condition: evt.type = open\n  priority: info\n",
      "- rule: R\n  condition: and proc.name = x\n  override:\n    condition: append\n- rule: R\n  enabled: false\n",
    );
    expect(errors(l).map((d) => `${d.code}@${at(d)}`)).toEqual(["schema@f1.yaml:1:3"]);
  });

  test("[W14] an enabled-only entry switches an existing rule, with a deprecated warning; override enabled: replace does the same", () => {
    const l = load(
      ruleYaml("A", "evt.type = open") + ruleYaml("B", "evt.type = open", "  enabled: false\n"),
      "- rule: A\n  enabled: false\n- rule: B\n  enabled: true\n  override:\n    enabled: replace\n",
    );
    expect(errors(l)).toEqual([]);
    expect([rule(l, "A").enabled, rule(l, "B").enabled]).toEqual([false, true]);
    const d = one(l, "deprecated");
    expect([d.severity, at(d)]).toEqual(["warning", "f2.yaml:1:3"]);
    expect(history(rule(l, "A"))).toEqual(["define", "enable[enabled]"]);
    expect(history(rule(l, "B"))).toEqual(["define", "replace[enabled]"]);
  });

  test("[W15] redefining a rule with another source is a schema error; the redefinition is left out", () => {
    const l = load(
      ruleYaml("R", "evt.type = open"),
      ruleYaml("R", "evt.type = close", "  source: k8s_audit\n"),
    );
    const d = one(l, "schema");
    expect(at(d)).toBe("f2.yaml:1:3");
    expect(d.message).toContain("different source");
    expect(cond(l, "R")).toBe("evt.type = open");
  });

  test("[W16] the history records action, keys, file and line; explain marks the winning definition", () => {
    const l = load(
      "- list: l\n  items: [a]\n" + ruleYaml("R", "evt.type = open and proc.name in (l)"),
      "- list: l\n  items: [b]\n  override:\n    items: append\n" +
        ruleYaml("R", "evt.type = openat and proc.name in (l)"),
      "- rule: R\n  condition: and fd.num >= 0\n  priority: debug\n  override:\n    condition: append\n    priority: replace\n- rule: R\n  enabled: false\n",
    );
    noErrors(l);
    const r = rule(l, "R");
    const e = explainRule(r, l.result.ruleset);
    expect(e.history).toEqual([
      { action: "define", file: "f1.yaml", line: 3 },
      { action: "redefine", file: "f2.yaml", line: 5 },
      { action: "append", keys: ["condition"], file: "f3.yaml", line: 1 },
      { action: "replace", keys: ["priority"], file: "f3.yaml", line: 1 },
      { action: "enable", keys: ["enabled"], file: "f3.yaml", line: 7 },
    ]);
    expect(e.lists).toEqual([
      {
        name: "l",
        history: [
          { action: "define", file: "f1.yaml", line: 1 },
          { action: "append", keys: ["items"], file: "f2.yaml", line: 1 },
        ],
      },
    ]);
    const text = renderExplanation(e);
    expect(text).toContain(
      "f2.yaml:5  redefined (replaces the whole earlier definition)  <- this definition wins",
    );
    expect(text).not.toContain("f1.yaml:3  defined  <- this definition wins");
  });
});
