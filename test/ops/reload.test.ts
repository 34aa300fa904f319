// Hot reload (agent/ops/reload.ts): a dry run of real config files; a rejected set keeps the
// running one, logs every problem and reports it; an accepted one is applied once.

import { afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigDetailed } from "../../agent/config/load.ts";
import type { LannerConfig } from "../../agent/config/schema.ts";
import { Reloader } from "../../agent/ops/reload.ts";
import { LogCapture } from "./log-capture.ts";

let dir: string;
let capture: LogCapture;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lanner-reload-"));
  capture = new LogCapture();
});
afterEach(() => {
  capture.close();
  rmSync(dir, { recursive: true, force: true });
});

test("a valid change is applied; an invalid one keeps the running config and reports every problem", () => {
  const path = join(dir, "lanner.yaml");
  writeFileSync(path, "priority: warning\n");
  let running: LannerConfig = loadConfigDetailed(
    { name: path, text: readFileSync(path, "utf8") },
    [],
    {},
  ).config;
  const rejected: string[][] = [];
  const reloader = new Reloader(
    {
      prepare: () => loadConfigDetailed({ name: path, text: readFileSync(path, "utf8") }, [], {}).config,
      apply: (next) => {
        running = next;
      },
    },
    capture.log,
    (_, problems) => rejected.push([...problems]),
  );

  writeFileSync(path, "priority: error\n");
  expect(reloader.reload("SIGHUP")).toEqual({ ok: true });
  expect(running.priority).toBe("error");

  writeFileSync(path, "priority: loud\nprioirty: x\n");
  const result = reloader.reload("SIGHUP");
  expect(result.ok).toBe(false);
  expect(running.priority).toBe("error");
  expect(rejected).toEqual([
    [
      expect.stringContaining(`${path}:1:1: key 'priority'`),
      `${path}:2:1: unknown key 'prioirty'; did you mean 'priority'?`,
    ],
  ]);
  const problems = capture.lines().filter((l) => l.msg === "reload problem");
  expect(problems.map((l) => l.detail)).toEqual(rejected[0]);
  expect(capture.lines().some((l) => l.level === "error" && l.msg.startsWith("reload rejected"))).toBe(true);
  expect(reloader.metrics().map((m) => [m.labels?.result, m.value])).toEqual([
    ["ok", 1],
    ["rejected", 1],
  ]);
});

test("an error while applying is a rejected reload too, with the error as its problem", () => {
  const reloader = new Reloader(
    {
      prepare: () => 1,
      apply: () => {
        throw new Error("engine swap failed");
      },
    },
    capture.log,
  );
  expect(reloader.reload("test")).toEqual({
    ok: false,
    problems: ["applying the new set failed: engine swap failed"],
  });
});

test("a plain error's message lines are the problems", () => {
  const reloader = new Reloader(
    {
      prepare: () => {
        throw new Error("first\nsecond");
      },
      apply: () => {},
    },
    capture.log,
  );
  expect(reloader.reload("test")).toEqual({ ok: false, problems: ["first", "second"] });
});
