// Replay runs on event time: the per-rule alert rate limit (a token bucket on the agent's clock)
// lets through on replay exactly what it let through when the events happened, though the replay
// takes milliseconds. Real capture file, real command line.

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CaptureWriter, eventTableHash } from "../../agent/capturefile/index.ts";
import { SCHEMA_VERSION } from "../../agent/events/index.ts";
import { argsBlob, execRecord, openRecord } from "../events/record-encoder.ts";

const ROOT = resolve(import.meta.dir, "../..");
const BUN = join(ROOT, "node_modules/.bin/bun");
const dir = mkdtempSync(join(tmpdir(), "lanner-evclock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("a rate limit of one alert per second: 2 s apart all pass, 1 ms apart only the first", () => {
  const path = join(dir, "spaced.lcap");
  const w = new CaptureWriter(
    path,
    {
      schemaVersion: SCHEMA_VERSION,
      eventTableHash: eventTableHash(),
      agentVersion: "t",
      hostname: "node-c",
      kernelRelease: "k",
      bootTime: [1_700_000_000, 0],
      startTime: [1_700_000_000, 0],
      reason: "command",
      detail: "",
    },
    { processes: [], paths: [], users: [], groups: [] },
  );
  const add = (r: Uint8Array) => w.addRecord(r, 0, r.length);
  add(
    execRecord({
      pid: 9,
      tid: 9,
      comm: "cat",
      filename: "/bin/cat",
      argsBlob: argsBlob(["cat"]),
      bootSec: 1,
    }),
  );
  // Five opens two seconds apart, then five within five milliseconds.
  for (let i = 0; i < 5; i++)
    add(openRecord({ pid: 9, tid: 9, path: `/etc/spaced-${i}`, bootSec: 10 + 2 * i }));
  for (let i = 0; i < 5; i++)
    add(openRecord({ pid: 9, tid: 9, path: `/etc/burst-${i}`, bootSec: 30, bootNsec: i * 1_000_000 }));
  w.close("signal");
  const rules = join(dir, "r.yaml");
  writeFileSync(
    rules,
    "- rule: Etc open\n  desc: d\n  condition: evt.type = openat and fd.directory = /etc\n  output: '%fd.name'\n  priority: NOTICE\n",
  );
  const r = Bun.spawnSync(
    [
      BUN,
      "agent/main.ts",
      "replay",
      path,
      "-r",
      rules,
      "-o",
      "file_output.enabled=false",
      "-o",
      "alert_rate_limit.enabled=true",
      "-o",
      "alert_rate_limit.rate=1",
      "-o",
      "alert_rate_limit.max_burst=1",
    ],
    { cwd: ROOT, stdout: "pipe", stderr: "pipe", timeout: 30_000 },
  );
  expect(r.exitCode).toBe(0);
  const names = r.stdout
    .toString()
    .split("\n")
    .filter((l) => l.startsWith("{") && l.includes('"rule":"Etc open"'))
    .map((l) => (JSON.parse(l) as { output_fields: Record<string, string> }).output_fields["fd.name"]);
  expect(names).toEqual([
    "/etc/spaced-0",
    "/etc/spaced-1",
    "/etc/spaced-2",
    "/etc/spaced-3",
    "/etc/spaced-4",
    "/etc/burst-0",
  ]);
}, 30_000);
