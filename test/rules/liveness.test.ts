// Rule liveness (docs/RULES.md [T9]): which rules wait for event types the probe does not capture
// or test fields Lanner does not fill, reported per rule by `rules validate`, `rules explain` and
// `run`. Falco's stable rules are the acceptance case: before the capture was widened, 9 of their
// 25 rules waited for events that never arrived (issue #15).

import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { KIND_BY_ID } from "../../agent/events/schema.ts";
import { ALL_EVENT_TYPES } from "../../agent/rules/condition/evttypes.ts";
import { FieldRegistry } from "../../agent/rules/fields/registry.ts";
import {
  addLivenessWarnings,
  capturedEventTypes,
  countFullyLive,
  ruleLiveness,
  rulesetLiveness,
} from "../../agent/rules/liveness.ts";
import { DiagnosticBag } from "../../agent/rules/load/diagnostics.ts";
import { loadRuleFiles, loadRuleSources } from "../../agent/rules/load/load.ts";
import { liveUnavailable } from "../capture/live-support.ts";

const ROOT = resolve(import.meta.dir, "../..");
const BUN = join(ROOT, "node_modules/.bin/bun");
const STABLE = resolve(ROOT, "../shared/falco-rules/falco_rules.yaml");

/** What the probe captured before issue #15 widened it: exec, open and exit. */
const FIRST_PROBE = new Set(["execve", "execveat", "open", "openat", "openat2", "procexit"]);

function load(text: string) {
  const r = loadRuleSources([{ name: "t.yaml", text }]);
  expect(r.diagnostics.errorCount).toBe(0);
  return r;
}

/** A field Falco defines that Lanner does not fill today (found in the registry, not assumed). */
function anUnfilledStringField(): string {
  for (const def of FieldRegistry.default().all()) {
    if (def.binder === undefined && def.info.type === "CHARBUF" && def.info.arg === "none" && !def.isList)
      return def.name;
  }
  throw new Error("every string field is filled: pick another way to test unfilled_field");
}

/** An event type a rule may name that the probe does not capture today. */
function anUncapturedType(): string {
  for (const t of ["page_fault", "switch", "signaldeliver"]) {
    if (ALL_EVENT_TYPES.has(t) && !capturedEventTypes().has(t)) return t;
  }
  throw new Error("all candidate event types are captured");
}

describe("captured event types", () => {
  test("are the event kinds of the record schema", () => {
    expect([...capturedEventTypes()].sort()).toEqual([...new Set(KIND_BY_ID.values())].sort());
    expect(capturedEventTypes().has("execve")).toBe(true);
    expect(capturedEventTypes().has("openat")).toBe(true);
  });
});

describe("ruleLiveness", () => {
  test("a rule on captured types testing filled fields is fully live", () => {
    const r = load(`
- rule: Shell
  desc: d
  condition: evt.type = execve and proc.name = bash and not user.name in (root)
  output: "%proc.name"
  priority: WARNING
`);
    const l = ruleLiveness(r.ruleset.rules[0]);
    expect(l).toEqual({
      rule: "Shell",
      uncapturedEventTypes: [],
      capturedEventTypes: ["execve"],
      unfilledFields: [],
      neverFires: false,
      fullyLive: true,
    });
  });

  test("a rule partly on uncaptured types can fire on the captured ones", () => {
    const missing = anUncapturedType();
    const r = load(`
- rule: Mixed
  desc: d
  condition: evt.type in (openat, ${missing}) and proc.name = x
  output: x
  priority: WARNING
`);
    const l = ruleLiveness(r.ruleset.rules[0]);
    expect(l.uncapturedEventTypes).toEqual([missing]);
    expect(l.capturedEventTypes).toEqual(["openat"]);
    expect(l.neverFires).toBe(false);
    expect(l.fullyLive).toBe(false);
  });

  test("a rule only on uncaptured types never fires", () => {
    const missing = anUncapturedType();
    const r = load(`
- rule: Dead
  desc: d
  condition: evt.type = ${missing}
  output: x
  priority: WARNING
`);
    const l = ruleLiveness(r.ruleset.rules[0]);
    expect(l.neverFires).toBe(true);
    expect(l.capturedEventTypes).toEqual([]);
  });

  test("unfilled fields are found in macros, exceptions, right-hand fields and transformer arguments", () => {
    const unfilled = anUnfilledStringField();
    const r = load(`
- macro: m
  condition: ${unfilled} = a
- rule: A
  desc: d
  condition: evt.type = execve and m
  output: x
  priority: WARNING
- rule: B
  desc: d
  condition: evt.type = execve and proc.name = val(${unfilled})
  output: x
  priority: WARNING
- rule: C
  desc: d
  condition: evt.type = execve and tolower(${unfilled}) = a
  output: x
  priority: WARNING
- rule: D
  desc: d
  condition: evt.type = execve
  output: x
  priority: WARNING
  exceptions:
    - name: e
      fields: [${unfilled}]
      values: [[a]]
`);
    const all = rulesetLiveness(r.ruleset);
    expect(all.map((l) => l.unfilledFields)).toEqual([[unfilled], [unfilled], [unfilled], [unfilled]]);
    expect(countFullyLive(all)).toBe(0);
  });

  test("a switched-off placeholder (evt.num = 0) and a rule on every type get no event-type finding", () => {
    const r = load(`
- macro: never_true
  condition: (evt.num=0)
- rule: Off
  desc: d
  condition: never_true and proc.name = x
  output: x
  priority: WARNING
- rule: Every
  desc: d
  condition: proc.name = x
  output: x
  priority: WARNING
  warn_evttypes: false
`);
    const [off, every] = rulesetLiveness(r.ruleset);
    expect(off.uncapturedEventTypes).toEqual([]);
    expect(off.neverFires).toBe(false);
    expect(every.capturedEventTypes).toBe("all");
    expect(every.fullyLive).toBe(true);
  });
});

describe("addLivenessWarnings", () => {
  test("one warning per finding, at the rule's line, with the documented codes", () => {
    const missing = anUncapturedType();
    const unfilled = anUnfilledStringField();
    const r = load(`- rule: Live
  desc: d
  condition: evt.type = execve
  output: x
  priority: WARNING

- rule: Both
  desc: d
  condition: evt.type = ${missing} and ${unfilled} = a
  output: x
  priority: WARNING
`);
    const bag = new DiagnosticBag();
    const all = addLivenessWarnings(r.ruleset, bag);
    expect(all.map((l) => l.fullyLive)).toEqual([true, false]);
    expect(bag.items.map((d) => [d.code, d.severity, d.context])).toEqual([
      ["uncaptured_event_type", "warning", ["rule 'Both'"]],
      ["unfilled_field", "warning", ["rule 'Both'"]],
    ]);
    expect(bag.items[0].message).toContain(missing);
    expect(bag.items[0].message).toContain("can never fire");
    expect(bag.items[1].message).toContain(unfilled);
    const d = bag.items[0];
    expect(d.location?.file.text.slice(0, d.location.offset).split("\n").length).toBe(7);
  });

  test("long lists of names are cut with a count", () => {
    const many = [...ALL_EVENT_TYPES].filter((t) => !capturedEventTypes().has(t)).slice(0, 15);
    const r = load(`
- rule: Wide
  desc: d
  condition: evt.type in (${many.join(", ")})
  output: x
  priority: WARNING
`);
    const bag = new DiagnosticBag();
    addLivenessWarnings(r.ruleset, bag);
    expect(bag.items[0].message).toContain("and 3 more");
  });
});

describe.skipIf(!existsSync(STABLE))("Falco's stable rules", () => {
  test("with the first probe's event set, exactly the 9 network/link/ptrace/module rules never fire", () => {
    const r = loadRuleFiles([STABLE]);
    expect(r.diagnostics.errorCount).toBe(0);
    const dead = rulesetLiveness(r.ruleset, FIRST_PROBE)
      .filter((l) => l.neverFires)
      .map((l) => l.rule);
    expect(dead).toEqual([
      "Contact K8S API Server From Container",
      "Create Symlink Over Sensitive Files",
      "Create Hardlink Over Sensitive Files",
      "Packet socket created in container",
      "Redirect STDOUT/STDIN to Network Connection in Container",
      "Linux Kernel Module Injection Detected",
      "PTRACE attached to process",
      "PTRACE anti-debug attempt",
      "Disallowed SSH Connection Non Standard Port",
    ]);
  });

  test("capturing symlink, link, socket, dup, ptrace, module and connect events brings them to life", () => {
    const r = loadRuleFiles([STABLE]);
    const wider = new Set([
      ...FIRST_PROBE,
      ...["symlink", "symlinkat", "link", "linkat", "socket", "dup", "dup2", "dup3"],
      ...["ptrace", "init_module", "finit_module", "connect", "sendto", "sendmsg"],
    ]);
    expect(rulesetLiveness(r.ruleset, wider).filter((l) => l.neverFires)).toEqual([]);
    expect(rulesetLiveness(r.ruleset, wider).filter((l) => l.uncapturedEventTypes.length > 0)).toEqual([]);
  });

  test("rules validate warns per rule; the summary counts the warnings", () => {
    const p = Bun.spawnSync([BUN, "agent/main.ts", "rules", "validate", "--json", STABLE], { cwd: ROOT });
    expect(p.exitCode).toBe(0);
    const out = JSON.parse(p.stdout.toString());
    const r = loadRuleFiles([STABLE]);
    const live = rulesetLiveness(r.ruleset);
    const expected = live.filter((l) => l.uncapturedEventTypes.length > 0).map((l) => l.rule);
    const warned = out.diagnostics
      .filter((d: { code: string }) => d.code === "uncaptured_event_type")
      .map((d: { context: string[] }) => d.context[0]);
    expect(warned).toEqual(expected.map((n) => `rule '${n}'`));
    expect(out.warnings).toBe(out.diagnostics.length);
  });
});

describe("rules explain shows liveness", () => {
  const dir = mkdtempSync(join(tmpdir(), "lanner-liveness-"));
  const unfilled = anUnfilledStringField();
  writeFileSync(
    join(dir, "r.yaml"),
    `- rule: Partly
  desc: d
  condition: evt.type = execve and ${unfilled} = a
  output: x
  priority: WARNING
- rule: Fully
  desc: d
  condition: evt.type = openat and proc.name = a
  output: x
  priority: WARNING
`,
  );
  const explain = (...args: string[]) =>
    Bun.spawnSync([BUN, "agent/main.ts", "rules", "explain", ...args], { cwd: ROOT });

  test("text names what is not filled, and says yes for a fully live rule", () => {
    const p = explain(join(dir, "r.yaml"));
    expect(p.exitCode).toBe(0);
    const text = p.stdout.toString();
    expect(text).toContain(`  live: no (fields not filled: ${unfilled})`);
    expect(text).toContain("  live: yes (every event type captured, every field filled)");
  });

  test("--json carries the same facts", () => {
    const p = explain("--json", join(dir, "r.yaml"), "Partly");
    const [e] = JSON.parse(p.stdout.toString());
    expect(e.liveness).toEqual({ fullyLive: false, uncapturedEventTypes: [], unfilledFields: [unfilled] });
    rmSync(dir, { recursive: true, force: true });
  });
});

describe.skipIf(liveUnavailable !== null)("run (live eBPF)", () => {
  test("logs how many loaded rules are fully live, after a warning per rule that is not", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lanner-liveness-run-"));
    const missing = anUncapturedType();
    writeFileSync(
      join(dir, "r.yaml"),
      `- rule: Live
  desc: d
  condition: evt.type = execve and proc.name = lanner-liveness-never
  output: x
  priority: WARNING
- rule: Dead
  desc: d
  condition: evt.type = ${missing}
  output: x
  priority: WARNING
`,
    );
    const proc = Bun.spawn(
      [BUN, "agent/main.ts", "run", "-r", join(dir, "r.yaml"), "-o", "file_output.enabled=false"],
      { cwd: ROOT, stdout: "ignore", stderr: "pipe" },
    );
    let err = "";
    const decoder = new TextDecoder();
    const reader = (async () => {
      for await (const chunk of proc.stderr) err += decoder.decode(chunk, { stream: true });
    })();
    const deadline = Date.now() + 20_000;
    while (!err.includes("capture started") && proc.exitCode === null && Date.now() < deadline)
      await Bun.sleep(20);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    await reader;
    rmSync(dir, { recursive: true, force: true });
    expect(err).toContain("uncaptured_event_type");
    const line = err.split("\n").find((l) => l.includes("rule liveness")) ?? "";
    expect(line).toMatch(/loaded[=:" ]+2\b/);
    expect(line).toMatch(/fully_live[=:" ]+1\b/);
  }, 40_000); // waits up to 20 s for "capture started" (state seeding is slow on a loaded machine)
});
