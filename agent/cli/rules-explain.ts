// `lanner rules explain [FILE...] [NAME]`: for each rule (or the one named), the effective
// condition after appends, overrides, macro and list expansion, the event types it runs on, and
// where every piece came from: which file and line defined it, and which later entries appended
// to or replaced it. This answers "which definition wins".

import { existsSync } from "node:fs";
import {
  ALL_KINDS,
  captureSelection,
  describeOpenEntry,
  type OpenFilter,
  selectionFor,
} from "../capture/index.ts";
import {
  type CheckedExpr,
  type CompiledRule,
  type CompiledRuleset,
  formatDiagnostic,
  type Provenance,
  prefilterFor,
  printChecked,
  ruleLiveness,
} from "../rules/index.ts";
import { escapeLines, positionAt } from "../yaml/index.ts";
import { parseArgs, single } from "./args.ts";
import { EXIT_INVALID, EXIT_OK } from "./exit-codes.ts";
import { loadCliRules } from "./setup.ts";

export const EXPLAIN_HELP = `Usage: lanner rules explain [--json] [FILE|DIR]... [RULE NAME]

Shows, for every rule (or the one named), what Lanner will actually run:
  - the condition as written after appends and overrides, and the effective condition with
    every macro and list expanded;
  - the event types the rule runs on;
  - the history of the rule and of each macro and list it uses: where each was defined, and
    which later entries redefined, appended to or replaced it (the last definition wins).
With no file, explains the embedded default rules. A trailing argument that is not an existing
file is the rule name (or use --rule NAME).

  --rule NAME  the rule to explain
  --json       print JSON instead of text
  -h, --help   this help`;

export interface PieceExplanation {
  name: string;
  history: ProvenanceJson[];
}

export interface ProvenanceJson {
  action: Provenance["action"];
  keys?: readonly string[];
  file: string;
  line: number;
}

export interface RuleExplanation {
  rule: string;
  enabled: boolean;
  priority: string;
  source: string;
  tags: string[];
  eventTypes: string[] | "all";
  condition: string;
  effectiveCondition: string;
  exceptions: string[];
  output: string;
  history: ProvenanceJson[];
  macros: PieceExplanation[];
  lists: PieceExplanation[];
  /** What the rule can never see on this build (docs/RULES.md [T9]). */
  liveness: { fullyLive: boolean; uncapturedEventTypes: string[]; unfilledFields: string[] };
}

export function explainCommand(argv: readonly string[]): number {
  const args = parseArgs(argv, [
    { name: "json" },
    { name: "rule", value: true },
    { name: "help", short: "h" },
  ]);
  if (args.switches.has("help")) {
    console.log(EXPLAIN_HELP);
    return EXIT_OK;
  }
  const files = [...args.positional];
  let name = single(args, "rule");
  if (name === undefined && files.length > 0 && !existsSync(files[files.length - 1])) name = files.pop();
  const result = loadCliRules(files);
  const errors = result.diagnostics.items.filter((d) => d.severity === "error");
  if (errors.length > 0) {
    for (const d of errors) console.error(formatDiagnostic(d));
    console.error(
      `cannot explain: the rules have ${errors.length} error(s) (run 'lanner rules validate' for all diagnostics)`,
    );
    return EXIT_INVALID;
  }
  const rules = result.ruleset.rules.filter((r) => name === undefined || r.name === name);
  if (name !== undefined && rules.length === 0) {
    console.error(`no rule named '${name}' in the loaded rules`);
    return EXIT_INVALID;
  }
  const explanations = rules.map((r) => explainRule(r, result.ruleset));
  if (args.switches.has("json")) console.log(JSON.stringify(explanations, null, 2));
  else {
    const text = explanations.map(renderExplanation);
    // With every rule explained, what the set of them asks of the kernel.
    if (name === undefined) text.push(renderCapture(explainCapture(result.ruleset)));
    // Rule text comes from files: control and escape characters are shown escaped.
    console.log(escapeLines(text.join("\n\n")));
  }
  return EXIT_OK;
}

/** What `run` asks of the kernel for the enabled rules of a ruleset. */
export interface CaptureExplanation {
  /** Kinds recorded in the kernel (rules' event types plus the state set). */
  selected: readonly string[];
  /** Kinds the probe could record but drops in the kernel for these rules. */
  notSelected: readonly string[];
  /** Rule event types the probe cannot record at all. */
  unknown: readonly string[];
  /** Whether the close prefilter runs (with engine.prefilter on): no enabled rule runs on close. */
  closePrefilter: boolean;
  /** The open prefilter derived from the enabled rules (with engine.prefilter on); when "all",
   * the rules that keep every open. */
  openPrefilter: OpenFilter;
  openKeptAllBy: readonly string[];
}

export function explainCapture(ruleset: CompiledRuleset): CaptureExplanation {
  let types: Set<string> | "all" = new Set();
  for (const r of ruleset.rules) {
    if (!r.enabled) continue;
    if (r.eventTypes === "all") types = "all";
    else if (types !== "all") for (const t of r.eventTypes) types.add(t);
  }
  const selected = captureSelection(types);
  const chosen = new Set<string>(selected);
  const prefilter = prefilterFor(
    ruleset.rules.filter((r) => r.enabled).map((rule) => ({ rule })),
    true,
  );
  return {
    selected,
    notSelected: ALL_KINDS.filter((k) => !chosen.has(k)).sort(),
    unknown: types === "all" ? [] : selectionFor(types).unknown.sort(),
    closePrefilter: prefilter.close,
    openPrefilter: prefilter.open,
    openKeptAllBy: prefilter.keptAllBy,
  };
}

export function renderCapture(c: CaptureExplanation): string {
  const list = (xs: readonly string[]) => (xs.length === 0 ? "(none)" : xs.join(", "));
  return [
    `Kernel selection for the enabled rules (what 'lanner run' records): ${c.selected.length} of ${c.selected.length + c.notSelected.length} kinds`,
    `  selected: ${list(c.selected)}`,
    `  dropped in the kernel: ${list(c.notSelected)}`,
    `  rule event types the probe cannot record: ${list(c.unknown)}`,
    c.closePrefilter
      ? "  close prefilter (engine.prefilter): on: successful closes of fds whose creation was not recorded are dropped in the kernel (no enabled rule runs on close)"
      : "  close prefilter (engine.prefilter): off: an enabled rule runs on close (or on every event type), so every close is recorded",
    ...renderOpenPrefilter(c.openPrefilter, c.openKeptAllBy),
  ].join("\n");
}

function renderOpenPrefilter(filter: OpenFilter, keptAllBy: readonly string[]): string[] {
  if (filter === "all")
    return [
      `  open prefilter (engine.prefilter): off: every open is recorded (a rule may match any open${keptAllBy.length === 0 ? "" : `: ${keptAllBy.join(", ")}`})`,
    ];
  return [
    `  open prefilter (engine.prefilter): on: open, openat and openat2 are recorded only when they match one of these ${filter.length} entries (bits the open must have, path prefix), or open a directory; the rest are dropped in the kernel`,
    ...filter.map((e) => `    ${describeOpenEntry(e)}`),
  ];
}

export function explainRule(rule: CompiledRule, ruleset: CompiledRuleset): RuleExplanation {
  const macroNames = new Set<string>();
  const listNames = new Set<string>();
  collectUses(rule.condition, macroNames, listNames);
  // Lists included by other lists count too.
  const pending = [...listNames];
  while (pending.length > 0) {
    const l = ruleset.lists.get(pending.pop() as string);
    for (const inc of l?.includes ?? []) {
      if (!listNames.has(inc)) {
        listNames.add(inc);
        pending.push(inc);
      }
    }
  }
  const exceptionCount = rule.definition.exceptions.length;
  const live = ruleLiveness(rule);
  return {
    rule: rule.name,
    enabled: rule.enabled,
    priority: rule.priority,
    source: rule.source,
    tags: rule.tags,
    eventTypes: rule.eventTypes === "all" ? "all" : [...rule.eventTypes].sort(),
    condition: rule.conditionText.trim(),
    effectiveCondition: printChecked(rule.condition),
    exceptions: rule.definition.exceptions.map((e) => e.name).slice(0, exceptionCount),
    output: rule.outputText,
    history: rule.definition.history.map(provenanceJson),
    macros: [...macroNames].map((m) => ({
      name: m,
      history: (ruleset.macros.get(m)?.definition.history ?? []).map(provenanceJson),
    })),
    lists: [...listNames].map((l) => ({
      name: l,
      history: (ruleset.lists.get(l)?.definition.history ?? []).map(provenanceJson),
    })),
    liveness: {
      fullyLive: live.fullyLive,
      uncapturedEventTypes: live.uncapturedEventTypes,
      unfilledFields: live.unfilledFields,
    },
  };
}

function collectUses(expr: CheckedExpr, macros: Set<string>, lists: Set<string>): void {
  switch (expr.kind) {
    case "and":
    case "or":
      for (const c of expr.children) collectUses(c, macros, lists);
      break;
    case "not":
      collectUses(expr.child, macros, lists);
      break;
    case "macro":
      // Each macro's body is walked once, however often it is used.
      if (macros.has(expr.name)) break;
      macros.add(expr.name);
      collectUses(expr.body, macros, lists);
      break;
    case "compare":
      for (const l of expr.lists ?? []) lists.add(l);
      break;
  }
}

function provenanceJson(p: Provenance): ProvenanceJson {
  const out: ProvenanceJson = {
    action: p.action,
    file: p.location.file.name,
    line: positionAt(p.location.file, p.location.offset).line,
  };
  if (p.keys !== undefined) out.keys = p.keys;
  return out;
}

function describeHistory(history: readonly ProvenanceJson[]): string[] {
  const lastDefinition = history
    .map((h) => h.action === "define" || h.action === "redefine")
    .lastIndexOf(true);
  return history.map((h, i) => {
    const what = {
      define: "defined",
      redefine: "redefined (replaces the whole earlier definition)",
      append: "appended to",
      replace: "keys replaced",
      enable: "enabled flag set",
    }[h.action];
    const keys = h.keys === undefined ? "" : ` [${h.keys.join(", ")}]`;
    const wins = i === lastDefinition && history.length > 1 ? "  <- this definition wins" : "";
    return `${h.file}:${h.line}  ${what}${keys}${wins}`;
  });
}

export function renderExplanation(e: RuleExplanation): string {
  const lines = [
    `Rule: ${e.rule}`,
    `  enabled: ${e.enabled}   priority: ${e.priority}   source: ${e.source}`,
    `  tags: ${e.tags.length === 0 ? "(none)" : e.tags.join(", ")}`,
    `  event types: ${e.eventTypes === "all" ? "all (the condition does not narrow them)" : e.eventTypes.join(", ")}`,
    `  live: ${describeLiveness(e.liveness)}`,
    "  history:",
    ...describeHistory(e.history).map((h) => `    ${h}`),
    "  condition (as written, after appends and overrides):",
    `    ${e.condition.replace(/\s+/g, " ")}`,
    "  effective condition (macros and lists expanded, exceptions added):",
    `    ${e.effectiveCondition}`,
  ];
  if (e.exceptions.length > 0) lines.push(`  exceptions: ${e.exceptions.join(", ")}`);
  lines.push(`  output: ${e.output.replace(/\s+/g, " ")}`);
  if (e.macros.length > 0) {
    lines.push("  macros used:");
    for (const m of e.macros) {
      lines.push(`    ${m.name}`);
      for (const h of describeHistory(m.history)) lines.push(`      ${h}`);
    }
  }
  if (e.lists.length > 0) {
    lines.push("  lists used:");
    for (const l of e.lists) {
      lines.push(`    ${l.name}`);
      for (const h of describeHistory(l.history)) lines.push(`      ${h}`);
    }
  }
  return lines.join("\n");
}

function describeLiveness(l: RuleExplanation["liveness"]): string {
  if (l.fullyLive) return "yes (every event type captured, every field filled)";
  const parts: string[] = [];
  if (l.uncapturedEventTypes.length > 0)
    parts.push(`event types not captured: ${l.uncapturedEventTypes.join(", ")}`);
  if (l.unfilledFields.length > 0) parts.push(`fields not filled: ${l.unfilledFields.join(", ")}`);
  return `no (${parts.join("; ")})`;
}
