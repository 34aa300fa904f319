// Replay throughput end to end on one core: a capture file (the same event mix as
// scripts/bench-rules.ts, written by Lanner's CaptureWriter) is replayed through the Agent exactly
// as `lanner replay` wires it: file read, record decode, state, rules, alerts formatted as JSON and
// written by the configured file sink. With Falco's stable rules and with Lanner's default rules, uncompressed
// and zstd. Prints events/s (the median of the runs) and the heap allocated per event; then record
// decode alone, the direct path against the reference (msgpackr) path.
//
//   node_modules/.bin/bun scripts/bench-replay.ts [--events N] [--runs R] [--json] [--decode-only] [--ab ROUNDS]
//     [--ruleset stable|default] [--compression none|zstd] [--no-decode] [--keep-dir DIR] [--warmups W]
//   (--warmups: unmeasured replays before the timed ones, 1 by default; the JIT keeps compiling for
//   about three replays of 1 M events in one process, on the same core when pinned)
//   (the last three narrow the runs, e.g. for `bun --cpu-prof` on one replay)
//   (pin it to one core with: taskset -c 0 node_modules/.bin/bun scripts/bench-replay.ts)
import { reexecBenchmarkWithAllocatorSetting } from "../agent/allocator.ts";

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
import { type Event, KIND_ID, RecordDecoder, SCHEMA_VERSION } from "../agent/events/index.ts";
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

// The allocator setting `lanner run` and `replay` run with (agent/allocator.ts); may exec again.
reexecBenchmarkWithAllocatorSetting("replay");

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const eventCount = flag("--events", 2_000_000);
const runs = flag("--runs", 3);
const warmups = flag("--warmups", 1);
const asJson = args.includes("--json");
const decodeOnly = args.includes("--decode-only");
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const onlyRuleset = option("--ruleset");
const onlyCompression = option("--compression");
const FALCO_STABLE = `${import.meta.dir}/../../shared/falco-rules/falco_rules.yaml`;

const CGROUPS = [
  ["x.service", "system.slice"],
  ["ab".repeat(32), "pod1", "besteffort", "kubepods"],
];

/** Records in the probe's layout (docs/EVENTS.md): per process one exec, ten opens, one exit. */
function benchRecords(eventCount: number, emit: (record: Uint8Array) => void): number {
  const enc = new TextEncoder();
  let t = 0;
  let n = 0;
  const add = (record: unknown[]) => {
    emit(pack(record));
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
  return n;
}

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
  const n = benchRecords(eventCount, (bytes) => writer.addRecord(bytes, 0, bytes.length));
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

async function replayOnce(path: string, sources: RuleSource[], generated = true) {
  const loaded = loadRuleSources(sources);
  if (loaded.diagnostics.errorCount > 0) throw new Error("rules do not load");
  const engine = new RuleEngine<EventContext>(
    loaded.ruleset,
    { minPriority: "Debug", matching: "first", selection: [], planPerEventType: true, generated },
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

/**
 * Record decode alone over the same mix, the direct path (what replay uses) against the reference
 * path (msgpackr and the checked readers): CPU nanoseconds per record, and the heap the decoded
 * events hold (every event kept, measured after a full GC, so garbage does not count), per record.
 */
function decodeAlone(count: number) {
  const records: Uint8Array[] = [];
  benchRecords(count, (r) => records.push(r));
  let size = 0;
  for (const r of records) size += r.length;
  const bytes = new Uint8Array(size);
  const starts = new Int32Array(records.length + 1);
  let at = 0;
  records.forEach((r, i) => {
    starts[i] = at;
    bytes.set(r, at);
    at += r.length;
  });
  starts[records.length] = at;
  records.length = 0;
  const kept: Event[] = new Array(count);
  const pass = (decoder: RecordDecoder, generic: boolean, keep: boolean) => {
    for (let i = 0; i < count; i++) {
      const e = generic
        ? decoder.decodeGeneric(bytes, starts[i], starts[i + 1])
        : decoder.decode(bytes, starts[i], starts[i + 1]);
      if (keep) kept[i] = e;
    }
  };
  const measure = (generic: boolean) => {
    const decoder = new RecordDecoder();
    pass(decoder, generic, false); // warm-up
    // CPU: the best of three passes that keep nothing (garbage is collected as it would be live).
    let best = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 3; r++) {
      const cpuBefore = process.cpuUsage();
      pass(decoder, generic, false);
      const cpu = process.cpuUsage(cpuBefore);
      best = Math.min(best, cpu.user + cpu.system);
    }
    // Heap: one pass keeping every event, after a full GC on both sides.
    Bun.gc(true);
    const heapBefore = process.memoryUsage().heapUsed;
    pass(decoder, generic, true);
    Bun.gc(true);
    const heap = process.memoryUsage().heapUsed - heapBefore;
    kept.fill(undefined as unknown as Event);
    if (decoder.stats.malformed > 0) throw new Error("bench records did not decode");
    return {
      nsPerRecord: Number(((best * 1000) / count).toFixed(1)),
      keptBytesPerEvent: Number((heap / count).toFixed(1)),
      genericRecords: generic ? decoder.stats.decoded : decoder.stats.generic,
    };
  };
  const result = { records: count, direct: measure(false), reference: measure(true) };
  kept.length = 0;
  return result;
}

// --keep-dir: the capture files (bench-none.lcap, bench-zstd.lcap) and alerts stay there.
const keepDir = option("--keep-dir");
const dir = keepDir ?? mkdtempSync(join(tmpdir(), "lanner-bench-replay-"));
const alertFile = join(dir, "alerts.jsonl");
const results: Result[] = [];
let ab: Awaited<ReturnType<typeof alternateDecoders>> | undefined;
let abGenerated: Awaited<ReturnType<typeof alternateGenerated>> | undefined;
try {
  for (const compression of decodeOnly ? [] : (["none", "zstd"] as const)) {
    if (onlyCompression !== undefined && compression !== onlyCompression) continue;
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
      if (onlyRuleset !== undefined && !name.includes(onlyRuleset)) continue;
      for (let w = 0; w < warmups; w++) await replayOnce(path, sources);
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
  if (args.includes("--ab")) ab = await alternateDecoders(flag("--ab", 5));
  if (args.includes("--ab-generated")) abGenerated = await alternateGenerated(flag("--ab-generated", 5));
} finally {
  if (keepDir === undefined) rmSync(dir, { recursive: true, force: true });
}
/**
 * The direct decoder's effect end to end, robust to a shared machine's load: replay rounds with
 * the direct path and with the reference path alternate in this one process (Falco stable,
 * uncompressed); the ratio of their events per CPU second, per pair, median.
 */
async function alternateDecoders(rounds: number) {
  const path = join(dir, "bench-ab.lcap");
  writeCapture(path, "none");
  const sources = [{ name: FALCO_STABLE, text: await Bun.file(FALCO_STABLE).text() }];
  const ratios: number[] = [];
  const rate = (r: { events: number; cpuSeconds: number }) => r.events / r.cpuSeconds;
  await replayOnce(path, sources); // warm-up
  for (let i = 0; i < rounds; i++) {
    RecordDecoder.directPath = false;
    const reference = await replayOnce(path, sources);
    RecordDecoder.directPath = true;
    const direct = await replayOnce(path, sources);
    ratios.push(rate(direct) / rate(reference));
  }
  ratios.sort((a, b) => a - b);
  return { rounds, ratios: ratios.map((r) => Number(r.toFixed(3))), median: ratios[Math.floor(rounds / 2)] };
}

/**
 * Generated rule plans (one function per event type) against the planner's closures, in
 * alternating rounds in this one process, per ruleset (uncompressed): events per CPU second,
 * generated over closures, per pair, median.
 */
async function alternateGenerated(rounds: number) {
  const path = join(dir, "bench-ab.lcap");
  writeCapture(path, "none");
  const out = [];
  for (const [name, sources] of [
    ["falco stable", [{ name: FALCO_STABLE, text: await Bun.file(FALCO_STABLE).text() }]],
    ["lanner default", [DEFAULT_RULES]],
  ] as [string, RuleSource[]][]) {
    const ratios: number[] = [];
    const rate = (r: { events: number; cpuSeconds: number }) => r.events / r.cpuSeconds;
    await replayOnce(path, sources, false); // warm-up
    await replayOnce(path, sources, true);
    for (let i = 0; i < rounds; i++) {
      const closures = await replayOnce(path, sources, false);
      const generated = await replayOnce(path, sources, true);
      ratios.push(rate(generated) / rate(closures));
    }
    ratios.sort((a, b) => a - b);
    out.push({
      name,
      ratios: ratios.map((r) => Number(r.toFixed(3))),
      median: ratios[Math.floor(rounds / 2)],
    });
  }
  return out;
}

const decode = args.includes("--no-decode") ? undefined : decodeAlone(Math.min(eventCount, 1_000_000));
if (ab !== undefined && !asJson)
  console.log(
    `replay, Falco stable, direct against reference decoder in alternating rounds: ${ab.median.toFixed(3)}x events per CPU second (pairs ${ab.ratios.join(", ")})`,
  );
if (abGenerated !== undefined && !asJson)
  for (const g of abGenerated)
    console.log(
      `replay, ${g.name}, generated rule plans against closures in alternating rounds: ${g.median.toFixed(3)}x events per CPU second (pairs ${g.ratios.join(", ")})`,
    );
if (asJson)
  console.log(
    JSON.stringify({ replay: results, decode, alternating: ab, alternatingGenerated: abGenerated }, null, 2),
  );
else if (decode !== undefined) {
  const d = decode;
  console.log(
    `decode alone, ${d.records} records: direct ${d.direct.nsPerRecord} ns/record CPU (${d.direct.genericRecords} took the reference path), ${d.direct.keptBytesPerEvent} B heap per kept event; reference path (msgpackr) ${d.reference.nsPerRecord} ns/record, ${d.reference.keptBytesPerEvent} B per kept event`,
  );
}
if (!asJson)
  for (const r of results)
    console.log(
      `${r.ruleset}, ${r.compression} (${r.fileMb} MB): ${r.rules} rules, ${r.events} events in ${r.seconds}s = ${r.eventsPerSecond.toLocaleString("en")} events/s (${r.eventsPerCpuSecond.toLocaleString("en")} per CPU second), ${r.alerts} alerts, retained ${r.heapBytesPerEvent} B/event`,
    );
