// syscall_event_drops in the real agent: the smallest ring, drained once a second, under a storm of
// opens from a child. The rate limit (rate 0: the bucket never refills) makes the number of
// warning lines and internal alerts exact whatever the machine's speed; the exit action stops
// the agent cleanly with exit code 3.
import { afterEach, describe, expect, test } from "bun:test";
import { explainCapture } from "../../agent/cli/rules-explain.ts";
import { loadCliRules } from "../../agent/cli/setup.ts";
import { liveUnavailable } from "../capture/live-support.ts";
import { AgentRun } from "./agent-process.ts";

const RULE = "Lanner internal: kernel events dropped";
const TINY_RING = [
  "-o",
  "engine.modern_ebpf.buf_size_preset=1",
  "-o",
  "engine.modern_ebpf.drain_interval_ms=1000",
  // The storm's read-only opens match no default rule: the open prefilter would drop them (and
  // their closes) in the kernel, before the ring.
  "-o",
  "engine.prefilter=false",
];

/** A child that opens and closes /etc/hostname as fast as it can for `ms`. */
function storm(ms: number): Promise<number> {
  const script = `const fs=require("node:fs");const end=Date.now()+${ms};while(Date.now()<end){for(let i=0;i<1000;i++)fs.closeSync(fs.openSync("/etc/hostname","r"))}`;
  return Bun.spawn([process.execPath, "-e", script], { stdout: "ignore", stderr: "inherit" }).exited;
}

const logLines = (run: AgentRun, msg: string) =>
  run.stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);

describe.skipIf(liveUnavailable !== null)("kernel drops in lanner run", () => {
  let run: AgentRun | undefined;
  afterEach(() => run?.cleanup());

  test("log and alert: exactly max_burst of each with rate 0, naming reasons and kinds", async () => {
    run = new AgentRun(
      [
        "syscall_event_drops:",
        "  threshold: 0",
        "  actions: [log, alert]",
        "  rate: 0",
        "  max_burst: 2",
      ].join("\n"),
    );
    await run.start(TINY_RING);
    // run logs the kernel selection, the same that 'rules explain' shows for the embedded rules.
    const selection = logLines(run, "capture selection")[0];
    // (procexit and procfork come from tracepoints, always on: the syscall map does not list them.)
    const explained = explainCapture(loadCliRules([]).ruleset).selected;
    expect(explained).toContain("procexit");
    expect(selection?.selected).toBe(explained.filter((k) => k !== "procexit" && k !== "procfork").join(","));
    const deadline = Date.now() + 30_000;
    while (run.alerts().filter((a) => a.rule === RULE).length < 2 && Date.now() < deadline) await storm(1500);
    // More seconds over the threshold: the bucket is empty and never refills.
    await storm(2500);
    expect(await run.stop()).toBe(0);
    const alerts = run.alerts().filter((a) => a.rule === RULE);
    expect(alerts.length).toBe(2);
    for (const a of alerts) {
      expect(a.source).toBe("internal");
      expect(a.output_fields["lanner.drops_ring_full"] as number).toBeGreaterThan(0);
      expect(String(a.output_fields["lanner.drops_kinds"])).toMatch(/openat=\d+/);
    }
    const warnings = logLines(run, "kernel drops over syscall_event_drops.threshold");
    expect(warnings.length).toBe(2);
    expect(warnings[0]?.ring_full as number).toBeGreaterThan(0);
    // The final stats line carries the kernel's nonzero drop counter.
    const stats = logLines(run, "stats").at(-1);
    expect(stats?.kernel_drops_ring_full as number).toBeGreaterThan(0);
  }, 90_000);

  test("exit: the agent stops cleanly with exit code 3", async () => {
    run = new AgentRun(["syscall_event_drops:", "  threshold: 0", "  actions: [exit]"].join("\n"));
    await run.start(TINY_RING);
    const deadline = Date.now() + 30_000;
    while (!run.stderr.includes("(action exit)") && Date.now() < deadline) await storm(1500);
    expect(await run.waitExit()).toBe(3);
    expect(logLines(run, "stopping").map((l) => l.signal)).toEqual(["kernel drops"]);
    expect(run.stderr).toContain('"msg":"stats"');
  }, 90_000);
});
