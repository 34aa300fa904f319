// Rule-triggered capture (agent/capturefile/trigger.ts): the records before an alert (from the
// ring) and those of the following capture_duration (event time) go to a file named after the rule
// and the alert's time; it replays to the same alert. Real files; records are the probe's exact
// bytes (test/events/record-encoder.ts) through the real pipeline and rules.

import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pipeline } from "../../agent/agent/index.ts";
import { CaptureReader, eventTableHash, RuleCaptureTap, slug } from "../../agent/capturefile/index.ts";
import { SCHEMA_VERSION } from "../../agent/events/index.ts";
import { Logger } from "../../agent/log.ts";
import { liveBinder, liveEventKey, liveText, loadRuleSources, RuleEngine } from "../../agent/rules/index.ts";
import { type EventContext, StateTracker, UserTable } from "../../agent/state/index.ts";
import { argsBlob, execRecord, frames, openRecord } from "../events/record-encoder.ts";

const dir = mkdtempSync(join(tmpdir(), "lanner-rulecap-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CLOCK = { offsetSec: 1_700_000_000, offsetNsec: 0 };
const RULES = `
- rule: Shadow read
  desc: d
  condition: evt.type = openat and fd.name = /etc/shadow
  output: "shadow by %proc.name"
  priority: WARNING
  capture: true
  capture_duration: 1000
- rule: Hosts read
  desc: d
  condition: evt.type = openat and fd.name = /etc/hosts
  output: "hosts by %proc.name"
  priority: NOTICE
`;

let n = 0;
function harness(
  over: { mode?: "rules" | "all_rules"; maxFileBytes?: number; ringBytes?: number; prefix?: string } = {},
) {
  const prefix = over.prefix ?? join(dir, `run${++n}`);
  const loaded = loadRuleSources([{ name: "r.yaml", text: RULES }]);
  expect(loaded.diagnostics.errorCount).toBe(0);
  const engine = new RuleEngine<EventContext>(
    loaded.ruleset,
    { minPriority: "Debug", matching: "first", selection: [] },
    liveBinder,
    liveText,
    liveEventKey,
  );
  const users = UserTable.fromEntries(
    [[0, { name: "root", home: "/root", shell: "/bin/sh" }]],
    [[0, "root"]],
  );
  const state = new StateTracker({
    processCapacity: 64,
    users,
    host: { hostname: "node-r", clock: CLOCK },
    pathBases: { cwd: () => "/", fdPath: () => undefined },
  });
  const errors: string[] = [];
  const written: string[] = [];
  const tap = new RuleCaptureTap({
    pathPrefix: prefix,
    mode: over.mode ?? "rules",
    defaultDurationMs: 100,
    maxFileBytes: over.maxFileBytes ?? 1 << 20,
    ringBytes: over.ringBytes ?? 1 << 20,
    compression: "zstd",
    header: {
      schemaVersion: SCHEMA_VERSION,
      eventTableHash: eventTableHash(),
      agentVersion: "t",
      hostname: "node-r",
      kernelRelease: "k",
      bootTime: [CLOCK.offsetSec, 0],
    },
    snapshot: () => ({
      processes: [],
      paths: [],
      users: [[0, "root", "/root", "/bin/sh"]],
      groups: [[0, "root"]],
    }),
    onWritten: (file) => written.push(file),
    onError: (m) => errors.push(m),
  });
  const pipeline = new Pipeline({
    engine,
    state,
    outputs: { publish: () => {} },
    log: new Logger("error", true),
    hostname: "node-r",
    taps: [tap],
  });
  return {
    tap,
    prefix,
    errors,
    written,
    feed: (records: Uint8Array[]) => pipeline.onFrames(frames(records), records.length),
  };
}

const cat = execRecord({
  pid: 50,
  tid: 50,
  ppid: 1,
  comm: "cat",
  filename: "/bin/cat",
  argsBlob: argsBlob(["cat"]),
  bootSec: 10,
  bootNsec: 0,
});
const at = (path: string, sec: number, nsec = 0) =>
  openRecord({ pid: 50, tid: 50, path, res: 3, bootSec: sec, bootNsec: nsec });

function records(path: string) {
  const r = new CaptureReader(path);
  const out: string[] = [];
  for (let b = r.nextRecords(); b !== undefined; b = r.nextRecords()) {
    let off = 0;
    for (let i = 0; i < b.count; i++) {
      const len = new DataView(b.frames.buffer, b.frames.byteOffset + off).getUint32(0, true);
      out.push(Buffer.from(b.frames.subarray(off + 4, off + 4 + len)).toString("hex"));
      off += 4 + len;
    }
  }
  r.close();
  return { header: r.header, end: r.end, records: out };
}
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("the ring before the alert and the capture_duration after it, in a file named after the rule and time", () => {
  const h = harness();
  const before = [cat, at("/tmp/a", 11), at("/tmp/b", 12)];
  const trigger = at("/etc/shadow", 13, 5);
  const inside = at("/tmp/c", 13, 900_000_000);
  const after = at("/tmp/d", 14, 6);
  h.feed([...before, trigger, inside, after]);
  expect(h.written.length).toBe(1);
  expect(h.written[0]).toBe(`${h.prefix}_shadow_read_${1_700_000_013_000_000_005n}.lcap`);
  const file = records(h.written[0]);
  expect(file.records).toEqual([...before, trigger, inside].map(hex));
  expect(file.header).toMatchObject({ reason: "rule", detail: "Shadow read", hostname: "node-r" });
  expect(file.end?.stoppedBy).toBe("rule_window");
  expect(h.tap.metrics().find((m) => m.name === "rule_captures_written_total")?.value).toBe(1);
});

test("rules without capture: true start nothing in `rules` mode, and do in `all_rules` mode", () => {
  const quiet = harness();
  quiet.feed([cat, at("/etc/hosts", 11)]);
  quiet.tap.close();
  expect(quiet.written).toEqual([]);
  const all = harness({ mode: "all_rules" });
  all.feed([cat, at("/etc/hosts", 11)]);
  all.tap.close("signal");
  expect(all.written.length).toBe(1);
  expect(records(all.written[0]).end?.stoppedBy).toBe("signal");
});

test("one capture at a time: an alert during an open capture is counted as skipped", () => {
  const h = harness();
  h.feed([cat, at("/etc/shadow", 11), at("/etc/shadow", 11, 500), at("/tmp/x", 20)]);
  expect(h.written.length).toBe(1);
  expect(h.tap.metrics().find((m) => m.name === "rule_captures_skipped_total")?.value).toBe(1);
});

test("bounds: a small ring keeps only recent records; max file size ends the capture", () => {
  const small = harness({ ringBytes: 1 });
  const many = Array.from({ length: 8000 }, (_, i) => at(`/tmp/file-${i}`, 11, i));
  small.feed([cat, ...many, at("/etc/shadow", 12)]);
  small.tap.close();
  const kept = records(small.written[0]).records;
  // Two 64 KiB chunks at most: far fewer than the 8002 records fed, and the newest ones.
  expect(kept.length).toBeLessThan(4000);
  expect(kept.at(-1)).toBe(hex(at("/etc/shadow", 12)));
  expect(kept.at(-2)).toBe(hex(many[7999]));
  const capped = harness({ maxFileBytes: 4096 });
  capped.feed([cat, at("/etc/shadow", 11), ...many.map((_, i) => at(`/tmp/after-${i}`, 11, 1000 + i))]);
  expect(capped.written.length).toBe(1);
  expect(records(capped.written[0]).end?.stoppedBy).toBe("max_size");
});

test("a capture that cannot be written is counted and reported; events go on", () => {
  const h = harness({ prefix: join(dir, "no-such-dir", "x") });
  h.feed([cat, at("/etc/shadow", 11), at("/tmp/y", 12)]);
  expect(h.errors.length).toBe(1);
  expect(h.errors[0]).toContain("no-such-dir");
  expect(h.tap.metrics().find((m) => m.name === "rule_capture_failures_total")?.value).toBe(1);
  expect(existsSync(join(dir, "no-such-dir"))).toBe(false);
  expect(readdirSync(dir).length).toBeGreaterThan(0);
});

test("slug: names become file-name-safe", () => {
  expect(slug("Read sensitive file untrusted")).toBe("read_sensitive_file_untrusted");
  expect(slug("../../etc/passwd")).toBe("etc_passwd");
  expect(slug("***")).toBe("rule");
  expect(slug("x".repeat(100)).length).toBe(64);
});
