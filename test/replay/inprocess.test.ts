// The replay assembly in this process (the command-line tests run it in subprocesses): the
// capture fixture through CaptureFileSource, restoreState, the engine and outputs built as
// `lanner replay` builds them, into a real alert file; a malformed record ending the source with
// its byte offset; `lanner capture`'s filter tap; and a state snapshot of this machine's /proc.

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Agent, AgentClock, Pipeline } from "../../agent/agent/index.ts";
import {
  CaptureFileError,
  CaptureFileSource,
  CaptureReader,
  CaptureTap,
  CaptureWriter,
} from "../../agent/capturefile/index.ts";
import { buildEngine, buildOutputs, captureHeaderBase } from "../../agent/cli/assemble.ts";
import { CliFailure, loadRulesOrFail } from "../../agent/cli/setup.ts";
import { DEFAULT_CONFIG, loadConfig } from "../../agent/config/index.ts";
import { SCHEMA_VERSION } from "../../agent/events/index.ts";
import { Logger } from "../../agent/log.ts";
import { loadRuleSources } from "../../agent/rules/index.ts";
import {
  parseSnapshot,
  restoreState,
  SnapshotError,
  snapshotState,
  StateTracker,
  UserTable,
} from "../../agent/state/index.ts";
import { argsBlob, execRecord, openRecord } from "../events/record-encoder.ts";
import { DEFAULT_RULES_FILE, FIXTURE_RULES, fixtureAlerts, withoutTimes } from "./live-capture.ts";

const ROOT = resolve(import.meta.dir, "../..");
const FIXTURE = join(ROOT, "test/fixtures/actions-v1.lcap");
const LIVE = readFileSync(join(ROOT, "test/fixtures/actions-v1.live.jsonl"), "utf8")
  .split("\n")
  .filter((l) => l !== "");
const dir = mkdtempSync(join(tmpdir(), "lanner-inproc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = new Logger("emergency", true);

function replayInProcess(file: string, alertFile: string, onMalformedThrows = false) {
  const config = loadConfig(DEFAULT_CONFIG, [
    "rule_matching=all",
    "stdout_output.enabled=false",
    "file_output.enabled=true",
    `file_output.filename=${alertFile}`,
  ]);
  const engine = buildEngine(
    loadRulesOrFail([DEFAULT_RULES_FILE, FIXTURE_RULES], () => {}),
    config,
  );
  const reader = new CaptureReader(file);
  const source = new CaptureFileSource(reader);
  const clock = new AgentClock("event", source.clock);
  const outputs = buildOutputs(config, quiet, reader.header.hostname, clock.monotonicNs);
  const state = restoreState(parseSnapshot(reader.snapshot), {
    processCapacity: 1024,
    host: { hostname: reader.header.hostname, clock: source.clock },
  });
  const agent = new Agent({
    source,
    state,
    engine,
    outputs,
    log: quiet,
    hostname: reader.header.hostname,
    clock,
    schemaVersion: reader.header.schemaVersion,
    statsIntervalMs: 0,
    onMalformed: onMalformedThrows
      ? (offset, reason) => {
          throw source.malformed(offset, reason);
        }
      : undefined,
  });
  return { agent, source, reader };
}

test("the fixture replayed in this process gives the live agent's alerts", async () => {
  const out = join(dir, "alerts.jsonl");
  const { agent, source } = replayInProcess(FIXTURE, out);
  expect(source.progress()).toBeLessThan(1);
  agent.start();
  const end = await agent.ended;
  await agent.stop();
  expect(end.error).toBeUndefined();
  expect(source.progress()).toBe(1);
  expect(fixtureAlerts(out).map(withoutTimes)).toEqual(LIVE.map(withoutTimes));
  const recorded = source.metrics().find((m) => m.name === "kernel_events_seen_total");
  expect(recorded?.value).toBeGreaterThan(0);
  expect(agent.statsFields().events).toBe(agent.stats().events);
});

test("a malformed record ends the source with the record's exact byte offset", async () => {
  const file = join(dir, "bad.lcap");
  const w = new CaptureWriter(
    file,
    {
      ...captureHeaderBase("node-x", { offsetSec: 1, offsetNsec: 2 }),
      startTime: [0, 0],
      reason: "command",
      detail: "",
    },
    { processes: [], paths: [], users: [], groups: [] },
  );
  const exec = execRecord({ pid: 5, tid: 5, comm: "cat", filename: "/bin/cat", argsBlob: argsBlob(["cat"]) });
  const bad = Uint8Array.from([0xc1]);
  w.addRecord(exec, 0, exec.length);
  w.addRecord(bad, 0, 1);
  w.close("signal");
  const reader = new CaptureReader(file);
  expect(reader.header).toMatchObject({
    hostname: "node-x",
    schemaVersion: SCHEMA_VERSION,
    bootTime: [1, 2],
  });
  const framesAt = reader.nextRecords()?.framesOffset ?? -1;
  reader.close();
  // The bad record's first byte: after the exec's frame and the bad frame's length prefix.
  const badAt = framesAt + 4 + exec.length + 4;
  const { agent, source } = replayInProcess(file, join(dir, "bad-alerts.jsonl"), true);
  agent.start();
  const end = await agent.ended;
  await agent.stop();
  expect(end.error).toBeInstanceOf(CaptureFileError);
  expect((end.error as CaptureFileError).offset).toBe(badAt);
  expect(end.error?.message).toContain("malformed record");
  expect(source.locate(0)).toMatch(/^byte \d+$/);
});

test("capture's --filter tap keeps exec records always and other records only when they match", () => {
  const file = join(dir, "filtered.lcap");
  const writer = new CaptureWriter(
    file,
    {
      ...captureHeaderBase("node-f", { offsetSec: 0, offsetNsec: 0 }),
      startTime: [0, 0],
      reason: "command",
      detail: "f",
    },
    { processes: [], paths: [], users: [], groups: [] },
    "none",
    { maxRecords: 3 },
  );
  const filterRules = loadRuleSources([
    {
      name: "f",
      text: '- rule: f\n  desc: f\n  condition: fd.name startswith /etc\n  output: "%evt.type"\n  priority: DEBUG\n',
    },
  ]);
  const config = loadConfig(DEFAULT_CONFIG, []);
  const full: string[] = [];
  const tap = new CaptureTap(writer, buildEngine(filterRules, config), (reason) => full.push(reason));
  const state = new StateTracker({
    processCapacity: 16,
    users: UserTable.fromEntries([], []),
    host: { hostname: "node-f", clock: { offsetSec: 0, offsetNsec: 0 } },
    pathBases: { cwd: () => "/", fdPath: () => undefined },
  });
  const pipeline = new Pipeline({
    engine: buildEngine(loadRuleSources([]), config),
    state,
    outputs: { publish: () => {} },
    log: quiet,
    hostname: "node-f",
    taps: [tap],
  });
  const records = [
    execRecord({ pid: 5, tid: 5, comm: "cat", filename: "/bin/cat", argsBlob: argsBlob(["cat"]) }),
    openRecord({ pid: 5, tid: 5, path: "/tmp/x" }),
    openRecord({ pid: 5, tid: 5, path: "/etc/hosts" }),
    openRecord({ pid: 5, tid: 5, path: "/etc/passwd" }),
    openRecord({ pid: 5, tid: 5, path: "/etc/group" }),
  ];
  let framesBytes = 0;
  for (const r of records) framesBytes += 4 + r.length;
  const frames = new Uint8Array(framesBytes);
  let off = 0;
  for (const r of records) {
    new DataView(frames.buffer).setUint32(off, r.length, true);
    frames.set(r, off + 4);
    off += 4 + r.length;
  }
  pipeline.onFrames(frames, records.length);
  writer.close("max_events");
  expect(tap.filtered).toBe(1);
  expect(full).toEqual(["max_events"]);
  const reader = new CaptureReader(file);
  const batch = reader.nextRecords();
  expect(batch?.count).toBe(3);
  reader.close();
});

test("a snapshot of this machine's /proc holds a child process with its cwd; it restores; a bad one is named", async () => {
  const cwd = mkdtempSync(join(dir, "cwd-"));
  const child = Bun.spawn(["sleep", "30"], { cwd });
  try {
    const users = UserTable.fromEntries(
      [[0, { name: "root", home: "/root", shell: "/bin/sh" }]],
      [[0, "root"]],
    );
    const state = new StateTracker({
      processCapacity: 65_536,
      users,
      host: { hostname: "h", clock: { offsetSec: 0, offsetNsec: 0 } },
      hostRoot: "/",
    });
    state.seedFromProc();
    const snap = snapshotState(state.processes, users, "/proc");
    const entry = snap.paths.find((p) => p.pid === child.pid);
    expect(entry?.cwd).toBe(cwd);
    expect(snap.processes.some((p) => p.pid === child.pid && p.comm === "sleep")).toBe(true);
    const restored = restoreState(parseSnapshot(snap), {
      processCapacity: 65_536,
      host: { hostname: "h", clock: { offsetSec: 0, offsetNsec: 0 } },
    });
    expect(restored.processes.get(child.pid)?.comm).toBe("sleep");
    expect(() => parseSnapshot({ ...snap, users: [[0, 1, 2, 3]] })).toThrow(SnapshotError);
    expect(() => parseSnapshot({ ...snap, users: [[0, 1, 2, 3]] })).toThrow("snapshot.users.0.1:");
  } finally {
    child.kill();
    await child.exited;
  }
});

test("buildOutputs: a file sink that cannot be opened is an environment error (exit 2) naming the path", () => {
  const config = loadConfig(DEFAULT_CONFIG, [
    "file_output.enabled=true",
    `file_output.filename=${join(dir, "no", "such", "dir", "a.jsonl")}`,
  ]);
  writeFileSync(join(dir, "no"), "a file where a directory is expected");
  let error: unknown;
  try {
    buildOutputs(config, quiet, "h");
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CliFailure);
  expect((error as CliFailure).exitCode).toBe(2);
  expect((error as CliFailure).message).toContain(join(dir, "no", "such", "dir", "a.jsonl"));
});
