// Runs `lanner run` and `lanner capture` side by side on the real kernel while a script performs
// actions, so the live alerts and the capture of the same moments can be compared (the root test)
// or kept as fixtures (test/fixtures/make-captures.ts).

import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AgentRun, type AlertJson, LANNER, REPO } from "../e2e/agent-process.ts";

export const FIXTURE_RULES = join(REPO, "test", "fixtures", "fixture_rules.yaml");
export const DEFAULT_RULES_FILE = join(REPO, "rules", "lanner_rules.yaml");
/** The script's comm: its file name cut to 15 characters. */
export const FIXTURE_COMM = "lanner-fixture-";
/** What the fixture's script does: reads that trigger the default rules and the fixture rules. */
export const FIXTURE_ACTIONS = `#!/bin/sh
cat /etc/shadow > /dev/null
cat /etc/hostname > /dev/null
head -c 1 /etc/passwd > /dev/null
sh -c 'cat /etc/shadow > /dev/null'
ls /nonexistent-lanner-fixture 2> /dev/null
exit 0
`;
/** The replay (and the live agent) use these config overrides. */
export const FIXTURE_OPTIONS = ["-o", "rule_matching=all", "-o", "stdout_output.enabled=false"];
export const FIXTURE_FILTER = `${"proc.name"} = ${FIXTURE_COMM} or proc.pname = ${FIXTURE_COMM}`;

/** Whether an alert comes from the fixture's script (directly or from its children). */
export function byFixture(a: AlertJson): boolean {
  const f = a.output_fields;
  return f["proc.name"] === FIXTURE_COMM || f["proc.pname"] === FIXTURE_COMM;
}

export interface LiveCapture {
  /** The live agent's alert lines (exact bytes) that came from the fixture's script. */
  liveAlerts: string[];
  captureLog: string;
}

export async function captureAlongsideRun(
  dir: string,
  capturePath: string,
  extraCapture: string[] = [],
): Promise<LiveCapture> {
  const script = join(dir, "lanner-fixture-actions");
  writeFileSync(script, FIXTURE_ACTIONS);
  chmodSync(script, 0o755);
  const live = new AgentRun("rule_matching: all");
  try {
    await live.start(["-r", DEFAULT_RULES_FILE, "-r", FIXTURE_RULES]);
    const capture = Bun.spawn(
      [
        LANNER,
        "capture",
        "-w",
        capturePath,
        "--filter",
        FIXTURE_FILTER,
        "-o",
        "engine.modern_ebpf.drain_interval_ms=10",
        ...extraCapture,
      ],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe", cwd: dir },
    );
    let captureLog = "";
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of capture.stderr) captureLog += decoder.decode(chunk, { stream: true });
    })();
    const deadline = Date.now() + 60_000;
    while (!captureLog.includes("capture started")) {
      if (capture.exitCode !== null || Date.now() > deadline)
        throw new Error(`capture did not start:\n${captureLog}`);
      await Bun.sleep(20);
    }
    const actions = Bun.spawnSync([script], { cwd: "/" });
    if (actions.exitCode !== 0) throw new Error(`the action script failed: ${actions.stderr.toString()}`);
    // Every action's last event (the script's exit) must be in both before they stop.
    const seen = await live.waitForAlerts(
      (alerts) =>
        alerts.some(
          (a) => a.rule === "Fixture program exited" && a.output_fields["proc.name"] === FIXTURE_COMM,
        ),
      60_000,
    );
    if (
      !seen.some((a) => a.rule === "Fixture program exited" && a.output_fields["proc.name"] === FIXTURE_COMM)
    )
      throw new Error(`the live agent did not report the script's exit within 60 s:\n${live.stderr}`);
    await Bun.sleep(200);
    capture.kill("SIGINT");
    const code = await capture.exited;
    await reading;
    if (code !== 0) throw new Error(`capture exited ${code}:\n${captureLog}`);
    expectExit(await live.stop(), live.stderr);
    return { liveAlerts: fixtureAlerts(live.alertsPath), captureLog };
  } finally {
    live.cleanup();
  }
}

function expectExit(code: number, log: string): void {
  if (code !== 0) throw new Error(`lanner run exited ${code}:\n${log}`);
}

/** The lines of an alert file (exact bytes) that came from the fixture's script. */
export function fixtureAlerts(alertFile: string): string[] {
  return readFileSync(alertFile, "utf8")
    .split("\n")
    .filter((l) => l !== "" && byFixture(JSON.parse(l) as AlertJson));
}

/** An alert line with its three time renderings taken out (two probes stamp one syscall apart). */
export function withoutTimes(line: string): string {
  return line
    .replace(/"evt\.time":\d+/, '"evt.time":T')
    .replace(/"time":"[^"]+"/, '"time":T')
    .replace(/"output":"\d\d:\d\d:\d\d\.\d{9}: /, '"output":"T: ');
}

/** The alert's evt.time, exactly (a 64-bit integer in the JSON). */
export function evtTime(line: string): bigint {
  const m = /"evt\.time":(\d+)/.exec(line);
  if (m === null) throw new Error(`no evt.time in ${line}`);
  return BigInt(m[1]);
}
