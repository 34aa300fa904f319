// Hostile rule and config files, each through the real CLI in a subprocess whose time and peak
// memory the test checks (bounded-run.ts). Each case is one that used to stall or crash the agent.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { aliasBomb, MEMORY_BOUND, runCliBounded } from "./bounded-run.ts";

const dir = mkdtempSync(join(tmpdir(), "lanner-hostile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Each test runs a subprocess bounded by TIME_BOUND_MS; the test's own timeout sits above it. */
const SUBPROCESS_TEST_TIMEOUT = 60_000;

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function rule(name: string, condition: string): string {
  return `- rule: ${name}\n  desc: d\n  condition: ${condition}\n  output: o %proc.name\n  priority: INFO\n`;
}

/** A control or escape character other than tab and newline. */
function hasRawControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

function expectBounded(r: ReturnType<typeof runCliBounded>): void {
  expect(r.timedOut).toBe(false);
  expect(r.maxRss).toBeLessThan(MEMORY_BOUND);
  expect(`${r.stdout}${r.stderr}`).not.toContain("RangeError");
  expect(`${r.stdout}${r.stderr}`).not.toContain("Maximum call stack");
}

describe("YAML aliases are expanded within a budget", () => {
  const bomb = aliasBomb();

  test(
    "the file is the issue's case: nine levels of aliases in 341 bytes (9^10 values written out)",
    () => {
      expect(bomb.length).toBe(341);
    },
    SUBPROCESS_TEST_TIMEOUT,
  );

  test(
    "rules validate: an error naming the file and line, in bounded time and memory",
    () => {
      const path = file("bomb.yaml", bomb);
      const r = runCliBounded(["rules", "validate", path]);
      expectBounded(r);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        /bomb\.yaml:[2-9]:\d+: error\[yaml_parse\]: aliases expand to more than 100000 nodes/,
      );
    },
    SUBPROCESS_TEST_TIMEOUT,
  );

  test(
    "run -r: the agent refuses the rules before capturing anything",
    () => {
      const path = file("bomb-run.yaml", bomb);
      const r = runCliBounded(["run", "-r", path]);
      expectBounded(r);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/bomb-run\.yaml:[2-9]:\d+: error\[yaml_parse\]: aliases expand/);
    },
    SUBPROCESS_TEST_TIMEOUT,
  );

  test(
    "run -c: the configuration is refused with file and line",
    () => {
      const path = file("bomb-config.yaml", bomb);
      const r = runCliBounded(["run", "-c", path]);
      expectBounded(r);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/bomb-config\.yaml:[2-9]:\d+: invalid YAML: aliases expand/);
    },
    SUBPROCESS_TEST_TIMEOUT,
  );

  test(
    "an alias inside the collection it names is an error, not a stack overflow",
    () => {
      const path = file("cycle.yaml", "- list: a\n  items: &a [x, *a]\n");
      const r = runCliBounded(["rules", "validate", path]);
      expectBounded(r);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("an alias nests deeper than 100 levels");
    },
    SUBPROCESS_TEST_TIMEOUT,
  );

  test(
    "-o with a self-referencing alias is an error",
    () => {
      const r = runCliBounded(["run", "-o", "stdout_output.enabled=&a [*a]"]);
      expectBounded(r);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("-o stdout_output.enabled=&a [*a]: the value is not valid YAML");
    },
    SUBPROCESS_TEST_TIMEOUT,
  );
});

describe("macros and lists load in time linear in their definitions", () => {
  test(
    "30 macros each using the previous one twice load and validate at once",
    () => {
      let text = "- macro: m0\n  condition: evt.type = open\n";
      for (let i = 1; i < 30; i++)
        text += `- macro: m${i}\n  condition: m${i - 1} or (m${i - 1} and proc.name = x${i})\n`;
      text += rule("R", "m29");
      expect(text.length).toBeLessThan(2000);
      const r = runCliBounded(["rules", "validate", file("macros.yaml", text)], 10_000);
      expectBounded(r);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("1 rules, 30 macros");
    },
    SUBPROCESS_TEST_TIMEOUT,
  );

  test(
    "rules test explains a macro used many times once, in bounded time",
    () => {
      let text = "- macro: m0\n  condition: evt.type = open\n";
      for (let i = 1; i < 30; i++)
        text += `- macro: m${i}\n  condition: m${i - 1} and (m${i - 1} or proc.name = x${i})\n`;
      text += rule("R", "m29");
      const rules = file("macros-test.yaml", text);
      const cases = file(
        "macros-test.tests.yaml",
        `rules_files: [${rules}]\ntests:\n  - rule: R\n    fires:\n      - name: open\n        fields:\n          evt.type: open\n          proc.name: a\n`,
      );
      const r = runCliBounded(["rules", "test", cases], 10_000);
      expectBounded(r);
      expect(r.code).toBe(0);
    },
    SUBPROCESS_TEST_TIMEOUT,
  );

  test(
    "a list of 1,000,000 items is a diagnostic, not a RangeError",
    () => {
      const items = Array(1_000_000).fill("a").join(",");
      const text = `- list: big\n  items: [${items}]\n${rule("R", "evt.type = open and proc.name in (big)")}`;
      const r = runCliBounded(["rules", "validate", file("big-list.yaml", text)]);
      expectBounded(r);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("error[limit_exceeded]: list 'big' has more than 100000 items");
    },
    SUBPROCESS_TEST_TIMEOUT,
  );

  test(
    "a large list named inside another, twice over, is a diagnostic",
    () => {
      const items = Array(60_000).fill("a").join(",");
      const text = `- list: big\n  items: [${items}]\n- list: twice\n  items: [big, big]\n${rule("R", "evt.type = open and proc.name in (twice)")}`;
      const r = runCliBounded(["rules", "validate", file("nested-list.yaml", text)]);
      expectBounded(r);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("list 'twice' has more than 100000 items");
    },
    SUBPROCESS_TEST_TIMEOUT,
  );

  test(
    "40 lists each naming the previous one twice stop at the item cap",
    () => {
      let text = "- list: l0\n  items: [a]\n";
      for (let i = 1; i < 40; i++) text += `- list: l${i}\n  items: [l${i - 1}, l${i - 1}]\n`;
      text += rule("R", "evt.type = open and proc.name in (l39)");
      const r = runCliBounded(["rules", "validate", file("doubling-lists.yaml", text)]);
      expectBounded(r);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("error[limit_exceeded]");
    },
    SUBPROCESS_TEST_TIMEOUT,
  );

  test(
    "a comparison whose written values expand past the cap is a diagnostic",
    () => {
      const items = Array(60_000).fill("a").join(",");
      const text = `- list: big\n  items: [${items}]\n${rule("R", "evt.type = open and proc.name in (big, big)")}`;
      const r = runCliBounded(["rules", "validate", file("comparison.yaml", text)]);
      expectBounded(r);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("the list of values has more than 100000 items");
    },
    SUBPROCESS_TEST_TIMEOUT,
  );
});

describe("regex is linear-time (RE2), so a crafted value cannot stall the agent", () => {
  const value = `${"a".repeat(50_000)}!`;
  const rules = file(
    "redos.yaml",
    rule("Nested", 'evt.type = execve and proc.cmdline regex "(a+)+$"') +
      rule("Evil", 'evt.type = execve and proc.cmdline regex "(a+)+b|.*evil"'),
  );

  test(
    "(a+)+$ on 50,000 'a' and a '!' answers no match, at once",
    () => {
      const cases = file(
        "redos.tests.yaml",
        `rules_files: [${rules}]\ntests:\n  - rule: Nested\n    does_not_fire:\n      - name: long\n        fields:\n          evt.type: execve\n          proc.cmdline: "${value}"\n`,
      );
      const r = runCliBounded(["rules", "test", cases], 10_000);
      expectBounded(r);
      expect(r.code).toBe(0);
    },
    SUBPROCESS_TEST_TIMEOUT,
  );

  test(
    "(a+)+b|.*evil still matches when the first branch would backtrack forever",
    () => {
      const cases = file(
        "evil.tests.yaml",
        `rules_files: [${rules}]\ntests:\n  - rule: Evil\n    fires:\n      - name: evil\n        fields:\n          evt.type: execve\n          proc.cmdline: "${value}evil"\n`,
      );
      const r = runCliBounded(["rules", "test", cases], 10_000);
      expectBounded(r);
      expect(r.code).toBe(0);
    },
    SUBPROCESS_TEST_TIMEOUT,
  );
});

describe("what reaches the terminal is bounded and escaped", () => {
  test(
    "20,000 unknown keys print 1000 warnings and one summary",
    () => {
      let text = "- rule: R\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: INFO\n";
      for (let i = 0; i < 20_000; i++) text += `  k${i}: v\n`;
      const r = runCliBounded(["rules", "validate", file("many-keys.yaml", text)]);
      expectBounded(r);
      expect(r.code).toBe(0);
      expect(r.stdout.length).toBeLessThan(1_000_000);
      expect(r.stdout).toContain("warning[diagnostics_omitted]: 19000 more diagnostic(s) not shown");
      expect(r.stdout).toContain("20000 warning(s)");
    },
    SUBPROCESS_TEST_TIMEOUT,
  );

  test(
    "control and escape bytes from the file are shown escaped",
    () => {
      const text = `- rule: "R\\e[2J\\e]0;owned\\a"\n  desc: d\n  condition: evt.type = open and proc.nmae = x\n  output: o\n  priority: INFO\n  "col\\x9bour": red\n`;
      const r = runCliBounded(["rules", "validate", file("escapes.yaml", text)]);
      expectBounded(r);
      expect(r.code).toBe(1);
      const out = r.stdout + r.stderr;
      expect(hasRawControl(out)).toBe(false);
      expect(out).toContain("rule 'R\\x1b[2J\\x1b]0;owned\\x07'");
      expect(out).toContain("unknown key 'col\\x9bour'");
    },
    SUBPROCESS_TEST_TIMEOUT,
  );

  test(
    "rules explain and rules test show a rule's control characters escaped",
    () => {
      const rules = file(
        "explain-escapes.yaml",
        `- rule: "X\\e]0;owned\\a"\n  desc: "d\\e[2J"\n  condition: evt.type = open and proc.name = "a\\x1bb"\n  output: o\n  priority: INFO\n`,
      );
      const explain = runCliBounded(["rules", "explain", rules]);
      expectBounded(explain);
      expect(explain.code).toBe(0);
      expect(hasRawControl(explain.stdout + explain.stderr)).toBe(false);
      expect(explain.stdout).toContain("X\\x1b]0;owned\\x07");
      const cases = file(
        "explain-escapes.tests.yaml",
        `rules_files: [${rules}]\ntests:\n  - rule: "X\\e]0;owned\\a"\n    fires:\n      - name: "case \\e[31m"\n        fields:\n          evt.type: open\n          proc.name: "a\\x1bb"\n`,
      );
      const tested = runCliBounded(["rules", "test", "--verbose", cases]);
      expectBounded(tested);
      expect(hasRawControl(tested.stdout + tested.stderr)).toBe(false);
      expect(tested.stdout).toContain("case \\x1b[31m");
    },
    SUBPROCESS_TEST_TIMEOUT,
  );

  test(
    "an error at the end of a 1 MB line shows the line around the error only",
    () => {
      const condition = `evt.type = open and (${Array(45_000).fill("proc.name = abcdefg").join(" or ")}) and proc.nmae = x`;
      const r = runCliBounded(["rules", "validate", file("long-line.yaml", rule("R", condition))]);
      expectBounded(r);
      expect(r.code).toBe(1);
      expect(r.stdout.length).toBeLessThan(2000);
      expect(r.stdout).toMatch(/\| \.\.\.[^\n]{60}proc\.nmae = x\n/);
    },
    SUBPROCESS_TEST_TIMEOUT,
  );

  test(
    "YAML nested 10,000 levels deep is an error with its place",
    () => {
      const text = `- list: deep\n  items: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`;
      const r = runCliBounded(["rules", "validate", file("deep.yaml", text)]);
      expectBounded(r);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/deep\.yaml:2:\d+: error\[yaml_parse\]: nesting exceeded maxDepth \(100\)/);
    },
    SUBPROCESS_TEST_TIMEOUT,
  );

  test(
    "a file over 16 MiB is refused before it is read",
    () => {
      const path = join(dir, "huge.yaml");
      writeFileSync(path, `# ${"x".repeat(17 * 1024 * 1024)}\n`);
      const r = runCliBounded(["rules", "validate", path]);
      expectBounded(r);
      expect(r.code).toBe(2);
      expect(r.stdout).toContain("is too large (17825795 bytes; the limit is 16777216 bytes)");
    },
    SUBPROCESS_TEST_TIMEOUT,
  );

  test(
    "a device that never ends is refused (not a regular file)",
    () => {
      const r = runCliBounded(["rules", "validate", "/dev/zero"]);
      expectBounded(r);
      expect(r.code).toBe(2);
      expect(r.stdout).toContain("/dev/zero is not a regular file");
    },
    SUBPROCESS_TEST_TIMEOUT,
  );
});
