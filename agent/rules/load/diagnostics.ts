// Errors and warnings found while loading rule files. Each carries a code (its kind, stable for
// machines), the file/line/column and a snippet of the offending text, and the chain of places
// it sits in ("rule 'X'", "condition"), like Falco's rule_loader::context but with every problem
// reported, not only the first.

import { positionAt, type SourceFile, snippetAt } from "../../yaml/source.ts";

export type DiagnosticCode =
  // errors
  | "yaml_parse"
  | "schema"
  | "compile_condition"
  | "compile_output"
  | "unknown_field"
  | "bad_argument"
  | "bad_literal"
  | "bad_operator"
  | "undefined_macro"
  | "macro_cycle"
  | "unknown_event_type"
  | "no_previous_definition"
  | "invalid_override"
  | "invalid_priority"
  | "engine_version"
  | "plugin_version"
  | "exception"
  | "unsupported"
  | "file_read"
  // warnings
  | "unknown_key"
  | "ignored_key"
  | "unknown_item"
  | "unused_macro"
  | "unused_list"
  | "too_many_event_types"
  | "unknown_source"
  | "unknown_filter_skipped"
  | "deprecated"
  | "invalid_name"
  | "duplicate_exception"
  | "empty_append";

export type Severity = "error" | "warning";

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
    message: d.message,
    file: d.location?.file.name ?? d.fileName ?? null,
    line: pos?.line ?? null,
    column: pos?.column ?? null,
    context: d.context,
    snippet: d.location === undefined ? null : snippetAt(d.location.file, d.location.offset),
  };
}

/** "file:line:col: error[code]: message\n  in rule 'X' > condition\n  12 | ...\n     ^" */
export function formatDiagnostic(d: Diagnostic): string {
  const j = diagnosticToJson(d);
  const where = j.file === null ? "" : j.line === null ? `${j.file}: ` : `${j.file}:${j.line}:${j.column}: `;
  const lines = [`${where}${d.severity}[${d.code}]: ${d.message}`];
  if (d.context.length > 0) lines.push(`  in ${d.context.join(" > ")}`);
  if (j.snippet !== null) for (const l of j.snippet.split("\n")) lines.push(`  ${l}`);
  return lines.join("\n");
}

export class DiagnosticBag {
  readonly items: Diagnostic[] = [];

  error(code: DiagnosticCode, message: string, location: Location | undefined, context: string[] = []): void {
    this.items.push({ severity: "error", code, message, location, context });
  }

  warning(
    code: DiagnosticCode,
    message: string,
    location: Location | undefined,
    context: string[] = [],
  ): void {
    this.items.push({ severity: "warning", code, message, location, context });
  }

  get errorCount(): number {
    return this.items.filter((d) => d.severity === "error").length;
  }

  get warningCount(): number {
    return this.items.filter((d) => d.severity === "warning").length;
  }
}
