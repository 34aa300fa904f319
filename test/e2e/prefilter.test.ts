// The close and open prefilters in the real agent (engine.prefilter, on by default): run logs it with the
// selection; an open of /etc/shadow still alerts while it is on; turned off, run says so.
import { afterEach, describe, expect, test } from "bun:test";
import { liveUnavailable } from "../capture/live-support.ts";
import { AgentRun } from "./agent-process.ts";

const selectionLine = (run: AgentRun) =>
  run.stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === "capture selection");

describe.skipIf(liveUnavailable !== null)("close prefilter in lanner run", () => {
  let run: AgentRun | undefined;
  afterEach(() => run?.cleanup());

  test("on by default: logged, and cat /etc/shadow still raises its alert", async () => {
    run = new AgentRun();
    await run.start();
    expect(selectionLine(run)?.close_prefilter).toBe(true);
    // The open prefilter derived from the default rules keeps reads of /etc/shadow.
    expect(selectionLine(run)?.open_prefilter).toContain("read+success /etc/shadow");
    Bun.spawnSync(["cat", "/etc/shadow"], { stdout: "ignore" });
    const alerts = await run.waitForAlerts((a) =>
      a.some((x) => x.output_fields["fd.name"] === "/etc/shadow"),
    );
    expect(await run.stop()).toBe(0);
    const shadow = alerts.filter(
      (a) => a.output_fields["proc.name"] === "cat" && a.output_fields["fd.name"] === "/etc/shadow",
    );
    expect(shadow).toHaveLength(1);
  }, 60_000);

  test("engine.prefilter=false turns it off", async () => {
    run = new AgentRun();
    await run.start(["-o", "engine.prefilter=false"]);
    expect(selectionLine(run)?.close_prefilter).toBe(false);
    expect(selectionLine(run)?.open_prefilter).toBe("off");
    expect(await run.stop()).toBe(0);
  }, 60_000);
});
