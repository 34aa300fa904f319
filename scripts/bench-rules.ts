// Rule evaluation throughput on one core: a synthetic mix of decoded events (execs of common
// programs, opens of common and sensitive paths, exits) goes through the state tracker and the
// rule engine, with Falco's stable rules and with Lanner's default rules. Prints events/s,
// ns/event and the alerts raised, and the heap growth per event (allocation on the hot path).
//
//   node_modules/.bin/bun scripts/bench-rules.ts [--events N] [--runs R] [--json] [--ab-generated ROUNDS]
//   (--ab-generated: generated rule plans against the planner's closures, one engine of each kept
//   for the whole run, rounds of 300,000 events alternating in this process; CPU ns per event)
import { reexecBenchmarkWithAllocatorSetting } from "../agent/allocator.ts";

import { DEFAULT_RULES } from "../agent/config/embedded.ts";
import type { Event, ExecEvent, OpenEvent } from "../agent/events/types.ts";
import { RuleEngine } from "../agent/rules/engine.ts";
import { liveBinder, liveEventKey, liveText } from "../agent/rules/live.ts";
import { loadRuleSources, type RuleSource } from "../agent/rules/load/load.ts";
import type { CompiledRuleset } from "../agent/rules/load/compile.ts";
import type { EventContext } from "../agent/state/context.ts";
import { StateTracker } from "../agent/state/tracker.ts";
import { UserTable } from "../agent/state/users.ts";
import { BENCH_PATHS, BENCH_PROGRAMS } from "./bench-mix.ts";

// The allocator setting `lanner run` and `replay` run with (agent/allocator.ts); may exec again.
reexecBenchmarkWithAllocatorSetting("run");

const args = process.argv.slice(2);
// A flag's value, or the default when the flag is absent (not the first argument's value).
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const eventCount = flag("--events", 2_000_000);
const asJson = args.includes("--json");
const runs = flag("--runs", 5);

const FALCO_STABLE = `${import.meta.dir}/../../shared/falco-rules/falco_rules.yaml`;

/** A repeating mix: per process one exec, ten opens, one exit. */
function makeEvents(): Event[] {
  const events: Event[] = [];
  let t = 1_000_000;
  for (let i = 0; i < 1024; i++) {
    const [comm, exe, args] = BENCH_PROGRAMS[i % BENCH_PROGRAMS.length];
    const pid = 10_000 + i;
    // evt.num starts at 1: Falco's placeholder macros test evt.num=0 to mean "never".
    const base = { num: events.length + 1, tid: pid, pid, cut: 0 };
    const exec: ExecEvent = {
      ...base,
      kind: "execve",
      bootSec: 100,
      bootNsec: t++,
      res: 0,
      ppid: 1,
      uid: i % 3 === 0 ? 0 : 1000,
      gid: 0,
      comm,
      filename: exe,
      args: [exe, ...args],
      cgroup: i % 2 === 0 ? "/system.slice/x.service" : `/kubepods/besteffort/pod1/${"ab".repeat(32)}`,
    };
    events.push(exec);
    for (let j = 0; j < 10; j++) {
      const open: OpenEvent = {
        ...base,
        kind: "openat",
        bootSec: 100,
        bootNsec: t++,
        res: j === 9 ? -2 : 3 + j,
        dirfd: -100,
        path: BENCH_PATHS[(i + j) % BENCH_PATHS.length],
        flags: j % 4 === 0 ? 0o101 : 0,
        mode: 0o644,
        resolve: 0,
      };
      events.push(open);
    }
    events.push({ ...base, kind: "procexit", bootSec: 100, bootNsec: t++, exitCode: 0 });
  }
  return events;
}

interface Result {
  ruleset: string;
  rules: number;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  nsPerEvent: number;
  alerts: number;
  heapBytesPerEvent: number;
  allocatedBytesPerEvent: number;
}

/** The engine as `run` builds it (planned per event type); `generated` false: the planner's closures. */
function benchEngine(ruleset: CompiledRuleset, generated?: boolean): RuleEngine<EventContext> {
  return new RuleEngine(
    ruleset,
    {
      minPriority: "Debug",
      matching: "first",
      selection: [],
      planPerEventType: true,
      ...(generated === undefined ? {} : { generated }),
    },
    liveBinder,
    liveText,
    liveEventKey,
  );
}

function benchState(): StateTracker {
  return new StateTracker({
    processCapacity: 65_536,
    users: UserTable.load("/"),
    host: { hostname: "bench", clock: { offsetSec: 1_700_000_000, offsetNsec: 0 } },
    pathBases: { cwd: () => "/", fdPath: () => undefined },
  });
}

function bench(name: string, sources: RuleSource[]): Result {
  const loaded = loadRuleSources(sources);
  if (loaded.diagnostics.errorCount > 0) throw new Error(`${name}: rules do not load`);
  const engine = benchEngine(loaded.ruleset);
  const state = benchState();
  const mix = makeEvents();
  let alerts = 0;
  const onMatch = () => {
    alerts++;
  };
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const e = mix[i % mix.length];
      const ctx = state.apply(e);
      if (e.kind !== "procfork") engine.evaluate(e.kind, ctx, onMatch);
    }
  };
  run(200_000); // warm up the JIT
  // Several timed runs; the median is reported (this machine is shared, single runs are noisy).
  const timings: number[] = [];
  let heapGrowth = 0;
  for (let r = 0; r < runs; r++) {
    alerts = 0;
    Bun.gc(true);
    const heapBefore = process.memoryUsage().heapUsed;
    const start = Bun.nanoseconds();
    run(eventCount);
    timings.push((Bun.nanoseconds() - start) / 1e9);
    heapGrowth = process.memoryUsage().heapUsed - heapBefore;
  }
  timings.sort((a, b) => a - b);
  // Allocation on the hot path: heapUsed rises as objects are allocated and falls at a GC, so the
  // largest rise over short bursts is a lower bound of the bytes allocated per burst.
  const burst = 20_000;
  let maxRise = 0;
  for (let b = 0; b < 50; b++) {
    const before = process.memoryUsage().heapUsed;
    run(burst);
    maxRise = Math.max(maxRise, process.memoryUsage().heapUsed - before);
  }
  const seconds = timings[Math.floor(timings.length / 2)];
  return {
    ruleset: name,
    rules: engine.active.length,
    events: eventCount,
    seconds: Number(seconds.toFixed(3)),
    eventsPerSecond: Math.round(eventCount / seconds),
    nsPerEvent: Number(((seconds * 1e9) / eventCount).toFixed(1)),
    alerts,
    heapBytesPerEvent: Number((heapGrowth / eventCount).toFixed(2)),
    allocatedBytesPerEvent: Number((maxRise / burst).toFixed(1)),
  };
}

/**
 * Generated plans against closures on the same state tracker, each engine built once (as a
 * running agent's): rounds alternate, CPU time (process.cpuUsage) summed per side.
 */
function alternateGenerated(name: string, sources: RuleSource[], rounds: number) {
  const loaded = loadRuleSources(sources);
  const engines = [false, true].map((generated) => benchEngine(loaded.ruleset, generated));
  const state = benchState();
  const mix = makeEvents();
  let at = 0;
  const onMatch = () => {};
  const run = (engine: RuleEngine<EventContext>, n: number) => {
    for (let i = 0; i < n; i++) {
      const e = mix[at++ % mix.length];
      const ctx = state.apply(e);
      if (e.kind !== "procfork") engine.evaluate(e.kind, ctx, onMatch);
    }
  };
  for (const e of engines) run(e, 300_000); // warm up the JIT
  const cpu = [0, 0];
  for (let r = 0; r < rounds; r++)
    for (const k of [0, 1]) {
      const before = process.cpuUsage();
      run(engines[k], 300_000);
      const used = process.cpuUsage(before);
      cpu[k] += used.user + used.system;
    }
  const ns = cpu.map((us) => (us * 1000) / (rounds * 300_000));
  console.log(
    `${name}: state + rules, closures ${ns[0].toFixed(0)} ns/event, generated ${ns[1].toFixed(0)} ns/event CPU (${(ns[0] / ns[1]).toFixed(2)}x), ${rounds} alternating rounds of 300,000 events`,
  );
}

if (args.includes("--ab-generated")) {
  const rounds = flag("--ab-generated", 10);
  alternateGenerated(
    "falco stable",
    [{ name: FALCO_STABLE, text: await Bun.file(FALCO_STABLE).text() }],
    rounds,
  );
  alternateGenerated("lanner default", [DEFAULT_RULES], rounds);
  process.exit(0);
}

const results = [
  bench("falco stable (falco_rules.yaml)", [
    { name: FALCO_STABLE, text: await Bun.file(FALCO_STABLE).text() },
  ]),
  bench("lanner default", [DEFAULT_RULES]),
];
if (asJson) console.log(JSON.stringify(results, null, 2));
else {
  for (const r of results) {
    console.log(
      `${r.ruleset}: ${r.rules} rules, ${r.events} events in ${r.seconds}s = ${r.eventsPerSecond.toLocaleString("en")} events/s (${r.nsPerEvent} ns/event), ${r.alerts} alerts, allocated >= ${r.allocatedBytesPerEvent} B/event, retained ${r.heapBytesPerEvent} B/event`,
    );
  }
}
