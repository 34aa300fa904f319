// The bounds of docs/RULES.md [X1] in-process: escaping, snippet windows, the diagnostics cap,
// YAML alias budgets, list caps, and keys that name Object.prototype's properties.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DiagnosticBag,
  diagnosticToJson,
  formatDiagnostic,
  MAX_KEPT_DIAGNOSTICS,
  MAX_MESSAGE_LENGTH,
} from "../../agent/rules/load/diagnostics.ts";
import { loadRuleSources } from "../../agent/rules/load/load.ts";
import { printChecked } from "../../agent/rules/condition/checked.ts";
import {
  MAX_ALIAS_USES,
  MAX_YAML_BYTES,
  parseYamlText,
  YamlSyntaxError,
} from "../../agent/yaml/positioned.ts";
import { readYamlFile, YamlFileError } from "../../agent/yaml/read-file.ts";
import { escapeForTerminal, snippetAt, sourceFile } from "../../agent/yaml/source.ts";

function load(text: string) {
  return loadRuleSources([{ name: "f.yaml", text }]);
}

function rule(name: string, condition: string, extra = ""): string {
  return `- rule: ${name}\n  desc: d\n  condition: ${condition}\n  output: o\n  priority: INFO\n${extra}`;
}

describe("escaping", () => {
  test("control, escape, C1 and bidi-override characters are escaped; the rest is kept", () => {
    expect(escapeForTerminal("a\x1b[31mb\x07\x00\x7f\x9b\u202e\u2066c\td\n")).toBe(
      "a\\x1b[31mb\\x07\\x00\\x7f\\x9b\\u202e\\u2066c\td\\n",
    );
    expect(escapeForTerminal("plain é ✓")).toBe("plain é ✓");
  });

  test("diagnostics escape messages, context and snippets", () => {
    const file = sourceFile("f.yaml", "key: \x1b[2Jvalue\n");
    const bag = new DiagnosticBag();
    bag.error("schema", "bad '\x1b[2J'", { file, offset: 5 }, ["rule '\x1b]0;x\x07'"]);
    const text = formatDiagnostic(bag.items[0]);
    expect(text).not.toContain("\x1b");
    expect(text).toContain("bad '\\x1b[2J'");
    expect(text).toContain("in rule '\\x1b]0;x\\x07'");
    expect(text).toContain("1 | key: \\x1b[2Jvalue");
    expect(diagnosticToJson(bag.items[0]).message).toBe("bad '\\x1b[2J'");
  });
});

describe("messages", () => {
  test("a message quoting a huge value is cut and says how much was left out", () => {
    const key = "k".repeat(50_000);
    const r = load(rule("R", "evt.type = open", `  ${key}: v\n`));
    const [d] = r.diagnostics.items.filter((x) => x.code === "unknown_key");
    const shown = diagnosticToJson(d).message;
    expect(shown.length).toBeLessThan(MAX_MESSAGE_LENGTH + 60);
    expect(shown).toEndWith(
      `... (${"unknown key ''; it is ignored".length + 50_000 - MAX_MESSAGE_LENGTH} more characters)`,
    );
  });
});

describe("snippets", () => {
  test("a short line is shown whole with the caret under the column", () => {
    const file = sourceFile("f", "abc\ndefgh\n");
    expect(snippetAt(file, 6)).toBe("2 | defgh\n      ^");
  });

  test("a long line is shown around the column, cut with '...' on both sides", () => {
    const line = `${"a".repeat(5000)}X${"b".repeat(5000)}`;
    const file = sourceFile("f", `${line}\n`);
    const snippet = snippetAt(file, 5000);
    const [text, caret] = snippet.split("\n");
    expect(text).toBe(`1 | ...${"a".repeat(60)}X${"b".repeat(99)}...`);
    expect(caret.indexOf("^")).toBe(text.indexOf("X"));
  });

  test("escapes before the column move the caret with them", () => {
    const file = sourceFile("f", "\x1b\x1bX\n");
    const [text, caret] = snippetAt(file, 2).split("\n");
    expect(caret.indexOf("^")).toBe(text.indexOf("X"));
  });
});

describe("the diagnostics cap", () => {
  test("past the cap diagnostics are counted per code, counts stay exact", () => {
    const bag = new DiagnosticBag(3);
    for (let i = 0; i < 5; i++) bag.warning("unknown_key", `w${i}`, undefined);
    bag.error("schema", "e", undefined);
    expect(bag.errorCount).toBe(1);
    expect(bag.warningCount).toBe(5);
    const items = bag.items;
    expect(items.map((d) => d.message).slice(0, 3)).toEqual(["w0", "w1", "w2"]);
    expect(items[3].code).toBe("diagnostics_omitted");
    expect(items[3].message).toBe(
      "3 more diagnostic(s) not shown (only the first 3 are kept): unknown_key x2, schema x1",
    );
  });

  test("a load with thousands of unknown keys keeps the default number", () => {
    let extra = "";
    for (let i = 0; i < MAX_KEPT_DIAGNOSTICS + 50; i++) extra += `  k${i}: v\n`;
    const r = load(rule("R", "evt.type = open", extra));
    expect(r.diagnostics.warningCount).toBe(MAX_KEPT_DIAGNOSTICS + 50);
    expect(r.diagnostics.items.length).toBe(MAX_KEPT_DIAGNOSTICS + 1);
  });
});

describe("YAML bounds", () => {
  test("aliases past the use budget are refused at the alias", () => {
    let text = "a: &a [x]\nb: [";
    text += Array(MAX_ALIAS_USES + 1)
      .fill("*a")
      .join(",");
    text += "]\n";
    try {
      parseYamlText("f.yaml", text);
      throw new Error("accepted");
    } catch (err) {
      expect(err).toBeInstanceOf(YamlSyntaxError);
      expect((err as YamlSyntaxError).message).toBe(
        `too many aliases: more than ${MAX_ALIAS_USES} in one file`,
      );
    }
  });

  test("aliases to scalars and small collections still read, positioned at the alias", () => {
    const { documents } = parseYamlText("f.yaml", "- &k {a: b}\n- *k\n");
    const seq = documents[0];
    expect(seq.kind).toBe("sequence");
    if (seq.kind !== "sequence") return;
    expect(seq.items[1].kind).toBe("mapping");
    expect(seq.items[1].start).toBe(14);
  });

  test("text past the size bound is refused before parsing", () => {
    expect(() => parseYamlText("f.yaml", `#${"x".repeat(MAX_YAML_BYTES)}`)).toThrow(/too large/);
  });

  test("readYamlFile reads a regular file and refuses others", () => {
    const dir = mkdtempSync(join(tmpdir(), "lanner-read-"));
    try {
      const path = join(dir, "a.yaml");
      writeFileSync(path, "a: é\n");
      expect(readYamlFile(path)).toBe("a: é\n");
      expect(() => readYamlFile(dir)).toThrow(YamlFileError);
      expect(() => readYamlFile(join(dir, "missing.yaml"))).toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("macros and lists", () => {
  test("30 macros each using the previous twice: one checked body per macro, event types right", () => {
    let text = "- macro: m0\n  condition: evt.type in (open, openat)\n";
    for (let i = 1; i < 30; i++)
      text += `- macro: m${i}\n  condition: m${i - 1} and (m${i - 1} or proc.name = x${i})\n`;
    const r = load(text + rule("R", "m29"));
    expect(r.diagnostics.errorCount).toBe(0);
    const [compiled] = r.ruleset.rules;
    expect(compiled.eventTypes).toEqual(new Set(["open", "openat"]));
    // The effective condition doubles with every macro: explain prints it cut, in bounded time.
    const printed = printChecked(compiled.condition, 10_000);
    expect(printed.length).toBeLessThanOrEqual(10_004);
    expect(printed.endsWith(" ...")).toBe(true);
  });

  test("a list named twice in another expands once per use, the included values in order", () => {
    const r = load(
      `- list: a\n  items: [x, y]\n- list: b\n  items: [a, z, a]\n${rule("R", "evt.type = open and proc.name in (b)")}`,
    );
    expect(r.diagnostics.errorCount).toBe(0);
    expect(r.ruleset.lists.get("b")?.values).toEqual(["x", "y", "z", "x", "y"]);
  });

  test("appending 200,000 items to a list is a limit error, not a RangeError", () => {
    const items = Array(200_000).fill("a").join(",");
    const r = load(`- list: a\n  items: [b]\n- list: a\n  items: [${items}]\n  append: true\n`);
    const codes = r.diagnostics.items.map((d) => d.code);
    expect(codes).toContain("limit_exceeded");
  });
});

describe("keys named after Object.prototype's properties", () => {
  test("are unknown keys in rule files, and Object.prototype is untouched", () => {
    const r = load(
      rule("R", "evt.type = open", "  __proto__:\n    polluted: yes\n  constructor: x\n  prototype: y\n"),
    );
    expect(r.diagnostics.errorCount).toBe(0);
    const unknown = r.diagnostics.items.filter((d) => d.code === "unknown_key").map((d) => d.message);
    expect(unknown).toEqual([
      "unknown key '__proto__'; it is ignored",
      "unknown key 'constructor'; it is ignored",
      "unknown key 'prototype'; it is ignored",
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
  });

  test("a plugin requirement named constructor or __proto__ is just an unknown plugin", () => {
    for (const name of ["constructor", "__proto__", "toString"]) {
      const r = load(`- required_plugin_versions:\n    - name: ${name}\n      version: 0.1.0\n`);
      expect(r.diagnostics.items.map((d) => d.code)).toEqual(["plugin_version"]);
    }
  });

  test("a port literal named after a prototype property is not a service", () => {
    const r = load(rule("R", "evt.type = connect and fd.sport = constructor"));
    expect(r.diagnostics.items[0]?.message).toContain("'constructor' is not a port number");
  });

  test("list, macro and rule names __proto__ and constructor are ordinary names", () => {
    const r = load(
      `- list: __proto__\n  items: [a]\n- macro: constructor\n  condition: proc.name in (__proto__)\n${rule("__proto__", "evt.type = open and constructor")}`,
    );
    expect(r.diagnostics.errorCount).toBe(0);
    expect(r.ruleset.rules.map((x) => x.name)).toEqual(["__proto__"]);
    expect(Object.keys(Object.prototype)).toEqual([]);
  });
});
