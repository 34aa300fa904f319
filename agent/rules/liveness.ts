// Rule liveness: what a loaded rule can never see on this build. A rule that waits for an event type
// the probe does not capture, or reads a field Lanner never fills, loads fine and stays silent; the
// user must be told which rules those are and why (`rules validate`, `rules explain`, `run`).
//
// The captured event types come from the event schema (agent/events), the filled fields from the
// field registry: neither list is kept here.

import { KIND_BY_ID } from "../events/index.ts";
import type {
  CheckedExpr,
  CheckedOperand,
  CheckedOperandList,
  CheckedLiteralArg,
} from "./condition/checked.ts";
import type { CompiledRule, CompiledRuleset } from "./load/compile.ts";
import type { DiagnosticBag } from "./load/diagnostics.ts";

export interface RuleLiveness {
  rule: string;
  /** Event types the rule runs on that no probe record carries, sorted. */
  uncapturedEventTypes: string[];
  /** Event types the rule runs on that the probe captures, sorted; "all" for rules on every type. */
  capturedEventTypes: string[] | "all";
  /** Fields in the condition (exceptions included) that Lanner never fills: they read as missing. */
  unfilledFields: string[];
  /** The rule runs on event types but none of them is captured: it can never fire. */
  neverFires: boolean;
  /** Every event type it runs on is captured and every field it tests is filled. */
  fullyLive: boolean;
}

let captured: ReadonlySet<string> | undefined;

/** The `evt.type` names of the records the probe writes (event kinds are named as Falco names them). */
export function capturedEventTypes(): ReadonlySet<string> {
  captured ??= new Set(KIND_BY_ID.values());
  return captured;
}

export function ruleLiveness(
  rule: CompiledRule,
  capturedTypes: ReadonlySet<string> = capturedEventTypes(),
): RuleLiveness {
  const unfilled = new Set<string>();
  collectUnfilled(rule.condition, unfilled);
  let uncaptured: string[] = [];
  let live: string[] | "all" = "all";
  if (rule.eventTypes !== "all") {
    uncaptured = [...rule.eventTypes].filter((t) => !capturedTypes.has(t)).sort();
    live = [...rule.eventTypes].filter((t) => capturedTypes.has(t)).sort();
  }
  const neverFires = live !== "all" && live.length === 0 && uncaptured.length > 0;
  return {
    rule: rule.name,
    uncapturedEventTypes: uncaptured,
    capturedEventTypes: live,
    unfilledFields: [...unfilled].sort(),
    neverFires,
    fullyLive: uncaptured.length === 0 && unfilled.size === 0,
  };
}

/** Liveness of every rule, in rule order. */
export function rulesetLiveness(
  ruleset: CompiledRuleset,
  capturedTypes: ReadonlySet<string> = capturedEventTypes(),
): RuleLiveness[] {
  return ruleset.rules.map((r) => ruleLiveness(r, capturedTypes));
}

/** At most this many names are listed in one warning; the rest are counted. */
const LISTED = 12;

function listNames(names: readonly string[]): string {
  if (names.length <= LISTED) return names.join(", ");
  return `${names.slice(0, LISTED).join(", ")} and ${names.length - LISTED} more`;
}

/**
 * Adds one `uncaptured_event_type` and/or one `unfilled_field` warning per rule that is not fully
 * live, at the rule's definition. Returns the liveness of every rule.
 */
export function addLivenessWarnings(
  ruleset: CompiledRuleset,
  diagnostics: DiagnosticBag,
  capturedTypes: ReadonlySet<string> = capturedEventTypes(),
): RuleLiveness[] {
  const all = rulesetLiveness(ruleset, capturedTypes);
  ruleset.rules.forEach((rule, i) => {
    const l = all[i];
    const context = [`rule '${rule.name}'`];
    if (l.uncapturedEventTypes.length > 0) {
      const consequence = l.neverFires
        ? "so the rule can never fire"
        : `so it can only fire on ${listNames(l.capturedEventTypes === "all" ? [] : l.capturedEventTypes)}`;
      diagnostics.warning(
        "uncaptured_event_type",
        `rule '${rule.name}' waits for event types the probe does not capture: ${listNames(l.uncapturedEventTypes)}; ${consequence}`,
        rule.definition.location,
        context,
      );
    }
    if (l.unfilledFields.length > 0) {
      diagnostics.warning(
        "unfilled_field",
        `rule '${rule.name}' tests fields Lanner does not fill: ${listNames(l.unfilledFields)}; they read as missing, so a comparison on them is false`,
        rule.definition.location,
        context,
      );
    }
  });
  return all;
}

/** "N of M rules fully live": for the `run` log line. */
export function countFullyLive(liveness: readonly RuleLiveness[]): number {
  let n = 0;
  for (const l of liveness) if (l.fullyLive) n++;
  return n;
}

/**
 * Walks the condition once per macro body: a checked macro body is one object shared by every use,
 * so `seen` keeps the walk linear in the definitions (30 macros each using the previous twice
 * would otherwise be 2^30 visits).
 */
function collectUnfilled(expr: CheckedExpr, out: Set<string>, seen = new Set<CheckedExpr>()): void {
  switch (expr.kind) {
    case "and":
    case "or":
      for (const c of expr.children) collectUnfilled(c, out, seen);
      return;
    case "not":
      collectUnfilled(expr.child, out, seen);
      return;
    case "macro":
      if (seen.has(expr.body)) return;
      seen.add(expr.body);
      collectUnfilled(expr.body, out, seen);
      return;
    case "compare":
      operandUnfilled(expr.left, out);
      if (expr.right !== undefined) operandUnfilled(expr.right, out);
  }
}

function operandUnfilled(
  op: CheckedOperand | CheckedLiteralArg | CheckedOperandList,
  out: Set<string>,
): void {
  if (op.kind === "field") {
    if (op.field.def.binder === undefined) out.add(op.field.def.name);
  } else if (op.kind === "transformer") {
    for (const a of op.args) operandUnfilled(a, out);
  } else if (op.kind === "list") {
    for (const a of op.items) operandUnfilled(a, out);
  }
}
