// Per-program cost of the probe from the kernel's own BPF run-time statistics
// (kernel.bpf_stats_enabled): run the open/close loop with the probe attached and report, per
// program, invocations and ns per invocation. Unlike wall-clock ratios these figures hold up on a
// busy machine (they count time inside the programs only). Needs root and bpftool.
// Usage: bun scripts/bench-capture-stats.ts WORKLOAD ITERATIONS [--prefilter] [SELECTION...]
// --prefilter: the kernel prefilter `run` derives from the default rules (the loop's read-only
// opens of a /tmp file and their closes are then dropped in the kernel).
import { reexecBenchmarkWithAllocatorSetting } from "../agent/allocator.ts";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KernelPrefilter } from "../agent/capture/open-filter.ts";
import { openLiveProbe } from "../agent/capture/probe.ts";
import { DEFAULT_RULES } from "../agent/config/embedded.ts";
import { loadRuleSources } from "../agent/rules/load/load.ts";
import { prefilterFor } from "../agent/rules/prefilter.ts";
import { RecordDecoder } from "../agent/events/decode.ts";

// The allocator setting `lanner run` and `replay` run with (agent/allocator.ts); may exec again.
reexecBenchmarkWithAllocatorSetting("run");

const [workload, iterationsArg = "300000", ...rest] = process.argv.slice(2);
const withPrefilter = rest.includes("--prefilter");
const selectionArgs = rest.filter((a) => a !== "--prefilter");
function defaultPrefilter(): KernelPrefilter {
  const rules = loadRuleSources([DEFAULT_RULES]).ruleset.rules.filter((r) => r.enabled);
  const { close, open } = prefilterFor(
    rules.map((rule) => ({ rule })),
    true,
  );
  return { close, open };
}
if (!workload) throw new Error("usage: bench-capture-stats.ts WORKLOAD [ITERATIONS] [KIND...]");
const STATS = "/proc/sys/kernel/bpf_stats_enabled";

interface ProgStats {
  name: string;
  runs: number;
  ns: number;
}

type Listed = { id: number; name?: string; run_cnt?: number; run_time_ns?: number };

function listPrograms(): Listed[] {
  return JSON.parse(Bun.spawnSync(["bpftool", "-j", "prog", "show"]).stdout.toString()) as Listed[];
}

/** Ids of the programs loaded before ours: ours are the new ones (others may load probes too,
 * rarely in the same instant). */
let preexisting = new Set<number>();

/** This process's programs, by name. */
function ownPrograms(): Map<string, ProgStats> {
  const mine = new Map<string, ProgStats>();
  for (const p of listPrograms()) {
    if (preexisting.has(p.id) || p.name === undefined || !/^(lanner_|tail_)/.test(p.name)) continue;
    mine.set(p.name, { name: p.name, runs: p.run_cnt ?? 0, ns: p.run_time_ns ?? 0 });
  }
  return mine;
}

const before = readFileSync(STATS, "utf8").trim();
writeFileSync(STATS, "1");
const dir = mkdtempSync(join(tmpdir(), "lanner-bench-"));
const target = join(dir, "target");
writeFileSync(target, "x");
try {
  const selection = selectionArgs.length > 0 ? selectionArgs : undefined;
  preexisting = new Set(listPrograms().map((p) => p.id));
  const probe = openLiveProbe({
    ringBytes: 8 << 20,
    drainIntervalMs: 10,
    batchBytes: 1 << 20,
    ...(selection ? { selection } : {}),
    ...(withPrefilter ? { prefilter: defaultPrefilter() } : {}),
  });
  const decoder = new RecordDecoder();
  probe.start((f, n) =>
    decoder.decodeFrames(
      f,
      n,
      () => {},
      (e) => {
        throw e;
      },
    ),
  );
  const start = ownPrograms();
  const proc = Bun.spawn([workload, iterationsArg, target], { stdout: "pipe" });
  const loopNs = Number((await new Response(proc.stdout).text()).trim());
  await proc.exited;
  const end = ownPrograms();
  probe.stop();
  const iterations = Number(iterationsArg);
  console.log(
    `selection: ${selection?.join(",") ?? "default"}${withPrefilter ? " + the default rules' prefilter" : ""}; ${iterations} x (openat + close); loop ${(loopNs / iterations).toFixed(0)} ns per iteration`,
  );
  for (const [name, e] of end) {
    const s = start.get(name) ?? { runs: 0, ns: 0 };
    const runs = e.runs - s.runs;
    if (runs === 0) continue;
    console.log(
      `  ${name.padEnd(16)} ${String(runs).padStart(9)} runs  ${((e.ns - s.ns) / runs).toFixed(0).padStart(5)} ns per run`,
    );
  }
  const c = probe.counters();
  console.log(
    `  records written ${c.written}, ring full ${c.ringFull}, decoded ${decoder.stats.decoded}; prefiltered: ${c.openPrefiltered} opens, ${c.prefiltered} closes`,
  );
} finally {
  writeFileSync(STATS, before);
  rmSync(dir, { recursive: true, force: true });
}
