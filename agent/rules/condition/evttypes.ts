// The event types a condition can match, so the engine tests an event only against rules that can
// match it. As in Falco: `and` intersects, `or` unites, `not` is pushed down to the leaves by De
// Morgan's laws; an `evt.type` check gives its set (complemented under negation); any other check
// is neutral (all types); and `evt.num`, which starts at 1, makes `evt.num=0` match nothing, which
// is how placeholder macros like `never_true` switch a rule off.

import { EVENT_NAMES, SYSCALL_NAMES } from "../fields/event-names.ts";
import type { CheckedCompare, CheckedExpr } from "./checked.ts";

export type EventTypeSet = ReadonlySet<string> | "all";

export const ALL_EVENT_TYPES: ReadonlySet<string> = new Set([...SYSCALL_NAMES, ...EVENT_NAMES]);

export function eventTypesOf(expr: CheckedExpr): EventTypeSet {
  return visit(expr, false);
}

/**
 * A macro's body is one shared object however many times it is used, so its sets are computed
 * once (per polarity): without this, thirty macros each using the previous one twice take 2^30
 * visits. Bodies are immutable after checking, so the answer never goes stale.
 */
const macroSets = new WeakMap<CheckedExpr, { plain?: EventTypeSet; negated?: EventTypeSet }>();

function visitMacro(body: CheckedExpr, negated: boolean): EventTypeSet {
  let entry = macroSets.get(body);
  if (entry === undefined) {
    entry = {};
    macroSets.set(body, entry);
  }
  const known = negated ? entry.negated : entry.plain;
  if (known !== undefined) return known;
  const computed = visit(body, negated);
  if (negated) entry.negated = computed;
  else entry.plain = computed;
  return computed;
}

function visit(expr: CheckedExpr, negated: boolean): EventTypeSet {
  switch (expr.kind) {
    case "and":
    case "or": {
      const intersect = (expr.kind === "and") !== negated;
      let acc: EventTypeSet = intersect ? "all" : new Set<string>();
      for (const child of expr.children) {
        const s = visit(child, negated);
        acc = intersect ? intersection(acc, s) : union(acc, s);
      }
      return acc;
    }
    case "not":
      return visit(expr.child, !negated);
    case "macro":
      return visitMacro(expr.body, negated);
    case "compare":
      return leaf(expr, negated);
  }
}

function leaf(cmp: CheckedCompare, negated: boolean): EventTypeSet {
  const invariant = evtNumInvariant(cmp);
  if (invariant !== undefined) {
    const matchesAll = invariant !== negated;
    return matchesAll ? "all" : new Set<string>();
  }
  const isTypeCheck =
    cmp.left.kind === "field" &&
    cmp.left.field.def.name === "evt.type" &&
    cmp.left.field.arg === undefined &&
    cmp.literals !== undefined &&
    cmp.modifier === undefined &&
    (cmp.op === "=" || cmp.op === "!=" || cmp.op === "in");
  if (!isTypeCheck) return "all";
  const named = new Set((cmp.literals ?? []).filter((n) => ALL_EVENT_TYPES.has(n)));
  // `!=` and negation each flip the set; both together cancel out.
  const complemented = (cmp.op === "!=") !== negated;
  return complemented ? complement(named) : named;
}

/** true: the check always holds; false: it never does; undefined: it depends on the event. */
function evtNumInvariant(cmp: CheckedCompare): boolean | undefined {
  if (cmp.left.kind !== "field" || cmp.left.field.def.name !== "evt.num" || cmp.literals === undefined)
    return undefined;
  const values = cmp.literals.map((l) => (/^[0-9]+$/.test(l) ? Number(l) : Number.NaN));
  if (values.some(Number.isNaN)) return undefined;
  const [n] = values;
  switch (cmp.op) {
    case "in":
      return values.every((v) => v === 0) ? false : undefined;
    case "=":
      return n === 0 ? false : undefined;
    case "!=":
      return n === 0 ? true : undefined;
    case "<":
      return n <= 1 ? false : undefined;
    case "<=":
      return n === 0 ? false : undefined;
    case ">":
      return n === 0 ? true : undefined;
    case ">=":
      return n <= 1 ? true : undefined;
    default:
      return undefined;
  }
}

function intersection(a: EventTypeSet, b: EventTypeSet): EventTypeSet {
  if (a === "all") return b;
  if (b === "all") return a;
  return new Set([...a].filter((x) => b.has(x)));
}

function union(a: EventTypeSet, b: EventTypeSet): EventTypeSet {
  if (a === "all" || b === "all") return "all";
  return new Set([...a, ...b]);
}

function complement(s: ReadonlySet<string>): EventTypeSet {
  if (s.size === 0) return "all";
  return new Set([...ALL_EVENT_TYPES].filter((x) => !s.has(x)));
}

/** How many types a set covers, for the "too many event types" warning. */
export function eventTypeCount(s: EventTypeSet): number {
  return s === "all" ? ALL_EVENT_TYPES.size : s.size;
}
