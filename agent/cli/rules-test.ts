// `lanner rules test FILE...`: runs rule test files against the rules they name (rules_files in
// the test file), or the rules given with -r, or the embedded default rules.

import { dirname, resolve } from "node:path";
import {
  FieldRegistry,
  formatDiagnostic,
  readTestFile,
  runRuleTests,
  TestFileError,
} from "../rules/index.ts";
import { escapeForTerminal, readYamlFile, sourceFile } from "../yaml/index.ts";
import { many, parseArgs } from "./args.ts";
import { EXIT_ENVIRONMENT, EXIT_INVALID, EXIT_OK } from "./exit-codes.ts";
import { loadCliRules } from "./setup.ts";

export const TEST_HELP = `Usage: lanner rules test [-r RULES]... [--verbose] TESTFILE...

Runs rule test files (*.tests.yaml, format in docs/RULES.md). Each test names a rule and gives
events, as field values, that must fire it and that must not. A failing case prints the rule,
the event and the sub-expression that decided it.

Rules come from the test file's rules_files (relative to it), else from -r, else the embedded
default rules.

  -r, --rules PATH   rules file or directory (repeatable)
  --verbose          also explain passing cases
  -h, --help         this help

Exit codes: 0 all cases pass, 1 a case fails or the rules do not load, 2 usage or unreadable file.`;

export function testCommand(argv: readonly string[]): number {
  const args = parseArgs(argv, [
    { name: "rules", short: "r", value: true, repeat: true },
    { name: "verbose" },
    { name: "help", short: "h" },
  ]);
  if (args.switches.has("help")) {
    console.log(TEST_HELP);
    return EXIT_OK;
  }
  if (args.positional.length === 0) {
    console.error(`no test file given\n\n${TEST_HELP}`);
    return EXIT_ENVIRONMENT;
  }
  let failures = 0;
  let total = 0;
  for (const path of args.positional) {
    let text: string;
    try {
      text = readYamlFile(path);
    } catch (err) {
      console.error(`cannot read test file: ${(err as Error).message}`);
      return EXIT_ENVIRONMENT;
    }
    let testFile: ReturnType<typeof readTestFile>;
    try {
      testFile = readTestFile(sourceFile(path, text), (p) => resolve(dirname(path), p));
    } catch (err) {
      if (err instanceof TestFileError) {
        console.error(err.message);
        return EXIT_INVALID;
      }
      throw err;
    }
    const loaded = loadCliRules(testFile.rulesFiles ?? many(args, "rules"));
    const errors = loaded.diagnostics.items.filter((d) => d.severity === "error");
    if (errors.length > 0) {
      for (const d of errors) console.error(formatDiagnostic(d));
      console.error(`${path}: the rules under test do not load (${errors.length} error(s))`);
      return EXIT_INVALID;
    }
    const results = runRuleTests(loaded.ruleset, testFile.tests, FieldRegistry.default());
    for (const r of results) {
      total++;
      if (!r.passed) failures++;
      if (r.passed && !args.switches.has("verbose")) continue;
      const verdict = r.passed ? "PASS" : "FAIL";
      const expected = r.testCase.expect === "fires" ? "should fire" : "should not fire";
      // Names and values come from files: control and escape characters are shown escaped.
      console.log(
        escapeForTerminal(`${verdict} ${r.rule} :: ${r.testCase.name} (${expected}) at ${r.testCase.where}`),
      );
      if (!r.passed) {
        const event = [...r.testCase.fields].map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ");
        console.log(escapeForTerminal(`  event: ${event}`));
      }
      for (const line of r.explanation) console.log(escapeForTerminal(`  ${line}`));
    }
  }
  console.log(`${total} case(s), ${total - failures} passed, ${failures} failed`);
  return failures > 0 ? EXIT_INVALID : EXIT_OK;
}
