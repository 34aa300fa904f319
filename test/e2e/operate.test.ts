// End to end, operating the built executable: after the probe is attached the agent runs with
// only the capabilities it still needs and no_new_privs, and keeps capturing and alerting.

import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { CAP, maskOf } from "../../agent/security/capabilities.ts";
import { liveUnavailable } from "../capture/live-support.ts";
import { AgentRun } from "./agent-process.ts";

const runs: AgentRun[] = [];
afterEach(() => {
  for (const r of runs.splice(0)) r.cleanup();
});
function newRun(extraConfig = ""): AgentRun {
  const run = new AgentRun(extraConfig);
  runs.push(run);
  return run;
}

const shadowAlerts = (run: AgentRun) =>
  run
    .alerts()
    .filter((a) => a.output_fields["proc.name"] === "cat" && a.output_fields["fd.name"] === "/etc/shadow");

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await Bun.sleep(25);
  expect(cond()).toBe(true);
}

describe.skipIf(liveUnavailable !== null)("operating the agent (live eBPF)", () => {
  test("capabilities are dropped after attach (CapEff in /proc/PID/status), and the agent keeps alerting", async () => {
    const run = newRun();
    await run.start();
    await until(() => run.stderr.includes("capabilities dropped after attach"));
    const status = readFileSync(`/proc/${run.pid}/status`, "utf8");
    const eff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1]}`);
    const bnd = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1]}`);
    const kept = maskOf([CAP.BPF, CAP.PERFMON, CAP.SYS_PTRACE, CAP.DAC_READ_SEARCH]);
    expect(eff).toBe(kept);
    expect(bnd).toBe(kept);
    expect(status).toMatch(/^NoNewPrivs:\s*1$/m);

    Bun.spawnSync(["cat", "/etc/shadow"], { stdout: "ignore" });
    await until(() => shadowAlerts(run).length === 1);
    expect(await run.stop()).toBe(0);
    // The final stats line still reads the probe's counters (a bpf() call) after the drop.
    const stats = run.stderr.split("\n").filter((l) => l.includes('"msg":"stats"'));
    expect(stats.length).toBeGreaterThan(0);
    expect(JSON.parse(stats[stats.length - 1]).kernel_seen).toBeGreaterThan(0);
  }, 30_000);
});
