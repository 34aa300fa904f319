// The comparison operators of the condition language, as one table: how each is written, what it
// takes on its right, whether it takes a oneof/anyof/allof modifier, which value kinds accept it
// (libsinsp's flt_is_comparable) and whether a field may stand on its right. The parser, the
// checker, the comparison builder, the exception builder and docs/RULES.md (checked by a test) all
// read this table.

import type { ValueKind } from "../fields/values.ts";

export type Operator =
  | "="
  | "!="
  | "<"
  | "<="
  | ">"
  | ">="
  | "contains"
  | "icontains"
  | "bcontains"
  | "startswith"
  | "bstartswith"
  | "endswith"
  | "glob"
  | "iglob"
  | "regex"
  | "in"
  | "intersects"
  | "pmatch"
  | "exists";

export type ListModifier = "oneof" | "anyof" | "allof";

/** The modifiers a modifiable operator may take; it then takes a list. */
export const MODIFIERS: readonly ListModifier[] = ["oneof", "anyof", "allof"];

export interface OperatorRow {
  readonly op: Operator;
  /** Every way it is written; the first is the normal form. */
  readonly spellings: readonly string[];
  /** A string operator written as a word needs a blank after it ("contains x"); others do not ("=x", "in(a)"). */
  readonly needsBlank: boolean;
  /** What it takes on its right: nothing, a number, a string, or a list. */
  readonly rhs: "none" | "number" | "string" | "list";
  /** Takes oneof/anyof/allof (then a list). */
  readonly modifiable: boolean;
  /** The value kinds it applies to (list fields take only in, intersects and exists). */
  readonly kinds: readonly ValueKind[];
  /** A field (val(...) or a transformer) may be its right-hand side. */
  readonly fieldRhs: boolean;
}

const ALL_KINDS: readonly ValueKind[] = ["string", "number", "bool", "ipaddr", "ipnet", "bytes"];
const ORDERED: readonly ValueKind[] = ["string", "number"];
const TEXT: readonly ValueKind[] = ["string", "bytes"];

/**
 * Listed in the order the lexer tries them: a spelling that is a prefix of another comes after it
 * ("<=" before "<", "intersects" before "in").
 */
export const OPERATORS: readonly OperatorRow[] = [
  {
    op: "exists",
    spellings: ["exists"],
    needsBlank: false,
    rhs: "none",
    modifiable: false,
    kinds: ALL_KINDS,
    fieldRhs: false,
  },
  {
    op: "<=",
    spellings: ["<="],
    needsBlank: false,
    rhs: "number",
    modifiable: false,
    kinds: ORDERED,
    fieldRhs: true,
  },
  {
    op: "<",
    spellings: ["<"],
    needsBlank: false,
    rhs: "number",
    modifiable: false,
    kinds: ORDERED,
    fieldRhs: true,
  },
  {
    op: ">=",
    spellings: [">="],
    needsBlank: false,
    rhs: "number",
    modifiable: false,
    kinds: ORDERED,
    fieldRhs: true,
  },
  {
    op: ">",
    spellings: [">"],
    needsBlank: false,
    rhs: "number",
    modifiable: false,
    kinds: ORDERED,
    fieldRhs: true,
  },
  {
    op: "=",
    spellings: ["=", "=="],
    needsBlank: false,
    rhs: "string",
    modifiable: true,
    kinds: ALL_KINDS,
    fieldRhs: true,
  },
  {
    op: "!=",
    spellings: ["!="],
    needsBlank: false,
    rhs: "string",
    modifiable: true,
    kinds: ALL_KINDS,
    fieldRhs: true,
  },
  {
    op: "glob",
    spellings: ["glob"],
    needsBlank: true,
    rhs: "string",
    modifiable: true,
    kinds: ["string"],
    fieldRhs: true,
  },
  {
    op: "iglob",
    spellings: ["iglob"],
    needsBlank: true,
    rhs: "string",
    modifiable: true,
    kinds: ["string"],
    fieldRhs: true,
  },
  {
    op: "contains",
    spellings: ["contains"],
    needsBlank: true,
    rhs: "string",
    modifiable: true,
    kinds: TEXT,
    fieldRhs: true,
  },
  {
    op: "icontains",
    spellings: ["icontains"],
    needsBlank: true,
    rhs: "string",
    modifiable: true,
    kinds: ["string"],
    fieldRhs: true,
  },
  {
    op: "bcontains",
    spellings: ["bcontains"],
    needsBlank: true,
    rhs: "string",
    modifiable: true,
    kinds: ["bytes"],
    fieldRhs: true,
  },
  {
    op: "startswith",
    spellings: ["startswith"],
    needsBlank: true,
    rhs: "string",
    modifiable: true,
    kinds: TEXT,
    fieldRhs: true,
  },
  {
    op: "bstartswith",
    spellings: ["bstartswith"],
    needsBlank: true,
    rhs: "string",
    modifiable: true,
    kinds: ["bytes"],
    fieldRhs: true,
  },
  {
    op: "endswith",
    spellings: ["endswith"],
    needsBlank: true,
    rhs: "string",
    modifiable: true,
    kinds: TEXT,
    fieldRhs: true,
  },
  {
    op: "regex",
    spellings: ["regex"],
    needsBlank: true,
    rhs: "string",
    modifiable: true,
    kinds: ["string"],
    fieldRhs: false,
  },
  {
    op: "intersects",
    spellings: ["intersects"],
    needsBlank: false,
    rhs: "list",
    modifiable: false,
    kinds: ALL_KINDS,
    fieldRhs: true,
  },
  {
    op: "in",
    spellings: ["in"],
    needsBlank: false,
    rhs: "list",
    modifiable: false,
    kinds: ALL_KINDS,
    fieldRhs: true,
  },
  {
    op: "pmatch",
    spellings: ["pmatch"],
    needsBlank: false,
    rhs: "list",
    modifiable: false,
    kinds: ["string"],
    fieldRhs: false,
  },
];

export const OPERATOR_ROWS: ReadonlyMap<Operator, OperatorRow> = new Map(OPERATORS.map((r) => [r.op, r]));

/** Operators that take a list (or a list name) on the right. */
export const LIST_OPERATORS: ReadonlySet<Operator> = new Set(
  OPERATORS.filter((r) => r.rhs === "list").map((r) => r.op),
);

/** The operators that accept a oneof/anyof/allof modifier. */
export const MODIFIABLE_OPERATORS: ReadonlySet<Operator> = new Set(
  OPERATORS.filter((r) => r.modifiable).map((r) => r.op),
);

/** Every spelling, for messages ("expected one of ..."). */
export const OPERATOR_SPELLINGS: readonly string[] = OPERATORS.flatMap((r) => r.spellings);

/** The normal operator for a spelling ("==" is "="), or undefined. */
export function operatorOf(spelling: string): Operator | undefined {
  return OPERATORS.find((r) => r.spellings.includes(spelling))?.op;
}
