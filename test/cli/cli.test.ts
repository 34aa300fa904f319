// The lanner command line (agent/cli/dispatch.ts, agent/cli/): exit codes (0 ok, 1 invalid rules
// or config, 2 environment or usage), what goes to stdout and stderr, and the machine-readable
// --json forms. Commands that finish synchronously run in-process (so coverage counts them) with
// console output captured; `run`, `capture` and `replay` run as real subprocesses of
// agent/main.ts, and `run` only on paths that fail before the probe is opened.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { format } from "node:util";
import { dispatch, reportFailure } from "../../agent/cli/dispatch.ts";

const ROOT = resolve(import.meta.dir, "../..");
const BUN = join(ROOT, "node_modules/.bin/bun");
const PKG = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Long-running commands as subprocesses; the others in this process. */
function cli(...args: string[]): Result {
  return ["run", "capture", "replay", "selftest"].includes(args[0]) ? subprocess(args) : inProcess(args);
}

/** Calls the dispatcher as agent/main.ts does, with console.log/error captured. */
function inProcess(args: string[]): Result {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => out.push(`${format(...a)}\n`);
  console.error = (...a: unknown[]) => err.push(`${format(...a)}\n`);
  let code: number;
  try {
    const r = dispatch(args);
    if (typeof r !== "number") throw new Error(`'${args.join(" ")}' did not finish synchronously`);
    code = r;
  } catch (e) {
    code = reportFailure(e);
  } finally {
    console.log = log;
    console.error = error;
  }
  return { code, stdout: out.join(""), stderr: err.join("") };
}

function subprocess(args: string[]): Result {
  const proc = Bun.spawnSync([BUN, "agent/main.ts", ...args], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    // A `run` that got past its checks would start capturing; never let one hang the suite.
    timeout: 20_000,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

test("the executable itself: usage errors exit 2 on stderr, --help exits 0 on stdout", () => {
  const bad = subprocess(["bogus"]);
  expect(bad.code).toBe(2);
  expect(bad.stderr.split("\n")[0]).toBe("lanner: unknown command 'bogus'");
  const help = subprocess(["--help"]);
  expect(help.code).toBe(0);
  expect(help.stdout.startsWith("Lanner: a runtime-security agent")).toBe(true);
  expect(subprocess(["rules", "validate", join(ROOT, "rules/lanner_rules.yaml")]).code).toBe(0);
});

let dir: string;
const file = (name: string) => join(dir, name);

const GOOD = `- list: shells
  items: [bash, sh]

- macro: spawned
  condition: evt.type = execve

- rule: Shell spawned
  desc: a shell started
  condition: spawned and proc.name in (shells)
  output: shell %proc.name
  priority: WARNING
  tags: [shell]
`;

// Appends to the macro and replaces the rule's output.
const SECOND = `- macro: spawned
  condition: and user.uid = 0
  override:
    condition: append

- rule: Shell spawned
  output: root shell %proc.name by %user.name
  override:
    output: replace
`;

const BAD = `- rule: Broken
  desc: x
  condition: proc.nme = bash
  output: x
  priority: WARNING

- rule: Bad output
  desc: y
  condition: evt.type = open
  output: "%fd.nme"
  priority: WARNING
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lanner-cli-"));
  writeFileSync(file("good.yaml"), GOOD);
  writeFileSync(file("second.yaml"), SECOND);
  writeFileSync(file("bad.yaml"), BAD);
  writeFileSync(file("bad-config.yaml"), "json_output: 5\nprioirty: debug\n");
  mkdirSync(file("rules.d"));
  // Loaded in name order: 10-good before 20-second.
  writeFileSync(file("rules.d/20-second.yaml"), SECOND);
  writeFileSync(file("rules.d/10-good.yaml"), GOOD);
  writeFileSync(file("rules.d/ignored.txt"), "not yaml rules");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("help", () => {
  test.each([
    [["--help"], "Lanner: a runtime-security agent"],
    [["-h"], "Lanner: a runtime-security agent"],
    [["help"], "Lanner: a runtime-security agent"],
    [["run", "--help"], "Usage: lanner run "],
    [["run", "-h"], "Usage: lanner run "],
    [["rules", "--help"], "Usage: lanner rules <validate|explain|test>"],
    [["rules", "validate", "--help"], "Usage: lanner rules validate "],
    [["rules", "explain", "--help"], "Usage: lanner rules explain "],
    [["rules", "test", "--help"], "Usage: lanner rules test "],
    [["version", "--help"], "Usage: lanner version"],
  ])("%p exits 0 and prints its usage on stdout", (args, start) => {
    const r = cli(...args);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(start)).toBe(true);
    expect(r.stderr).toBe("");
  });

  test("the top-level help lists every command and the exit codes", () => {
    const r = cli("--help");
    for (const c of ["run", "rules validate", "rules explain", "rules test", "version"])
      expect(r.stdout).toContain(`  ${c} `);
    expect(r.stdout).toContain("Exit codes: 0 ok, 1 invalid rules or config, 2 environment or usage.");
  });

  test("no command prints the help and exits 2", () => {
    const r = cli();
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("Usage: lanner <command> [options]");
  });
});

describe("rules test", () => {
  test("passes (exit 0), fails (exit 1) with the deciding check, invalid (1), missing (2)", () => {
    writeFileSync(
      file("r.yaml"),
      "- rule: R\n  desc: d\n  condition: evt.type = open and not proc.name in (ok)\n  output: o\n  priority: WARNING\n",
    );
    writeFileSync(
      file("pass.tests.yaml"),
      "rules_files: [r.yaml]\ntests:\n  - rule: R\n    fires:\n      - fields: {evt.type: open, proc.name: bad}\n    does_not_fire:\n      - fields: {evt.type: open, proc.name: ok}\n",
    );
    writeFileSync(
      file("fail.tests.yaml"),
      "rules_files: [r.yaml]\ntests:\n  - rule: R\n    fires:\n      - name: ok is excluded\n        fields: {evt.type: open, proc.name: ok}\n",
    );
    const pass = cli("rules", "test", file("pass.tests.yaml"));
    expect([pass.code, pass.stdout.includes("2 case(s), 2 passed, 0 failed")]).toEqual([0, true]);
    const fail = cli("rules", "test", file("fail.tests.yaml"));
    expect(fail.code).toBe(1);
    expect(fail.stdout).toContain("FAIL R :: ok is excluded (should fire)");
    const verbose = cli("rules", "test", "--verbose", "-r", file("r.yaml"), file("pass.tests.yaml"));
    expect(verbose.code).toBe(0);
    writeFileSync(file("invalid.tests.yaml"), "tests: nope\n");
    expect(cli("rules", "test", file("invalid.tests.yaml")).code).toBe(1);
    expect(cli("rules", "test", file("missing.tests.yaml")).code).toBe(2);
    expect(cli("rules", "test").code).toBe(2);
  });
});

describe("usage errors exit 2 with a message on stderr", () => {
  test.each([
    [["bogus"], "lanner: unknown command 'bogus'"],
    [["rules"], "lanner: missing rules subcommand"],
    [["rules", "bogus"], "lanner: unknown rules subcommand 'bogus'"],
    [["run", "--bogus"], "lanner: unknown option '--bogus'"],
    [["version", "--bogus"], "lanner: unknown option '--bogus'"],
    [["rules", "validate", "--bogus"], "lanner: unknown option '--bogus'"],
    [["rules", "explain", "-x"], "lanner: unknown option '-x'"],
    [["rules", "validate", "--json=1"], "lanner: option '--json' takes no value"],
    [["run", "-o"], "lanner: option '-o' needs a value"],
    [["run", "-c", "a.yaml", "-c", "b.yaml"], "lanner: option '-c' may be given only once"],
    [["run", "extra"], "lanner: unexpected argument 'extra'"],
  ])("%p", (args, message) => {
    const r = cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(message);
    expect(r.stdout).toBe("");
  });
});

describe("version", () => {
  test("prints the versions on one line", () => {
    const r = cli("version");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^lanner ${PKG.version.replace(/\./g, "\\.")} \\(record schema \\d+, Falco rules engine \\d+\\.\\d+\\.\\d+, bun ${Bun.version.replace(/\./g, "\\.")}\\)\\n$`,
      ),
    );
  });

  test("--json is one parseable object with the same facts", () => {
    const r = cli("version", "--json");
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(Object.keys(info).sort()).toEqual(["bun", "falco_rules_engine", "lanner", "record_schema"]);
    expect(info.lanner).toBe(PKG.version);
    expect(info.bun).toBe(Bun.version);
    expect(Number.isInteger(info.record_schema)).toBe(true);
    expect(cli("version").stdout).toContain(`Falco rules engine ${info.falco_rules_engine},`);
    expect(cli("--version").stdout).toBe(cli("version").stdout);
  });
});

describe("rules validate", () => {
  test("a good file: exit 0 and a summary", () => {
    const r = cli("rules", "validate", file("good.yaml"));
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("1 file(s): 1 rules, 1 macros, 1 lists; 0 error(s), 0 warning(s)");
  });

  test("no file validates the embedded default rules", () => {
    const r = cli("rules", "validate");
    expect(r.code).toBe(0);
    // Liveness warnings (docs/RULES.md [T9]) may come first; the summary is the last line.
    expect(r.stdout).toMatch(
      /(^|\n)1 file\(s\): \d+ rules, \d+ macros, \d+ lists; 0 error\(s\), \d+ warning\(s\)\n$/,
    );
  });

  test("a bad file: exit 1, every error with file:line:col, code and a snippet", () => {
    const r = cli("rules", "validate", file("bad.yaml"));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `${file("bad.yaml")}:3:14: error[unknown_field]: unknown field 'proc.nme'; did you mean 'proc.name'?\n` +
        "  in rule 'Broken' > condition\n" +
        "  3 |   condition: proc.nme = bash\n",
    );
    expect(r.stdout).toContain(`${file("bad.yaml")}:10:12: error[unknown_field]: unknown field 'fd.nme'`);
    expect(r.stdout).toContain("2 error(s)");
  });

  test("--json is parseable and carries the codes and positions", () => {
    const r = cli("rules", "validate", "--json", file("bad.yaml"));
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ files: [file("bad.yaml")], rules: 0, errors: 2, warnings: 0 });
    expect(
      out.diagnostics.map((d: { code: string; line: number; column: number; severity: string }) => [
        d.severity,
        d.code,
        d.line,
        d.column,
      ]),
    ).toEqual([
      ["error", "unknown_field", 3, 14],
      ["error", "unknown_field", 10, 12],
    ]);
    expect(out.diagnostics[0].context).toEqual(["rule 'Broken'", "condition"]);
    expect(out.diagnostics[0].file).toBe(file("bad.yaml"));
  });

  test("--json on a good file has no diagnostics and exits 0", () => {
    const r = cli("rules", "validate", "--json", file("good.yaml"), file("second.yaml"));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      files: [file("good.yaml"), file("second.yaml")],
      rules: 1,
      macros: 1,
      lists: 1,
      errors: 0,
      diagnostics: [],
    });
  });

  test("a directory loads its .yaml files in name order", () => {
    const r = cli("rules", "validate", "--json", file("rules.d"));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).files).toEqual([
      file("rules.d/10-good.yaml"),
      file("rules.d/20-second.yaml"),
    ]);
  });

  test("a file that does not exist is a file_read error naming it (exit 2: environment)", () => {
    const r = cli("rules", "validate", "--json", file("missing.yaml"));
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout);
    expect(out.diagnostics).toEqual([
      expect.objectContaining({ code: "file_read", file: file("missing.yaml"), line: null }),
    ]);
  });

  test("a YAML syntax error is placed", () => {
    writeFileSync(file("syntax.yaml"), "- rule: x\n  desc: [\n");
    const r = cli("rules", "validate", "--json", file("syntax.yaml"));
    expect(r.code).toBe(1);
    const [d] = JSON.parse(r.stdout).diagnostics;
    expect(d).toMatchObject({ code: "yaml_parse", file: file("syntax.yaml") });
    expect(typeof d.line).toBe("number");
  });
});

describe("rules explain", () => {
  test("text: the history shows both files and which definition wins", () => {
    const r = cli("rules", "explain", file("good.yaml"), file("second.yaml"));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Rule: Shell spawned\n");
    expect(r.stdout).toContain(
      `  history:\n    ${file("good.yaml")}:7  defined  <- this definition wins\n    ${file("second.yaml")}:6  keys replaced [output]\n`,
    );
    expect(r.stdout).toContain("  output: root shell %proc.name by %user.name\n");
    expect(r.stdout).toContain(
      `    spawned\n      ${file("good.yaml")}:4  defined  <- this definition wins\n      ${file("second.yaml")}:1  appended to [condition]\n`,
    );
    expect(r.stdout).toContain("((evt.type = execve and user.uid = 0) and proc.name in (bash, sh))");
    expect(r.stdout).toContain("  event types: execve\n");
  });

  test("--json with a rule name: provenance per piece", () => {
    const r = cli("rules", "explain", "--json", file("good.yaml"), file("second.yaml"), "Shell spawned");
    expect(r.code).toBe(0);
    const [e] = JSON.parse(r.stdout);
    expect(e).toMatchObject({
      rule: "Shell spawned",
      enabled: true,
      priority: "Warning",
      tags: ["shell"],
      eventTypes: ["execve"],
      condition: "spawned and proc.name in (shells)",
      effectiveCondition: "((evt.type = execve and user.uid = 0) and proc.name in (bash, sh))",
      output: "root shell %proc.name by %user.name",
    });
    expect(e.history).toEqual([
      { action: "define", file: file("good.yaml"), line: 7 },
      { action: "replace", keys: ["output"], file: file("second.yaml"), line: 6 },
    ]);
    expect(e.macros).toEqual([
      {
        name: "spawned",
        history: [
          { action: "define", file: file("good.yaml"), line: 4 },
          { action: "append", keys: ["condition"], file: file("second.yaml"), line: 1 },
        ],
      },
    ]);
    expect(e.lists).toEqual([
      { name: "shells", history: [{ action: "define", file: file("good.yaml"), line: 1 }] },
    ]);
  });

  test("--rule NAME picks the rule too", () => {
    const r = cli("rules", "explain", "--json", "--rule", "Shell spawned", file("good.yaml"));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).map((e: { rule: string }) => e.rule)).toEqual(["Shell spawned"]);
  });

  test("a redefinition in the second file wins over the first", () => {
    writeFileSync(
      file("redefine.yaml"),
      "- rule: Shell spawned\n  desc: again\n  condition: evt.type = execve\n  output: redefined\n  priority: ERROR\n",
    );
    const r = cli("rules", "explain", file("good.yaml"), file("redefine.yaml"), "Shell spawned");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `    ${file("good.yaml")}:7  defined\n    ${file("redefine.yaml")}:1  redefined (replaces the whole earlier definition)  <- this definition wins\n`,
    );
  });

  test("an unknown rule name: exit 1", () => {
    const r = cli("rules", "explain", file("good.yaml"), "Nope");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("no rule named 'Nope' in the loaded rules\n");
  });

  test("rules with errors cannot be explained: exit 1", () => {
    const r = cli("rules", "explain", file("bad.yaml"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file("bad.yaml")}:3:14: error[unknown_field]`);
    expect(r.stderr).toContain("cannot explain: the rules have 2 error(s)");
  });
});

describe("run: failures before capture", () => {
  test("an invalid config file: exit 1, every problem with file:line:col", () => {
    const r = cli("run", "-c", file("bad-config.yaml"));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("lanner: invalid configuration:\n");
    expect(r.stderr).toContain(`${file("bad-config.yaml")}:1:1: key 'json_output': `);
    expect(r.stderr).toContain(
      `${file("bad-config.yaml")}:2:1: unknown key 'prioirty'; did you mean 'priority'?`,
    );
  });

  test("a config file that cannot be read: exit 2", () => {
    const r = cli("run", "-c", file("missing.yaml"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`lanner: cannot read config file: ENOENT`);
  });

  test("invalid rules: exit 1 with the errors", () => {
    const r = cli("run", "-r", file("bad.yaml"), "-o", "file_output.enabled=false");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("lanner: the rules have 2 error(s):\n");
    expect(r.stderr).toContain(`${file("bad.yaml")}:3:14: error[unknown_field]`);
  });

  test("a rules file that does not exist: exit 2, as for rules validate", () => {
    const r = cli("run", "-r", file("missing.yaml"), "-o", "file_output.enabled=false");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file("missing.yaml")}: error[file_read]: cannot read rules file: ENOENT`);
  });

  test("-o with a bad value: exit 1 naming the override", () => {
    const r = cli("run", "-o", "outputs_queue.capacity=-1");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "-o outputs_queue.capacity=-1: key 'outputs_queue.capacity': must be at least 0",
    );
  });

  test.each([["bad"], ["=x"], ["a..b=1"]])("-o with bad syntax %p: a usage error (exit 2)", (o) => {
    const r = cli("run", "-o", o);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`lanner: -o ${o}: expected KEY.PATH=VALUE`);
  });
});
