// The ring-count variant of the capture benchmark (run by scripts/bench-capture): the
// openat+close loop on every online CPU at once (one copy pinned to each), without the probe, with
// one ring shared by all CPUs (engine.modern_ebpf.cpus_for_each_buffer 0, the default) and with
// one ring per CPU (1), in alternating rounds. Figures that hold on a shared machine: the
// workloads' CPU seconds against the baseline's, and the agent's CPU seconds per million events.
// Usage: bun scripts/bench-capture-rings.ts WORKLOAD ITERATIONS ROUNDS
import { reexecBenchmarkWithAllocatorSetting } from "../agent/allocator.ts";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLiveProbe } from "../agent/capture/probe.ts";
import { parseCpuList } from "../agent/capture/rings.ts";
import { RecordDecoder } from "../agent/events/decode.ts";

// The allocator setting `lanner run` and `replay` run with (agent/allocator.ts); may exec again.
reexecBenchmarkWithAllocatorSetting("run");

const [workload, iterationsArg = "2000000", roundsArg = "3"] = process.argv.slice(2);
if (!workload) throw new Error("usage: bench-capture-rings.ts WORKLOAD [ITERATIONS] [ROUNDS]");
const iterations = Number(iterationsArg);
const rounds = Number(roundsArg);
const online = parseCpuList(readFileSync("/sys/devices/system/cpu/online", "utf8"), "online");
// Opens and closes all recorded (the prefilter keeps every close of a recorded open), as the main
// benchmark's "with probe" rounds.
const PROBE = {
  ringBytes: 8 << 20,
  drainIntervalMs: 10,
  batchBytes: 1 << 20,
  prefilter: { close: true, open: "all" as const },
};

const dir = mkdtempSync(join(tmpdir(), "lanner-bench-rings-"));
const target = join(dir, "target");
writeFileSync(target, "x");

/** One copy of the loop per online CPU, pinned; the copies' CPU seconds (user + system) summed. */
async function runPinned(): Promise<number> {
  const procs = online.map((cpu) =>
    Bun.spawn(["taskset", "-c", String(cpu), workload, String(iterations), target], { stdout: "pipe" }),
  );
  let cpuSeconds = 0;
  for (const proc of procs) {
    const out = await new Response(proc.stdout).text();
    if ((await proc.exited) !== 0) throw new Error(`workload failed: ${out}`);
    const usage = proc.resourceUsage();
    cpuSeconds += usage === undefined ? 0 : Number(usage.cpuTime.user + usage.cpuTime.system) / 1e6;
  }
  return cpuSeconds;
}

interface Run {
  workloadCpu: number;
  agentCpu: number;
  decoded: number;
  ringFull: number;
  rings: number;
}

async function runWithProbe(cpusPerRing: number): Promise<Run> {
  const probe = openLiveProbe({ ...PROBE, cpusPerRing });
  const rings = probe.rings().length;
  const decoder = new RecordDecoder();
  const ignore = (): void => {};
  const cpuBefore = process.cpuUsage();
  probe.start((frames, count) => decoder.decodeFrames(frames, count, ignore, ignore));
  const workloadCpu = await runPinned();
  probe.stop();
  const cpu = process.cpuUsage(cpuBefore);
  return {
    workloadCpu,
    agentCpu: (cpu.user + cpu.system) / 1e6,
    decoded: decoder.stats.decoded,
    ringFull: probe.counters().ringFull,
    rings,
  };
}

const median = (xs: number[]): number => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const fmt = (n: number, digits = 2): string => n.toFixed(digits);

const baseline: number[] = [];
const shared: Run[] = [];
const perCpu: Run[] = [];
try {
  await runPinned(); // warm up
  for (let r = 0; r < rounds; r++) {
    baseline.push(await runPinned());
    shared.push(await runWithProbe(0));
    perCpu.push(await runWithProbe(1));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log("");
console.log(
  `rings variant: ${online.length} copies of the loop (${iterations} iterations each), one pinned to each online CPU, ${rounds} rounds; load ${readFileSync("/proc/loadavg", "utf8").trim()}`,
);
for (const [name, runs] of [
  ["one shared ring (cpus_for_each_buffer 0)", shared],
  ["one ring per CPU (cpus_for_each_buffer 1)", perCpu],
] as const) {
  const ratios = runs.map((x, i) => x.workloadCpu / (baseline[i] as number));
  const perMillion = runs.map((x) => (x.agentCpu / x.decoded) * 1e6);
  console.log(
    `  ${name}: ${runs[0]?.rings} ring(s); workload CPU ${fmt(median(ratios))}x baseline (${ratios.map((x) => fmt(x)).join(", ")}); ` +
      `agent ${fmt(median(perMillion))} CPU s per million events; decoded median ${median(runs.map((x) => x.decoded))}; ` +
      `ring full ${runs.map((x) => x.ringFull).join(", ")}`,
  );
}
