// Keys named after Object.prototype's properties are ordinary unknown keys in the configuration:
// in the file, in -o paths and in -o values. None of them reaches Object.prototype.

import { afterEach, describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../agent/config/load.ts";

function problems(text: string, overrides: string[] = []): readonly string[] {
  try {
    loadConfig({ name: "c.yaml", text }, overrides, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("accepted");
}

afterEach(() => {
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(({} as Record<string, unknown>).enabled).toBeUndefined();
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

describe("prototype keys in the configuration", () => {
  test("file_output: {__proto__: {...}} is an unknown key and does not take effect", () => {
    expect(problems("file_output:\n  __proto__:\n    enabled: false\n")).toEqual([
      "c.yaml:2:3: unknown key 'file_output.__proto__'",
    ]);
  });

  test.each(["__proto__", "constructor", "prototype"])("a top-level key %s is unknown", (key) => {
    expect(problems(`${key}:\n  polluted: true\n`)).toEqual([`c.yaml:1:1: unknown key '${key}'`]);
  });

  test("-o __proto__.enabled=true is an unknown key", () => {
    expect(problems("", ["__proto__.enabled=true"])).toEqual([
      "-o __proto__.enabled=true: unknown key '__proto__'",
    ]);
  });

  test("-o constructor.prototype.polluted=1 is an unknown key", () => {
    expect(problems("", ["constructor.prototype.polluted=1"])).toEqual([
      "-o constructor.prototype.polluted=1: unknown key 'constructor'",
    ]);
  });

  test("an -o value that is a mapping with __proto__ is read as a key", () => {
    expect(problems("", ["file_output={__proto__: {polluted: 1}}"])).toEqual([
      "-o file_output={__proto__: {polluted: 1}}: unknown key 'file_output.__proto__'",
    ]);
  });

  test("an -o value is read with YAML's core types, as the file's values", () => {
    const config = loadConfig({ name: "c.yaml", text: "" }, ["outputs_queue.capacity=0x10"], {});
    expect(config.outputs_queue.capacity).toBe(16);
  });

  test("control characters in an unknown key are escaped in the problem", () => {
    expect(problems('"a\\e[2Jb": 1\n')).toEqual(["c.yaml:1:1: unknown key 'a\\x1b[2Jb'"]);
  });
});

describe("messages", () => {
  test("a problem quoting a huge key is cut", () => {
    const [p] = problems(`${"k".repeat(20_000)}: 1\n`);
    expect(p.length).toBeLessThan(1100);
    expect(p).toMatch(/\.\.\. \(\d+ more characters\)$/);
  });
});
