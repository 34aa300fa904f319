// The pipeline (agent/agent/pipeline.ts) end to end without the kernel: frames built byte for byte as
// the probe writes them (test/events/record-encoder.ts) go through decode, state, the embedded
// default rules and the real outputs (createOutputs) into a temporary alert file; the agent's log goes to a
// temporary file too.

import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_RULES } from "../agent/config/embedded.ts";
import { Logger } from "../agent/log.ts";
import { Pipeline } from "../agent/agent/index.ts";
import { createOutputs, defaultOutputSettings } from "../agent/outputs/index.ts";
import { RuleEngine } from "../agent/rules/engine.ts";
import { liveBinder, liveEventKey, liveText } from "../agent/rules/live.ts";
import { loadRuleSources, type RuleSource } from "../agent/rules/load/load.ts";
import type { EventContext } from "../agent/state/context.ts";
import { StateTracker } from "../agent/state/tracker.ts";
import { UserTable } from "../agent/state/users.ts";
import {
  argsBlob,
  execRecord,
  exitRecord,
  forkRecord,
  frames,
  openRecord,
  RecordWriter,
} from "./events/record-encoder.ts";

const dir = mkdtempSync(join(tmpdir(), "lanner-pipeline-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CLOCK = { offsetSec: 1_700_000_000, offsetNsec: 900_000_000 };
const CONTAINER = "0123456789abcdef".repeat(4);

let runs = 0;

/** A pipeline with real outputs: alerts to a file, the log to another file. */
function harness(sources: RuleSource[] = [DEFAULT_RULES], matching: "first" | "all" = "first") {
  const n = ++runs;
  const alertPath = join(dir, `alerts-${n}.jsonl`);
  const logPath = join(dir, `log-${n}.jsonl`);
  const logFd = openSync(logPath, "a");
  const loaded = loadRuleSources(sources);
  expect(loaded.diagnostics.errorCount).toBe(0);
  const engine = new RuleEngine<EventContext>(
    loaded.ruleset,
    { minPriority: "Debug", matching, selection: [] },
    liveBinder,
    liveText,
    liveEventKey,
  );
  const users = new UserTable();
  users.parsePasswd("root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/zsh\n");
  const state = new StateTracker({
    processCapacity: 128,
    users,
    host: { hostname: "node-1", clock: CLOCK },
    pathBases: { cwd: () => "/root", fdPath: () => undefined },
  });
  const log = new Logger("debug", true, logFd);
  const outputs = createOutputs(
    defaultOutputSettings({
      stdout_output: { enabled: false },
      file_output: { enabled: true, filename: alertPath },
    }),
    { log, hostname: "node-1" },
  );
  const pipeline = new Pipeline({ engine, state, outputs, log, hostname: "node-1" });
  return {
    pipeline,
    state,
    outputs,
    feed(records: Uint8Array[]) {
      pipeline.onFrames(frames(records), records.length);
    },
    /** Alerts written so far (after letting the router drain). */
    async alerts(): Promise<{ raw: string; json: Record<string, unknown> }[]> {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return readFileSync(alertPath, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((raw) => ({ raw, json: JSON.parse(raw) }));
    },
    log(): Record<string, unknown>[] {
      return readFileSync(logPath, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l));
    },
    close() {
      void outputs.shutdown(0);
      closeSync(logFd);
    },
  };
}

/** The parent shell: bash exec'd as pid, child of init. */
const bashExec = (pid: number) =>
  execRecord({ pid, tid: pid, ppid: 1, comm: "bash", filename: "/bin/bash", argsBlob: argsBlob(["bash"]) });

const catExec = (pid: number, over: Parameters<typeof execRecord>[0] = {}) =>
  execRecord({
    pid,
    tid: pid,
    ppid: 400,
    uid: 0,
    gid: 0,
    comm: "cat",
    filename: "/usr/bin/cat",
    argsBlob: argsBlob(["cat", "/etc/shadow"]),
    cgroupLeafFirst: [],
    ...over,
  });

const shadowOpen = (pid: number, over: Parameters<typeof openRecord>[0] = {}) =>
  openRecord({
    pid,
    tid: pid,
    path: "/etc/shadow",
    flags: 0,
    res: 3,
    bootSec: 100,
    bootNsec: 200_000_000,
    ...over,
  });

describe("Pipeline: exec then open of /etc/shadow", () => {
  test("cat reading /etc/shadow yields exactly one alert, in Falco's shape, in the file", async () => {
    const h = harness();
    h.feed([bashExec(400), catExec(500), shadowOpen(500)]);
    const alerts = await h.alerts();
    expect(alerts.length).toBe(1);
    const [{ raw, json }] = alerts;
    expect(json.rule).toBe("Credential file opened for reading");
    expect(json.priority).toBe("Warning");
    expect(json.source).toBe("syscall");
    expect(json.hostname).toBe("node-1");
    // 1700000000.9 + 100.2 s = 1700000101.1 s: the nanoseconds carry into the seconds.
    expect(json.time).toBe("2023-11-14T22:15:01.100000000Z");
    expect(raw).toContain('"evt.time":1700000101100000000,');
    expect(json.output_fields).toMatchObject({
      "fd.name": "/etc/shadow",
      "proc.name": "cat",
      "proc.cmdline": "cat /etc/shadow",
      "proc.pid": 500,
      "proc.pname": "bash",
      "user.name": "root",
      "user.uid": 0,
      "container.id": "host",
    });
    expect(json.output).toBe(
      "22:15:01.100000000: Warning Credential file opened for reading (file=/etc/shadow process=cat command=cat /etc/shadow pid=500 parent=bash user=root uid=0 container=host)",
    );
    expect(h.pipeline.stats()).toEqual({ events: 3, malformed: 0, alerts: 1 });
    h.close();
  });

  test("the container id comes from the exec's cgroup", async () => {
    const h = harness();
    h.feed([
      catExec(500, {
        cgroupLeafFirst: [
          `cri-containerd-${CONTAINER}.scope`,
          "kubepods-besteffort-podx.slice",
          "kubepods.slice",
        ],
      }),
      shadowOpen(500),
    ]);
    const [alert] = await h.alerts();
    expect((alert.json.output_fields as Record<string, unknown>)["container.id"]).toBe(
      CONTAINER.slice(0, 12),
    );
    h.close();
  });

  test.each([
    ["a known reader (passwd)", { comm: "passwd", filename: "/usr/bin/passwd" }, {}],
    ["a write-only open", {}, { flags: 0o1 }],
    ["a failed open", {}, { res: -13 }],
    ["another file", {}, { path: "/etc/hosts" }],
  ])("no alert for %s", async (_, execOver, openOver) => {
    const h = harness();
    h.feed([catExec(500, execOver), shadowOpen(500, openOver)]);
    // Other default rules may see these events (a write below /etc); the credential rule must not.
    const alerts = await h.alerts();
    expect(alerts.filter((a) => a.json.rule === "Credential file opened for reading")).toEqual([]);
    expect(h.pipeline.stats().alerts).toBe(alerts.length);
    h.close();
  });

  test("relative paths are resolved before the rules see them", async () => {
    const h = harness();
    // cwd is /root (the fake resolver): ../etc/shadow is /etc/shadow.
    h.feed([catExec(500), shadowOpen(500, { path: "../etc/./shadow" })]);
    const alerts = await h.alerts();
    expect(alerts.length).toBe(1);
    expect((alerts[0].json.output_fields as Record<string, unknown>)["fd.name"]).toBe("/etc/shadow");
    h.close();
  });
});

describe("Pipeline: malformed frames", () => {
  test("a malformed frame in the middle is counted and logged; the next events still alert", async () => {
    const h = harness();
    const exec = catExec(500);
    // A fixarray of three small integers: a kind with the wrong number of elements.
    const bad = new RecordWriter().fixarray(3).uint(1).uint(2).uint(3).done();
    h.feed([exec, bad, shadowOpen(500)]);
    const alerts = await h.alerts();
    expect(alerts.length).toBe(1);
    expect(h.pipeline.stats()).toEqual({ events: 2, malformed: 1, alerts: 1 });
    const log = h.log();
    expect(log.length).toBe(1);
    expect(log[0]).toMatchObject({ level: "error", msg: "malformed kernel record skipped", count: 1 });
    // The offset is the record's first byte in the batch: after the exec's frame and a length prefix.
    expect(log[0].offset).toBe(4 + exec.length + 4);
    expect(typeof log[0].reason).toBe("string");
    h.close();
  });

  test("bytes that are not MessagePack at all are skipped the same way", async () => {
    const h = harness();
    h.feed([catExec(500), Uint8Array.from([0xc1, 0xc1]), shadowOpen(500)]);
    expect((await h.alerts()).length).toBe(1);
    expect(h.pipeline.stats()).toEqual({ events: 2, malformed: 1, alerts: 1 });
    h.close();
  });

  test("after 20 logged errors the rest are only counted", async () => {
    const h = harness();
    const bad = Uint8Array.from([0xc1]);
    h.feed([catExec(500), ...Array.from({ length: 25 }, () => bad), shadowOpen(500)]);
    expect((await h.alerts()).length).toBe(1);
    expect(h.pipeline.stats()).toEqual({ events: 2, malformed: 25, alerts: 1 });
    const msgs = h.log().map((l) => l.msg);
    expect(msgs.filter((m) => m === "malformed kernel record skipped").length).toBe(20);
    expect(msgs.at(-1)).toBe("further malformed records are counted, not logged");
    expect(msgs.length).toBe(21);
    h.close();
  });

  test("a frame cut off at the end of the batch ends the batch, counted", async () => {
    const h = harness();
    const whole = frames([catExec(500), shadowOpen(500)]);
    // Drop the last byte: the second frame announces more bytes than remain.
    h.pipeline.onFrames(whole.subarray(0, whole.length - 1), 2);
    expect(await h.alerts()).toEqual([]);
    expect(h.pipeline.stats()).toEqual({ events: 1, malformed: 1, alerts: 0 });
    expect(h.log()[0].msg).toBe("malformed kernel record skipped");
    h.close();
  });
});

describe("Pipeline: fork and exit", () => {
  test("a forked child inherits the parent's process; its open has proc.name", async () => {
    const h = harness();
    h.feed([
      bashExec(400),
      catExec(500, { ppid: 400 }),
      forkRecord({ pid: 500, tid: 500, childPid: 501, childTid: 501 }),
      shadowOpen(501),
    ]);
    const alerts = await h.alerts();
    expect(alerts.length).toBe(1);
    expect(alerts[0].json.output_fields).toMatchObject({
      "proc.name": "cat",
      "proc.pid": 501,
      "proc.pname": "cat",
      "proc.cmdline": "cat /etc/shadow",
    });
    expect(h.state.processes.get(501)?.ppid).toBe(500);
    h.close();
  });

  test("procexit removes the process: a later event from that pid knows nothing about it", async () => {
    const h = harness();
    h.feed([
      catExec(500),
      forkRecord({ pid: 500, tid: 500, childPid: 501, childTid: 501 }),
      exitRecord({ pid: 501, tid: 501 }),
    ]);
    expect(h.state.processes.get(501)).toBeUndefined();
    expect(h.state.processes.get(500)?.comm).toBe("cat");
    h.feed([shadowOpen(501)]);
    const alerts = await h.alerts();
    // The rule still fires (an unknown process is not a known reader), without the process fields
    // except the pid, which the record carries.
    expect(alerts.length).toBe(1);
    expect(alerts[0].json.output_fields).toMatchObject({
      "proc.name": null,
      "proc.pid": 501,
      "fd.name": "/etc/shadow",
    });
    h.close();
  });

  test("a thread's fork and exit leave the process table alone", async () => {
    const h = harness();
    h.feed([
      catExec(500),
      forkRecord({ pid: 500, tid: 500, childPid: 500, childTid: 502 }),
      exitRecord({ pid: 500, tid: 502 }),
      shadowOpen(500, { tid: 502 }),
    ]);
    expect(h.state.processes.stats().size).toBe(1);
    const alerts = await h.alerts();
    expect(alerts.length).toBe(1);
    expect((alerts[0].json.output_fields as Record<string, unknown>)["proc.name"]).toBe("cat");
    h.close();
  });

  test("rules are evaluated for exec, open and exit events, never for fork events", async () => {
    const everyEvent: RuleSource = {
      name: "every-event.yaml",
      text:
        "- rule: Any event by cat\n  desc: d\n  condition: proc.name = cat\n" +
        "  output: '%evt.type by %proc.name'\n  priority: NOTICE\n",
    };
    const h = harness([everyEvent]);
    h.feed([
      catExec(500),
      forkRecord({ pid: 500, tid: 500, childPid: 501, childTid: 501 }),
      shadowOpen(500),
      exitRecord({ pid: 500, tid: 500 }),
    ]);
    const types = (await h.alerts()).map((a) => (a.json.output as string).split(": Notice ")[1]);
    expect(types).toEqual(["execve by cat", "openat by cat", "procexit by cat"]);
    expect(h.pipeline.stats()).toEqual({ events: 4, malformed: 0, alerts: 3 });
    h.close();
  });
});
