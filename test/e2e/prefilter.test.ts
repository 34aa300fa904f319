// The close and open prefilters in the real agent (engine.prefilter, on by default): run logs it with the
// selection; an open of /etc/shadow still alerts while it is on; turned off, run says so.
import { afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { liveUnavailable } from "../capture/live-support.ts";
import { AgentRun } from "./agent-process.ts";

const selectionLine = (run: AgentRun) =>
  run.stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === "capture selection");

const updatedLine = (run: AgentRun) =>
  run.stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .findLast((l) => l.msg === "capture selection updated");

function rule(name: string, condition: string): string {
  return `- rule: ${name}\n  desc: d\n  condition: ${condition}\n  output: read %fd.name by %proc.pid\n  priority: WARNING\n`;
}

async function until(cond: () => boolean, ms = 20_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await Bun.sleep(25);
  return cond();
}

describe.skipIf(liveUnavailable !== null)("close and open prefilters in lanner run", () => {
  let run: AgentRun | undefined;
  afterEach(() => run?.cleanup());

  test("on by default: logged, and cat /etc/shadow still raises its alert", async () => {
    run = new AgentRun();
    await run.start();
    expect(selectionLine(run)?.close_prefilter).toBe(true);
    // The open prefilter derived from the default rules keeps reads of /etc/shadow.
    expect(selectionLine(run)?.open_prefilter).toContain("read+success /etc/shadow");
    // A read no default rule can match: dropped in the kernel, and counted in the stats line.
    writeFileSync(join(run.dir, "plain.txt"), "x");
    Bun.spawnSync(["cat", join(run.dir, "plain.txt")], { stdout: "ignore" });
    const cat = Bun.spawnSync(["cat", "/etc/shadow"], { stdout: "ignore" });
    // By pid: other work on the machine may read /etc/shadow too.
    const ours = (a: { output_fields: Record<string, unknown> }) =>
      a.output_fields["proc.pid"] === cat.pid && a.output_fields["fd.name"] === "/etc/shadow";
    await run.waitForAlerts((a) => a.some(ours));
    expect(await run.stop()).toBe(0);
    expect(run.alerts().filter(ours)).toHaveLength(1);
    const stats = run.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .findLast((l) => l.msg === "stats");
    expect(stats?.kernel_prefiltered_open as number).toBeGreaterThan(0);
    expect(typeof stats?.kernel_prefiltered_close).toBe("number");
  }, 60_000);

  test("engine.prefilter=false turns it off", async () => {
    run = new AgentRun();
    await run.start(["-o", "engine.prefilter=false"]);
    expect(selectionLine(run)?.close_prefilter).toBe(false);
    expect(selectionLine(run)?.open_prefilter).toBe("off");
    expect(await run.stop()).toBe(0);
  }, 60_000);

  test("a reload that widens the rules widens the open prefilter: the newly needed opens arrive", async () => {
    const agent = new AgentRun("watch_config_files: false");
    run = agent;
    const rules = join(run.dir, "rules.yaml");
    const target = join(run.dir, "target.txt");
    writeFileSync(target, "x");
    const etcWrites = rule(
      "Etc writes",
      "evt.type in (open, openat, openat2) and evt.is_open_write = true and fd.name startswith /etc/ and proc.name = nosuchprogram",
    );
    writeFileSync(rules, etcWrites);
    await run.start(["-r", rules]);
    expect(selectionLine(run)?.open_prefilter).toBe("write /etc/");
    // A read of the target matches no loaded rule, and never leaves the kernel.
    Bun.spawnSync(["cat", target], { stdout: "ignore" });

    writeFileSync(
      rules,
      etcWrites +
        rule(
          "Target read",
          `evt.type in (open, openat) and fd.name startswith ${run.dir}/ and proc.name = cat`,
        ),
    );
    run.signal("SIGHUP");
    expect(await until(() => updatedLine(agent) !== undefined)).toBe(true);
    expect(updatedLine(run)?.open_prefilter).toBe(`write /etc/; any ${run.dir}/`);
    const pid = Bun.spawnSync(["cat", target], { stdout: "ignore" }).pid;
    const alerts = await run.waitForAlerts((a) =>
      a.some((x) => x.rule === "Target read" && x.output_fields["proc.pid"] === pid),
    );
    expect(alerts.filter((x) => x.rule === "Target read")).toHaveLength(1);
    expect(await run.stop()).toBe(0);
  }, 60_000);
});
