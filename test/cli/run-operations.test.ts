// `lanner run`'s operations wired to a real Agent (agent/cli/run-operations.ts), in-process: real
// config and rules files, the real outputs writing a real file, the real web server on 127.0.0.1.
// The frame source is a list of batches handed over on demand (a source, not a fault: the live
// probe is exercised by test/e2e/operate.test.ts through the built executable).

import { afterAll, beforeAll, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent, type FrameSink, type FrameSource } from "../../agent/agent/index.ts";
import { buildEngine, buildOutputs } from "../../agent/cli/assemble.ts";
import { startRunOperations, watchedPaths } from "../../agent/cli/run-operations.ts";
import { loadCliConfigDetailed, loadRulesOrFail } from "../../agent/cli/setup.ts";
import type { MetricSample } from "../../agent/common/metrics.ts";
import { Logger } from "../../agent/log.ts";
import { StateTracker, UserTable } from "../../agent/state/index.ts";
import { argsBlob, execRecord, frames, openRecord } from "../events/record-encoder.ts";

const CLOCK = { offsetSec: 1_700_000_000, offsetNsec: 0 };
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lanner-run-ops-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class BatchSource implements FrameSource {
  readonly clock = CLOCK;
  seen = 0;
  private sink: FrameSink | undefined;
  start(sink: FrameSink): void {
    this.sink = sink;
  }
  push(records: Uint8Array[]): void {
    this.seen += records.length;
    this.sink?.(frames(records), records.length);
  }
  stop(): void {}
  metrics(): MetricSample[] {
    return [{ name: "kernel_events_seen_total", type: "counter", help: "h", value: this.seen }];
  }
}

const rule = (name: string) =>
  `- rule: ${name}\n  desc: d\n  condition: evt.type = openat and fd.name = /etc/hosts\n  output: '${name} %proc.name'\n  priority: NOTICE\n`;
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

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await Bun.sleep(10);
  expect(cond()).toBe(true);
}

test("reload through the run's sources, readiness from the agent, metrics, summary and stop", async () => {
  const configPath = join(dir, "lanner.yaml");
  const rulesPath = join(dir, "rules.yaml");
  const alertsPath = join(dir, "alerts.jsonl");
  const logPath = join(dir, "log.jsonl");
  writeFileSync(
    configPath,
    [
      "json_output: true",
      "watch_config_files: false",
      "stdout_output: {enabled: false}",
      `file_output: {enabled: true, filename: ${alertsPath}}`,
      "webserver: {enabled: true, listen_address: 127.0.0.1, listen_port: 0, prometheus_metrics_enabled: true}",
    ].join("\n"),
  );
  writeFileSync(rulesPath, rule("Rule A"));
  const sources = { configPath, overrides: [], rulesFlags: [rulesPath] };
  const loaded = loadCliConfigDetailed(configPath, []);
  const logFd = openSync(logPath, "a");
  const log = new Logger("debug", true, logFd);
  const rules = loadRulesOrFail([rulesPath], () => {});
  const engine = buildEngine(rules, loaded.config);
  const outputs = buildOutputs(loaded.config, log, "node-a");
  const source = new BatchSource();
  const state = new StateTracker({
    processCapacity: 64,
    users: UserTable.fromEntries([[0, { name: "root", home: "/root", shell: "/bin/sh" }]], []),
    host: { hostname: "node-a", clock: CLOCK },
    pathBases: { cwd: () => "/", fdPath: () => undefined },
  });
  const agent = new Agent({
    source,
    state,
    engine,
    outputs,
    log,
    hostname: "node-a",
    clock: "event",
    statsIntervalMs: 0,
  });
  const stops: string[] = [];
  const swapped: (ReadonlySet<string> | "all")[] = [];
  agent.start();
  const ops = startRunOperations({
    sources,
    loaded,
    rulePaths: [rulesPath],
    rules,
    agent,
    outputs,
    log,
    hostname: "node-a",
    stop: (s) => stops.push(s),
    onEngineSwapped: (e) => swapped.push(e.eventTypes()),
  });
  const alerts = () =>
    readFileSync(alertsPath, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as { rule: string; source: string });
  try {
    expect(watchedPaths(loaded, [rulesPath], sources)).toEqual([configPath, rulesPath]);
    expect(watchedPaths(loaded, [], { ...sources, configPath: undefined })).toEqual([]);

    source.push([cat(10), hosts(10, 200)]);
    await until(() => alerts().some((a) => a.rule === "Rule A"));

    writeFileSync(rulesPath, rule("Rule B"));
    expect(ops.reload("test")).toEqual({ ok: true });
    // The kernel's selection follows the new engine (run passes LiveProbe.setSelection here).
    expect(swapped.map((t) => (t === "all" ? "all" : [...t].sort()))).toEqual([["openat"]]);
    source.push([hosts(10, 201)]);
    await until(() => alerts().some((a) => a.rule === "Rule B"));

    writeFileSync(rulesPath, `${rule("Rule C")}  condition: proc.nme = x\n`);
    const rejected = ops.reload("test");
    expect(rejected.ok).toBe(false);
    await until(() => alerts().some((a) => a.rule === "Lanner internal: reload rejected"));
    source.push([hosts(10, 202)]);
    await until(() => alerts().filter((a) => a.rule === "Rule B").length === 2);

    const url = ops.webServer?.url ?? "";
    const ready = await fetch(`${url}readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: { name: string }[] }).checks.map((c) => c.name)).toEqual([
      "capture",
      "kernel_drops",
      "sinks",
    ]);
    const metrics = await (await fetch(`${url}metrics`)).text();
    expect(metrics).toContain('lanner_config_reloads_total{result="ok"} 1\n');
    expect(metrics).toContain('lanner_config_reloads_total{result="rejected"} 1\n');
    expect(metrics).toContain("lanner_rules_loaded 1\n");
    expect(metrics).toContain("lanner_rules_fully_live 1\n");

    process.kill(process.pid, "SIGUSR2");
    await until(() => readFileSync(logPath, "utf8").includes('"msg":"summary"'));
    const summary = readFileSync(logPath, "utf8")
      .split("\n")
      .filter((l) => l.includes('"msg":"summary"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)[0];
    expect(summary).toMatchObject({ phase: "running", rules_active: 1, events: 4 });

    process.kill(process.pid, "SIGTERM");
    await until(() => stops.length === 1);
    expect(stops).toEqual(["SIGTERM"]);

    await agent.stop();
    const notReady = await fetch(`${url}readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { failed: string[] }).failed).toContain("capture");
  } finally {
    ops.close();
    await agent.stop();
    closeSync(logFd);
  }
});

test("runCli turns usage errors into exit 2 on stderr, in-process", async () => {
  const { runCli } = await import("../../agent/cli/dispatch.ts");
  const error = console.error;
  const log = console.log;
  const err: string[] = [];
  console.error = (t: string) => err.push(t);
  console.log = () => {};
  try {
    expect(await runCli(["bogus"])).toBe(2);
    expect(err[0]).toStartWith("lanner: unknown command 'bogus'");
    expect(await runCli(["--help"])).toBe(0);
    expect(await runCli(["version"])).toBe(0);
  } finally {
    console.error = error;
    console.log = log;
  }
});
