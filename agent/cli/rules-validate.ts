// `lanner rules validate FILE...`: loads the files in order and reports every error and warning
// with file, line, column, a snippet and a code; --json for machines. Exit 1 on any error.

import { diagnosticToJson, formatDiagnostic } from "../rules/index.ts";
import { parseArgs } from "./args.ts";
import { EXIT_ENVIRONMENT, EXIT_INVALID, EXIT_OK } from "./exit-codes.ts";
import { loadCliRules } from "./setup.ts";

export const VALIDATE_HELP = `Usage: lanner rules validate [--json] [FILE|DIR]...

Loads the rule files in the order given (a directory: its .yaml/.yml files sorted by name) and
reports every error and warning with its file, line, column, code and a snippet.
With no file, validates the embedded default rules.

  --json       print one JSON object (diagnostics, counts) instead of text
  -h, --help   this help

Exit codes: 0 no errors (warnings allowed), 1 at least one error, 2 usage or a file that cannot be read.`;

export function validateCommand(argv: readonly string[]): number {
  const args = parseArgs(argv, [{ name: "json" }, { name: "help", short: "h" }]);
  if (args.switches.has("help")) {
    console.log(VALIDATE_HELP);
    return EXIT_OK;
  }
  const result = loadCliRules(args.positional);
  const { diagnostics, ruleset } = result;
  const summary = {
    files: result.files.map((f) => f.name),
    rules: ruleset.rules.length,
    macros: ruleset.macros.size,
    lists: ruleset.lists.size,
    errors: diagnostics.errorCount,
    warnings: diagnostics.warningCount,
  };
  if (args.switches.has("json")) {
    console.log(
      JSON.stringify({ ...summary, diagnostics: diagnostics.items.map(diagnosticToJson) }, null, 2),
    );
  } else {
    for (const d of diagnostics.items) console.log(`${formatDiagnostic(d)}\n`);
    console.log(
      `${summary.files.length} file(s): ${summary.rules} rules, ${summary.macros} macros, ${summary.lists} lists; ` +
        `${summary.errors} error(s), ${summary.warnings} warning(s)`,
    );
  }
  // A file that cannot be read is an environment problem (2), not invalid rules (1).
  if (diagnostics.items.some((d) => d.code === "file_read")) return EXIT_ENVIRONMENT;
  return summary.errors > 0 ? EXIT_INVALID : EXIT_OK;
}
