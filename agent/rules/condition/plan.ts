// The planning pass: turns a checked condition into the closures that run per event. Fields are
// bound through a binder, so the same checked condition runs on live state (the registry's
// extractors) or on the field values of a rule test case.
//
// Falco's semantics: a field with no value makes its comparison false (so `not` of it is true);
// an unindexed ancestor field holds if it holds for any ancestor; a list field is `in` a set when
// every element is, and `intersects` it when one is.

import type { ResolvedField } from "../fields/registry.ts";
import type { FieldValue, ScalarValue } from "../fields/values.ts";
import type {
  CheckedCompare,
  CheckedExpr,
  CheckedLiteralArg,
  CheckedOperand,
  CheckedOperandList,
} from "./checked.ts";
import { compareValues, type Test } from "./compare.ts";
import { getopt } from "./getopt.ts";

export type Reader<C> = (ctx: C) => FieldValue | undefined;
export type FieldBinder<C> = (field: ResolvedField) => Reader<C>;
export type Predicate<C> = (ctx: C) => boolean;

/**
 * Plans conditions for one engine. Macros are planned once and shared by every rule that uses
 * them; given an `eventKey` (what identifies the current event), a macro's result is also
 * remembered for the rest of that event, so `open_read` or `container` used by twenty rules is
 * evaluated once per event, not twenty times. Conditions are pure, so this changes no result.
 */
export class Planner<C> {
  private readonly macros = new Map<CheckedExpr, Predicate<C>>();

  /**
   * `eventType`, when given, is the evt.type of every event the planned conditions will see (the
   * engine plans a rule once per event type it runs on): comparisons of evt.type are decided here,
   * and the and/or/not around them folded, so per event only what can still differ is tested.
   */
  constructor(
    private readonly bind: FieldBinder<C>,
    private readonly eventKey?: (ctx: C) => unknown,
    private readonly eventType?: string,
    /** Macros referenced once among the conditions planned (evaluated at most once an event anyway). */
    private readonly usedOnce?: ReadonlySet<CheckedExpr>,
  ) {}

  condition(expr: CheckedExpr): Predicate<C> {
    switch (expr.kind) {
      case "and":
        return planAnd(expr.children.map((c) => this.condition(c)));
      case "or":
        return planOr(expr.children.map((c) => this.condition(c)));
      case "not": {
        const child = this.condition(expr.child);
        if (child === ALWAYS) return NEVER;
        if (child === NEVER) return ALWAYS;
        return (ctx) => !child(ctx);
      }
      case "macro":
        return this.macro(expr.body);
      case "compare":
        return this.eventType !== undefined && isPlainEventType(expr)
          ? decided(expr, this.eventType)
          : planCompare(expr, this.bind);
    }
  }

  private macro(body: CheckedExpr): Predicate<C> {
    let planned = this.macros.get(body);
    if (planned === undefined) {
      const inner = this.condition(body);
      const key = this.eventKey;
      if (key === undefined || inner === ALWAYS || inner === NEVER || this.usedOnce?.has(body) === true)
        planned = inner;
      else {
        let lastKey: unknown = NO_EVENT;
        let lastValue = false;
        planned = (ctx) => {
          const k = key(ctx);
          if (k !== lastKey) {
            lastValue = inner(ctx);
            lastKey = k;
          }
          return lastValue;
        };
      }
      this.macros.set(body, planned);
    }
    return planned;
  }
}

/** How many times each macro body is referenced in these conditions, nested macros included. A
 * macro's body is walked once: however often the macro is used, it runs once an event. */
export function macroUses(conditions: readonly CheckedExpr[]): Map<CheckedExpr, number> {
  const uses = new Map<CheckedExpr, number>();
  const walk = (e: CheckedExpr): void => {
    switch (e.kind) {
      case "and":
      case "or":
        for (const c of e.children) walk(c);
        return;
      case "not":
        walk(e.child);
        return;
      case "macro": {
        const n = uses.get(e.body) ?? 0;
        uses.set(e.body, n + 1);
        if (n === 0) walk(e.body);
        return;
      }
      case "compare":
        return;
    }
  };
  for (const c of conditions) walk(c);
  return uses;
}

/** The macros (their bodies) referenced exactly once in these conditions, nested macros included. */
export function macrosUsedOnce(conditions: readonly CheckedExpr[]): Set<CheckedExpr> {
  const uses = macroUses(conditions);
  const once = new Set<CheckedExpr>();
  for (const [body, n] of uses) if (n === 1) once.add(body);
  return once;
}

/** Predicates decided at planning time; and/or/not fold them away. */
const ALWAYS: Predicate<unknown> = () => true;
const NEVER: Predicate<unknown> = () => false;

/** Whether the planned predicate is decided whatever the event: true, false, or undefined if not. */
export function decidedValue<C>(p: Predicate<C>): boolean | undefined {
  return p === ALWAYS ? true : p === NEVER ? false : undefined;
}

/** A literal test of evt.type itself (no transformer, no field on the right). */
function isPlainEventType(cmp: CheckedCompare): boolean {
  const left = cmp.left;
  return (
    left.kind === "field" &&
    left.field.def.name === "evt.type" &&
    left.field.arg === undefined &&
    left.multi === "single" &&
    cmp.right === undefined
  );
}

/**
 * What a comparison is when evt.type is `eventType`: its value for a plain evt.type test, else
 * undefined (it must be tested per event).
 */
export function decideForEventType(cmp: CheckedCompare, eventType: string): boolean | undefined {
  if (!isPlainEventType(cmp)) return undefined;
  return cmp.op === "exists" || (cmp.test as Test)(eventType);
}

/** The comparison's result when evt.type is `eventType` (it always has a value). */
function decided<C>(cmp: CheckedCompare, eventType: string): Predicate<C> {
  if (cmp.op === "exists") return ALWAYS;
  return (cmp.test as Test)(eventType) ? ALWAYS : NEVER;
}

/**
 * Plans one condition on its own (no sharing across rules). A macro's result is remembered per
 * context object, so a macro used many times is evaluated once per call.
 */
export function planCondition<C>(expr: CheckedExpr, bind: FieldBinder<C>): Predicate<C> {
  return new Planner(bind, (ctx: C) => ctx).condition(expr);
}

/** No event seen yet: differs from every key, `undefined` included. */
const NO_EVENT: unique symbol = Symbol("no event");

// Small fixed arities get straight-line closures; the loop form covers the rest.
function planAnd<C>(all: Predicate<C>[]): Predicate<C> {
  if (all.includes(NEVER)) return NEVER;
  const ps = all.filter((p) => p !== ALWAYS);
  if (ps.length === 0) return ALWAYS;
  if (ps.length === 1) return ps[0];
  if (ps.length === 2) {
    const [a, b] = ps;
    return (ctx) => a(ctx) && b(ctx);
  }
  if (ps.length === 3) {
    const [a, b, c] = ps;
    return (ctx) => a(ctx) && b(ctx) && c(ctx);
  }
  return (ctx) => {
    for (let i = 0; i < ps.length; i++) if (!ps[i](ctx)) return false;
    return true;
  };
}

function planOr<C>(all: Predicate<C>[]): Predicate<C> {
  if (all.includes(ALWAYS)) return ALWAYS;
  const ps = all.filter((p) => p !== NEVER);
  if (ps.length === 0) return NEVER;
  if (ps.length === 1) return ps[0];
  if (ps.length === 2) {
    const [a, b] = ps;
    return (ctx) => a(ctx) || b(ctx);
  }
  return (ctx) => {
    for (let i = 0; i < ps.length; i++) if (ps[i](ctx)) return true;
    return false;
  };
}

export function planCompare<C>(cmp: CheckedCompare, bind: FieldBinder<C>): Predicate<C> {
  const read = planOperand(cmp.left, bind);
  if (cmp.right !== undefined) {
    const readRight = planOperand(cmp.right, bind);
    const { op } = cmp;
    const kind = cmp.left.valueKind;
    return (ctx) => {
      const l = read(ctx);
      if (l === undefined) return false;
      const r = readRight(ctx);
      if (r === undefined) return false;
      return anyPair(l, r, (a, b) => compareValues(op, kind, a, b));
    };
  }
  const test = cmp.test as Test;
  if (cmp.op === "exists") return (ctx) => read(ctx) !== undefined;
  if (cmp.left.multi === "list") {
    if (cmp.op === "in")
      return (ctx) => {
        const v = read(ctx);
        return Array.isArray(v) && v.length > 0 && v.every(test);
      };
    return (ctx) => {
      const v = read(ctx);
      return Array.isArray(v) && v.some(test);
    };
  }
  if (cmp.left.multi === "any") {
    return (ctx) => {
      const v = read(ctx);
      return Array.isArray(v) ? v.some(test) : v !== undefined && test(v as ScalarValue);
    };
  }
  return (ctx) => {
    const v = read(ctx);
    return v !== undefined && test(v as ScalarValue);
  };
}

function anyPair(l: FieldValue, r: FieldValue, f: (a: ScalarValue, b: ScalarValue) => boolean): boolean {
  const ls = Array.isArray(l) ? l : [l as ScalarValue];
  const rs = Array.isArray(r) ? r : [r as ScalarValue];
  for (const a of ls) for (const b of rs) if (f(a, b)) return true;
  return false;
}

/** A reader for an operand: a bound field, or a transformer applied to its arguments' values. */
export function planOperand<C>(op: CheckedOperand, bind: FieldBinder<C>): Reader<C> {
  if (op.kind === "field") {
    const read = bind(op.field);
    if (op.multi !== "any") return read;
    // An empty ancestor list means there is no value to compare.
    return (ctx) => {
      const v = read(ctx);
      return Array.isArray(v) && v.length === 0 ? undefined : v;
    };
  }
  const args = op.args.map((a) => planArg(a, bind));
  switch (op.name) {
    case "tolower":
      return mapEach(args[0], (s) => (typeof s === "string" ? s.toLowerCase() : s));
    case "toupper":
      return mapEach(args[0], (s) => (typeof s === "string" ? s.toUpperCase() : s));
    case "basename":
      return mapEach(args[0], (s) => (typeof s === "string" ? s.slice(s.lastIndexOf("/") + 1) : s));
    case "b64":
      return mapEach(args[0], decodeBase64);
    case "len": {
      const inner = args[0];
      const listArg = (op.args[0] as CheckedOperand).multi === "list";
      return (ctx) => {
        const v = inner(ctx);
        if (v === undefined) return undefined;
        if (listArg) return Array.isArray(v) ? v.length : 1;
        return Array.isArray(v) ? v.map(lengthOf) : lengthOf(v as ScalarValue);
      };
    }
    case "concat":
      return (ctx) => {
        let out = "";
        for (const a of args) {
          const v = a(ctx);
          if (v === undefined || Array.isArray(v)) return undefined;
          out += String(v);
        }
        return out;
      };
    case "join": {
      const [sep, list] = args;
      return (ctx) => {
        const s = sep(ctx);
        const v = list(ctx);
        // As libsinsp: a missing separator or list element leaves the whole join without a value.
        if (s === undefined || v === undefined || Array.isArray(s)) return undefined;
        const items = Array.isArray(v) ? v : [v];
        return items.map(String).join(String(s));
      };
    }
    case "getopt": {
      const [argv, optstring] = args;
      const selector = op.arg;
      return (ctx) => {
        const a = argv(ctx);
        const o = optstring(ctx);
        if (a === undefined || o === undefined || Array.isArray(o)) return undefined;
        const words = (Array.isArray(a) ? a : [a]).map((w) => String(w));
        return getopt(words, String(o), selector);
      };
    }
  }
}

function planArg<C>(
  arg: CheckedOperand | CheckedLiteralArg | CheckedOperandList,
  bind: FieldBinder<C>,
): Reader<C> {
  if (arg.kind === "literal") {
    const value = arg.value;
    return () => value;
  }
  if (arg.kind === "list") {
    const items = arg.items.map((i) => planArg(i, bind));
    return (ctx) => {
      const out: ScalarValue[] = [];
      for (const item of items) {
        const v = item(ctx);
        // A list with a missing element has no value (as libsinsp).
        if (v === undefined) return undefined;
        if (Array.isArray(v)) for (const x of v) out.push(x);
        else out.push(v as ScalarValue);
      }
      return out;
    };
  }
  return planOperand(arg, bind);
}

function mapEach<C>(read: Reader<C>, f: (v: ScalarValue) => ScalarValue): Reader<C> {
  return (ctx) => {
    const v = read(ctx);
    if (v === undefined) return undefined;
    return Array.isArray(v) ? v.map(f) : f(v as ScalarValue);
  };
}

function lengthOf(v: ScalarValue): number {
  if (typeof v === "string") return Buffer.byteLength(v, "utf8");
  if (v instanceof Uint8Array) return v.length;
  return String(v).length;
}

/** b64() decodes: a field holding base64 text compares as the text it encodes. */
function decodeBase64(v: ScalarValue): ScalarValue {
  const text = typeof v === "string" ? v : v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v);
  return Buffer.from(text, "base64").toString("utf8");
}
