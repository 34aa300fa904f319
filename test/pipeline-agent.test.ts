// The Agent assembly (agent/agent/agent.ts): lifecycle, hot reload between batches, the clock,
// and the stats line built from the metric registry. The frame source here is a list of batches
// handed over on start (a source, not a fault: the live probe and capture files are tested in
// their own suites); records are the probe's exact bytes (test/events/record-encoder.ts); alerts go
// to a real file through the real outputs.

import { afterAll, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Agent,
  type FrameSink,
  type FrameSource,
  agentOutputs,
  type SourceEnd,
} from "../agent/agent/index.ts";
import type { MetricSample } from "../agent/common/metrics.ts";
import { Logger } from "../agent/log.ts";
import { createOutputs, defaultOutputSettings } from "../agent/outputs/index.ts";
import {
  liveBinder,
  liveEventKey,
  liveText,
  loadRuleSources,
  RuleEngine,
  type RuleSource,
} from "../agent/rules/index.ts";
import { type EventContext, StateTracker, UserTable } from "../agent/state/index.ts";
import { argsBlob, execRecord, frames, openRecord } from "./events/record-encoder.ts";

const dir = mkdtempSync(join(tmpdir(), "lanner-agent-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CLOCK = { offsetSec: 1_700_000_000, offsetNsec: 0 };

/** Hands over each batch on start, in order, then ends; counts its own start/stop calls. */
class BatchSource implements FrameSource {
  readonly clock = CLOCK;
  starts = 0;
  stops = 0;
  ringFull = 0;
  private sink: FrameSink | undefined;
  private onEnd: ((end: SourceEnd) => void) | undefined;
  start(sink: FrameSink, onEnd: (end: SourceEnd) => void): void {
    this.starts++;
    this.sink = sink;
    this.onEnd = onEnd;
  }
  push(records: Uint8Array[]): void {
    this.sink?.(frames(records), records.length);
  }
  end(): void {
    this.onEnd?.({});
  }
  stop(): void {
    this.stops++;
  }
  metrics(): MetricSample[] {
    return [
      {
        name: "kernel_drops_total",
        type: "counter",
        help: "h",
        value: this.ringFull,
        labels: { reason: "ring_full" },
      },
    ];
  }
}

function engineFor(sources: RuleSource[]): RuleEngine<EventContext> {
  const loaded = loadRuleSources(sources);
  expect(loaded.diagnostics.errorCount).toBe(0);
  return new RuleEngine(
    loaded.ruleset,
    { minPriority: "Debug", matching: "all", selection: [] },
    liveBinder,
    liveText,
    liveEventKey,
  );
}

const openRule = (name: string): RuleSource => ({
  name: `${name}.yaml`,
  text: `- rule: ${name}\n  desc: d\n  condition: evt.type = openat and fd.name = /etc/hosts\n  output: '${name} %proc.name'\n  priority: NOTICE\n`,
});

let n = 0;
function assemble(engine: RuleEngine<EventContext>, clock: "kernel" | "event" = "event", capacity = 100) {
  n++;
  const alertPath = join(dir, `alerts-${n}.jsonl`);
  const logPath = join(dir, `log-${n}.jsonl`);
  const logFd = openSync(logPath, "a");
  const source = new BatchSource();
  const state = new StateTracker({
    processCapacity: 64,
    users: UserTable.fromEntries([[0, { name: "root", home: "/root", shell: "/bin/sh" }]], []),
    host: { hostname: "node-a", clock: CLOCK },
    pathBases: { cwd: () => "/", fdPath: () => undefined },
  });
  const outputLog = new Logger("info", true, logFd);
  const outputs = agentOutputs(
    createOutputs(
      defaultOutputSettings({
        stdout_output: { enabled: false },
        file_output: { enabled: true, filename: alertPath },
        outputs_queue: { capacity },
      }),
      { log: outputLog, hostname: "node-a" },
    ),
    outputLog,
  );
  const agent = new Agent({
    source,
    state,
    engine,
    outputs,
    log: new Logger("info", true, logFd),
    hostname: "node-a",
    clock,
    statsIntervalMs: 0,
  });
  return {
    agent,
    source,
    alerts: () =>
      readFileSync(alertPath, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as { rule: string; output: string }),
    log: () => {
      closeSync(logFd);
      return readFileSync(logPath, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
}

const cat = (pid: number) =>
  execRecord({
    pid,
    tid: pid,
    ppid: 1,
    comm: "cat",
    filename: "/bin/cat",
    argsBlob: argsBlob(["cat", "/etc/hosts"]),
  });
const hosts = (pid: number, bootSec: number) =>
  openRecord({ pid, tid: pid, path: "/etc/hosts", res: 3, bootSec, bootNsec: 7 });

test("reload swaps the rules between two batches: the source is started once, no event is lost", async () => {
  const h = assemble(engineFor([openRule("Rule A")]));
  h.agent.start();
  h.source.push([cat(10), hosts(10, 200)]);
  h.agent.reload(engineFor([openRule("Rule B")]));
  h.source.push([hosts(10, 201)]);
  await h.agent.stop();
  expect(h.alerts().map((a) => a.rule)).toEqual(["Rule A", "Rule B"]);
  expect(h.source.starts).toBe(1);
  expect(h.source.stops).toBe(1);
  expect([...h.agent.alertCounts()]).toEqual([
    ["Rule A", 1],
    ["Rule B", 1],
  ]);
  expect(h.agent.stats()).toEqual({ events: 3, malformed: 0, alerts: 2 });
  const stats = h.log().find((l) => l.msg === "stats");
  expect(stats).toMatchObject({ events: 3, alerts: 2, processes: 1, reloads: 1, malformed_records: 0 });
});

test("in event mode the clock is the last event's boot time; in kernel mode it is the machine's", () => {
  const h = assemble(engineFor([openRule("Rule A")]));
  h.agent.start();
  h.source.push([cat(10), hosts(10, 4242)]);
  expect(h.agent.clock.monotonicNs()).toBe(4242_000_000_007n);
  const live = assemble(engineFor([openRule("Rule A")]), "kernel");
  live.agent.start();
  live.source.push([hosts(10, 4242)]);
  const before = process.hrtime.bigint();
  const now = live.agent.clock.monotonicNs();
  expect(now >= before && now <= process.hrtime.bigint()).toBe(true);
});

test("ended resolves when the source ends; stop is idempotent and logs the final stats once", async () => {
  const h = assemble(engineFor([openRule("Rule A")]));
  h.agent.start();
  expect(h.agent.status).toBe("running");
  h.source.push([cat(10)]);
  h.source.end();
  await h.agent.ended;
  await Promise.all([h.agent.stop(), h.agent.stop()]);
  expect(h.agent.status).toBe("stopped");
  expect(h.source.stops).toBe(1);
  expect(h.log().filter((l) => l.msg === "stats").length).toBe(1);
  expect(() => h.agent.start()).toThrow("cannot start when stopped");
});

test("a kernel drop counter that moved gives a warning with the reason; the metric registry has every stage", async () => {
  const h = assemble(engineFor([openRule("Rule A")]));
  h.agent.start();
  h.source.push([cat(10), hosts(10, 5)]);
  h.source.ringFull = 7;
  const names = new Set(h.agent.metrics.metrics().map((m) => m.name));
  for (const name of [
    "events_total",
    "alerts_total",
    "kernel_drops_total",
    "state_processes",
    "state_fds",
    "output_delivered_total",
    "rules_active",
    "rules_generated_code_bytes",
    "rules_generated_code_uncached_total",
  ])
    expect(names.has(name)).toBe(true);
  await h.agent.stop();
  const warning = h.log().find((l) => l.msg === "the kernel dropped events");
  expect(warning).toMatchObject({ level: "warning", dropped: 7, ring_full: 7, too_big: 0 });
});

test("alerts a full sink queue dropped are in the stats line and raise a warning", async () => {
  const h = assemble(engineFor([openRule("Rule A")]), "event", 1);
  h.agent.start();
  // Three alerts in one batch: the first goes out at once (one batch in flight) and the queue holds
  // one. Under the default drop-oldest policy the second and third are pushed out by what follows,
  // the last being the internal alert that says alerts were dropped: it is the one delivered.
  h.source.push([cat(10), hosts(10, 1), hosts(10, 2), hosts(10, 3)]);
  await h.agent.stop();
  expect(h.alerts().map((a) => a.rule)).toEqual(["Rule A", "Lanner internal: alerts dropped"]);
  const log = h.log();
  expect(log.find((l) => l.msg === "stats")).toMatchObject({ alerts: 3, sink_drops: 2 });
  expect(log.find((l) => l.msg === "alerts were dropped by a sink")).toMatchObject({ dropped: 2 });
});
