// As root, with the real probe: `lanner capture` records while a script performs actions that
// trigger rules and `lanner run` watches the same actions live; the replay of the capture raises
// the same alerts (same rules, output fields, parents) as the live agent did.

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LANNER } from "../e2e/agent-process.ts";
import {
  captureAlongsideRun,
  DEFAULT_RULES_FILE,
  evtTime,
  FIXTURE_OPTIONS,
  FIXTURE_RULES,
  fixtureAlerts,
  withoutTimes,
} from "./live-capture.ts";

const dir = mkdtempSync(join(tmpdir(), "lanner-live-replay-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test.each(["none", "zstd"])(
  "capture (%s) while acting, replay: the alerts are the live ones",
  async (compression) => {
    const file = join(dir, `live-${compression}.lcap`);
    const { liveAlerts, captureLog } = await captureAlongsideRun(dir, file, ["--compress", compression]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(captureLog).toContain('"stopped_by":"signal"');
    const alertFile = join(dir, `replayed-${compression}.jsonl`);
    const replay = Bun.spawnSync(
      [
        LANNER,
        "replay",
        file,
        "-r",
        DEFAULT_RULES_FILE,
        "-r",
        FIXTURE_RULES,
        ...FIXTURE_OPTIONS,
        "-o",
        "file_output.enabled=true",
        "-o",
        `file_output.filename=${alertFile}`,
      ],
      { stdout: "pipe", stderr: "pipe", timeout: 30_000 },
    );
    expect(replay.exitCode).toBe(0);
    const replayed = fixtureAlerts(alertFile);
    // The script's own cat of /etc/shadow (the one under sh -c has parent sh, not the script).
    expect(liveAlerts.filter((l) => l.includes('"rule":"Credential file opened for reading"')).length).toBe(
      1,
    );
    expect(replayed.map(withoutTimes)).toEqual(liveAlerts.map(withoutTimes));
    for (let i = 0; i < replayed.length; i++) {
      const shift = evtTime(replayed[i]) - evtTime(liveAlerts[i]);
      expect(shift < 10_000_000n && shift > -10_000_000n).toBe(true);
    }
    expect(readFileSync(alertFile, "utf8")).toContain('"proc.pname":"lanner-fixture-"');
  },
  240_000,
);
