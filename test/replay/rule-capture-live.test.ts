// As root, with the real probe: `lanner run` with `capture.enabled` and a rule with `capture: true`
// writes a capture file around the alert when the rule fires; replaying that file with the same
// rules raises the same alert, byte for byte (same probe, same clock, state from the snapshot).

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentRun, LANNER } from "../e2e/agent-process.ts";

const dir = mkdtempSync(join(tmpdir(), "lanner-rulecap-live-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RULES = `
- rule: Marker file read
  desc: a read of the test's marker file
  condition: evt.type in (open, openat, openat2) and fd.name startswith ${dir}/marker
  output: "marker read %fd.name by %proc.name parent=%proc.pname cmdline=%proc.cmdline user=%user.name"
  priority: WARNING
  capture: true
  capture_duration: 100
`;

test("a rule with capture: true writes the file; its replay raises the live alert, byte for byte", async () => {
  const rules = join(dir, "rules.yaml");
  writeFileSync(rules, RULES);
  writeFileSync(join(dir, "marker-1"), "x");
  const prefix = join(dir, "cap");
  const live = new AgentRun(`capture:\n  enabled: true\n  path_prefix: ${prefix}\n  compression: gzip\n`);
  try {
    await live.start(["-r", rules, "-o", "stdout_output.enabled=false"]);
    expect(Bun.spawnSync(["cat", join(dir, "marker-1")]).exitCode).toBe(0);
    const alerts = await live.waitForAlerts((a) => a.some((x) => x.rule === "Marker file read"), 30_000);
    expect(alerts.filter((a) => a.rule === "Marker file read").length).toBe(1);
    // Events after the 100 ms window close the file; the stop closes it at the latest.
    await Bun.sleep(300);
    expect(await live.stop()).toBe(0);
    const liveLines = readFileSync(live.alertsPath, "utf8")
      .split("\n")
      .filter((l) => l.includes('"rule":"Marker file read"'));
    const files = readdirSync(dir).filter(
      (f) => f.startsWith("cap_marker_file_read_") && f.endsWith(".lcap"),
    );
    expect(files.length).toBe(1);
    const file = join(dir, files[0]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(live.stderr).toContain("rule-triggered capture written");
    const out = join(dir, "replayed.jsonl");
    const replay = Bun.spawnSync(
      [
        LANNER,
        "replay",
        file,
        "-r",
        rules,
        "-o",
        "stdout_output.enabled=false",
        "-o",
        "file_output.enabled=true",
        "-o",
        `file_output.filename=${out}`,
        "--json",
      ],
      { stdout: "pipe", stderr: "pipe", timeout: 30_000 },
    );
    expect(replay.exitCode).toBe(0);
    const summary = JSON.parse(replay.stdout.toString().trim());
    expect(summary.closed).toBe(true);
    expect(summary.alerts_by_rule).toEqual({ "Marker file read": 1 });
    const replayed = readFileSync(out, "utf8")
      .split("\n")
      .filter((l) => l !== "");
    expect(replayed).toEqual(liveLines);
    expect(replayed[0]).toContain("by cat parent=");
  } finally {
    live.cleanup();
  }
}, 120_000);
