// `lanner config check|schema` (agent/cli/config.ts), called in-process so coverage counts it,
// plus one run of the real entry point for the exit code main sets.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { UsageError } from "../../agent/cli/args.ts";
import { configCommand } from "../../agent/cli/config.ts";
import { CliFailure } from "../../agent/cli/setup.ts";

const ROOT = resolve(import.meta.dir, "../..");
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lanner-config-cli-"));
  writeFileSync(join(dir, "falco.yaml"), "json_output: true\nlibs_logger:\n  enabled: false\n");
  writeFileSync(join(dir, "bad.yaml"), "prioirty: debug\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...argv: string[]): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = configCommand(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out, err };
}

describe("config check", () => {
  test("a valid file with a Falco key Lanner lacks: exit 0, the warning, a summary", () => {
    const r = run("check", join(dir, "falco.yaml"));
    expect(r.code).toBe(0);
    expect(r.out).toEqual([
      `warning: ${join(dir, "falco.yaml")}:2:1: 'libs_logger' is a known Falco key (Falco 0.44.1), not supported by Lanner, ignored`,
      `${join(dir, "falco.yaml")}: valid; 1 file(s) read, 1 warning(s), 0 errors`,
    ]);
  });

  test("no file checks the embedded default config", () => {
    expect(run("check").out).toEqual([
      "<embedded default config>: valid; 1 file(s) read, 0 warning(s), 0 errors",
    ]);
  });

  test("an invalid file is a CliFailure with exit 1 and every problem", () => {
    expect(() => run("check", join(dir, "bad.yaml"))).toThrow(CliFailure);
    try {
      run("check", join(dir, "bad.yaml"));
    } catch (e) {
      expect((e as CliFailure).exitCode).toBe(1);
      expect((e as CliFailure).message).toContain("unknown key 'prioirty'; did you mean 'priority'?");
    }
  });

  test("-o applies, and a missing file is exit 2", () => {
    expect(() => run("check", join(dir, "falco.yaml"), "-o", "json_output=5")).toThrow("key 'json_output'");
    try {
      run("check", join(dir, "missing.yaml"));
    } catch (e) {
      expect((e as CliFailure).exitCode).toBe(2);
    }
  });

  test.each([
    [["check", "a", "b"], "unexpected argument 'b'"],
    [["bogus"], "unknown config subcommand 'bogus'"],
    [[], "missing config subcommand"],
    [["schema", "x"], "unexpected argument 'x'"],
  ])("usage error %p", (argv, message) => {
    expect(() => run(...argv)).toThrow(new UsageError(message));
  });

  test.each([[["--help"]], [["check", "--help"]], [["schema", "--help"]]])("%p prints the help", (argv) => {
    const r = run(...argv);
    expect(r.code).toBe(0);
    expect(r.out[0]).toStartWith("Usage: lanner config <check|schema>");
  });
});

describe("config schema", () => {
  test("prints a JSON Schema whose properties are the config's keys, with defaults", () => {
    const r = run("schema");
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.out.join("\n")) as {
      title: string;
      additionalProperties: boolean;
      properties: Record<string, { properties?: Record<string, { default?: unknown }> }>;
    };
    expect(schema.title).toBe("Lanner configuration");
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.webserver.properties?.listen_port.default).toBe(8765);
    expect(Object.keys(schema.properties)).toContain("rules_files");
  });
});

test("the executable: config check of an invalid file exits 1, prints the problem on stderr", () => {
  const proc = Bun.spawnSync(
    [join(ROOT, "node_modules/.bin/bun"), "agent/main.ts", "config", "check", join(dir, "bad.yaml")],
    {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
      timeout: 20_000,
    },
  );
  expect(proc.exitCode).toBe(1);
  expect(proc.stderr.toString()).toContain("unknown key 'prioirty'");
});
