// The checking pass: turns a parsed condition into a checked one. It resolves every field against
// the registry, expands lists and macros, converts literals to the field types and builds each
// comparison's test, so that a condition that would misbehave at run time fails at load time
// with the position of the culprit.

import { EVENT_NAMES, SYSCALL_NAMES } from "../fields/event-names.ts";
import { editDistance } from "../../common/index.ts";
import { FieldResolveError, type FieldRegistry, resolveField } from "../fields/registry.ts";
import type { ValueKind } from "../fields/values.ts";
import {
  type CheckExpr,
  type Expr,
  type FieldRef,
  LIST_OPERATORS,
  type Literal,
  MODIFIABLE_OPERATORS,
  type Operand,
  type RightHand,
  type TransformerArg,
  type TransformerCall,
} from "./ast.ts";
import {
  type CheckedCompare,
  type CheckedExpr,
  type CheckedField,
  type CheckedLiteralArg,
  type CheckedOperand,
  type CheckedOperandList,
  type CheckedTransformer,
  operandDisplay,
  quoteIfNeeded,
} from "./checked.ts";
import { buildTest, operatorProblem } from "./compare.ts";
import { LiteralError } from "./literals.ts";
import { OPERATOR_ROWS } from "./operators.ts";
import { parseOperandPrefix, TRANSFORMERS } from "./parser.ts";

export type CheckIssueCode =
  | "unknown_field"
  | "bad_argument"
  | "bad_literal"
  | "bad_operator"
  | "undefined_macro"
  | "macro_cycle"
  | "unknown_event_type"
  | "unsupported"
  | "limit_exceeded";

/** Most values one comparison may hold once the lists it names are expanded. */
export const MAX_COMPARISON_VALUES = 100_000;

export interface CheckIssue {
  code: CheckIssueCode;
  message: string;
  /** Offset in the condition text. */
  pos: number;
}

/** What libsinsp's compiler and Falco's loader warn about in a condition that compiles. */
export type CheckWarningCode = "suspicious_value" | "deprecated";

export interface CheckWarning {
  code: CheckWarningCode;
  message: string;
  pos: number;
}

/** Fields Falco reports as deprecated (falco_load_result.cpp), with the reason it gives. */
export const DEPRECATED_FIELDS: ReadonlyMap<string, string> = new Map([
  [
    "evt.dir",
    "due to the drop of enter events, 'evt.dir = <' always evaluates to true, and 'evt.dir = >' always evaluates to false; the condition on 'evt.dir' can be removed",
  ],
  ["evt.latency", "the field is not available due to the drop of enter events"],
  ["evt.latency.s", "the field is not available due to the drop of enter events"],
  ["evt.latency.ns", "the field is not available due to the drop of enter events"],
  ["evt.latency.human", "the field is not available due to the drop of enter events"],
  ["evt.wait_latency", "the field is not available due to the drop of enter events"],
]);

/** What a condition may refer to besides fields. */
export interface CheckScope {
  registry: FieldRegistry;
  /** The items of a list, expanded, or undefined if no such list is visible. */
  list(name: string): readonly string[] | undefined;
  /** A macro's checked body, or a reason it cannot be used here. */
  macro(name: string): CheckedExpr | { problem: CheckIssueCode; message: string };
}

class CheckFailure extends Error {
  constructor(readonly issue: CheckIssue) {
    super(issue.message);
  }
}

const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set([...SYSCALL_NAMES, ...EVENT_NAMES]);

/** Checks a parsed condition. Stops at the first problem, as its position is what the user needs. */
export function checkCondition(
  expr: Expr,
  scope: CheckScope,
): { checked: CheckedExpr; warnings: CheckWarning[] } | { issue: CheckIssue } {
  try {
    const checker = new Checker(scope);
    const checked = checker.expr(expr);
    return { checked, warnings: checker.warnings };
  } catch (err) {
    if (err instanceof CheckFailure) return { issue: err.issue };
    throw err;
  }
}

class Checker {
  readonly warnings: CheckWarning[] = [];

  constructor(private readonly scope: CheckScope) {}

  private warn(code: CheckWarningCode, message: string, pos: number): void {
    this.warnings.push({ code, message, pos });
  }

  /**
   * libsinsp's compiler warnings on a literal value (filter.cpp, check_value_and_add_warnings): a
   * regex a plain operator could do, and a value that reads as a field or a transformer call
   * (a forgotten val()).
   */
  private valueWarnings(op: CheckExpr["op"], values: readonly Literal[]): void {
    for (const v of values) {
      if (op === "regex" && regexIsPlain(v.value))
        this.warn(
          "suspicious_value",
          `regex check with '${v.value}' may be optimized with simpler operators such as '=', 'contains', 'startswith', 'endswith'`,
          v.pos,
        );
      const bare = v.value.replace(/[ \t\n\v\f\r]/g, "");
      if (this.isFieldName(bare))
        this.warn(
          "suspicious_value",
          `'${v.value}' may be a valid field misused as a const string value`,
          v.pos,
        );
      if (
        TRANSFORMER_CALL_NAMES.some(
          (t) => bare.length >= t.length + 2 && bare.startsWith(`${t}(`) && bare.endsWith(")"),
        )
      )
        this.warn(
          "suspicious_value",
          `'${v.value}' may be a valid field transformer misused as a const string value`,
          v.pos,
        );
    }
  }

  private isFieldName(text: string): boolean {
    // Most values have no dot, and no field is spelled without one.
    if (!text.includes(".")) return false;
    const parsed = parseOperandPrefix(text);
    if (parsed === undefined || parsed.length !== text.length || parsed.operand.kind !== "field")
      return false;
    return resolveField(parsed.operand.name, parsed.operand.arg) !== undefined;
  }

  expr(e: Expr): CheckedExpr {
    switch (e.kind) {
      case "and":
      case "or":
        return { kind: e.kind, children: e.children.map((c) => this.expr(c)) };
      case "not":
        return { kind: "not", child: this.expr(e.child) };
      case "macro": {
        const body = this.scope.macro(e.name);
        if ("problem" in body) fail(body.problem, body.message, e.pos);
        return { kind: "macro", name: e.name, body };
      }
      case "check":
        return this.compare(e);
    }
  }

  private compare(e: CheckExpr): CheckedCompare {
    checkEventTypeSearch(e);
    const left = this.operand(e.left);
    const leftText = operandDisplay(left);
    if (e.op === "exists") {
      return { kind: "compare", left, op: "exists", test: () => true, text: `${leftText} exists` };
    }
    const multi = left.multi === "list";
    const problem = operatorProblem(left.valueKind, e.op, multi);
    if (problem !== undefined)
      fail("bad_operator", `${problem} ('${leftText}' is ${describeKind(left)})`, e.opPos);
    if (e.modifier !== undefined && !MODIFIABLE_OPERATORS.has(e.op)) {
      fail("bad_operator", `'${e.op}' cannot take the '${e.modifier}' modifier`, e.opPos);
    }
    const opText = e.modifier === undefined ? e.op : `${e.op} ${e.modifier}`;
    const right = e.right;
    if (right === undefined) fail("bad_operator", `'${e.op}' needs a value on its right`, e.opPos);

    if (right.kind === "val" || right.kind === "transformer") {
      if (OPERATOR_ROWS.get(e.op)?.fieldRhs !== true || e.modifier !== undefined) {
        fail("bad_operator", `'${opText}' does not accept a field on its right-hand side`, right.pos);
      }
      if (right.kind === "val" && right.arg !== undefined)
        fail("bad_argument", "transformer 'val' does not support field arguments", right.pos);
      const rhs = right.kind === "val" ? this.field(right.field) : this.transformer(right);
      // libsinsp: fields with custom comparisons (EPF_NO_RHS) take no field on either side.
      const leftNoRhs = noRhsField(left);
      if (leftNoRhs !== undefined)
        fail("bad_operator", `field '${leftNoRhs}' doesn't support right-hand side fields`, right.pos);
      const rightNoRhs = noRhsField(rhs);
      if (rightNoRhs !== undefined)
        fail("bad_operator", `field '${rightNoRhs}' can't be used as a right-hand side field`, right.pos);
      // libsinsp requires the same type exactly (int64 is not uint64), and the same list-ness.
      if (rhs.falcoType !== left.falcoType || (rhs.multi === "list") !== (left.multi === "list")) {
        fail(
          "bad_operator",
          `field '${leftText}' has type '${typeText(left)}' while the right-hand side field '${rhs.display}' has incompatible type '${typeText(rhs)}'`,
          right.pos,
        );
      }
      return {
        kind: "compare",
        left,
        op: e.op,
        right: rhs,
        text: `${leftText} ${opText} val(${rhs.display})`,
      };
    }

    const takesList = LIST_OPERATORS.has(e.op) || e.modifier !== undefined;
    if (right.kind === "literal") this.valueWarnings(e.op, [right]);
    else if (right.kind === "list") this.valueWarnings(e.op, right.items);
    const usedLists: string[] = [];
    const literals = this.literalsOf(right, takesList, usedLists);
    if (!takesList && literals.length !== 1)
      fail("bad_literal", `'${e.op}' compares with one value, not a list`, right.pos);
    if (left.kind === "field" && left.field.def.name === "evt.type" && left.field.arg === undefined) {
      for (const name of literals) {
        if (!KNOWN_EVENT_TYPES.has(name)) {
          const hint = nearest(name, KNOWN_EVENT_TYPES);
          fail(
            "unknown_event_type",
            `unknown event type '${name}'${hint === undefined ? "" : `; did you mean '${hint}'?`}`,
            right.pos,
          );
        }
      }
    }
    let test: ReturnType<typeof buildTest>;
    try {
      test = buildTest({
        kind: left.valueKind,
        falcoType: left.falcoType,
        op: e.op,
        modifier: e.modifier,
        literals,
      });
    } catch (err) {
      if (err instanceof LiteralError) {
        // A regex syntax error points into the pattern (past the opening quote when quoted).
        const within =
          err.index !== undefined && right.kind === "literal" ? err.index + (right.quoted ? 1 : 0) : 0;
        fail(
          "bad_literal",
          `${err.message} (comparing '${leftText}')`,
          culpritPos(right, e.op, e.modifier, left) + within,
        );
      }
      throw err;
    }
    const rhsText = takesList ? `(${literals.map(quoteIfNeeded).join(", ")})` : quoteIfNeeded(literals[0]);
    const checked: CheckedCompare = {
      kind: "compare",
      left,
      op: e.op,
      literals,
      test,
      text: `${leftText} ${opText} ${rhsText}`,
    };
    if (e.modifier !== undefined) checked.modifier = e.modifier;
    if (usedLists.length > 0) checked.lists = usedLists;
    return checked;
  }

  /** The literal values on the right, with list names replaced by their items. */
  private literalsOf(
    right: Literal | { kind: "list"; items: Literal[]; pos: number } | { kind: "listref"; name: string },
    takesList: boolean,
    usedLists: string[],
  ): string[] {
    // A bare name in list position reads the list of that name; otherwise it is a plain value.
    const expand = (name: string): readonly string[] | undefined => {
      const values = this.scope.list(name);
      if (values !== undefined) usedLists.push(name);
      return values;
    };
    if (right.kind === "literal") {
      if (takesList && !right.quoted) return [...(expand(right.value) ?? [right.value])];
      return [right.value];
    }
    if (right.kind === "listref") return [...(expand(right.name) ?? [right.name])];
    const out: string[] = [];
    const push = (value: string): void => {
      if (out.length >= MAX_COMPARISON_VALUES)
        fail(
          "limit_exceeded",
          `the list of values has more than ${MAX_COMPARISON_VALUES} items once its lists are expanded`,
          right.pos,
        );
      out.push(value);
    };
    for (const item of right.items) {
      const expanded = item.quoted ? undefined : expand(item.value);
      // A loop, not push(...expanded): a spread of a large list overflows the call stack.
      if (expanded !== undefined) for (const value of expanded) push(value);
      else push(item.value);
    }
    return out;
  }

  private operand(op: Operand): CheckedOperand {
    return op.kind === "field" ? this.field(op) : this.transformer(op);
  }

  private field(ref: FieldRef): CheckedField {
    const deprecated = DEPRECATED_FIELDS.get(ref.name);
    if (deprecated !== undefined)
      this.warn("deprecated", `usage of deprecated field '${ref.name}': ${deprecated}`, ref.pos);
    try {
      const field = this.scope.registry.resolve(ref.name, ref.arg);
      return {
        kind: "field",
        field,
        valueKind: field.def.kind,
        falcoType: field.def.info.type,
        multi: field.multi,
        display: field.display,
      };
    } catch (err) {
      if (err instanceof FieldResolveError) fail(err.kind, err.message, ref.pos);
      throw err;
    }
  }

  private transformer(call: TransformerCall): CheckedTransformer {
    const args = call.args.map((a) => this.transformerArg(a));
    const display = `${call.name}(${args.map(operandDisplay).join(", ")})${call.arg === undefined ? "" : `[${call.arg}]`}`;
    const operands = args.filter((a): a is CheckedOperand => a.kind === "field" || a.kind === "transformer");
    const first = operands[0];
    const result = (
      valueKind: ValueKind,
      falcoType: string,
      multi: CheckedOperand["multi"],
    ): CheckedTransformer => ({
      kind: "transformer",
      name: call.name,
      args,
      valueKind,
      falcoType,
      multi,
      display,
    });
    const requireOne = (): CheckedOperand => {
      if (args.length !== 1 || first === undefined)
        fail("bad_argument", `${call.name}() takes exactly one field or transformer`, call.pos);
      if (first.kind === "field" && first.field.def.info.flags.includes("EPF_NO_TRANSFORMER")) {
        fail("bad_argument", `field '${first.display}' does not support transformers`, call.pos);
      }
      return first;
    };
    if (call.arg !== undefined && call.name !== "getopt")
      fail("bad_argument", `${call.name}() takes no [argument]`, call.pos);
    switch (call.name) {
      case "tolower":
      case "toupper":
      case "basename": {
        const inner = requireOne();
        if (inner.valueKind !== "string")
          fail(
            "bad_argument",
            `${call.name}() needs a string, '${inner.display}' is ${describeKind(inner)}`,
            call.pos,
          );
        return result("string", "CHARBUF", inner.multi);
      }
      case "b64": {
        const inner = requireOne();
        if (inner.valueKind !== "string" && inner.valueKind !== "bytes")
          fail(
            "bad_argument",
            `b64() needs a string or buffer, '${inner.display}' is ${describeKind(inner)}`,
            call.pos,
          );
        return result("string", "CHARBUF", inner.multi);
      }
      case "len": {
        const inner = requireOne();
        if (inner.valueKind !== "string" && inner.valueKind !== "bytes" && inner.multi !== "list") {
          fail(
            "bad_argument",
            `len() needs a string, buffer or list, '${inner.display}' is ${describeKind(inner)}`,
            call.pos,
          );
        }
        return result("number", "UINT64", inner.multi === "any" ? "any" : "single");
      }
      case "concat": {
        if (args.length < 2) fail("bad_argument", "concat() requires at least 2 arguments", call.pos);
        for (const a of args) {
          if (
            a.kind === "list" ||
            ((a.kind === "field" || a.kind === "transformer") &&
              (a.valueKind !== "string" || a.multi !== "single"))
          ) {
            fail("bad_argument", "concat() arguments must be single strings", call.pos);
          }
        }
        return result("string", "CHARBUF", "single");
      }
      case "join": {
        const [sep, list] = args;
        // The separator is a literal or a single string value (a field may be the separator).
        const sepIsString =
          sep?.kind === "literal" ||
          ((sep?.kind === "field" || sep?.kind === "transformer") &&
            sep.valueKind === "string" &&
            sep.multi === "single");
        if (args.length !== 2 || !sepIsString)
          fail(
            "bad_argument",
            "join() requires exactly 2 arguments: a separator string and a list",
            call.pos,
          );
        if (
          list.kind !== "list" &&
          !((list.kind === "field" || list.kind === "transformer") && list.multi === "list")
        ) {
          fail("bad_argument", "join() second argument must be a list", call.pos);
        }
        return result("string", "CHARBUF", "single");
      }
      case "getopt": {
        // As libsinsp: getopt(ARGV list, OPTSTRING string)[c], a list of strings, or one string
        // with a single-character selector.
        if (args.length !== 2)
          fail("bad_argument", "getopt() requires exactly 2 arguments: args list and optstring", call.pos);
        const [argv, optstring] = args;
        const isList =
          argv.kind === "list" ||
          ((argv.kind === "field" || argv.kind === "transformer") && argv.multi === "list");
        if (!isList) fail("bad_argument", "getopt() first argument must be a list", call.pos);
        if (
          optstring.kind === "list" ||
          ((optstring.kind === "field" || optstring.kind === "transformer") && optstring.multi === "list")
        )
          fail("bad_argument", "getopt() second argument (optstring) must be a single value", call.pos);
        const notString = (a: CheckedOperand | CheckedLiteralArg): boolean =>
          (a.kind === "field" || a.kind === "transformer") && a.valueKind !== "string";
        if (
          notString(optstring as CheckedOperand | CheckedLiteralArg) ||
          (argv.kind === "list" ? argv.items.some(notString) : notString(argv))
        )
          fail("bad_argument", "getopt() arguments must be strings", call.pos);
        if (call.arg !== undefined && [...call.arg].length !== 1)
          fail("bad_argument", "getopt() field argument must be a single option character", call.pos);
        const out = result("string", "CHARBUF", call.arg === undefined ? "list" : "single");
        if (call.arg !== undefined) out.arg = call.arg;
        return out;
      }
    }
  }

  private transformerArg(arg: TransformerArg): CheckedOperand | CheckedLiteralArg | CheckedOperandList {
    switch (arg.kind) {
      case "literal":
        return { kind: "literal", value: arg.value };
      case "tlist":
        return {
          kind: "list",
          items: arg.items.map((i) =>
            i.kind === "literal" ? { kind: "literal" as const, value: i.value } : this.operand(i),
          ),
        };
      default:
        return this.operand(arg);
    }
  }
}

/** Where the literal that failed is: the list item itself when it was written in the list. */
function culpritPos(
  right: RightHand,
  op: CheckExpr["op"],
  modifier: CheckExpr["modifier"],
  left: CheckedOperand,
): number {
  if (right.kind !== "list") return right.pos;
  for (const item of right.items) {
    try {
      buildTest({ kind: left.valueKind, falcoType: left.falcoType, op, modifier, literals: [item.value] });
    } catch (err) {
      if (err instanceof LiteralError) return item.pos;
      throw err;
    }
  }
  return right.pos;
}

function describeKind(op: CheckedOperand): string {
  const base = {
    string: "a string",
    number: "a number",
    bool: "a boolean",
    ipaddr: "an ip address",
    ipnet: "an ip network",
    bytes: "a buffer",
  }[op.valueKind];
  return op.multi === "list" ? `a list of ${base.replace(/^an? /, "")} values` : base;
}

/** Names that read as a transformer call in a value: every transformer, and val. */
const TRANSFORMER_CALL_NAMES: readonly string[] = [...TRANSFORMERS, "val"];

const REGEX_SPECIAL = ".+*?^$()[]{}|\\";
const REGEX_OCCURRENCE = "+*?";

/**
 * libsinsp's test for a regex that needs no regex (check_warnings_regex_value): no special
 * character except a leading '^', a trailing '$', and '.*' (or '.+', '.?') at either end.
 */
function regexIsPlain(v: string): boolean {
  const len = v.length;
  for (let i = 0; i < len; i++) {
    if ((i === 0 && v[i] === "^") || (i === len - 1 && v[i] === "$")) continue;
    if (
      ((i === 0 && len > 1) || i === len - 2) &&
      v[i] === "." &&
      REGEX_OCCURRENCE.includes(v[i + 1] ?? "")
    ) {
      i++;
      continue;
    }
    if (REGEX_SPECIAL.includes(v[i])) return false;
  }
  return true;
}

/** The closest of `candidates` to `name` within a few edits, for "did you mean". */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(name, candidate, bestDistance);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

const EVENT_TYPE_FIELDS: ReadonlySet<string> = new Set(["evt.type", "syscall.type"]);
/** The operators whose evt.type checks narrow the event types (libsinsp's is_evttype_operator). */
const EVENT_TYPE_OPERATORS: ReadonlySet<string> = new Set(["=", "!=", "in"]);

function isBareEventType(arg: TransformerArg | Operand): boolean {
  return arg.kind === "field" && EVENT_TYPE_FIELDS.has(arg.name) && arg.arg === undefined;
}

/** A bare evt.type/syscall.type anywhere inside a transformer's arguments. */
function transformsEventType(call: TransformerCall): boolean {
  return call.args.some(
    (a) =>
      isBareEventType(a) ||
      (a.kind === "transformer" && transformsEventType(a)) ||
      (a.kind === "tlist" &&
        a.items.some((i) => isBareEventType(i) || (i.kind === "transformer" && transformsEventType(i)))),
  );
}

/**
 * libsinsp computes a rule's event types from its evt.type checks and refuses, at load time, the
 * ones it cannot read: evt.type under a transformer (`tolower(evt.type) in (...)`) or compared with
 * a field (`evt.type = val(proc.name)`), for the operators =, != and in.
 */
function checkEventTypeSearch(e: CheckExpr): void {
  if (!EVENT_TYPE_OPERATORS.has(e.op) || e.modifier !== undefined) return;
  if (e.left.kind === "transformer" && transformsEventType(e.left))
    fail("bad_operator", "event code search does not support `evt.type` checks with transformers", e.pos);
  if (isBareEventType(e.left) && (e.right?.kind === "val" || e.right?.kind === "transformer"))
    fail(
      "bad_operator",
      "right-hand field comparisons on `evt.type`/`syscall.type` checks are not supported by event code search",
      e.right.pos,
    );
}

/** The field flagged EPF_NO_RHS under an operand (a transformer keeps its field's flags). */
function noRhsField(op: CheckedOperand): string | undefined {
  if (op.kind === "field")
    return op.field.def.info.flags.includes("EPF_NO_RHS") ? op.field.def.name : undefined;
  for (const a of op.args) {
    if (a.kind === "field" || a.kind === "transformer") {
      const found = noRhsField(a);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** A type as libsinsp's messages write it: lower case, "(list)" for list fields. */
function typeText(op: CheckedOperand): string {
  return `${op.falcoType.toLowerCase()}${op.multi === "list" ? " (list)" : ""}`;
}

function fail(code: CheckIssueCode, message: string, pos: number): never {
  throw new CheckFailure({ code, message, pos });
}

export type { RightHand };
