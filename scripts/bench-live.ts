// Live benchmarks of the built agent (dist/lanner run), as root with the real probe:
//   1. overhead ratios, agent on then off, alternating rounds (each "on" run after unmeasured runs
//      with the agent attached, one of the loop, six builds, so start-up JIT and the /proc seed
//      are not counted): an openat+close loop (native/bench/open_loop.c) and `make -j2` of 60 small
//      C files, with Falco's stable rules; agent CPU per event of the measured run (events counted
//      by SIGUSR2 summaries around it);
//   2. load levels: openat+close offered at paced rates, events seen / delivered / dropped by the
//      kernel, up to the first rate with drops; agent CPU per million events;
//   3. memory: agent RSS idle after start, and its peak (VmHWM) after an alert burst;
//   4. event-to-alert latency p50/p99: an open of /etc/shadow by a fresh shell, from the event's
//      kernel time to the alert line read on the agent's stdout.
//   The build's overhead is also given in two factors, each from adjacent runs in alternating
//   order: the probe attached with the agent stopped against an agent started and stopped before
//   the build (no probe during it), and a warm agent running
//   against stopped (decomposedBuild); their product is the whole overhead.
// Every figure is printed with the machine, kernel and commit (scripts/bench prints the header).
//
// The ratios: this VM's speed drifts by 5-10 % between runs of seconds (its neighbours), so each
// overhead is measured over several alternating rounds and given two ways: the median of the
// rounds' on/off ratios, and best/best (the fastest "on" run over the fastest "off" run; noise
// only ever adds time, so the fastest runs are the least disturbed). With
// kernel.bpf_stats_enabled=1 every BPF program run also reads the clock twice: the header says so.
//
//   node_modules/.bin/bun scripts/bench-live.ts [--quick] [--json] [--open-close] [--build] [--factors] [--probe-factor] [--agent-factor] [--probe-alone] [--load] [--rounds N] [--warmups N] [--settle S] [--resident-control MiB]
// --build: only the build's overhead. --factors: only its two factors (decomposedBuild), then the
// probe alone. --probe-factor, --agent-factor: only that factor (probeFactor, agentFactor). --probe-alone: only the probe
// alone (probeAlone). --settle S: seconds between a fresh agent's start and the probe factor's
// build, in both of its runs (0.3): whether what the start disturbs has faded by then.
// --resident-control MiB: not Lanner, a stopped process holding that much memory against none
// (residentControl): what a process's presence costs the build on this machine.
// --load: only the load levels from 100,000/s. --warmups N: builds with the agent attached before
// each measured one (6).
// --open-close: only the open/close loop, with the prefilter as `run` sets it (the loop's
// read-only opens of a /tmp file dropped in the kernel for the default rules) and with
// engine.prefilter=false (every open and close delivered).

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { openLiveProbe } from "../agent/capture/index.ts";
import { explainCapture } from "../agent/cli/rules-explain.ts";
import { loadCliRules } from "../agent/cli/setup.ts";

const ROOT = resolve(import.meta.dir, "..");
const LANNER = join(ROOT, "dist/lanner");
const STABLE = resolve(ROOT, "../shared/falco-rules/falco_rules.yaml");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const asJson = args.includes("--json");
const openCloseOnly = args.includes("--open-close");
const roundsArg = args.indexOf("--rounds");
/** Alternating off/on rounds per overhead figure. */
const ROUNDS = quick ? 1 : roundsArg >= 0 ? Number(args[roundsArg + 1]) : 7;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error("--rounds takes a positive integer");
const BPF_STATS = "/proc/sys/kernel/bpf_stats_enabled";
const bpfStatsOn = existsSync(BPF_STATS) && readFileSync(BPF_STATS, "utf8").trim() !== "0";
if (bpfStatsOn)
  console.error(
    "warning: kernel.bpf_stats_enabled=1: every BPF program run is timed, so the probe costs more than it does on a node",
  );
/** Another agent's probe would load the "off" runs as much as the "on" ones: refuse to measure. */
function runningAgents(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // gone meanwhile
    }
    if (/(^|\/)lanner$/.test(argv[0] ?? "") && ["run", "capture"].includes(argv[1] ?? ""))
      found.push(`${pid} (${argv.slice(0, 2).join(" ")})`);
  }
  return found;
}
const others = runningAgents();
if (others.length > 0)
  throw new Error(
    `another Lanner agent is running: ${others.join(", ")}; stop it first, or every ratio is wrong`,
  );
/** Every event delivered (no kernel prefilter): what the load levels and the recording cost measure. */
const NO_PREFILTER = ["-o", "engine.prefilter=false"];
const CLK_TCK = 100;

if (!existsSync(LANNER)) throw new Error(`${LANNER} is missing: run scripts/build first`);
const work = mkdtempSync(join(tmpdir(), "lanner-bench-live-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// The agent as a child process

interface AgentStats {
  events: number;
  alerts: number;
  kernel_seen: number;
  kernel_written: number;
  kernel_drops_ring_full: number;
  kernel_drops_too_big: number;
}

/** Records the kernel dropped, for any reason. */
const kernelDrops = (s: AgentStats) => s.kernel_drops_ring_full + s.kernel_drops_too_big;

class LiveAgent {
  private proc: Subprocess<"ignore", "pipe", "pipe"> | undefined;
  private err = "";
  readonly alertLines: { line: string; at: number }[] = [];

  constructor(
    private readonly rules: string[],
    private readonly extra: string[] = [],
  ) {}

  async start(): Promise<void> {
    const argv = [LANNER, "run", "-o", "file_output.enabled=false"];
    for (const r of this.rules) argv.push("-r", r);
    argv.push(...this.extra);
    this.proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    void this.read(this.proc.stderr, (t) => {
      this.err += t;
    });
    void this.readLines(this.proc.stdout);
    const deadline = Date.now() + 30_000;
    while (!this.err.includes("capture started")) {
      if (this.proc.exitCode !== null || Date.now() > deadline)
        throw new Error(`agent did not start:\n${this.err}`);
      await Bun.sleep(20);
    }
  }

  get pid(): number {
    return (this.proc as Subprocess).pid;
  }

  /** utime + stime of the agent, in seconds. */
  cpuSeconds(): number {
    const fields = readFileSync(`/proc/${this.pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  }

  /** VmRSS and VmHWM in MiB. */
  memory(): { rss: number; hwm: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
    return { rss: kib("VmRSS") / 1024, hwm: kib("VmHWM") / 1024 };
  }

  /** The agent's counters now: SIGUSR2 makes it log a summary line, which is read back. */
  async summary(): Promise<AgentStats> {
    const seen = this.summaries();
    (this.proc as Subprocess).kill("SIGUSR2");
    const deadline = Date.now() + 10_000;
    while (this.summaries() === seen) {
      if (Date.now() > deadline) throw new Error(`no summary line after SIGUSR2:\n${this.err}`);
      await Bun.sleep(10);
    }
    const last = this.err
      .split("\n")
      .filter((l) => l.includes('"msg":"summary"'))
      .at(-1) as string;
    return JSON.parse(last) as AgentStats;
  }

  private summaries(): number {
    return this.err.split('"msg":"summary"').length - 1;
  }

  /** SIGTERM; returns the final stats line. */
  async stop(): Promise<AgentStats> {
    const p = this.proc as Subprocess;
    p.kill("SIGTERM");
    await p.exited;
    await Bun.sleep(50);
    const lines = this.err.split("\n").filter((l) => l.includes('"stats"') || l.includes("stats "));
    const last = lines.at(-1);
    if (last === undefined) throw new Error(`no stats line from the agent:\n${this.err}`);
    return JSON.parse(last.slice(last.indexOf("{"))) as AgentStats;
  }

  private async read(stream: ReadableStream<Uint8Array>, sink: (t: string) => void): Promise<void> {
    const d = new TextDecoder();
    for await (const chunk of stream) sink(d.decode(chunk, { stream: true }));
  }

  private async readLines(stream: ReadableStream<Uint8Array>): Promise<void> {
    let rest = "";
    await this.read(stream, (t) => {
      const at = Date.now();
      const parts = (rest + t).split("\n");
      rest = parts.pop() ?? "";
      for (const line of parts) if (line.startsWith("{")) this.alertLines.push({ line, at });
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Workloads

function cc(name: string, source: string): string {
  const src = join(work, `${name}.c`);
  const bin = join(work, name);
  writeFileSync(src, source);
  const r = spawnSync("cc", ["-O2", "-o", bin, src]);
  if (r.status !== 0) throw new Error(`cc ${name}: ${r.stderr}`);
  return bin;
}

const OPEN_LOOP = cc("open_loop", readFileSync(join(ROOT, "native/bench/open_loop.c"), "utf8"));
const target = join(work, "target");
writeFileSync(target, "x");

/** openat+close at RATE per second for SECONDS, paced per millisecond; prints the count done. */
const PACED = cc(
  "paced_open",
  `#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
  double rate = atof(argv[1]), seconds = atof(argv[2]); long done = 0;
  double start = now();
  for (;;) {
    double t = now() - start;
    if (t >= seconds) break;
    long due = (long)(t * rate);
    while (done < due) { int fd = openat(AT_FDCWD, argv[3], O_RDONLY); if (fd >= 0) close(fd); done++; }
    struct timespec pause = {0, 200000}; nanosleep(&pause, NULL);
  }
  printf("%ld\\n", done);
  return 0;
}
`,
);

/** One timed run of a workload: wall seconds, and its process tree's CPU seconds where measured. */
interface Timed {
  wall: number;
  cpu?: number;
}

function runOpenLoop(iterations: number): Timed {
  const r = spawnSync(OPEN_LOOP, [String(iterations), target], { encoding: "utf8" });
  return { wall: Number(r.stdout.trim()) / 1e9 };
}

const buildDir = join(work, "build");
function prepareBuild(files: number): void {
  spawnSync("mkdir", ["-p", buildDir]);
  for (let i = 0; i < files; i++)
    writeFileSync(
      join(buildDir, `f${i}.c`),
      `#include <stdio.h>\n#include <string.h>\nint f${i}(const char *s) { return (int)strlen(s) * ${i}; }\n`,
    );
  writeFileSync(join(buildDir, "main.c"), 'int f0(const char *);\nint main(void) { return f0(""); }\n');
  writeFileSync(
    join(buildDir, "Makefile"),
    "OBJS := $(patsubst %.c,%.o,$(wildcard *.c))\nprog: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n%.o: %.c\n\t$(CC) -O1 -c -o $@ $<\nclean:\n\trm -f *.o prog\n",
  );
}

/** The build's wall time, and the CPU seconds (user + system) of make and every compiler it waited for. */
function runBuild(): Timed {
  spawnSync("make", ["-s", "-C", buildDir, "clean"]);
  const t = performance.now();
  const r = Bun.spawnSync(["make", "-s", "-j2", "-C", buildDir]);
  const wall = (performance.now() - t) / 1e3;
  if (r.exitCode !== 0) throw new Error(`make failed: ${r.stderr.toString()}`);
  const cpu = r.resourceUsage.cpuTime;
  return { wall, cpu: Number(cpu.user + cpu.system) / 1e6 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** Two-sided 95 % Student t quantiles by degrees of freedom (1-30); 1.96 past them. */
const T95 = [
  12.71, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];
/** The mean of the ratios' logs and that mean's variance (the sample variance over n). */
function meanLog(xs: readonly number[]): { m: number; v: number; n: number } {
  const logs = xs.map(Math.log);
  const n = logs.length;
  const m = logs.reduce((a, b) => a + b, 0) / n;
  return { m, v: logs.reduce((a, x) => a + (x - m) ** 2, 0) / (n - 1) / n, n };
}
/** exp(m) with the 95 % interval of m (Student t with n - 1 degrees of freedom; none below 2). */
function interval(m: number, v: number, n: number): { mean: number; low: number; high: number } {
  if (n < 2) return { mean: Math.exp(m), low: Number.NaN, high: Number.NaN };
  const half = (T95[n - 2] ?? 1.96) * Math.sqrt(v);
  return { mean: Math.exp(m), low: Math.exp(m - half), high: Math.exp(m + half) };
}
/** Ratios pooled: their geometric mean and its 95 % confidence interval (t on the logs), so runs
 * of many pairs say how sure the figure is, not only where its middle lies. */
function pooledRatio(xs: readonly number[]): { mean: number; low: number; high: number } {
  const { m, v, n } = meanLog(xs);
  return interval(m, v, n);
}
/** The product of two factors measured apart, a_i and b_j: the product of their geometric means,
 * with the 95 % interval of the sum of the two mean logs (their variances add; the t value of the
 * smaller sample, which errs wide). */
function productRatio(
  a: readonly number[],
  b: readonly number[],
): { mean: number; low: number; high: number } {
  const pa = meanLog(a);
  const pb = meanLog(b);
  return interval(pa.m + pb.m, pa.v + pb.v, Math.min(pa.n, pb.n));
}
const intervalText = (p: { mean: number; low: number; high: number }) =>
  `pooled ${f(p.mean, 3)}x [95% ${f(p.low, 3)}-${f(p.high, 3)}]`;
const pooledText = (xs: readonly number[]) => intervalText(pooledRatio(xs));
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

// ---------------------------------------------------------------------------------------------
// 1. Overhead ratios

interface Ratio {
  workload: string;
  off_s: number[];
  on_s: number[];
  /** Median of the rounds' on/off ratios. */
  ratio: number;
  /** The fastest "on" run over the fastest "off" run. */
  best_ratio: number;
  /** The workload's own CPU seconds per run, off and on, where its runner measures them (the
   * build: the make tree's user + system); empty otherwise. */
  workload_cpu_off_s: number[];
  workload_cpu_on_s: number[];
  agent_cpu_s: number;
  agent_events: number;
  agent_us_per_event: number;
  /** Agent CPU seconds in each unmeasured run before the measured one, averaged over the rounds. */
  warmup_agent_cpu_s: number[];
}

async function overhead(
  workload: string,
  run: () => Timed,
  rounds: number,
  rules: string[],
  extra: string[] = [],
  warmups = 1,
): Promise<Ratio> {
  const off: number[] = [];
  const on: number[] = [];
  const cpuOff: number[] = [];
  const cpuOn: number[] = [];
  let cpu = 0;
  let events = 0;
  /** Agent CPU seconds during each warm-up run, summed over the rounds (the JIT's settling). */
  const warmupCpu: number[] = Array.from({ length: warmups }, () => 0);
  const runOff = () => {
    const offRun = run();
    off.push(offRun.wall);
    if (offRun.cpu !== undefined) cpuOff.push(offRun.cpu);
  };
  run(); // warm caches
  for (let i = 0; i < rounds; i++) {
    // The order alternates (on then off, off then on), so a drift of the machine's speed within a
    // round does not favour one side.
    const offFirst = i % 2 === 1;
    if (offFirst) runOff();
    const agent = new LiveAgent(rules, extra);
    await agent.start();
    // Unmeasured runs with the agent attached: its JIT warm-up (the runtime compiles the hot
    // paths in tiers over the first few thousand events) and the /proc seed are start-up costs,
    // paid once by an agent that runs for days, not per build.
    for (let w = 0; w < warmups; w++) {
      const before = agent.cpuSeconds();
      run();
      warmupCpu[w] += agent.cpuSeconds() - before;
    }
    await Bun.sleep(300);
    const events0 = (await agent.summary()).events;
    const cpu0 = agent.cpuSeconds();
    const onRun = run();
    on.push(onRun.wall);
    if (onRun.cpu !== undefined) cpuOn.push(onRun.cpu);
    await Bun.sleep(300);
    cpu += agent.cpuSeconds() - cpu0;
    events += (await agent.summary()).events - events0;
    await agent.stop();
    if (!offFirst) runOff();
  }
  const ratios = off.map((o, i) => on[i] / o);
  return {
    workload,
    off_s: off,
    on_s: on,
    ratio: median(ratios),
    best_ratio: Math.min(...on) / Math.min(...off),
    workload_cpu_off_s: cpuOff,
    workload_cpu_on_s: cpuOn,
    agent_cpu_s: cpu,
    agent_events: events,
    agent_us_per_event: (cpu / Math.max(1, events)) * 1e6,
    warmup_agent_cpu_s: warmupCpu.map((c) => c / rounds),
  };
}

/**
 * The build's overhead in two factors, each from adjacent runs in alternating order (ABBA), so the
 * VM's drift over the half minute of warm-up builds never enters a ratio:
 * - probe: the probe attached with the agent stopped (SIGSTOP right after start: the kernel writes
 *   every record, nothing reads them; a build's records fit the ring) against a build after an
 *   agent was started and stopped again (the same start-up disturbance, no probe);
 * - agent: one agent, warmed by `warmups` builds, running against stopped (SIGSTOP during the
 *   build, SIGCONT after it, when it drains what the build left in the ring, unmeasured).
 * Their product is the whole overhead; unlike one "off" and one "on" run per fresh agent, neither
 * factor waits for a JIT warm-up between its two runs.
 */
interface DecomposedBuild {
  probe_ratios: number[];
  agent_ratios: number[];
  probe: number;
  agent: number;
  product: number;
  /** Records the kernel dropped in both factors' agents (0: a stopped agent's ring held the build). */
  kernel_drops: number;
}

/** One build to warm the caches, then `rounds` ratios a() / b() (alternating). */
async function pairedRatios(
  rounds: number,
  a: () => Promise<number>,
  b: () => Promise<number>,
): Promise<number[]> {
  runBuild(); // warm caches
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) ratios.push(await alternating(i, a, b));
  return ratios;
}

/** a() / b() from two adjacent runs, a first in even rounds and b first in odd ones (ABBA). */
async function alternating(round: number, a: () => Promise<number>, b: () => Promise<number>) {
  if (round % 2 === 0) {
    const first = await a();
    return first / (await b());
  }
  const first = await b();
  return (await a()) / first;
}

/** A build's wall time while the agent is stopped (SIGSTOP); it goes on afterwards. */
async function buildWhileStopped(agent: LiveAgent, afterMs = 300): Promise<number> {
  await Bun.sleep(afterMs);
  process.kill(agent.pid, "SIGSTOP");
  const r = runBuild();
  process.kill(agent.pid, "SIGCONT");
  return r.wall;
}

/** The probe factor alone: a fresh agent's probe attached (the agent stopped) against an agent
 * started and stopped before the build; with the kernel drops its agents saw. */
async function probeFactor(rounds: number, rules: string[]): Promise<{ ratios: number[]; drops: number }> {
  let drops = 0;
  const attached = async () => {
    const agent = new LiveAgent(rules);
    await agent.start();
    const wall = await buildWhileStopped(agent, SETTLE_MS);
    drops += kernelDrops(await agent.summary());
    await agent.stop();
    return wall;
  };
  // The control run starts an agent too, and stops it before its build: the start (loading and
  // verifying the probe, the runtime's start-up compiling, the /proc seed) disturbs the machine
  // for a while, and with a control run that had no start before it, that disturbance was
  // counted as the probe's cost.
  const detached = async () => {
    const agent = new LiveAgent(rules);
    await agent.start();
    await Bun.sleep(SETTLE_MS);
    await agent.stop();
    return runBuild().wall;
  };
  const ratios = await pairedRatios(rounds, attached, detached);
  return { ratios, drops };
}

/** The agent factor alone: one agent, warmed by `warmups` builds, running against stopped. */
async function agentFactor(
  rounds: number,
  rules: string[],
  warmups: number,
): Promise<{ ratios: number[]; drops: number }> {
  const build = async () => runBuild().wall;
  const agent = new LiveAgent(rules);
  await agent.start();
  for (let w = 0; w < warmups; w++) runBuild();
  const stopped = async () => {
    const wall = await buildWhileStopped(agent);
    await Bun.sleep(500); // it drains what the build left in the ring, unmeasured
    return wall;
  };
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) ratios.push(await alternating(i, build, stopped));
  const drops = kernelDrops(await agent.summary());
  await agent.stop();
  return { ratios, drops };
}

async function decomposedBuild(rounds: number, rules: string[], warmups: number): Promise<DecomposedBuild> {
  const probeRun = await probeFactor(rounds, rules);
  const agentRun = await agentFactor(rounds, rules, warmups);
  const probe = median(probeRun.ratios);
  const agent = median(agentRun.ratios);
  return {
    probe_ratios: probeRun.ratios,
    agent_ratios: agentRun.ratios,
    probe,
    agent,
    product: probe * agent,
    kernel_drops: probeRun.drops + agentRun.drops,
  };
}

/**
 * The probe alone: loaded by this process (no agent process at all) with the selection and
 * prefilter `run` derives from `rules`, never drained (a build's records fit the ring), against a
 * build after the same probe was loaded and stopped (the same disturbance of loading it). What
 * the kernel's side costs, without an agent process stopped beside it.
 */
async function probeAlone(rounds: number, rules: string[]): Promise<number[]> {
  const capture = explainCapture(loadCliRules(rules).ruleset);
  const open = () =>
    openLiveProbe({
      ringBytes: 8 << 20,
      drainIntervalMs: 100,
      batchBytes: 1 << 20,
      selection: capture.selected,
      prefilter: { close: capture.closePrefilter, open: capture.openPrefilter },
    });
  const attached = async () => {
    const probe = open();
    await Bun.sleep(300);
    try {
      return runBuild().wall;
    } finally {
      probe.stop();
    }
  };
  const detached = async () => {
    open().stop();
    await Bun.sleep(300);
    return runBuild().wall;
  };
  return pairedRatios(rounds, attached, detached);
}

/**
 * Not Lanner: a process that fills `mib` MiB of memory and stops itself, held during the build,
 * against a build without it (ABBA). On this VM a stopped agent's presence costs the build more
 * than its probe does (docs/PERFORMANCE.md); this says what any process of that size costs here.
 */
async function residentControl(rounds: number, mib: number): Promise<number[]> {
  const fill = `const b = new Uint8Array(${mib} * 1048576); for (let i = 0; i < b.length; i += 4096) b[i] = 1; process.kill(process.pid, "SIGSTOP");`;
  const held = async () => {
    const hog = Bun.spawn([process.execPath, "-e", fill], {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
    });
    const stopped = () => readFileSync(`/proc/${hog.pid}/stat`, "utf8").split(") ")[1]?.startsWith("T");
    const deadline = Date.now() + 30_000;
    while (!stopped()) {
      if (hog.exitCode !== null || Date.now() > deadline)
        throw new Error("the memory-holding process did not stop");
      await Bun.sleep(20);
    }
    await Bun.sleep(300);
    try {
      return runBuild().wall;
    } finally {
      hog.kill("SIGKILL");
      await hog.exited;
    }
  };
  const alone = async () => {
    await Bun.sleep(300);
    return runBuild().wall;
  };
  return pairedRatios(rounds, held, alone);
}

/** Ratios smallest first, "0.981/1.002/...". */
const sortedList = (xs: readonly number[]) =>
  [...xs]
    .sort((a, b) => a - b)
    .map((x) => f(x, 3))
    .join("/");

function probeAloneLine(ratios: number[]): string {
  return `build, the probe alone (loaded by the benchmark, no agent process) / loaded and stopped before the build: ${f(median(ratios), 3)}x, ${pooledText(ratios)} (${sortedList(ratios)})`;
}

function decomposedLine(d: DecomposedBuild): string {
  return (
    `build, in two factors from adjacent runs in alternating order: probe attached (agent stopped) / agent started and stopped before the build ${f(d.probe, 3)}x, ${pooledText(d.probe_ratios)} (${sortedList(d.probe_ratios)}); ` +
    `agent running / stopped, warm ${f(d.agent, 3)}x, ${pooledText(d.agent_ratios)} (${sortedList(d.agent_ratios)}); product ${f(d.product, 3)}x, ` +
    `${intervalText(productRatio(d.probe_ratios, d.agent_ratios))}; kernel drops ${d.kernel_drops}`
  );
}

// ---------------------------------------------------------------------------------------------
// 2. Load levels

interface Level {
  offered_per_s: number;
  /** What the generator managed: below the offered rate when the machine is saturated. */
  achieved_per_s: number;
  done: number;
  kernel_seen: number;
  delivered: number;
  dropped: number;
  agent_cpu_s_per_million: number;
}

const GENERATORS = Math.max(1, cpus().length);

async function loadLevels(rates: number[], seconds: number): Promise<Level[]> {
  const out: Level[] = [];
  for (const rate of rates) {
    const agent = new LiveAgent([], NO_PREFILTER);
    await agent.start();
    await Bun.sleep(300);
    const cpu0 = agent.cpuSeconds();
    // One paced generator per CPU: a single one tops out near 200,000 iterations/s here, below the
    // rate where the ring overflows.
    const generators = Array.from({ length: GENERATORS }, () =>
      Bun.spawn([PACED, String(rate / GENERATORS), String(seconds), target], { stdout: "pipe" }),
    );
    let done = 0;
    for (const g of generators) done += Number((await new Response(g.stdout).text()).trim());
    await Promise.all(generators.map((g) => g.exited));
    await Bun.sleep(300);
    const cpu = agent.cpuSeconds() - cpu0;
    const s = await agent.stop();
    const dropped = kernelDrops(s);
    out.push({
      offered_per_s: rate,
      achieved_per_s: Math.round(done / seconds),
      done,
      kernel_seen: s.kernel_seen,
      delivered: s.events,
      dropped,
      agent_cpu_s_per_million: (cpu / Math.max(1, s.events)) * 1e6,
    });
    if (dropped > 0) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 3 + 4. Memory and latency (default rules)

interface MemoryAndLatency {
  rss_idle_mib: number;
  rss_after_burst_mib: number;
  hwm_mib: number;
  burst_alerts: number;
  latency_samples: number;
  latency_p50_ms: number;
  latency_p99_ms: number;
}

async function memoryAndLatency(samples: number, burst: number): Promise<MemoryAndLatency> {
  const agent = new LiveAgent([]);
  await agent.start();
  await Bun.sleep(quick ? 500 : 2000);
  const idle = agent.memory();
  // Latency: one open of /etc/shadow per fresh shell (an alert from the default rules each).
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const before = agent.alertLines.length;
    spawnSync("sh", ["-c", "exec 3</etc/shadow"]);
    const deadline = Date.now() + 2000;
    while (agent.alertLines.length === before && Date.now() < deadline) await Bun.sleep(1);
    const got = agent.alertLines[before];
    if (got !== undefined) {
      const time = JSON.parse(got.line).time as string; // ISO 8601 with nanoseconds
      const ms = Date.parse(time.replace(/(\.\d{3})\d*Z$/, "$1Z"));
      const sub = Number(`0.${/\.\d{3}(\d*)Z$/.exec(time)?.[1] ?? "0"}`);
      latencies.push(got.at - ms - sub);
    }
    await Bun.sleep(5);
  }
  // Burst: one shell opening /etc/shadow `burst` times, an alert each.
  const before = agent.alertLines.length;
  spawnSync("sh", [
    "-c",
    `i=0; while [ $i -lt ${burst} ]; do exec 3</etc/shadow; exec 3<&-; i=$((i+1)); done`,
  ]);
  const deadline = Date.now() + 30_000;
  while (agent.alertLines.length - before < burst && Date.now() < deadline) await Bun.sleep(20);
  const after = agent.memory();
  const burstAlerts = agent.alertLines.length - before;
  await agent.stop();
  return {
    rss_idle_mib: idle.rss,
    rss_after_burst_mib: after.rss,
    hwm_mib: after.hwm,
    burst_alerts: burstAlerts,
    latency_samples: latencies.length,
    latency_p50_ms: percentile(latencies, 50),
    latency_p99_ms: percentile(latencies, 99),
  };
}

// ---------------------------------------------------------------------------------------------

const f = (n: number, d = 2) => n.toFixed(d);
const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);

/** A Ratio as one line: the runs, both ratios, the agent's CPU. */
function ratioLine(r: Ratio): string {
  return (
    `${r.workload}: off ${r.off_s.map((x) => f(x, 3)).join("/")} s, on ${r.on_s.map((x) => f(x, 3)).join("/")} s, ` +
    `ratio ${f(r.ratio)}x (median), ${pooledText(r.on_s.map((on, i) => on / r.off_s[i]))}, ${f(r.best_ratio)}x (best/best); agent ${f(r.agent_cpu_s)} s CPU for ${r.agent_events} events`
  );
}

const printLoadAverage = () => console.log(`load average: ${readFileSync("/proc/loadavg", "utf8").trim()}`);
const haveStable = existsSync(STABLE);
/** The rules every build measure runs with. */
const BUILD_RULES = haveStable ? [STABLE] : [];
if (openCloseOnly) {
  const iterations = quick ? 50_000 : 1_000_000;
  const rounds = ROUNDS;
  for (const [label, extra] of [
    ["open/close loop, default rules, prefilter on", []],
    ["open/close loop, default rules, engine.prefilter=false", NO_PREFILTER],
  ] as const) {
    const r = await overhead(label, () => runOpenLoop(iterations), rounds, [], [...extra]);
    console.log(ratioLine(r));
  }
  printLoadAverage();
  process.exit(0);
}
prepareBuild(quick ? 8 : 60);
/** --settle S: seconds between a fresh agent's start and the probe factor's build (0.3). */
const settleArg = args.indexOf("--settle");
const SETTLE_MS = settleArg >= 0 ? Number(args[settleArg + 1]) * 1000 : 300;
if (!(SETTLE_MS >= 0)) throw new Error("--settle takes a number of seconds");
/** Builds with the agent attached before the measured one (see overhead()): the runtime's JIT
 * compiles the rules and the decoder in tiers over about six builds of 3,000 events (20-30 ms of
 * compiling in the fourth build, 0-15 ms from the sixth; docs/PERFORMANCE.md). */
const warmupsArg = args.indexOf("--warmups");
const BUILD_WARMUPS = warmupsArg >= 0 ? Number(args[warmupsArg + 1]) : 6;
if (!Number.isInteger(BUILD_WARMUPS) || BUILD_WARMUPS < 0) throw new Error("--warmups takes a whole number");
const buildOverhead = () =>
  overhead(
    quick ? "make -j2, 8 C files" : "make -j2, 60 C files",
    runBuild,
    ROUNDS,
    BUILD_RULES,
    [],
    BUILD_WARMUPS,
  );
function loadLine(l: Level): string {
  return (
    `load offered ${l.offered_per_s}/s, achieved ${l.achieved_per_s}/s: done ${l.done}, kernel seen ${l.kernel_seen}, delivered ${l.delivered}, dropped ${l.dropped}; ` +
    `agent ${f(l.agent_cpu_s_per_million)} CPU s per million events`
  );
}
/** ratioLine, then the agent's CPU per event and per run, warm-up runs first. */
function agentLine(r: Ratio): string {
  return (
    `${ratioLine(r)} = ${f(r.agent_us_per_event, 1)} us/event; ` +
    `agent CPU per run before it (JIT settling): ${r.warmup_agent_cpu_s.map((c) => f(c, 3)).join(", ")} s, measured ${f(r.agent_cpu_s / r.on_s.length, 3)} s`
  );
}
function printBuildCpu(b: Ratio): void {
  console.log(
    `build CPU (make tree, user + system): off ${b.workload_cpu_off_s.map((x) => f(x)).join("/")} s, on ${b.workload_cpu_on_s.map((x) => f(x)).join("/")} s; ` +
      `(build on + agent) / build off = ${f((sum(b.workload_cpu_on_s) + b.agent_cpu_s) / sum(b.workload_cpu_off_s), 3)}x`,
  );
}
const buildDecomposed = () => decomposedBuild(ROUNDS, BUILD_RULES, BUILD_WARMUPS);
if (args.includes("--load")) {
  for (const l of await loadLevels([100_000, 200_000, 400_000, 800_000], 3)) console.log(loadLine(l));
  process.exit(0);
}
const buildProbeAlone = () => probeAlone(ROUNDS, BUILD_RULES);
if (args.includes("--probe-alone")) {
  console.log(probeAloneLine(await buildProbeAlone()));
  printLoadAverage();
  process.exit(0);
}
const residentArg = args.indexOf("--resident-control");
if (residentArg >= 0) {
  const mib = Number(args[residentArg + 1]);
  if (!(Number.isInteger(mib) && mib >= 0)) throw new Error("--resident-control takes a whole number of MiB");
  const ratios = await residentControl(ROUNDS, mib);
  console.log(
    `build, a stopped process holding ${mib} MiB it wrote just before (not Lanner) / none: ${f(median(ratios), 3)}x, ${pooledText(ratios)} (${sortedList(ratios)})`,
  );
  printLoadAverage();
  process.exit(0);
}
if (args.includes("--agent-factor")) {
  const a = await agentFactor(ROUNDS, BUILD_RULES, BUILD_WARMUPS);
  console.log(
    `build, agent running / stopped, warm (${BUILD_WARMUPS} builds first): ${f(median(a.ratios), 3)}x, ${pooledText(a.ratios)} (${sortedList(a.ratios)}); kernel drops ${a.drops}`,
  );
  printLoadAverage();
  process.exit(0);
}
if (args.includes("--probe-factor")) {
  const p = await probeFactor(ROUNDS, BUILD_RULES);
  console.log(
    `build, probe attached (agent stopped ${SETTLE_MS / 1000} s after its start) / agent started, stopped after ${SETTLE_MS / 1000} s, then the build: ${f(median(p.ratios), 3)}x, ${pooledText(p.ratios)} (${sortedList(p.ratios)}); kernel drops ${p.drops}`,
  );
  printLoadAverage();
  process.exit(0);
}
if (args.includes("--factors")) {
  console.log(decomposedLine(await buildDecomposed()));
  console.log(probeAloneLine(await buildProbeAlone()));
  printLoadAverage();
  process.exit(0);
}
if (args.includes("--build")) {
  const b = await buildOverhead();
  console.log(agentLine(b));
  printBuildCpu(b);
  console.log(decomposedLine(await buildDecomposed()));
  printLoadAverage();
  process.exit(0);
}
const results = {
  quick,
  rounds: ROUNDS,
  bpf_stats_enabled: bpfStatsOn,
  open_close: await overhead("open/close loop", () => runOpenLoop(quick ? 50_000 : 1_000_000), ROUNDS, []),
  build: await buildOverhead(),
  build_decomposed: await buildDecomposed(),
  build_probe_alone: await buildProbeAlone(),
  build_rules: haveStable ? "Falco stable" : "embedded default (Falco's stable rules not found)",
  load: await loadLevels(
    quick ? [20_000] : [25_000, 50_000, 100_000, 200_000, 400_000, 800_000],
    quick ? 1 : 3,
  ),
  memory_latency: await memoryAndLatency(quick ? 10 : 200, quick ? 200 : 5000),
};

if (asJson) {
  console.log(JSON.stringify(results, null, 2));
} else {
  for (const r of [results.open_close, results.build]) console.log(agentLine(r));
  printBuildCpu(results.build);
  console.log(decomposedLine(results.build_decomposed));
  console.log(probeAloneLine(results.build_probe_alone));
  console.log(`(build rules: ${results.build_rules}; kernel.bpf_stats_enabled ${bpfStatsOn ? "on" : "off"})`);
  for (const l of results.load) console.log(loadLine(l));
  const m = results.memory_latency;
  console.log(
    `memory: RSS idle ${f(m.rss_idle_mib, 1)} MiB, after a burst of ${m.burst_alerts} alerts ${f(m.rss_after_burst_mib, 1)} MiB, peak ${f(m.hwm_mib, 1)} MiB`,
  );
  console.log(
    `latency (event to alert line, ${m.latency_samples} samples): p50 ${f(m.latency_p50_ms, 1)} ms, p99 ${f(m.latency_p99_ms, 1)} ms`,
  );
}
