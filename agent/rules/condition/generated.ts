// The rules of one event type compiled into one generated function instead of a closure per
// condition node. The planner's closures call each other through call sites shared by every rule
// (an `and` closure calls whatever its children are), which the JIT cannot inline; here each rule
// and each shared macro is its own small function whose calls go to one known reader or test.
//
// Per event, each field is read at most once (a local cache, reset when the event starts) and each
// macro used by several rules is evaluated at most once. Conditions are pure, so neither changes a
// result: test/rules/generated-plans.test.ts checks the results against the planner's closures.
//
// The generated text holds only identifiers and indices; readers, tests, and the closures of what
// is not generated (transformers, list and ancestor fields, field-to-field comparisons) are passed
// in as arrays, so no rule text ever reaches the code.

import type { CheckedCompare, CheckedExpr } from "./checked.ts";
import { type FieldBinder, macroUses, planCompare, type Predicate, type Reader } from "./plan.ts";
import type { Test } from "./compare.ts";

/** Evaluates one event: calls hit(i) for each rule i that matches, in order, until hit returns true. */
export type TypeRun<C> = (ctx: C, hit: (rule: number) => boolean) => void;

export interface GeneratedPlan<C> {
  /** Indices (into the conditions given) of the rules that can match; the others are decided false. */
  readonly kept: readonly number[];
  /** hit(i) receives positions in `kept`. */
  readonly run: TypeRun<C>;
  /** The generated source, for tests and for explain. */
  readonly source: string;
}

/** A folded condition: decided at planning, or JavaScript expression text. */
type Code = true | false | string;

/**
 * Compiles the conditions of the rules of one event type. `decide` says what a comparison is known
 * to be for this type (evt.type comparisons), undefined when it must be tested per event.
 */
export function generatePlan<C>(
  conditions: readonly CheckedExpr[],
  bind: FieldBinder<C>,
  decide: (cmp: CheckedCompare) => boolean | undefined,
): GeneratedPlan<C> {
  const readers: Reader<C>[] = [];
  const readerByField = new Map<string, number>();
  const tests: Test[] = [];
  const fallbacks: Predicate<C>[] = [];
  const uses = macroUses(conditions);
  const macroIndex = new Map<CheckedExpr, number>();
  const macroCode: string[] = [];
  const macroFolded = new Map<CheckedExpr, Code>();

  const fieldRead = (cmp: CheckedCompare): string | undefined => {
    const left = cmp.left;
    if (left.kind !== "field" || left.multi !== "single") return undefined;
    let i = readerByField.get(left.display);
    if (i === undefined) {
      i = readers.length;
      readers.push(bind(left.field));
      readerByField.set(left.display, i);
    }
    return `(f${i} !== S ? f${i} : (f${i} = r${i}(ctx)))`;
  };

  const compare = (cmp: CheckedCompare): Code => {
    const known = decide(cmp);
    if (known !== undefined) return known;
    const read = cmp.right === undefined ? fieldRead(cmp) : undefined;
    if (read !== undefined && cmp.op === "exists") return `(${read} !== undefined)`;
    if (read !== undefined && cmp.test !== undefined) {
      tests.push(cmp.test);
      return `((v = ${read}) !== undefined && t${tests.length - 1}(v))`;
    }
    fallbacks.push(planCompare(cmp, bind));
    return `p${fallbacks.length - 1}(ctx)`;
  };

  const macro = (body: CheckedExpr): Code => {
    let folded = macroFolded.get(body);
    if (folded !== undefined) return folded;
    const inner = fold(body);
    if (typeof inner === "boolean" || (uses.get(body) ?? 0) < 2) folded = inner;
    else {
      const m = macroCode.length;
      macroIndex.set(body, m);
      // Reserve the slot first: the body may itself reference macros, which are pushed after it.
      macroCode.push("");
      macroCode[m] =
        `function M${m}(ctx) { if (m${m} !== 0) return m${m} === 1; let v; const x = ${inner}; m${m} = x ? 1 : 2; return x; }`;
      folded = `M${m}(ctx)`;
    }
    macroFolded.set(body, folded);
    return folded;
  };

  const fold = (expr: CheckedExpr): Code => {
    switch (expr.kind) {
      case "and":
      case "or": {
        const stop = expr.kind === "or";
        const parts: string[] = [];
        for (const c of expr.children) {
          const code = fold(c);
          if (typeof code === "boolean") {
            if (code === stop) return stop;
            continue;
          }
          parts.push(code);
        }
        if (parts.length === 0) return !stop;
        return parts.length === 1 ? parts[0] : `(${parts.join(stop ? " || " : " && ")})`;
      }
      case "not": {
        const code = fold(expr.child);
        return typeof code === "boolean" ? !code : `!${code}`;
      }
      case "macro":
        return macro(expr.body);
      case "compare":
        return compare(expr);
    }
  };

  const kept: number[] = [];
  const ruleCode: string[] = [];
  conditions.forEach((c, i) => {
    const code = fold(c);
    if (code === false) return;
    kept.push(i);
    ruleCode.push(code === true ? "true" : code);
  });

  const lines: string[] = ['"use strict";'];
  const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  const declare = (prefix: string, source: string, n: number) => {
    if (n > 0)
      lines.push(
        `const ${names(prefix, n)
          .map((x, i) => `${x} = ${source}[${i}]`)
          .join(", ")};`,
      );
  };
  declare("r", "R", readers.length);
  declare("t", "T", tests.length);
  declare("p", "P", fallbacks.length);
  if (readers.length > 0)
    lines.push(
      `let ${names("f", readers.length)
        .map((f) => `${f} = S`)
        .join(", ")};`,
    );
  if (macroCode.length > 0)
    lines.push(
      `let ${names("m", macroCode.length)
        .map((m) => `${m} = 0`)
        .join(", ")};`,
    );
  lines.push(...macroCode);
  ruleCode.forEach((code, i) => {
    lines.push(`function C${i}(ctx) { let v; return ${code}; }`);
  });
  lines.push("return function run(ctx, hit) {");
  if (readers.length > 0) lines.push(`  ${names("f", readers.length).join(" = ")} = S;`);
  if (macroCode.length > 0) lines.push(`  ${names("m", macroCode.length).join(" = ")} = 0;`);
  ruleCode.forEach((_, i) => {
    lines.push(`  if (C${i}(ctx) && hit(${i})) return;`);
  });
  lines.push("};");
  const source = lines.join("\n");
  const factory = factoryFor(source) as Factory<C>;
  return { kept, run: factory(readers, tests, fallbacks, NOT_READ), source };
}

type Factory<C> = (r: Reader<C>[], t: Test[], p: Predicate<C>[], s: symbol) => TypeRun<C>;

/**
 * One factory per distinct source: the functions it makes share their compiled code, so an engine
 * built again from the same rules (a reload, a second replay in one process) runs at once at full
 * speed instead of compiling its plans anew. At most FACTORY_CACHE_CAP sources and
 * FACTORY_CACHE_CHARS characters of them are kept; past that, factories are made and not kept
 * (counted in factoryCacheStats.uncached).
 */
function factoryFor(source: string): Factory<unknown> {
  let factory = FACTORIES.get(source);
  if (factory === undefined) {
    // Only identifiers and indices are in `source` (see the header): no rule text is evaluated.
    factory = new Function("R", "T", "P", "S", source) as Factory<unknown>;
    if (
      FACTORIES.size < FACTORY_CACHE_CAP &&
      factoryCacheStats.chars + source.length <= FACTORY_CACHE_CHARS
    ) {
      FACTORIES.set(source, factory);
      factoryCacheStats.chars += source.length;
    } else factoryCacheStats.uncached++;
  }
  return factory;
}
const FACTORY_CACHE_CAP = 4096;
const FACTORY_CACHE_CHARS = 16_000_000;
const FACTORIES = new Map<string, Factory<unknown>>();
/** The characters of source kept, and the factories made but not kept because the cache was full. */
export const factoryCacheStats = { chars: 0, uncached: 0 };

/** A field not read yet in this event (differs from every value, undefined included). */
const NOT_READ: unique symbol = Symbol("not read");
