// config_files (agent/config/load.ts): extra files and directories merged in order with Falco's
// strategies, on real files in a temp directory.

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfigDetailed } from "../../agent/config/load.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lanner-config-files-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function loadMain(text: string, overrides: string[] = []) {
  const main = write("main.yaml", text);
  return loadConfigDetailed({ name: main, text }, overrides, {});
}

function problems(text: string): readonly string[] {
  try {
    loadMain(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error("accepted");
}

describe("config_files", () => {
  test("a file and a directory (its files in name order) are merged in order; lists are appended", () => {
    write("extra.yaml", "log_level: debug\nrules_files: [/b.yaml]\n");
    mkdirSync(join(dir, "conf.d"));
    write("conf.d/20-second.yaml", "log_level: warning\nrules_files: [/d.yaml]\n");
    write("conf.d/10-first.yaml", "log_level: error\nrules_files: [/c.yaml]\n");
    mkdirSync(join(dir, "conf.d/subdir-ignored"));
    const loaded = loadMain(
      `rules_files: [/a.yaml]\nconfig_files:\n  - ${join(dir, "extra.yaml")}\n  - ${join(dir, "conf.d")}\n`,
    );
    expect(loaded.config.log_level).toBe("warning");
    expect(loaded.config.rules_files).toEqual(["/a.yaml", "/b.yaml", "/c.yaml", "/d.yaml"]);
    expect(loaded.files).toEqual([
      join(dir, "main.yaml"),
      join(dir, "extra.yaml"),
      join(dir, "conf.d/10-first.yaml"),
      join(dir, "conf.d/20-second.yaml"),
    ]);
    expect(loaded.directories).toEqual([join(dir, "conf.d")]);
  });

  test("override replaces a list; add-only sets only keys that are absent", () => {
    write("o.yaml", "rules_files: [/o.yaml]\n");
    write("a.yaml", "rules_files: [/never.yaml]\nlog_level: debug\n");
    const loaded = loadMain(
      `rules_files: [/a.yaml]\nconfig_files:\n  - {path: ${join(dir, "o.yaml")}, strategy: override}\n  - {path: ${join(dir, "a.yaml")}, strategy: add-only}\n`,
    );
    expect(loaded.config.rules_files).toEqual(["/o.yaml"]);
    expect(loaded.config.log_level).toBe("debug");
  });

  test("a missing path is skipped with a warning naming where it is written", () => {
    const loaded = loadMain(`config_files:\n  - ${join(dir, "nope.yaml")}\n`);
    expect(loaded.warnings).toEqual([
      expect.stringContaining(
        `main.yaml:2:5: config_files entry '${join(dir, "nope.yaml")}' skipped: ENOENT`,
      ),
    ]);
  });

  test("an error in an included file names that file and line", () => {
    write("bad.yaml", "log_level: debug\njson_output: 5\n");
    expect(problems(`config_files: [${join(dir, "bad.yaml")}]\n`)).toEqual([
      expect.stringContaining(`${join(dir, "bad.yaml")}:2:1: key 'json_output': `),
    ]);
  });

  test("including the main file itself, or config_files inside an included file, is refused", () => {
    expect(problems(`config_files: [${join(dir, "main.yaml")}]\n`)[0]).toContain(
      "config_files includes the main configuration file itself",
    );
    write("nested.yaml", "config_files: [/x]\n");
    expect(problems(`config_files: [${join(dir, "nested.yaml")}]\n`)[0]).toContain(
      "may not name config_files itself",
    );
  });

  test("config_files from -o is merged before the other overrides, which win", () => {
    write("extra.yaml", "log_level: debug\njson_output: true\n");
    const loaded = loadMain("", [`config_files=[${join(dir, "extra.yaml")}]`, "log_level=error"]);
    expect(loaded.config.log_level).toBe("error");
    expect(loaded.config.json_output).toBe(true);
  });

  test("a bad strategy is a schema error", () => {
    expect(problems(`config_files:\n  - {path: /x, strategy: merge}\n`)[0]).toStartWith(
      `${join(dir, "main.yaml")}:2:5: key 'config_files.0`,
    );
  });
});
