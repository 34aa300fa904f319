// The real agent (dist/lanner with the live probe) and alert delivery: logrotate moves the alert
// file and sends SIGUSR1 (the agent lives on and writes a fresh file), an alert reaches a collector
// over HTTP, and SIGTERM drains the queues and exits 0.

import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, renameSync } from "node:fs";
import { liveUnavailable } from "../capture/live-support.ts";
import { AgentRun } from "../e2e/agent-process.ts";
import { until } from "./fixtures/alerts.ts";
import { Collector } from "./fixtures/collector.ts";

const runs: AgentRun[] = [];
afterEach(() => {
  for (const r of runs.splice(0)) r.cleanup();
});

type Fields = { output_fields: Record<string, unknown> };
/** Reads /etc/shadow with cat; the alerts of this very process (other tests on the machine may read it too). */
const readShadow = () => {
  const pid = Bun.spawnSync(["cat", "/etc/shadow"], { stdout: "ignore" }).pid;
  return (a: Fields) => a.output_fields["proc.pid"] === pid && a.output_fields["fd.name"] === "/etc/shadow";
};

describe.skipIf(liveUnavailable !== null)("lanner run: delivery", () => {
  test("logrotate: mv + SIGUSR1, the agent keeps running and writes to a new file; HTTP gets every alert", async () => {
    const c = new Collector().start();
    const run = new AgentRun(
      [
        "http_output:",
        "  enabled: true",
        `  url: ${c.url("/falco")}`,
        "outputs_queue:",
        "  shutdown_timeout_ms: 2000",
      ].join("\n"),
    );
    runs.push(run);
    await run.start();
    const first = readShadow();
    expect((await run.waitForAlerts((a) => a.some(first), 30_000)).filter(first)).toHaveLength(1);
    renameSync(run.alertsPath, `${run.alertsPath}.1`);
    process.kill(run.pid, "SIGUSR1");
    await Bun.sleep(200);
    const second = readShadow();
    expect((await run.waitForAlerts((a) => a.some(second), 30_000)).filter(second)).toHaveLength(1);
    const rotated = readFileSync(`${run.alertsPath}.1`, "utf8").trim().split("\n");
    expect(rotated.map((l) => JSON.parse(l) as Fields).filter(first)).toHaveLength(1);
    const got = () => c.got.items as Fields[];
    await until(() => got().filter(first).length === 1 && got().filter(second).length === 1, 30_000);
    expect(await run.stop("SIGTERM")).toBe(0);
    c.stop();
  }, 120_000);
});
