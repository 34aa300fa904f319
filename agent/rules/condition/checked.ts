// A condition after checking: macros replaced by their checked bodies, lists expanded, every field
// resolved against the registry, every literal converted to its field's type and every comparison
// turned into a test function. Nothing here depends on where field values come from; the planner
// binds fields to readers.

import type { ResolvedField } from "../fields/registry.ts";
import type { ValueKind } from "../fields/values.ts";
import type { ListModifier, Operator, TransformerName } from "./ast.ts";
import type { Test } from "./compare.ts";

export interface CheckedField {
  kind: "field";
  field: ResolvedField;
  valueKind: ValueKind;
  falcoType: string;
  multi: "single" | "list" | "any";
  display: string;
}

export interface CheckedLiteralArg {
  kind: "literal";
  value: string;
}

export interface CheckedTransformer {
  kind: "transformer";
  name: TransformerName;
  /** The selector after the call (`getopt(...)[t]`), if any. */
  arg?: string;
  args: (CheckedOperand | CheckedLiteralArg | CheckedOperandList)[];
  valueKind: ValueKind;
  falcoType: string;
  multi: "single" | "list" | "any";
  display: string;
}

/** A parenthesised list of operands among transformer arguments. */
export interface CheckedOperandList {
  kind: "list";
  items: (CheckedOperand | CheckedLiteralArg)[];
}

export type CheckedOperand = CheckedField | CheckedTransformer;

export interface CheckedCompare {
  kind: "compare";
  left: CheckedOperand;
  op: Operator;
  modifier?: ListModifier;
  /** Literal right-hand side (after list expansion), if any. */
  literals?: readonly string[];
  /** Field right-hand side (`val(field)` or a transformer), if any. */
  right?: CheckedOperand;
  /** The test on the left value, for literal right-hand sides and `exists`. */
  test?: Test;
  /** The check as text, for explain and test reports. */
  text: string;
  /** Lists whose values were expanded into `literals`. */
  lists?: string[];
}

export interface CheckedMacro {
  kind: "macro";
  name: string;
  body: CheckedExpr;
}

export type CheckedExpr =
  | { kind: "and"; children: CheckedExpr[] }
  | { kind: "or"; children: CheckedExpr[] }
  | { kind: "not"; child: CheckedExpr }
  | CheckedMacro
  | CheckedCompare;

export function operandDisplay(op: CheckedOperand | CheckedLiteralArg | CheckedOperandList): string {
  // Transformer arguments are numbers or quoted strings (bare words are fields there).
  if (op.kind === "literal")
    return /^[+-]?[0-9]+(\.[0-9]*)?([eE][+-][0-9]+)?$|^0[xX][0-9a-fA-F]+$/.test(op.value)
      ? op.value
      : quote(op.value);
  if (op.kind === "list") return `(${op.items.map(operandDisplay).join(", ")})`;
  return op.display;
}

/** Writes a literal so it reads back as the same value: bare when it can be, quoted otherwise. */
export function quoteIfNeeded(value: string): string {
  if (value !== "" && /^[^()"'\s=,]+$/.test(value)) return value;
  return quote(value);
}

const ESCAPES: Readonly<Record<string, string>> = {
  "\\": "\\\\",
  '"': '\\"',
  "\n": "\\n",
  "\t": "\\t",
  "\r": "\\r",
  "\b": "\\b",
  "\f": "\\f",
};

/** A double-quoted literal that the condition parser reads back as the same value. */
function quote(value: string): string {
  let body = "";
  for (const c of value) {
    const code = c.charCodeAt(0);
    // Control characters are written as escapes so the text stays on one line and reads back.
    body += ESCAPES[c] ?? (code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, "0")}` : c);
  }
  return `"${body}"`;
}

/** The longest expanded condition printed; macros used many times can expand exponentially. */
export const MAX_PRINTED_CONDITION = 1 << 20;

/**
 * The condition as text with macros expanded (for `rules explain`), cut at `limit` characters with
 * " ..." so a condition whose macros expand exponentially still prints in bounded time.
 */
export function printChecked(expr: CheckedExpr, limit = MAX_PRINTED_CONDITION): string {
  const parts: string[] = [];
  let length = 0;
  const emit = (s: string): boolean => {
    parts.push(s);
    length += s.length;
    return length <= limit;
  };
  const walk = (e: CheckedExpr): boolean => {
    switch (e.kind) {
      case "and":
      case "or": {
        if (!emit("(")) return false;
        for (let i = 0; i < e.children.length; i++) {
          if (i > 0 && !emit(` ${e.kind} `)) return false;
          if (!walk(e.children[i])) return false;
        }
        return emit(")");
      }
      case "not":
        return emit("not ") && walk(e.child);
      case "macro":
        return walk(e.body);
      case "compare":
        return emit(e.text);
    }
  };
  if (walk(expr)) return parts.join("");
  return `${parts.join("").slice(0, limit)} ...`;
}
