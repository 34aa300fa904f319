// Replays the capture fixture (test/fixtures/actions-v1.lcap, made by Lanner's own capture with
// test/fixtures/make-captures.ts) through the real command line, without root: the alerts equal
// what the live agent raised for the same actions (test/fixtures/actions-v1.live.jsonl), run after
// run byte for byte, and the same through gzip and zstd copies of the file.

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CaptureReader, CaptureWriter } from "../../agent/capturefile/index.ts";
import { SCHEMA_VERSION } from "../../agent/events/index.ts";
import {
  DEFAULT_RULES_FILE,
  evtTime,
  FIXTURE_OPTIONS,
  FIXTURE_RULES,
  fixtureAlerts,
  withoutTimes,
} from "./live-capture.ts";

const ROOT = resolve(import.meta.dir, "../..");
const BUN = join(ROOT, "node_modules/.bin/bun");
const FIXTURE = join(ROOT, "test/fixtures/actions-v1.lcap");
const LIVE = readFileSync(join(ROOT, "test/fixtures/actions-v1.live.jsonl"), "utf8")
  .split("\n")
  .filter((l) => l !== "");
const dir = mkdtempSync(join(tmpdir(), "lanner-replay-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let runs = 0;
function replay(file: string, ...extra: string[]) {
  const alerts = join(dir, `alerts-${++runs}.jsonl`);
  const proc = Bun.spawnSync(
    [
      BUN,
      "agent/main.ts",
      "replay",
      file,
      "-r",
      DEFAULT_RULES_FILE,
      "-r",
      FIXTURE_RULES,
      ...FIXTURE_OPTIONS,
      "-o",
      `file_output.filename=${alerts}`,
      "-o",
      "file_output.enabled=true",
      ...extra,
    ],
    { cwd: ROOT, stdout: "pipe", stderr: "pipe", timeout: 30_000 },
  );
  return {
    code: proc.exitCode,
    stdout: proc.stdout.toString(),
    stderr: proc.stderr.toString(),
    raw: () => readFileSync(alerts, "utf8"),
    fixture: () => fixtureAlerts(alerts),
  };
}

test("the replay's alerts are the live agent's: same rules, fields and parents, times within the two probes' stamping gap", () => {
  const r = replay(FIXTURE);
  expect(r.code).toBe(0);
  const replayed = r.fixture();
  expect(LIVE.length).toBeGreaterThan(10);
  expect(replayed.map(withoutTimes)).toEqual(LIVE.map(withoutTimes));
  // The live agent and the capture each had their own probe, which stamped the same syscall a few
  // microseconds apart; nothing else about the time may differ.
  for (let i = 0; i < replayed.length; i++) {
    const shift = evtTime(replayed[i]) - evtTime(LIVE[i]);
    expect(shift < 10_000_000n && shift > -10_000_000n).toBe(true);
  }
  for (const rule of [
    "Credential file opened for reading",
    "Fixture ran a program",
    "Fixture read under /etc",
    "Fixture program exited",
  ])
    expect(replayed.some((l) => l.includes(`"rule":"${rule}"`))).toBe(true);
  expect(
    replayed.some((l) => l.includes('"proc.pname":"lanner-fixture-"') && l.includes('"proc.name":"cat"')),
  ).toBe(true);
}, 30_000);

test("the same file and rules give byte-identical output, run after run; --json summarises it", () => {
  const a = replay(FIXTURE, "--json");
  const b = replay(FIXTURE, "--json");
  expect(a.code).toBe(0);
  expect(a.raw()).toBe(b.raw());
  expect(a.stdout).toBe(b.stdout);
  const summary = JSON.parse(a.stdout.trim().split("\n").at(-1) ?? "");
  const lines = a
    .raw()
    .split("\n")
    .filter((l) => l !== "");
  expect(summary.alerts).toBe(lines.length);
  expect(summary.closed).toBe(true);
  expect(summary.bad_blocks).toBe(0);
  expect(summary.malformed_records).toBe(0);
  expect(summary.events).toBe(summary.records);
  const byRule: Record<string, number> = {};
  for (const l of lines) {
    const rule = (JSON.parse(l) as { rule: string }).rule;
    byRule[rule] = (byRule[rule] ?? 0) + 1;
  }
  expect(summary.alerts_by_rule).toEqual(byRule);
  expect(summary.kernel_drops_recorded).toEqual({ ring_full: 0, too_big: 0 });
}, 30_000);

test.each(["gzip", "zstd"] as const)(
  "a %s-compressed copy replays to the same bytes",
  (compression) => {
    const reader = new CaptureReader(FIXTURE);
    const copy = join(dir, `copy.${compression}.lcap`);
    const writer = new CaptureWriter(copy, reader.header, reader.snapshot, compression);
    for (let b = reader.nextRecords(); b !== undefined; b = reader.nextRecords()) {
      let off = 0;
      for (let i = 0; i < b.count; i++) {
        const len = new DataView(b.frames.buffer, b.frames.byteOffset + off).getUint32(0, true);
        writer.addRecord(b.frames, off + 4, off + 4 + len);
        off += 4 + len;
      }
    }
    if (reader.lastStats !== undefined) writer.addStats(reader.lastStats);
    writer.close("source_end");
    reader.close();
    expect(replay(copy).raw()).toBe(replay(FIXTURE).raw());
  },
  30_000,
);

test("the fixture comes from an older probe (record schema 1) and replays on this agent's newer schema", () => {
  const reader = new CaptureReader(FIXTURE);
  reader.close();
  expect(reader.header.schemaVersion).toBe(1);
  expect(SCHEMA_VERSION).toBeGreaterThan(1);
  // The replay itself is the first test's: same alerts as the live agent that wrote them.
});

test("on a terminal (a real pty from script(1)) a progress line is drawn; with --json or a pipe it is not", () => {
  const cmd = `${BUN} agent/main.ts replay ${FIXTURE} -o file_output.enabled=false -o stdout_output.enabled=false`;
  const tty = Bun.spawnSync(["script", "-qec", cmd, "/dev/null"], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    timeout: 30_000,
  });
  expect(tty.exitCode).toBe(0);
  const frames = tty.stdout.toString().split("\r");
  expect(frames.some((f) => /^\[=+\] 100% {2}\d+ events {2}\d+ alerts/.test(f))).toBe(true);
  const piped = replay(FIXTURE);
  expect(piped.stderr).not.toContain("100%");
}, 30_000);
