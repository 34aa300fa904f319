// Rule output formats: "text %field text %5field ..." compiled once into tokens, rendered per alert
// as a text line (missing values print as <NA>) and as typed output_fields for the JSON alert.
// As in Falco, a %token is the longest field (or transformer) that starts there and resolves, a
// number right after % pads or cuts the value to that width, and transformed fields appear in the
// text but not among output_fields.

import { type CheckScope, checkCondition } from "../condition/check.ts";
import type { CheckedOperand } from "../condition/checked.ts";
import { type FieldBinder, planOperand, type Reader } from "../condition/plan.ts";
import { parseOperandPrefix } from "../condition/parser.ts";
import type { ScalarValue, FieldValue } from "../fields/values.ts";

export type OutputToken =
  | { kind: "text"; text: string }
  | { kind: "field"; operand: CheckedOperand; width: number; display: string };

export interface OutputProblem {
  message: string;
  /** Offset in the output text. */
  pos: number;
  code: "compile_output" | "unknown_field" | "bad_argument" | "unsupported";
}

export function compileOutput(
  text: string,
  scope: CheckScope,
): { tokens: OutputToken[] } | { problem: OutputProblem } {
  const tokens: OutputToken[] = [];
  // Literal text is sliced from the output, not built a character at a time: such a string is a
  // tree of one-character pieces, and every alert's message, which joins them, walks it again.
  let literalStart = 0;
  let i = 0;
  while (i < text.length) {
    if (text[i] !== "%") {
      i++;
      continue;
    }
    const start = i;
    if (i === text.length - 1)
      return { problem: { message: "an output cannot end with '%'", pos: i, code: "compile_output" } };
    i++;
    let width = 0;
    const digits = /^[0-9]+/.exec(text.slice(i));
    if (digits !== null) {
      width = Number(digits[0]);
      i += digits[0].length;
      if (i >= text.length)
        return {
          problem: { message: "an output cannot end with a width", pos: start, code: "compile_output" },
        };
    }
    const token = resolveToken(text.slice(i), scope);
    if ("problem" in token) return { problem: { ...token.problem, pos: start } };
    if (start > literalStart) tokens.push({ kind: "text", text: text.slice(literalStart, start) });
    tokens.push({ kind: "field", operand: token.operand, width, display: token.operand.display });
    i += token.length;
    literalStart = i;
  }
  if (text.length > literalStart) tokens.push({ kind: "text", text: text.slice(literalStart) });
  return { tokens };
}

/** The longest field or transformer at the start of `rest` that resolves. */
function resolveToken(
  rest: string,
  scope: CheckScope,
): { operand: CheckedOperand; length: number } | { problem: Omit<OutputProblem, "pos"> } {
  let firstProblem: Omit<OutputProblem, "pos"> | undefined;
  for (let len = rest.length; len > 0; ) {
    const parsed = parseOperandPrefix(rest.slice(0, len));
    if (parsed === undefined) break;
    // Check the operand by checking `operand exists`, which resolves its fields and transformers.
    const result = checkCondition(
      { kind: "check", left: parsed.operand, op: "exists", pos: 0, opPos: 0 },
      scope,
    );
    if ("checked" in result && result.checked.kind === "compare") {
      return { operand: result.checked.left, length: parsed.length };
    }
    if ("issue" in result) {
      firstProblem ??= { message: result.issue.message, code: outputCode(result.issue.code) };
    }
    len = parsed.length - 1;
  }
  const shown = /^[^\s]*/.exec(rest)?.[0] ?? rest;
  return { problem: firstProblem ?? { message: `'%${shown}' is not a field`, code: "compile_output" } };
}

function outputCode(code: string): OutputProblem["code"] {
  return code === "unknown_field" || code === "bad_argument" || code === "unsupported"
    ? code
    : "compile_output";
}

/** A compiled output bound to field readers. */
export interface BoundOutput<C> {
  /** The message text with every %field replaced. */
  text(ctx: C): string;
  /** The fields of the message (not the transformed ones), typed, missing ones null. */
  fields(ctx: C): Record<string, JsonFieldValue>;
  /** text() and fields() together, each field read once (an alert needs both). */
  render(ctx: C): RenderedOutput;
  /** Field names in output_fields, in order of first appearance. */
  readonly fieldNames: readonly string[];
}

export interface RenderedOutput {
  text: string;
  fields: Record<string, JsonFieldValue>;
}

export type JsonFieldValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | (string | number | bigint | boolean)[];

export function bindOutput<C>(
  tokens: readonly OutputToken[],
  bind: FieldBinder<C>,
  textOverride?: (field: CheckedOperand) => ((ctx: C) => string) | undefined,
): BoundOutput<C> {
  // A field part's `at` is its place in the output_fields list: a field shown twice is read once.
  type Part =
    | { literal: string }
    | { read: Reader<C>; width: number; text?: (ctx: C) => string; operand: CheckedOperand; at: number };
  // Parallel arrays for the per-alert loop (a Map iteration allocates an entry per field).
  const fieldNames: string[] = [];
  const fieldReads: Reader<C>[] = [];
  const parts: Part[] = tokens.map((t) => {
    if (t.kind === "text") return { literal: t.text };
    const read = planOperand(t.operand, bind);
    let at = -1;
    if (t.operand.kind === "field") {
      at = fieldNames.indexOf(t.operand.display);
      if (at < 0) {
        at = fieldNames.push(t.operand.display) - 1;
        fieldReads.push(read);
      }
    }
    return { read, width: t.width, text: textOverride?.(t.operand), operand: t.operand, at };
  });
  /** The fields' values of the alert being rendered (one alert at a time: no reentry). */
  const values: (FieldValue | undefined)[] = new Array(fieldNames.length);
  const readFields = (ctx: C): void => {
    for (let i = 0; i < fieldReads.length; i++) values[i] = fieldReads[i](ctx);
  };
  const textOf = (ctx: C, readValues: boolean): string => {
    let out = "";
    for (const p of parts) {
      if ("literal" in p) {
        out += p.literal;
        continue;
      }
      const value = readValues || p.at < 0 ? p.read(ctx) : values[p.at];
      let s =
        value === undefined
          ? "<NA>"
          : p.text !== undefined
            ? p.text(ctx)
            : renderText(value, p.operand.multi);
      if (p.width > 0) s = s.length > p.width ? s.slice(0, p.width) : s.padEnd(p.width, " ");
      out += s;
    }
    return out;
  };
  const fieldsOf = (): Record<string, JsonFieldValue> => {
    const out: Record<string, JsonFieldValue> = {};
    for (let i = 0; i < fieldNames.length; i++) out[fieldNames[i]] = toJsonValue(values[i]);
    values.fill(undefined);
    return out;
  };
  return {
    fieldNames,
    text: (ctx) => textOf(ctx, true),
    fields(ctx) {
      readFields(ctx);
      return fieldsOf();
    },
    render(ctx) {
      readFields(ctx);
      const text = textOf(ctx, false);
      return { text, fields: fieldsOf() };
    },
  };
}

export function renderText(value: FieldValue, multi: CheckedOperand["multi"]): string {
  if (Array.isArray(value)) {
    const items = value.map((v) => renderScalar(v));
    return multi === "list" ? `(${items.join(",")})` : items.join(" ");
  }
  return renderScalar(value as ScalarValue);
}

function renderScalar(v: ScalarValue): string {
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return String(v);
}

function toJsonValue(value: FieldValue | undefined): JsonFieldValue {
  if (value === undefined) return null;
  if (Array.isArray(value))
    return value.map((v) =>
      v instanceof Uint8Array ? new TextDecoder().decode(v) : (v as string | number | bigint | boolean),
    );
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return value as string | number | bigint | boolean;
}
