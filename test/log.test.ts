// The agent's log: JSON lines (time, level, msg, fields) or readable text, filtered by level,
// written to a real file descriptor.

import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "../agent/log.ts";

const dir = mkdtempSync(join(tmpdir(), "lanner-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(json: boolean, level: "error" | "info" | "debug", write: (log: Logger) => void): string[] {
  const path = join(dir, `log-${Math.random()}`);
  const fd = openSync(path, "w");
  write(new Logger(level, json, fd));
  closeSync(fd);
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "");
}

describe("Logger", () => {
  test("JSON lines carry time, level, message and fields", () => {
    const [line] = capture(true, "info", (log) => log.info("rules loaded", { active: 3, files: "a.yaml" }));
    const obj = JSON.parse(line);
    expect(obj).toMatchObject({ level: "info", msg: "rules loaded", active: 3, files: "a.yaml" });
    expect(obj.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  test("levels below the threshold are dropped", () => {
    const lines = capture(true, "error", (log) => {
      log.debug("d");
      log.info("i");
      log.warning("w");
      log.error("e");
    });
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["e"]);
    const all = capture(true, "debug", (log) => {
      log.debug("d");
      log.warning("w");
    });
    expect(all.map((l) => JSON.parse(l).level)).toEqual(["debug", "warning"]);
  });

  test("text lines: time, LEVEL, message, key=value (quoted when they have blanks), undefined left out", () => {
    const [line] = capture(false, "info", (log) =>
      log.info("stats", { events: 5, note: "two words", gone: undefined }),
    );
    expect(line).toMatch(/^\S+ INFO stats events=5 note="two words"$/);
  });

  test("a closed descriptor does not throw: there is nowhere left to report to", () => {
    const fd = openSync(join(dir, "closed"), "w");
    closeSync(fd);
    expect(() => new Logger("info", true, fd).error("lost")).not.toThrow();
  });
});

describe("stderrIsTerminal", () => {
  const ROOT = join(import.meta.dir, "..");
  const BUN = join(ROOT, "node_modules/.bin/bun");
  const probe =
    'const { stderrIsTerminal } = require("./agent/log.ts"); console.log(String(stderrIsTerminal()));';

  test("a file, a pipe and /dev/null are not terminals", () => {
    const file = join(dir, "stderr.txt");
    const fd = openSync(file, "w");
    const cases: [string, "pipe" | "ignore" | number][] = [
      ["file", fd],
      ["pipe", "pipe"],
      ["/dev/null", "ignore"],
    ];
    for (const [, stderr] of cases) {
      const p = Bun.spawnSync([BUN, "-e", probe], { cwd: ROOT, stdout: "pipe", stderr, timeout: 20_000 });
      expect(p.stdout.toString().trim()).toBe("false");
    }
    closeSync(fd);
  });

  test("a pseudo-terminal is (script(1) gives the process one)", () => {
    const p = Bun.spawnSync(["script", "-qec", `${BUN} -e '${probe}'`, "/dev/null"], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
      timeout: 20_000,
    });
    // The terminal colours console.log's output; the word is what counts.
    expect(p.stdout.toString()).toContain("true");
  });
});
