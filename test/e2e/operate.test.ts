// End to end, operating the built executable: after the probe is attached the agent runs with
// only the capabilities it still needs and no_new_privs, and keeps capturing and alerting; every
// signal does what `lanner run --help` says; hot reload (SIGHUP and file watching) swaps rules
// without detaching the probe and keeps the old ones when the new ones are broken; the web server
// answers /healthz, /readyz and /metrics (checked by promtool).

import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CAP, maskOf } from "../../agent/security/capabilities.ts";
import { liveUnavailable } from "../capture/live-support.ts";
import { promtool } from "../server/promtool.ts";
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

/** Reads /etc/shadow with a fresh cat; its pid. */
function readShadow(): number {
  return Bun.spawnSync(["cat", "/etc/shadow"], { stdout: "ignore" }).pid;
}

/**
 * Alerts about one cat of ours (other work on the machine may read /etc/shadow too, and the probe
 * sees the whole machine), optionally of one rule.
 */
const alertsFor = (run: AgentRun, pid: number, rule?: string) =>
  run.alerts().filter((a) => a.output_fields["proc.pid"] === pid && (rule === undefined || a.rule === rule));

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
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

    const pid = readShadow();
    await until(() => alertsFor(run, pid).length > 0);
    expect(await run.stop()).toBe(0);
    expect(alertsFor(run, pid)).toHaveLength(1);
    // The final stats line still reads the probe's counters (a bpf() call) after the drop.
    const stats = run.stderr.split("\n").filter((l) => l.includes('"msg":"stats"'));
    expect(stats.length).toBeGreaterThan(0);
    expect(JSON.parse(stats[stats.length - 1]).kernel_seen).toBeGreaterThan(0);
  }, 60_000);
});

/** A rules file with one rule that fires on reading /etc/shadow, named `name`. */
function shadowRule(name: string): string {
  return `- rule: ${name}
  desc: test rule
  condition: evt.type in (open, openat, openat2) and fd.name = /etc/shadow and proc.name = cat
  output: shadow read by %proc.name %proc.pid
  priority: WARNING
`;
}

const logLines = (run: AgentRun) =>
  run.stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe.skipIf(liveUnavailable !== null)("signals and hot reload (live eBPF)", () => {
  test("SIGHUP swaps the rules without detaching the probe; broken rules are rejected with an internal alert and the old rules kept", async () => {
    const run = newRun("watch_config_files: false");
    const rules = join(run.dir, "rules.yaml");
    writeFileSync(rules, shadowRule("Shadow A"));
    await run.start(["-r", rules]);
    const pidA = readShadow();
    await until(() => alertsFor(run, pidA, "Shadow A").length === 1);

    writeFileSync(rules, shadowRule("Shadow B"));
    run.signal("SIGHUP");
    await until(() => run.stderr.includes('"msg":"rules reloaded"'));
    await until(() => run.stderr.includes('"msg":"capture selection updated"'));
    const pidB = readShadow();
    await until(() => alertsFor(run, pidB, "Shadow B").length === 1);
    expect(alertsFor(run, pidB, "Shadow A")).toHaveLength(0);

    writeFileSync(rules, `${shadowRule("Shadow C")}  condition: proc.nme = x\n`);
    run.signal("SIGHUP");
    await until(() => run.alerts().some((a) => a.rule === "Lanner internal: reload rejected"));
    const rejected = run.alerts().find((a) => a.rule === "Lanner internal: reload rejected");
    expect(rejected?.priority).toBe("Error");
    expect(rejected?.source).toBe("internal");
    // The log line goes to stderr, the alert to its own output: either may be read first.
    const reloadProblem = () =>
      logLines(run).some((l) => l.msg === "reload problem" && String(l.detail).includes(rules));
    await until(reloadProblem);
    expect(reloadProblem()).toBe(true);
    // The old rules still run.
    const pidC = readShadow();
    await until(() => alertsFor(run, pidC, "Shadow B").length === 1);
    expect(run.alerts().filter((a) => a.rule === "Shadow C")).toHaveLength(0);

    // One attach for the whole run: the probe never detached.
    expect(run.stderr.split('"msg":"capture started"').length - 1).toBe(1);
    expect(await run.stop()).toBe(0);
  }, 60_000);

  test("watch_config_files: editing the rules file reloads them without a signal", async () => {
    const run = newRun("watch_config_files: true");
    const rules = join(run.dir, "rules.yaml");
    writeFileSync(rules, shadowRule("Watched A"));
    await run.start(["-r", rules]);
    writeFileSync(rules, shadowRule("Watched B"));
    await until(() => run.stderr.includes('"msg":"rules reloaded"'));
    const pid = readShadow();
    await until(() => alertsFor(run, pid, "Watched B").length === 1);
    expect(await run.stop()).toBe(0);
  }, 60_000);

  test("SIGUSR1 reopens outputs, SIGUSR2 logs a summary; the agent keeps running and alerting; SIGQUIT stops it like SIGTERM", async () => {
    const run = newRun();
    await run.start();
    // logrotate: the alert file is moved away, then SIGUSR1; the next alert goes to a new file.
    const before = readShadow();
    await until(() => alertsFor(run, before).length === 1);
    renameSync(run.alertsPath, `${run.alertsPath}.1`);
    run.signal("SIGUSR1");
    await until(() => run.stderr.includes('"msg":"reopening output files"'));
    run.signal("SIGUSR2");
    await until(() => logLines(run).some((l) => l.msg === "summary"));
    const summary = logLines(run).find((l) => l.msg === "summary") ?? {};
    expect(summary.signal).toBe("SIGUSR2");
    expect(summary.phase).toBe("running");
    expect(typeof summary.events).toBe("number");
    expect(typeof summary.rules_active).toBe("number");

    const after = readShadow();
    await until(() => alertsFor(run, after).length === 1);
    const rotated = readFileSync(`${run.alertsPath}.1`, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as { output_fields: Record<string, unknown> });
    expect(rotated.filter((a) => a.output_fields["proc.pid"] === before)).toHaveLength(1);
    expect(alertsFor(run, before)).toHaveLength(0);
    expect(await run.stop("SIGQUIT")).toBe(0);
    expect(run.stderr).toContain("SIGQUIT: stopping as on SIGTERM (no core dump)");
    expect(logLines(run).some((l) => l.msg === "stats")).toBe(true);
  }, 60_000);

  test("the web server: /healthz 200, /readyz 200 with every check named, /metrics that promtool accepts", async () => {
    const run = newRun(
      "webserver:\n  enabled: true\n  listen_address: 127.0.0.1\n  listen_port: 0\n  prometheus_metrics_enabled: true",
    );
    await run.start();
    await until(() => run.stderr.includes('"msg":"web server listening"'));
    const url = String(logLines(run).find((l) => l.msg === "web server listening")?.url);
    expect((await fetch(`${url}healthz`)).status).toBe(200);
    const ready = await fetch(`${url}readyz`);
    const body = (await ready.json()) as { status: string; checks: { name: string }[] };
    expect([ready.status, body.status]).toEqual([200, "ok"]);
    expect(body.checks.map((c) => c.name)).toEqual(["capture", "kernel_drops", "sinks"]);

    const pid = readShadow();
    await until(() => alertsFor(run, pid).length === 1);
    const metrics = await (await fetch(`${url}metrics`)).text();
    expect(promtool(metrics)).toEqual({ code: 0, output: "" });
    for (const name of [
      "lanner_events_total",
      "lanner_kernel_drops_total",
      "lanner_rule_matches_total",
      "lanner_output_delivered_total",
      "lanner_state_processes",
      "lanner_process_resident_memory_bytes",
      "lanner_process_cpu_seconds_total",
      "lanner_config_reloads_total",
      "lanner_rules_active",
    ])
      expect(metrics).toContain(`\n${name}`);
    expect(await run.stop()).toBe(0);
    // Stopped: the port is closed.
    expect(fetch(`${url}healthz`)).rejects.toThrow();
  }, 60_000);

  test("a web server port already in use: exit 2 naming the keys", async () => {
    const blocker = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    try {
      const run = newRun(
        `webserver:\n  enabled: true\n  listen_address: 127.0.0.1\n  listen_port: ${blocker.port}`,
      );
      await expect(run.start()).rejects.toThrow("agent did not start (exit 2)");
      expect(run.stderr).toContain(
        `cannot listen on 127.0.0.1:${blocker.port} (webserver.listen_address/listen_port)`,
      );
    } finally {
      void blocker.stop(true);
    }
  }, 60_000);
});
