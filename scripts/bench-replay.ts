// Replay throughput end to end on one core: a capture file (the same event mix as
// scripts/bench-rules.ts, written by Lanner's CaptureWriter) is replayed through the Agent exactly
// as `lanner replay` wires it: file read, record decode, state, rules, alerts formatted as JSON and
// written by the configured file sink. With Falco's stable rules and with Lanner's default rules, uncompressed
// and zstd. Prints events/s (the median of the runs) and the heap allocated per event.
//
//   node_modules/.bin/bun scripts/bench-replay.ts [--events N] [--runs R] [--json]
//   (pin it to one core with: taskset -c 0 node_modules/.bin/bun scripts/bench-replay.ts)

import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pack } from "msgpackr/pack";
import { Agent, AgentClock } from "../agent/agent/index.ts";
import {
  CaptureFileSource,
  CaptureReader,
  type Compression,
  CaptureWriter,
  eventTableHash,
} from "../agent/capturefile/index.ts";
import { buildOutputs } from "../agent/cli/assemble.ts";
import { DEFAULT_CONFIG, DEFAULT_RULES, loadConfig } from "../agent/config/index.ts";
import { KIND_ID, SCHEMA_VERSION } from "../agent/events/index.ts";
import { Logger } from "../agent/log.ts";
import {
  liveBinder,
  liveEventKey,
  liveText,
  loadRuleSources,
  RuleEngine,
  type RuleSource,
} from "../agent/rules/index.ts";
import { type EventContext, parseSnapshot, restoreState } from "../agent/state/index.ts";
import { BENCH_PATHS, BENCH_PROGRAMS } from "./bench-mix.ts";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const eventCount = flag("--events", 2_000_000);
const runs = flag("--runs", 3);
const asJson = args.includes("--json");
const FALCO_STABLE = `${import.meta.dir}/../../shared/falco-rules/falco_rules.yaml`;

const CGROUPS = [
  ["x.service", "system.slice"],
  ["ab".repeat(32), "pod1", "besteffort", "kubepods"],
];

/** Records in the probe's layout (docs/EVENTS.md): per process one exec, ten opens, one exit. */
function writeCapture(path: string, compression: Compression): number {
  const writer = new CaptureWriter(
    path,
    {
      schemaVersion: SCHEMA_VERSION,
      eventTableHash: eventTableHash(),
      agentVersion: "bench",
      hostname: "bench",
      kernelRelease: "bench",
      bootTime: [1_700_000_000, 0],
      startTime: [1_700_000_100, 0],
      reason: "command",
      detail: "",
    },
    {
      processes: [],
      paths: [{ pid: 1, cwd: "/", fds: [] }],
      users: [[0, "root", "/root", "/bin/sh"]],
      groups: [[0, "root"]],
    },
    compression,
  );
  const enc = new TextEncoder();
  let t = 0;
  let n = 0;
  const add = (record: unknown[]) => {
    const bytes = pack(record);
    writer.addRecord(bytes, 0, bytes.length);
    n++;
  };
  for (let i = 0; n < eventCount; i++) {
    const [comm, exe, argv] = BENCH_PROGRAMS[i % BENCH_PROGRAMS.length];
    const pid = 10_000 + (i % 30_000);
    const sec = 100 + Math.floor(t / 1e9);
    const blob = enc.encode([exe, ...argv].map((a) => `${a}\0`).join(""));
    add([
      KIND_ID.execve,
      sec,
      t++ % 1e9,
      pid,
      pid,
      0,
      1,
      i % 3 === 0 ? 0 : 1000,
      0,
      comm,
      exe,
      blob,
      CGROUPS[i % 2],
      0,
    ]);
    for (let j = 0; j < 10 && n < eventCount; j++)
      add([
        KIND_ID.openat,
        sec,
        t++ % 1e9,
        pid,
        pid,
        j === 9 ? -2 : 3 + j,
        -100,
        BENCH_PATHS[(i + j) % BENCH_PATHS.length],
        j % 4 === 0 ? 0o101 : 0,
        0o644,
        0,
        0,
      ]);
    if (n < eventCount) add([KIND_ID.procexit, sec, t++ % 1e9, pid, pid, 0, 0]);
  }
  writer.close("source_end");
  return n;
}

interface Result {
  ruleset: string;
  compression: Compression;
  rules: number;
  events: number;
  fileMb: number;
  seconds: number;
  eventsPerSecond: number;
  /** Events per second of this process's CPU time (user + system): the figure on a shared machine. */
  eventsPerCpuSecond: number;
  alerts: number;
  heapBytesPerEvent: number;
}

async function replayOnce(path: string, sources: RuleSource[]) {
  const loaded = loadRuleSources(sources);
  if (loaded.diagnostics.errorCount > 0) throw new Error("rules do not load");
  const engine = new RuleEngine<EventContext>(
    loaded.ruleset,
    { minPriority: "Debug", matching: "first", selection: [] },
    liveBinder,
    liveText,
    liveEventKey,
  );
  const reader = new CaptureReader(path);
  const source = new CaptureFileSource(reader);
  const state = restoreState(parseSnapshot(reader.snapshot), {
    processCapacity: 65_536,
    host: { hostname: "bench", clock: source.clock },
  });
  // The outputs `lanner replay` builds: the file sink, JSON lines, to a file in the bench directory.
  rmSync(alertFile, { force: true });
  const config = loadConfig(DEFAULT_CONFIG, [
    "stdout_output.enabled=false",
    "file_output.enabled=true",
    `file_output.filename=${alertFile}`,
    "outputs_queue.capacity=1000000",
  ]);
  const log = new Logger("error", true);
  const clock = new AgentClock("event", source.clock);
  const outputs = buildOutputs(config, log, "bench", clock.monotonicNs);
  const agent = new Agent({
    source,
    state,
    engine,
    outputs,
    log,
    hostname: "bench",
    clock,
    statsIntervalMs: 0,
  });
  Bun.gc(true);
  const heapBefore = process.memoryUsage().heapUsed;
  const cpuBefore = process.cpuUsage();
  const start = Bun.nanoseconds();
  agent.start();
  await agent.ended;
  await agent.stop();
  const seconds = (Bun.nanoseconds() - start) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const s = agent.stats();
  const dropped = outputs
    .metrics()
    .filter((m) => m.name === "output_dropped_total")
    .reduce((a, m) => a + m.value, 0);
  if (dropped > 0) throw new Error(`${dropped} alerts dropped by the sink: the figure would be wrong`);
  return {
    seconds,
    cpuSeconds,
    events: s.events,
    alerts: s.alerts,
    rules: engine.active.length,
    heapGrowth: process.memoryUsage().heapUsed - heapBefore,
  };
}

const dir = mkdtempSync(join(tmpdir(), "lanner-bench-replay-"));
const alertFile = join(dir, "alerts.jsonl");
const results: Result[] = [];
try {
  for (const compression of ["none", "zstd"] as const) {
    const path = join(dir, `bench-${compression}.lcap`);
    writeCapture(path, compression);
    const fileMb = Number((statSync(path).size / 1e6).toFixed(1));
    for (const [name, sources] of [
      [
        "falco stable (falco_rules.yaml)",
        [{ name: FALCO_STABLE, text: await Bun.file(FALCO_STABLE).text() }],
      ],
      ["lanner default", [DEFAULT_RULES]],
    ] as [string, RuleSource[]][]) {
      await replayOnce(path, sources); // warm-up
      const timed = [];
      for (let r = 0; r < runs; r++) timed.push(await replayOnce(path, sources));
      timed.sort((a, b) => a.seconds - b.seconds);
      const m = timed[Math.floor(timed.length / 2)];
      results.push({
        ruleset: name,
        compression,
        rules: m.rules,
        events: m.events,
        fileMb,
        seconds: Number(m.seconds.toFixed(3)),
        eventsPerSecond: Math.round(m.events / m.seconds),
        eventsPerCpuSecond: Math.round(m.events / m.cpuSeconds),
        alerts: m.alerts,
        heapBytesPerEvent: Number((m.heapGrowth / m.events).toFixed(2)),
      });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (asJson) console.log(JSON.stringify(results, null, 2));
else
  for (const r of results)
    console.log(
      `${r.ruleset}, ${r.compression} (${r.fileMb} MB): ${r.rules} rules, ${r.events} events in ${r.seconds}s = ${r.eventsPerSecond.toLocaleString("en")} events/s (${r.eventsPerCpuSecond.toLocaleString("en")} per CPU second), ${r.alerts} alerts, retained ${r.heapBytesPerEvent} B/event`,
    );
