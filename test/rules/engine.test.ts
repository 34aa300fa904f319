// The rule engine at run time (agent/rules/engine.ts): `rules:` selection, the priority
// threshold, `first`/`all` matching in first-definition order, the index by event type, match
// counters, eventTypes(), and macro results shared within one event. Events are Maps of field
// values read through a counting binder, so the tests see exactly which fields were read.

import { describe, expect, test } from "bun:test";
import type { FieldBinder } from "../../agent/rules/condition/plan.ts";
import {
  type EngineOptions,
  RuleEngine,
  type RuleSelectionStep,
  selectRules,
} from "../../agent/rules/engine.ts";
import type { FieldValue } from "../../agent/rules/fields/values.ts";
import type { CompiledRuleset } from "../../agent/rules/load/compile.ts";
import { loadRuleSources } from "../../agent/rules/load/load.ts";

type Ctx = Map<string, FieldValue>;

/** Compiles rule files; any error fails the test. */
function ruleset(...texts: string[]): CompiledRuleset {
  const { ruleset, diagnostics } = loadRuleSources(
    texts.map((text, i) => ({ name: `rules-${i}.yaml`, text })),
  );
  const errors = diagnostics.items.filter((d) => d.severity === "error").map((d) => d.message);
  expect(errors).toEqual([]);
  return ruleset;
}

/** A Map binder that counts how often each field is read. */
function countingBinder(): { bind: FieldBinder<Ctx>; reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const bind: FieldBinder<Ctx> = (field) => (ctx) => {
    reads.set(field.display, (reads.get(field.display) ?? 0) + 1);
    return ctx.get(field.display);
  };
  return { bind, reads };
}

const DEFAULTS: EngineOptions = { minPriority: "Debug", matching: "all", selection: [] };

function engine(rs: CompiledRuleset, options: Partial<EngineOptions> = {}, eventKey?: (ctx: Ctx) => unknown) {
  const { bind, reads } = countingBinder();
  return { engine: new RuleEngine<Ctx>(rs, { ...DEFAULTS, ...options }, bind, undefined, eventKey), reads };
}

const event = (fields: Record<string, FieldValue>): Ctx => new Map(Object.entries(fields));

/** Names of the rules that fire on an event, in the order onMatch saw them. */
function fired(e: RuleEngine<Ctx>, ctx: Ctx): string[] {
  const out: string[] = [];
  const n = e.evaluate(ctx.get("evt.type") as string, ctx, (r) => out.push(r.rule.name));
  expect(n).toBe(out.length);
  return out;
}

function rule(
  name: string,
  condition: string,
  extra: { priority?: string; tags?: string[]; enabled?: boolean } = {},
) {
  return [
    `- rule: ${name}`,
    "  desc: test rule",
    `  condition: ${condition}`,
    `  output: ${name} fired`,
    `  priority: ${extra.priority ?? "WARNING"}`,
    ...(extra.tags === undefined ? [] : [`  tags: [${extra.tags.join(", ")}]`]),
    ...(extra.enabled === undefined ? [] : [`  enabled: ${extra.enabled}`]),
    "",
  ].join("\n");
}

describe("rules: selection", () => {
  const rs = ruleset(
    rule("Read shadow", "evt.type = open", { tags: ["filesystem", "creds"] }),
    rule("Read sudoers", "evt.type = open", { tags: ["filesystem"] }),
    rule("Outbound connection", "evt.type = open", { tags: ["network"] }),
    rule("Inbound connection", "evt.type = open", { tags: ["network"], enabled: false }),
    rule("Odd.name (v2)", "evt.type = open", { tags: ["misc"] }),
  );
  const names = (steps: RuleSelectionStep[]) => [...selectRules(rs.rules, steps)].sort();

  test.each<[string, RuleSelectionStep[], string[]]>([
    [
      "no steps: each rule's own enabled flag",
      [],
      ["Odd.name (v2)", "Outbound connection", "Read shadow", "Read sudoers"],
    ],
    [
      "disable * then enable a tag",
      [
        { action: "disable", rule: "*" },
        { action: "enable", tag: "network" },
      ],
      ["Inbound connection", "Outbound connection"],
    ],
    [
      "enable a tag then disable *: the later step wins",
      [
        { action: "enable", tag: "network" },
        { action: "disable", rule: "*" },
      ],
      [],
    ],
    ["disable by tag", [{ action: "disable", tag: "filesystem" }], ["Odd.name (v2)", "Outbound connection"]],
    ["a wildcard prefix", [{ action: "disable", rule: "Read *" }], ["Odd.name (v2)", "Outbound connection"]],
    [
      "a wildcard suffix",
      [{ action: "disable", rule: "* connection" }],
      ["Odd.name (v2)", "Read shadow", "Read sudoers"],
    ],
    [
      "a wildcard in the middle",
      [{ action: "disable", rule: "Read s*s" }],
      ["Odd.name (v2)", "Outbound connection", "Read shadow"],
    ],
    [
      "an exact name",
      [{ action: "enable", rule: "Inbound connection" }],
      ["Inbound connection", "Odd.name (v2)", "Outbound connection", "Read shadow", "Read sudoers"],
    ],
    [
      "regex characters in a name are literal",
      [{ action: "disable", rule: "Odd.name (v2)" }],
      ["Outbound connection", "Read shadow", "Read sudoers"],
    ],
    [
      "a dot does not match any character",
      [{ action: "disable", rule: "Odd_name (v2)" }],
      ["Odd.name (v2)", "Outbound connection", "Read shadow", "Read sudoers"],
    ],
    [
      "a name pattern matches whole names only",
      [{ action: "disable", rule: "Read" }],
      ["Odd.name (v2)", "Outbound connection", "Read shadow", "Read sudoers"],
    ],
    [
      "an unknown tag changes nothing",
      [{ action: "disable", tag: "nope" }],
      ["Odd.name (v2)", "Outbound connection", "Read shadow", "Read sudoers"],
    ],
    [
      "rule and tag in one step: either selects",
      [{ action: "disable", rule: "Read shadow", tag: "network" }],
      ["Odd.name (v2)", "Read sudoers"],
    ],
  ])("%s", (_, steps, expected) => {
    expect(names(steps)).toEqual(expected);
  });

  test("the engine runs only the selected rules", () => {
    const { engine: e } = engine(rs, {
      selection: [
        { action: "disable", rule: "*" },
        { action: "enable", tag: "network" },
      ],
    });
    expect(e.active.map((a) => a.rule.name)).toEqual(["Outbound connection", "Inbound connection"]);
    expect(fired(e, event({ "evt.type": "open" }))).toEqual(["Outbound connection", "Inbound connection"]);
  });
});

describe("priority threshold", () => {
  const rs = ruleset(
    rule("emergency", "evt.type = open", { priority: "EMERGENCY" }),
    rule("error", "evt.type = open", { priority: "ERROR" }),
    rule("warning", "evt.type = open", { priority: "WARNING" }),
    rule("notice", "evt.type = open", { priority: "NOTICE" }),
    rule("info", "evt.type = open", { priority: "INFO" }),
    rule("debug", "evt.type = open", { priority: "DEBUG" }),
  );

  test.each<[EngineOptions["minPriority"], string[]]>([
    ["Debug", ["emergency", "error", "warning", "notice", "info", "debug"]],
    ["Informational", ["emergency", "error", "warning", "notice", "info"]],
    ["Warning", ["emergency", "error", "warning"]],
    ["Error", ["emergency", "error"]],
    ["Emergency", ["emergency"]],
  ])("minPriority %s keeps %p", (minPriority, expected) => {
    const { engine: e } = engine(rs, { minPriority });
    expect(e.active.map((a) => a.rule.name)).toEqual(expected);
    expect(fired(e, event({ "evt.type": "open" }))).toEqual(expected);
  });

  test("a rule enabled by selection is still below the threshold", () => {
    const { engine: e } = engine(rs, {
      minPriority: "Error",
      selection: [{ action: "enable", rule: "debug" }],
    });
    expect(e.active.map((a) => a.rule.name)).toEqual(["emergency", "error"]);
  });
});

describe("first vs all, in first-definition order", () => {
  const base = [
    rule("A", "evt.type = open and fd.name startswith /etc"),
    rule("B", "evt.type = open and fd.name = /etc/shadow"),
    rule("C", "evt.type = open"),
  ].join("");
  // A later file adds D, then redefines A: A keeps its place (first), with its new condition.
  const later = [
    rule("D", "evt.type = open and fd.name = /etc/shadow"),
    rule("A", "evt.type = open and fd.name = /etc/shadow and proc.name = cat"),
  ].join("");
  const rs = ruleset(base, later);

  test("load order is the first definition's", () => {
    expect(rs.rules.map((r) => [r.name, r.index])).toEqual([
      ["A", 0],
      ["B", 1],
      ["C", 2],
      ["D", 3],
    ]);
  });

  test.each<[string, Record<string, FieldValue>, string[], string[]]>([
    ["all four match", { "fd.name": "/etc/shadow", "proc.name": "cat" }, ["A", "B", "C", "D"], ["A"]],
    [
      "the redefined A no longer matches /etc/passwd",
      { "fd.name": "/etc/passwd", "proc.name": "cat" },
      ["C"],
      ["C"],
    ],
    ["A's new condition needs cat", { "fd.name": "/etc/shadow", "proc.name": "vim" }, ["B", "C", "D"], ["B"]],
    ["only the catch-all", { "fd.name": "/tmp/x" }, ["C"], ["C"]],
  ])("%s", (_, fields, all, first) => {
    const ctx = event({ "evt.type": "open", ...fields });
    expect(fired(engine(rs, { matching: "all" }).engine, ctx)).toEqual(all);
    expect(fired(engine(rs, { matching: "first" }).engine, ctx)).toEqual(first);
  });

  test("`first` stops evaluating after the first match", () => {
    const { engine: e, reads } = engine(rs, { matching: "first" });
    fired(e, event({ "evt.type": "open", "fd.name": "/etc/shadow", "proc.name": "cat" }));
    // Only A ran: fd.name and proc.name were read once each.
    expect(reads.get("fd.name")).toBe(1);
    expect(reads.get("proc.name")).toBe(1);
  });

  test("a rule redefined with a lower priority keeps its place but is filtered by the threshold", () => {
    const rs2 = ruleset(
      rule("X", "evt.type = open", { priority: "ERROR" }) + rule("Y", "evt.type = open"),
      rule("X", "evt.type = open", { priority: "DEBUG" }),
    );
    expect(
      engine(rs2, { minPriority: "Warning", matching: "first" }).engine.active.map((a) => a.rule.name),
    ).toEqual(["Y"]);
  });
});

describe("event-type index", () => {
  const rs = ruleset(
    rule("opens", "evt.type in (open, openat) and fd.name = /etc/shadow"),
    rule("execs", "evt.type = execve and proc.name = nc"),
    rule("not-exec", "evt.type != execve and proc.pname = sshd"),
  );

  test("candidates are the rules that can match the type, in load order", () => {
    const { engine: e } = engine(rs);
    const names = (t: string) => e.candidates(t).map((a) => a.rule.name);
    expect(names("open")).toEqual(["opens", "not-exec"]);
    expect(names("openat")).toEqual(["opens", "not-exec"]);
    expect(names("execve")).toEqual(["execs"]);
    expect(names("procexit")).toEqual(["not-exec"]);
    // The index is built once per type and reused.
    expect(e.candidates("open")).toBe(e.candidates("open"));
  });

  test("a rule is never evaluated for other event types", () => {
    const { engine: e, reads } = engine(rs);
    for (let i = 0; i < 5; i++)
      fired(
        e,
        event({ "evt.type": "execve", "proc.name": "bash", "fd.name": "/etc/shadow", "proc.pname": "sshd" }),
      );
    expect(reads.get("fd.name")).toBeUndefined();
    expect(reads.get("proc.pname")).toBeUndefined();
    expect(reads.get("proc.name")).toBe(5);
    // evt.type itself was checked by "execs" only.
    expect(reads.get("evt.type")).toBe(5);
  });

  test("an event whose type no rule names is tested against nothing", () => {
    const { engine: e, reads } = engine(ruleset(rule("opens", "evt.type = open and fd.name = /x")));
    expect(fired(e, event({ "evt.type": "execve", "fd.name": "/x" }))).toEqual([]);
    expect(reads.size).toBe(0);
  });

  test("eventTypes() is the union over active rules", () => {
    expect(engine(rs, { selection: [{ action: "disable", rule: "not-exec" }] }).engine.eventTypes()).toEqual(
      new Set(["open", "openat", "execve"]),
    );
  });

  test("eventTypes() of a rule with `evt.type !=` is every other type", () => {
    const types = engine(rs, { selection: [{ action: "disable", rule: "execs" }] }).engine.eventTypes();
    if (types === "all") throw new Error("expected a set");
    expect(types.has("procexit")).toBe(true);
    expect(types.has("open")).toBe(true);
    expect(types.has("execve")).toBe(false);
  });

  test("eventTypes() is 'all' when an active rule does not narrow the type", () => {
    expect(engine(ruleset(rule("any", "proc.name = nc"))).engine.eventTypes()).toBe("all");
    expect(
      engine(ruleset(rule("opens", "evt.type = open"), rule("any", "proc.name = nc"))).engine.eventTypes(),
    ).toBe("all");
  });

  test("eventTypes() of no active rules is empty", () => {
    expect(engine(rs, { selection: [{ action: "disable", rule: "*" }] }).engine.eventTypes()).toEqual(
      new Set(),
    );
  });

  test("a rule switched off by evt.num = 0 runs on no type", () => {
    const { engine: e } = engine(ruleset(rule("never", "evt.num = 0 and proc.name = x")));
    expect(e.eventTypes()).toEqual(new Set());
    expect(e.candidates("open")).toEqual([]);
  });
});

describe("match counters", () => {
  test("each rule counts the alerts it produced", () => {
    const rs = ruleset(
      rule("shadow", "evt.type = open and fd.name = /etc/shadow"),
      rule("any open", "evt.type = open"),
    );
    const all = engine(rs, { matching: "all" }).engine;
    const first = engine(rs, { matching: "first" }).engine;
    const events = ["/etc/shadow", "/etc/hosts", "/etc/shadow", "/tmp/x"].map((f) =>
      event({ "evt.type": "open", "fd.name": f }),
    );
    for (const ctx of events) {
      fired(all, ctx);
      fired(first, ctx);
    }
    expect(all.active.map((a) => [a.rule.name, a.matches])).toEqual([
      ["shadow", 2],
      ["any open", 4],
    ]);
    expect(first.active.map((a) => [a.rule.name, a.matches])).toEqual([
      ["shadow", 2],
      ["any open", 2],
    ]);
  });

  test("evaluate returns the number of matches", () => {
    const rs = ruleset(
      rule("a", "evt.type = open"),
      rule("b", "evt.type = open"),
      rule("c", "evt.type = execve"),
    );
    const ctx = event({ "evt.type": "open" });
    expect(engine(rs, { matching: "all" }).engine.evaluate("open", ctx, () => {})).toBe(2);
    expect(engine(rs, { matching: "first" }).engine.evaluate("open", ctx, () => {})).toBe(1);
    expect(engine(rs, { matching: "all" }).engine.evaluate("procexit", ctx, () => {})).toBe(0);
  });
});

describe("macro results shared within one event", () => {
  const rs = ruleset(
    [
      "- macro: is_shell",
      "  condition: proc.name in (bash, sh, zsh)",
      "",
      rule("shell reads shadow", "evt.type = open and is_shell and fd.name = /etc/shadow"),
      rule("shell reads hosts", "evt.type = open and is_shell and fd.name = /etc/hosts"),
      rule("shell writes", "evt.type = open and is_shell and evt.is_open_write = true"),
    ].join("\n"),
  );
  const byNum = (ctx: Ctx) => ctx.get("evt.num");

  test("with an eventKey the macro's fields are read once per event, for every rule", () => {
    const { engine: e, reads } = engine(rs, {}, byNum);
    const ctx = event({ "evt.type": "open", "evt.num": 1, "proc.name": "bash", "fd.name": "/etc/hosts" });
    expect(fired(e, ctx)).toEqual(["shell reads hosts"]);
    expect(reads.get("proc.name")).toBe(1);
    expect(reads.get("fd.name")).toBe(2);
  });

  test("without an eventKey each rule evaluates the macro again", () => {
    const { engine: e, reads } = engine(rs);
    const ctx = event({ "evt.type": "open", "evt.num": 1, "proc.name": "bash", "fd.name": "/etc/hosts" });
    expect(fired(e, ctx)).toEqual(["shell reads hosts"]);
    expect(reads.get("proc.name")).toBe(3);
  });

  test("the next event recomputes the macro, and its new result is used", () => {
    const { engine: e, reads } = engine(rs, {}, byNum);
    const shell = event({ "evt.type": "open", "evt.num": 1, "proc.name": "sh", "fd.name": "/etc/shadow" });
    const notShell = event({
      "evt.type": "open",
      "evt.num": 2,
      "proc.name": "cat",
      "fd.name": "/etc/shadow",
    });
    const shellAgain = event({
      "evt.type": "open",
      "evt.num": 3,
      "proc.name": "zsh",
      "fd.name": "/etc/shadow",
    });
    expect(fired(e, shell)).toEqual(["shell reads shadow"]);
    expect(fired(e, notShell)).toEqual([]);
    expect(fired(e, shellAgain)).toEqual(["shell reads shadow"]);
    expect(reads.get("proc.name")).toBe(3);
    expect(e.active.map((a) => a.matches)).toEqual([2, 0, 0]);
  });

  test("the key decides: the same key means the same event, even if the fields differ", () => {
    // This is the contract: a caller must give each event its own key (the live binding uses the
    // event object, new for every event).
    const { engine: e } = engine(rs, {}, byNum);
    expect(
      fired(e, event({ "evt.type": "open", "evt.num": 7, "proc.name": "bash", "fd.name": "/etc/shadow" })),
    ).toEqual(["shell reads shadow"]);
    expect(
      fired(e, event({ "evt.type": "open", "evt.num": 7, "proc.name": "cat", "fd.name": "/etc/shadow" })),
    ).toEqual(["shell reads shadow"]);
  });

  test("a macro under `not` shares the same cached result", () => {
    const rs2 = ruleset(
      [
        "- macro: trusted",
        "  condition: proc.name = apt",
        "",
        rule("untrusted open", "evt.type = open and not trusted"),
        rule("trusted open", "evt.type = open and trusted"),
      ].join("\n"),
    );
    const { engine: e, reads } = engine(rs2, {}, byNum);
    expect(fired(e, event({ "evt.type": "open", "evt.num": 1, "proc.name": "apt" }))).toEqual([
      "trusted open",
    ]);
    expect(fired(e, event({ "evt.type": "open", "evt.num": 2, "proc.name": "curl" }))).toEqual([
      "untrusted open",
    ]);
    expect(reads.get("proc.name")).toBe(2);
  });
});
