// Errors and warnings found while loading rule files. Each carries a code (its kind, stable for
// machines), the file/line/column and a snippet of the offending text, and the chain of places
// it sits in ("rule 'X'", "condition"), like Falco's rule_loader::context but with every problem
// reported, not only the first.

import { clipMessage, escapeForTerminal, positionAt, type SourceFile, snippetAt } from "../../yaml/index.ts";
import type { CheckIssueCode, CheckWarningCode } from "../condition/check.ts";

export type Severity = "error" | "warning";

/**
 * Every diagnostic code with its severity: the one list the type, the docs table (docs/RULES.md,
 * checked by a test) and `--json` consumers rely on. The condition checker's codes are among them.
 */
export const DIAGNOSTIC_CODES = {
  yaml_parse: "error",
  schema: "error",
  compile_condition: "error",
  compile_output: "error",
  unknown_field: "error",
  bad_argument: "error",
  bad_literal: "error",
  bad_operator: "error",
  undefined_macro: "error",
  macro_cycle: "error",
  unknown_event_type: "error",
  no_previous_definition: "error",
  invalid_override: "error",
  invalid_priority: "error",
  engine_version: "error",
  plugin_version: "error",
  exception: "error",
  unsupported: "error",
  file_read: "error",
  limit_exceeded: "error",
  unknown_key: "warning",
  ignored_key: "warning",
  unknown_item: "warning",
  unused_macro: "warning",
  unused_list: "warning",
  too_many_event_types: "warning",
  unknown_source: "warning",
  unknown_filter_skipped: "warning",
  deprecated: "warning",
  invalid_name: "warning",
  duplicate_exception: "warning",
  empty_append: "warning",
  diagnostics_omitted: "warning",
  uncaptured_event_type: "warning",
  unfilled_field: "warning",
  suspicious_value: "warning",
} as const satisfies Record<CheckIssueCode | CheckWarningCode, Severity> & Record<string, Severity>;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

/** A place in a source file. */
export interface Location {
  file: SourceFile;
  offset: number;
}

export interface Diagnostic {
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  /** Where it is; absent for problems with no single place (a file that cannot be read). */
  location?: Location;
  /** Outermost first: ["rule 'Read shadow'", "condition"]. */
  context: string[];
  /** File name when there is no location (e.g. a file that cannot be read). */
  fileName?: string;
}

/** Plain data for --json output. */
export interface DiagnosticJson {
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  file: string | null;
  line: number | null;
  column: number | null;
  context: string[];
  snippet: string | null;
}

export function diagnosticToJson(d: Diagnostic): DiagnosticJson {
  const pos = d.location === undefined ? undefined : positionAt(d.location.file, d.location.offset);
  return {
    severity: d.severity,
    code: d.code,
    // Messages quote text from the file: control and escape bytes are shown escaped, and a quote
    // of a huge value (a 10 MB key) is cut.
    message: escapeForTerminal(clipMessage(d.message)),
    file: d.location?.file.name ?? d.fileName ?? null,
    line: pos?.line ?? null,
    column: pos?.column ?? null,
    context: d.context.map(escapeForTerminal),
    snippet: d.location === undefined ? null : snippetAt(d.location.file, d.location.offset),
  };
}

export { MAX_MESSAGE_LENGTH } from "../../yaml/index.ts";

/** "file:line:col: error[code]: message\n  in rule 'X' > condition\n  12 | ...\n     ^" */
export function formatDiagnostic(d: Diagnostic): string {
  const j = diagnosticToJson(d);
  const where = j.file === null ? "" : j.line === null ? `${j.file}: ` : `${j.file}:${j.line}:${j.column}: `;
  const lines = [`${where}${d.severity}[${d.code}]: ${j.message}`];
  if (j.context.length > 0) lines.push(`  in ${j.context.join(" > ")}`);
  if (j.snippet !== null) for (const l of j.snippet.split("\n")) lines.push(`  ${l}`);
  return lines.join("\n");
}

/**
 * How many diagnostics a bag keeps in full. Past it they are only counted (per code), and `items`
 * ends with one `diagnostics_omitted` summary: a file of a million unknown keys prints a thousand
 * warnings and one line, not a million.
 */
export const MAX_KEPT_DIAGNOSTICS = 1000;

export class DiagnosticBag {
  private readonly kept: Diagnostic[] = [];
  private readonly omitted = new Map<DiagnosticCode, number>();
  private errors = 0;
  private warnings = 0;

  constructor(private readonly keep = MAX_KEPT_DIAGNOSTICS) {}

  /** The diagnostics kept, in order, then a summary of those omitted (if any). */
  get items(): readonly Diagnostic[] {
    if (this.omitted.size === 0) return this.kept;
    const total = [...this.omitted.values()].reduce((a, b) => a + b, 0);
    const byCode = [...this.omitted]
      .sort((a, b) => b[1] - a[1])
      .map(([code, n]) => `${code} x${n}`)
      .join(", ");
    const summary: Diagnostic = {
      severity: "warning",
      code: "diagnostics_omitted",
      message: `${total} more diagnostic(s) not shown (only the first ${this.keep} are kept): ${byCode}`,
      context: [],
    };
    return [...this.kept, summary];
  }

  add(d: Diagnostic): void {
    if (d.severity === "error") this.errors++;
    else this.warnings++;
    if (this.kept.length < this.keep) this.kept.push(d);
    else this.omitted.set(d.code, (this.omitted.get(d.code) ?? 0) + 1);
  }

  error(code: DiagnosticCode, message: string, location: Location | undefined, context: string[] = []): void {
    this.add({ severity: "error", code, message, location, context });
  }

  warning(
    code: DiagnosticCode,
    message: string,
    location: Location | undefined,
    context: string[] = [],
  ): void {
    this.add({ severity: "warning", code, message, location, context });
  }

  /** Every error, kept or omitted. */
  get errorCount(): number {
    return this.errors;
  }

  /** Every warning, kept or omitted (the summary itself is not counted). */
  get warningCount(): number {
    return this.warnings;
  }
}
