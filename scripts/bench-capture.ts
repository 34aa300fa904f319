// Capture benchmark driver (run by scripts/bench-capture): times an openat+close loop without
// the probe, with the probe recording the default selection (openat and close both recorded, as
// the fd table needs) while this process drains and decodes the ring, and with the probe attached
// but neither syscall selected (the in-kernel drop floor), in alternating rounds; prints the
// figures docs/PERFORMANCE.md quotes.
// Usage: bun scripts/bench-capture.ts WORKLOAD ITERATIONS ROUNDS
import { reexecBenchmarkWithAllocatorSetting } from "../agent/allocator.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release, tmpdir } from "node:os";
import { join } from "node:path";
import type { KernelPrefilter } from "../agent/capture/open-filter.ts";
import { type KernelCounters, openLiveProbe } from "../agent/capture/probe.ts";
import { DEFAULT_RULES } from "../agent/config/embedded.ts";
import { loadRuleSources } from "../agent/rules/load/load.ts";
import { prefilterFor } from "../agent/rules/prefilter.ts";
import { RecordDecoder } from "../agent/events/decode.ts";
import type { Event } from "../agent/events/types.ts";

// The allocator setting `lanner run` and `replay` run with (agent/allocator.ts); may exec again.
reexecBenchmarkWithAllocatorSetting("run");

const [workload, iterationsArg = "2000000", roundsArg = "3"] = process.argv.slice(2);
if (!workload) throw new Error("usage: bench-capture.ts WORKLOAD [ITERATIONS] [ROUNDS]");
const iterations = Number(iterationsArg);
const rounds = Number(roundsArg);
// The close prefilter on, as `run` has it with rules that do not run on close (it drops nothing in
// this loop: every close is of an fd whose openat was recorded).
const PROBE = {
  ringBytes: 8 << 20,
  drainIntervalMs: 10,
  batchBytes: 1 << 20,
  prefilter: { close: true, open: "all" as const },
};

// The prefilter `run` derives from the default rules: the loop's read-only opens of a /tmp file
// match none of its entries, so they (and their closes) are dropped in the kernel.
const DEFAULT_PREFILTER: KernelPrefilter = (() => {
  const { close, open } = prefilterFor(
    loadRuleSources([DEFAULT_RULES])
      .ruleset.rules.filter((r) => r.enabled)
      .map((rule) => ({ rule })),
    true,
  );
  return { close, open };
})();

const dir = mkdtempSync(join(tmpdir(), "lanner-bench-"));
const target = join(dir, "target");
writeFileSync(target, "x");

/** CPU seconds (user + system) the last workload run used: on a busy machine this moves far less
 * than wall time, which also counts waiting for a CPU. */
let lastWorkloadCpu = 0;
const workloadCpu: { baseline: number[]; probe: number[]; unselected: number[]; prefiltered: number[] } = {
  baseline: [],
  probe: [],
  unselected: [],
  prefiltered: [],
};

/** Runs the workload without blocking the event loop (the drain timer must keep firing). */
async function runWorkload(): Promise<number> {
  const proc = Bun.spawn([workload, String(iterations), target], { stdout: "pipe" });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`workload failed: ${out}`);
  const usage = proc.resourceUsage();
  lastWorkloadCpu = usage === undefined ? 0 : Number(usage.cpuTime.user + usage.cpuTime.system) / 1e6;
  return Number(out.trim()) / 1e9;
}

interface ProbeRun {
  seconds: number;
  decoded: number;
  workloadEvents: number;
  sinkSeconds: number;
  cpuSeconds: number;
  wallSeconds: number;
  counters: KernelCounters;
}

async function runWithProbe(selection?: string[], prefilter?: KernelPrefilter): Promise<ProbeRun> {
  const probe = openLiveProbe({
    ...PROBE,
    ...(selection === undefined ? {} : { selection }),
    ...(prefilter === undefined ? {} : { prefilter }),
  });
  const decoder = new RecordDecoder();
  let workloadEvents = 0;
  let sinkSeconds = 0;
  const onEvent = (e: Event): void => {
    if (e.kind === "openat" && e.path === target) workloadEvents++;
  };
  const onError = (e: Error): void => {
    throw e;
  };
  const cpuBefore = process.cpuUsage();
  const wallStart = performance.now();
  probe.start((frames, count) => {
    const t = performance.now();
    decoder.decodeFrames(frames, count, onEvent, onError);
    sinkSeconds += (performance.now() - t) / 1e3;
  });
  const seconds = await runWorkload();
  probe.stop();
  const wallSeconds = (performance.now() - wallStart) / 1e3;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    seconds,
    decoded: decoder.stats.decoded,
    workloadEvents,
    sinkSeconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    wallSeconds,
    counters: probe.counters(),
  };
}

const median = (xs: number[]): number => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number, digits = 3): string => n.toFixed(digits);

const baseline: number[] = [];
const withProbe: ProbeRun[] = [];
const unselected: ProbeRun[] = [];
const prefiltered: ProbeRun[] = [];
try {
  await runWorkload(); // warm the page cache and the dentry
  for (let r = 0; r < rounds; r++) {
    baseline.push(await runWorkload());
    workloadCpu.baseline.push(lastWorkloadCpu);
    withProbe.push(await runWithProbe());
    workloadCpu.probe.push(lastWorkloadCpu);
    unselected.push(await runWithProbe(["execve"]));
    workloadCpu.unselected.push(lastWorkloadCpu);
    prefiltered.push(await runWithProbe(undefined, DEFAULT_PREFILTER));
    workloadCpu.prefiltered.push(lastWorkloadCpu);
    const p = withProbe.at(-1)!;
    const u = unselected.at(-1)!;
    console.log(
      `round ${r + 1}: baseline ${fmt(baseline.at(-1)!)} s, with probe ${fmt(p.seconds)} s, ` +
        `unselected ${fmt(u.seconds)} s, decoded ${p.decoded} (workload opens ${p.workloadEvents}, ` +
        `closes ${p.counters.writtenByKind.close ?? 0}), ring full ${p.counters.ringFull}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Rounds alternate baseline and probe, so each pair saw similar machine load: the median of
// the per-round ratios is the headline; the ratio of the fastest runs is the least noisy bound.
const ratios = withProbe.map((p, i) => p.seconds / baseline[i]);
const base = median(baseline);
const probed = median(withProbe.map((p) => p.seconds));
const bestBase = Math.min(...baseline);
const bestProbe = Math.min(...withProbe.map((p) => p.seconds));
const mid = withProbe.toSorted((a, b) => a.seconds - b.seconds)[Math.floor(withProbe.length / 2)];
console.log("");
console.log(
  `machine: ${cpus()[0]?.model ?? "?"} x${cpus().length}, kernel ${release()}, ${new Date().toISOString()}`,
);
console.log(`workload: ${iterations} x (openat + close) of one file, ${rounds} rounds; both recorded`);
console.log(
  `baseline:   median ${fmt(base)} s, best ${fmt(bestBase)} s (${fmt((bestBase / iterations) * 1e9, 0)} ns per iteration)`,
);
console.log(
  `with probe: median ${fmt(probed)} s, best ${fmt(bestProbe)} s (${fmt((bestProbe / iterations) * 1e9, 0)} ns per iteration)`,
);
const cpuRatio = (xs: number[]) => xs.map((x, i) => x / workloadCpu.baseline[i]);
console.log(
  `workload CPU (user+sys): baseline median ${fmt(median(workloadCpu.baseline))} s; with probe ${fmt(median(cpuRatio(workloadCpu.probe)), 2)}x ` +
    `(${cpuRatio(workloadCpu.probe)
      .map((r) => fmt(r, 2))
      .join(", ")}); unselected ${fmt(median(cpuRatio(workloadCpu.unselected)), 2)}x (${cpuRatio(
      workloadCpu.unselected,
    )
      .map((r) => fmt(r, 2))
      .join(", ")})`,
);
const unselectedRatios = unselected.map((p, i) => p.seconds / baseline[i]);
console.log(
  `unselected: median ${fmt(median(unselected.map((p) => p.seconds)))} s, ratio ${fmt(median(unselectedRatios), 2)}x ` +
    `(${unselectedRatios.map((r) => fmt(r, 2)).join(", ")}): probe attached, openat/close dropped at the selection map`,
);
const prefilteredRatios = prefiltered.map((p, i) => p.seconds / baseline[i]);
const pre = prefiltered.toSorted((a, b) => a.seconds - b.seconds)[Math.floor(prefiltered.length / 2)];
console.log(
  `prefiltered: median ${fmt(median(prefiltered.map((p) => p.seconds)))} s, ratio ${fmt(median(prefilteredRatios), 2)}x ` +
    `(${prefilteredRatios.map((r) => fmt(r, 2)).join(", ")}); workload CPU ${fmt(median(cpuRatio(workloadCpu.prefiltered)), 2)}x: ` +
    `the default rules' prefilter, the loop's opens dropped in tail_open (median round: ${pre.counters.openPrefiltered} opens ` +
    `and ${pre.counters.prefiltered} closes prefiltered, ${pre.workloadEvents} workload opens recorded)`,
);
console.log(
  `ratio:      ${fmt(median(ratios), 2)}x median of per-round ratios (${ratios.map((r) => fmt(r, 2)).join(", ")}); best/best ${fmt(bestProbe / bestBase, 2)}x`,
);
console.log(`median probe round (by workload time):`);
console.log(`  events decoded:        ${mid.decoded} (${mid.workloadEvents} from the workload)`);
console.log(
  `  drained+decoded rate:  ${fmt(mid.decoded / mid.wallSeconds / 1e6, 2)} M events/s over the round's wall time`,
);
console.log(
  `  decode-only rate:      ${fmt(mid.decoded / mid.sinkSeconds / 1e6, 2)} M events/s (${fmt(mid.sinkSeconds, 2)} s in the sink)`,
);
console.log(`  agent CPU:             ${fmt(mid.cpuSeconds, 2)} s over ${fmt(mid.wallSeconds, 2)} s wall`);
console.log(
  `  kernel counters:       seen ${mid.counters.seen}, written ${mid.counters.written}, ` +
    `ring full ${mid.counters.ringFull}, too big ${mid.counters.tooBig}`,
);
