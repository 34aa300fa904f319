// Runs rule test cases against loaded rules. A case is an event given as field values; the rule
// fires when the event's type is one the rule runs on and its condition holds. When a case fails,
// the report shows the sub-expression that decided it and the values it saw.

import type { CheckedExpr } from "../condition/checked.ts";
import { type FieldBinder, Planner, planCondition, planOperand } from "../condition/plan.ts";
import { parseOperandPrefix } from "../condition/parser.ts";
import { FieldResolveError, type FieldRegistry, type ResolvedField } from "../fields/registry.ts";
import type { FieldValue, ScalarValue } from "../fields/values.ts";
import type { CompiledRule, CompiledRuleset } from "../load/compile.ts";
import { renderText } from "../output/format.ts";
import type { CaseValue, RuleTests, TestCase } from "./cases.ts";

export interface CaseResult {
  rule: string;
  testCase: TestCase;
  passed: boolean;
  /** Why it passed or failed, one line each. */
  explanation: string[];
}

interface CaseContext {
  values: ReadonlyMap<string, CaseValue>;
}

const caseBinder: FieldBinder<CaseContext> = (field) => (ctx) =>
  convert(ctx.values.get(field.display), field);

export function runRuleTests(
  ruleset: CompiledRuleset,
  tests: readonly RuleTests[],
  registry: FieldRegistry,
): CaseResult[] {
  const byName = new Map(ruleset.rules.map((r) => [r.name, r]));
  const results: CaseResult[] = [];
  for (const t of tests) {
    const rule = byName.get(t.rule);
    for (const testCase of t.cases) {
      if (rule === undefined) {
        results.push({
          rule: t.rule,
          testCase,
          passed: false,
          explanation: [`no rule named '${t.rule}' is loaded (${t.where})`],
        });
        continue;
      }
      results.push(runCase(rule, testCase, registry));
    }
  }
  return results;
}

function runCase(rule: CompiledRule, testCase: TestCase, registry: FieldRegistry): CaseResult {
  const fail = (explanation: string[]): CaseResult => ({
    rule: rule.name,
    testCase,
    passed: false,
    explanation,
  });
  for (const name of testCase.fields.keys()) {
    const problem = checkFieldName(name, registry);
    if (problem !== undefined) return fail([`${testCase.where}: ${problem}`]);
  }
  const type = testCase.fields.get("evt.type");
  if (typeof type !== "string")
    return fail([`${testCase.where}: every case must set evt.type (the engine picks rules by event type)`]);
  const ctx: CaseContext = { values: testCase.fields };
  const runsOnType = rule.eventTypes === "all" || rule.eventTypes.has(type);
  const holds = runsOnType && planCondition(rule.condition, caseBinder)(ctx);
  const fired = runsOnType && holds;
  const passed = fired === (testCase.expect === "fires");
  const explanation: string[] = [];
  if (!runsOnType) {
    const types = rule.eventTypes === "all" ? "all" : [...rule.eventTypes].join(", ");
    explanation.push(`the rule does not run on evt.type=${type} (it runs on: ${types})`);
  } else {
    const tracer: Tracer = { planner: new Planner(caseBinder, (c) => c), traced: new Set() };
    explanation.push(...trace(rule.condition, ctx, holds, tracer));
  }
  return { rule: rule.name, testCase, passed, explanation };
}

function checkFieldName(written: string, registry: FieldRegistry): string | undefined {
  const parsed = parseOperandPrefix(written);
  if (parsed === undefined || parsed.length !== written.length || parsed.operand.kind !== "field") {
    return `'${written}' is not a field name`;
  }
  try {
    registry.resolve(parsed.operand.name, parsed.operand.arg);
    return undefined;
  } catch (err) {
    if (err instanceof FieldResolveError) return err.message;
    throw err;
  }
}

/** Converts a case's YAML text to the field's value type, as a live extractor would return it. */
function convert(value: CaseValue | undefined, field: ResolvedField): FieldValue | undefined {
  if (value === undefined || value === null) return undefined;
  const one = (v: CaseValue): ScalarValue => {
    const text = Array.isArray(v) ? v.join(" ") : String(v);
    switch (field.def.kind) {
      case "number": {
        const n = Number(text);
        return Number.isFinite(n) ? n : text;
      }
      case "bool":
        return text === "true" ? true : text === "false" ? false : text;
      case "bytes":
        return new TextEncoder().encode(text);
      default:
        return text;
    }
  };
  if (field.multi !== "single") return (Array.isArray(value) ? value : [value]).map(one);
  return one(value);
}

/** The lines explaining the condition's result: the parts that decided it, with the values seen. */
/** One planner for the whole trace (macros evaluated once), and the macros already explained. */
interface Tracer {
  planner: Planner<CaseContext>;
  traced: Set<string>;
}

function trace(expr: CheckedExpr, ctx: CaseContext, result: boolean, t: Tracer, depth = 0): string[] {
  const pad = "  ".repeat(depth);
  const holds = (e: CheckedExpr) => t.planner.condition(e)(ctx);
  switch (expr.kind) {
    case "macro":
      // A macro used many times is explained once: the trace stays as large as the definitions.
      if (t.traced.has(expr.name)) return [`${pad}macro ${expr.name} is ${result} (explained above)`];
      t.traced.add(expr.name);
      return [`${pad}macro ${expr.name} is ${result}:`, ...trace(expr.body, ctx, result, t, depth + 1)];
    case "not":
      return [`${pad}not (...) is ${result} because:`, ...trace(expr.child, ctx, !result, t, depth + 1)];
    case "and":
    case "or": {
      // A false `and` is decided by its first false part, a true `or` by its first true part;
      // otherwise every part counts.
      const decisive = (expr.kind === "and") !== result;
      if (decisive) {
        const child = expr.children.find((c) => holds(c) === result) as CheckedExpr;
        return trace(child, ctx, result, t, depth);
      }
      return expr.children.flatMap((c) => trace(c, ctx, result, t, depth));
    }
    case "compare": {
      const read = planOperand(expr.left, caseBinder);
      const v = read(ctx);
      const seen =
        v === undefined
          ? `${expr.left.display} has no value`
          : `${expr.left.display} = ${renderText(v, expr.left.multi)}`;
      return [`${pad}${result ? "true " : "false"}: ${expr.text}   (${seen})`];
    }
  }
}
