// The syntax tree of a Falco condition, as the parser produces it: no field is resolved and no
// macro or list is expanded yet. Every node keeps the offset where it starts in the condition text,
// so later passes can point at the exact place of an error.

import type { ListModifier, Operator } from "./operators.ts";

export interface AndExpr {
  kind: "and";
  children: Expr[];
  pos: number;
}

export interface OrExpr {
  kind: "or";
  children: Expr[];
  pos: number;
}

export interface NotExpr {
  kind: "not";
  child: Expr;
  pos: number;
}

/** A bare identifier in boolean position: a macro reference. */
export interface MacroRef {
  kind: "macro";
  name: string;
  pos: number;
}

/** `field op value`, or `field exists`. */
export interface CheckExpr {
  kind: "check";
  left: Operand;
  /** The base operator, normalised: "==" is written "=". */
  op: Operator;
  /** oneof/anyof/allof after a string operator, which then takes a list. */
  modifier?: ListModifier;
  /** Absent only for `exists`. */
  right?: RightHand;
  pos: number;
  opPos: number;
}

export type Expr = AndExpr | OrExpr | NotExpr | MacroRef | CheckExpr;

export interface FieldRef {
  kind: "field";
  /** The field name as written, e.g. "proc.aname" or "evt.arg.flags". */
  name: string;
  /** The text inside `[...]`, if any. */
  arg?: string;
  pos: number;
}

export type TransformerName =
  | "tolower"
  | "toupper"
  | "b64"
  | "basename"
  | "len"
  | "join"
  | "concat"
  | "getopt";

/** A transformer applied to fields and literals, e.g. `tolower(proc.name)`, `concat(a, "-", b)`. */
export interface TransformerCall {
  kind: "transformer";
  name: TransformerName;
  args: TransformerArg[];
  /** An index or key after the call: `getopt(proc.args, "a:")[a]`. */
  arg?: string;
  pos: number;
}

/** `val(field)`: compare against another field of the same event. Only on the right-hand side. */
export interface FieldValueRef {
  kind: "val";
  field: FieldRef;
  arg?: string;
  pos: number;
}

export interface Literal {
  kind: "literal";
  /** The value after unquoting and unescaping. */
  value: string;
  quoted: boolean;
  pos: number;
}

export interface ListLiteral {
  kind: "list";
  items: Literal[];
  pos: number;
}

/** A parenthesised list among transformer arguments: `join(",", (a, b))`. */
export interface TransformerList {
  kind: "tlist";
  items: (FieldRef | TransformerCall | Literal)[];
  pos: number;
}

/** A bare identifier after a list operator (`in shell_binaries`): names a list. */
export interface ListRef {
  kind: "listref";
  name: string;
  pos: number;
}

export type Operand = FieldRef | TransformerCall;
export type TransformerArg = FieldRef | TransformerCall | Literal | TransformerList;
export type RightHand = Literal | ListLiteral | ListRef | TransformerCall | FieldValueRef;

// The operator vocabulary lives in operators.ts (one table); re-exported for the syntax's users.
export {
  LIST_OPERATORS,
  type ListModifier,
  MODIFIABLE_OPERATORS,
  type Operator,
} from "./operators.ts";
