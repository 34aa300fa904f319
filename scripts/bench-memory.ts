// Memory of the running agent (for the DaemonSet's requests and limits): starts dist/lanner with
// the embedded rules, lets it settle, then runs a burst of short processes that each open a file
// (exec + open + exit events), and reports the agent's RSS idle, its peak (VmHWM) and CPU time.
//   bun scripts/bench-memory.ts [processes per shell=10000]
import { reexecBenchmarkWithAllocatorSetting } from "../agent/allocator.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";

// The allocator setting `lanner run` and `replay` run with (agent/allocator.ts); may exec again.
reexecBenchmarkWithAllocatorSetting("run");

const perShell = Number(process.argv[2] ?? 10_000);
const lanner = join(import.meta.dir, "..", "dist", "lanner");
const agent = Bun.spawn(
  [lanner, "run", "-o", "file_output.enabled=false", "-o", "stdout_output.enabled=false"],
  {
    stdout: "ignore",
    stderr: "pipe",
  },
);
const status = () => readFileSync(`/proc/${agent.pid}/status`, "utf8");
const kib = (key: string) => Number(new RegExp(`^${key}:\\s*(\\d+) kB$`, "m").exec(status())?.[1] ?? 0);
const cpuSeconds = () => {
  const f = readFileSync(`/proc/${agent.pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
};
await Bun.sleep(3000);
const idle = kib("VmRSS");
const cpu0 = cpuSeconds();
const started = performance.now();
// Two shells, each running `cat` (exec, open, read, exit) in a loop.
const loop = `i=0; while [ $i -lt ${perShell} ]; do cat /etc/hostname >/dev/null; i=$((i+1)); done`;
await Promise.all([0, 1].map(() => Bun.spawn(["sh", "-c", loop], { stdout: "ignore" }).exited));
const processes = 2 * perShell;
const elapsed = (performance.now() - started) / 1000;
await Bun.sleep(500);
const result = {
  idle_rss_mib: +(idle / 1024).toFixed(1),
  peak_rss_mib: +(kib("VmHWM") / 1024).toFixed(1),
  after_rss_mib: +(kib("VmRSS") / 1024).toFixed(1),
  processes,
  seconds: +elapsed.toFixed(1),
  agent_cpu_seconds: +(cpuSeconds() - cpu0).toFixed(2),
};
agent.kill("SIGTERM");
await agent.exited;
console.log(JSON.stringify(result));
