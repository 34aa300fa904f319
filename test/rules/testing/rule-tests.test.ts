// `lanner rules test` through the CLI: the default rules pass their test file
// (rules/tests/lanner_rules.tests.yaml), a reader the user adds in their own rules file stops the rule,
// and a deliberately failing test file exits 1 with a report that names the rule, shows the event
// and the sub-expression that decided the result.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../../..");
const BUN = join(ROOT, "node_modules/.bin/bun");
const DEFAULT_RULES = join(ROOT, "rules/lanner_rules.yaml");
const RULE = "Credential file opened for reading";

function rulesTest(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const p = Bun.spawnSync([BUN, "agent/main.ts", "rules", "test", ...args], { cwd: ROOT });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

/** An event in which `proc.name` opens `file` for reading, as the YAML of a test case's fields. */
function openFor(procName: string, file = "/etc/shadow"): string {
  return (
    `{evt.type: openat, evt.is_open_read: true, fd.typechar: f, fd.num: 3, ` +
    `fd.name: ${file}, proc.name: ${procName}}`
  );
}

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lanner-rule-tests-"));
});
afterAll(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

describe("lanner rules test", () => {
  test("the default rules pass rules/tests/lanner_rules.tests.yaml (exit 0)", () => {
    const out = rulesTest(["rules/tests/lanner_rules.tests.yaml"]);
    expect(out.stderr).toBe("");
    expect(out.stdout).not.toContain("FAIL");
    expect(out.stdout).toMatch(/^([0-9]+) case\(s\), \1 passed, 0 failed$/m);
    expect(out.code).toBe(0);
  });

  test("a credential reader the user adds to user_known_credential_readers does not fire", () => {
    const local = join(dir, "local_rules.yaml");
    writeFileSync(
      local,
      "- list: user_known_credential_readers\n  items: [my-backup-agent]\n  override:\n    items: append\n",
    );
    const cases =
      `  - rule: ${RULE}\n` +
      `    does_not_fire:\n      - name: the added reader\n        fields: ${openFor("my-backup-agent")}\n` +
      `    fires:\n      - name: others still fire\n        fields: ${openFor("my-backup-agentx")}\n`;
    // rules_files in the test file, relative to it.
    writeFileSync(
      join(dir, "with-local.tests.yaml"),
      `rules_files: [${DEFAULT_RULES}, local_rules.yaml]\ntests:\n${cases}`,
    );
    const withLocal = rulesTest([join(dir, "with-local.tests.yaml")]);
    expect(withLocal.stdout).toContain("2 case(s), 2 passed, 0 failed");
    expect(withLocal.code).toBe(0);

    // The same cases with -r instead of rules_files.
    writeFileSync(join(dir, "no-files.tests.yaml"), `tests:\n${cases}`);
    const withFlags = rulesTest(["-r", DEFAULT_RULES, "-r", local, join(dir, "no-files.tests.yaml")]);
    expect(withFlags.stdout).toContain("2 case(s), 2 passed, 0 failed");
    expect(withFlags.code).toBe(0);

    // Without the user's file (embedded defaults), the reader is unknown and the rule fires.
    const defaults = rulesTest([join(dir, "no-files.tests.yaml")]);
    expect(defaults.code).toBe(1);
    expect(defaults.stdout).toContain(`FAIL ${RULE} :: the added reader (should not fire)`);
  });

  test("a failing test file exits 1 and reports the rule, the event and the deciding sub-expression", () => {
    const file = join(dir, "failing.tests.yaml");
    writeFileSync(
      file,
      `rules_files: [${DEFAULT_RULES}]\n` +
        "tests:\n" +
        `  - rule: ${RULE}\n` +
        "    fires:\n" +
        `      - name: unix_chkpwd wrongly expected to fire\n        fields: ${openFor("unix_chkpwd")}\n` +
        "      - name: a read is not an open\n" +
        "        fields: {evt.type: read, fd.name: /etc/shadow, proc.name: cat}\n" +
        "    does_not_fire:\n" +
        `      - name: cat wrongly expected to stay quiet\n        fields: ${openFor("cat")}\n` +
        `      - name: passwd is fine\n        fields: ${openFor("cat", "/etc/passwd")}\n`,
    );
    const out = rulesTest([file]);
    expect(out.code).toBe(1);
    const lines = out.stdout.split("\n");

    // The rule, the case and where it is.
    expect(out.stdout).toContain(
      `FAIL ${RULE} :: unix_chkpwd wrongly expected to fire (should fire) at ${file}:5`,
    );
    // The event.
    expect(out.stdout).toContain(
      '  event: evt.type="openat" evt.is_open_read="true" fd.typechar="f" fd.num="3" fd.name="/etc/shadow" proc.name="unix_chkpwd"',
    );
    // The deciding sub-expression: the known-reader list made `not (...)` false.
    const i = lines.findIndex((l) => l.includes("unix_chkpwd wrongly expected"));
    expect(lines[i + 2]).toBe("  not (...) is false because:");
    expect(lines[i + 3]).toMatch(
      /^ {4}true : proc\.name in \(unix_chkpwd, .*\) {3}\(proc\.name = unix_chkpwd\)$/,
    );

    // A case on another event type says the rule does not run on it.
    expect(out.stdout).toContain(`FAIL ${RULE} :: a read is not an open (should fire)`);
    expect(out.stdout).toContain(
      "the rule does not run on evt.type=read (it runs on: open, openat, openat2)",
    );

    // A rule that fired: every part that made it true is shown.
    const j = lines.findIndex((l) => l.includes("cat wrongly expected to stay quiet"));
    expect(lines[j]).toContain("(should not fire)");
    expect(lines[j + 1]).toContain('proc.name="cat"');
    expect(lines.slice(j + 2, j + 10).join("\n")).toContain("true : fd.name in (/etc/shadow,");
    expect(lines.slice(j + 2, j + 10).join("\n")).toContain("(proc.name = cat)");

    // Passing cases are not printed without --verbose; the summary counts all.
    expect(out.stdout).not.toContain("passwd is fine");
    expect(out.stdout).toContain("4 case(s), 1 passed, 3 failed");
  });

  test("rules that do not load make the test fail (exit 1) with the diagnostics", () => {
    writeFileSync(
      join(dir, "broken.yaml"),
      "- rule: R\n  desc: d\n  condition: evt.type = open and proc.nmae = x\n  output: o\n  priority: info\n",
    );
    writeFileSync(
      join(dir, "broken.tests.yaml"),
      "rules_files: [broken.yaml]\ntests:\n  - rule: R\n    fires:\n      - fields: {evt.type: open}\n",
    );
    const out = rulesTest([join(dir, "broken.tests.yaml")]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain("error[unknown_field]");
    expect(out.stderr).toContain("the rules under test do not load (1 error(s))");
  });
});
