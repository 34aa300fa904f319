// Helpers shared by the condition-language tests (test/rules/condition/*.test.ts): printing trees,
// marking error positions.

import type {
  Expr,
  FieldRef,
  Literal,
  Operand,
  RightHand,
  TransformerArg,
  TransformerList,
} from "../../../agent/rules/condition/ast.ts";
import { type CheckScope, checkCondition } from "../../../agent/rules/condition/check.ts";
import type { CheckedExpr } from "../../../agent/rules/condition/checked.ts";
import { ConditionSyntaxError, parseCondition } from "../../../agent/rules/condition/parser.ts";
import { FieldRegistry } from "../../../agent/rules/fields/registry.ts";

// ---------------------------------------------------------------------------------------------
// Helpers

/** Marks the offset an error must point at, inside an expected-error input. */
export const CARET = "‸";

export function marked(input: string): { text: string; pos: number } {
  const pos = input.indexOf(CARET);
  if (pos < 0 || input.indexOf(CARET, pos + 1) >= 0) {
    throw new Error(`test table: ${JSON.stringify(input)} needs exactly one ${CARET}`);
  }
  return { text: input.slice(0, pos) + input.slice(pos + CARET.length), pos };
}

/** A compact rendering of a tree: and(..), or(..), not(..), macro names, [left op modifier right]. */
export function show(e: Expr): string {
  switch (e.kind) {
    case "and":
    case "or":
      return `${e.kind}(${e.children.map(show).join(", ")})`;
    case "not":
      return `not(${show(e.child)})`;
    case "macro":
      return e.name;
    case "check": {
      const parts = [showArg(e.left), e.op];
      if (e.modifier !== undefined) parts.push(e.modifier);
      if (e.right !== undefined) parts.push(showRight(e.right));
      return `[${parts.join(" ")}]`;
    }
  }
}

export function showLiteral(l: Literal): string {
  return l.quoted ? JSON.stringify(l.value) : l.value;
}

export function showField(f: FieldRef): string {
  return f.arg === undefined ? f.name : `${f.name}[${f.arg}]`;
}

export function showArg(a: Operand | TransformerArg | TransformerList): string {
  switch (a.kind) {
    case "field":
      return showField(a);
    case "transformer":
      return `${a.name}(${a.args.map(showArg).join(", ")})${a.arg === undefined ? "" : `[${a.arg}]`}`;
    case "literal":
      return showLiteral(a);
    case "tlist":
      return `(${a.items.map(showArg).join(", ")})`;
  }
}

export function showRight(r: RightHand): string {
  switch (r.kind) {
    case "literal":
      return showLiteral(r);
    case "list":
      return `(${r.items.map(showLiteral).join(", ")})`;
    case "listref":
      return `@${r.name}`;
    case "val":
      return `val(${showField(r.field)})${r.arg === undefined ? "" : `[${r.arg}]`}`;
    case "transformer":
      return showArg(r);
  }
}

export function syntaxError(text: string): ConditionSyntaxError {
  try {
    parseCondition(text);
  } catch (err) {
    if (err instanceof ConditionSyntaxError) return err;
    throw new Error(`${JSON.stringify(text)}: expected a ConditionSyntaxError, got ${String(err)}`);
  }
  throw new Error(`${JSON.stringify(text)}: expected a ConditionSyntaxError, but it parsed`);
}

/**
 * Every blank the lexer skips (space, tab, newline, carriage return) is interchangeable with any
 * other wherever a blank is allowed, as libsinsp's own parser tests assume. Inputs with quotes keep
 * their spaces (a quoted space is part of the value).
 */
export function blankVariants(input: string): string[] {
  // A trailing `not` followed by a blank would start a negation instead of naming a macro.
  if (/["'\\]/.test(input) || /\bnot$/.test(input)) return [];
  const padded = ` ${input} `;
  return [padded, "\n", "\t", "\r", "\r\n", "\t \n"].map((blank, i) =>
    i === 0 ? padded : padded.replaceAll(" ", blank),
  );
}

// Checker: a scope with a few lists and macros, as a rules file would define them.

export const LISTS: Readonly<Record<string, readonly string[]>> = {
  shell_binaries: ["bash", "sh", "zsh"],
  web_ports: ["80", "443", "http"],
  private_nets: ["10.0.0.0/8", "192.168.0.0/16"],
  empty_list: [],
  ssh_dirs: ["/home/*/.ssh", "/root/.ssh"],
};

export const MACROS: Readonly<Record<string, string>> = {
  is_shell: "proc.name in shell_binaries",
  open_read: "evt.type in (open, openat) and evt.is_open_read = true",
  never_true: "evt.num = 0",
  uses_shell: "is_shell and proc.pname exists",
};

export function scope(): CheckScope {
  const registry = FieldRegistry.default();
  const cache = new Map<string, CheckedExpr>();
  const s: CheckScope = {
    registry,
    list: (name) => LISTS[name],
    macro: (name) => {
      if (name === "cyclic") return { problem: "macro_cycle", message: "macro 'cyclic' refers to itself" };
      const body = MACROS[name];
      if (body === undefined) return { problem: "undefined_macro", message: `undefined macro '${name}'` };
      const cached = cache.get(name);
      if (cached !== undefined) return cached;
      const result = checkCondition(parseCondition(body), s);
      if ("issue" in result) throw new Error(`test macro ${name}: ${result.issue.message}`);
      cache.set(name, result.checked);
      return result.checked;
    },
  };
  return s;
}

export function check(text: string) {
  return checkCondition(parseCondition(text), scope());
}
