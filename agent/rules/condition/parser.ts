// Recursive-descent parser for Falco's condition language. It follows the grammar libsinsp
// documents (Expr, OrExpr, AndExpr, NotExpr, Check, Condition, ListValue, Field, transformers)
// and its lexical rules (what a field name, an identifier, a bare string and a number look like),
// so a condition that loads in Falco parses here and one Falco rejects is rejected here too.
// The parser only builds syntax; fields, macros and lists are resolved by later passes.

import { MODIFIERS, OPERATOR_SPELLINGS, OPERATORS, type OperatorRow } from "./operators.ts";
import type {
  CheckExpr,
  Expr,
  FieldRef,
  FieldValueRef,
  ListLiteral,
  ListModifier,
  ListRef,
  Literal,
  Operand,
  Operator,
  RightHand,
  TransformerArg,
  TransformerCall,
  TransformerList,
  TransformerName,
} from "./ast.ts";

export class ConditionSyntaxError extends Error {
  /** Offset in the condition text where the parser stopped. */
  readonly pos: number;
  constructor(message: string, pos: number) {
    super(message);
    this.name = "ConditionSyntaxError";
    this.pos = pos;
  }
}

/** Falco stops at 1000 levels of nesting; so do we, instead of overflowing the stack. */
const MAX_DEPTH = 1000;

// Lexical classes, anchored with the sticky flag so each test starts at the cursor.
const IDENTIFIER = /[a-zA-Z]+[a-zA-Z0-9_]*/y;
const FIELD_NAME = /[a-zA-Z]+[a-zA-Z0-9_]*(?:\.[a-zA-Z]+[a-zA-Z0-9_]*)+/y;
const FIELD_ARG_BARE = /[^\][ \t\n\v\f\r"']+/y;
const HEX_NUMBER = /0[xX][0-9a-fA-F]+/y;
const NUMBER = /[+-]?[0-9]+\.?[0-9]*(?:[eE][+-][0-9]+)?/y;
const BARE_STRING = /[^()"' \t\n\v\f\r=,]+/y;
// POSIX [[:space:]], as Falco's lexer uses; JavaScript's \s would also take Unicode spaces.
const NOT_BLANK = /not[ \t\n\v\f\r]+/y;

const BLANKS = new Set([" ", "\t", "\b", "\r", "\n"]);

export const TRANSFORMERS: readonly TransformerName[] = [
  "tolower",
  "toupper",
  "b64",
  "basename",
  "len",
  "join",
  "concat",
  "getopt",
];

/** The spellings of one grammar class of operators (operators.ts), longest first where one is a prefix. */
function spellings(filter: (row: OperatorRow) => boolean): readonly [string, Operator][] {
  return OPERATORS.filter(filter)
    .flatMap((row) => row.spellings.map((s): [string, Operator] => [s, row.op]))
    .sort((a, b) => (b[0].startsWith(a[0]) ? 1 : a[0].startsWith(b[0]) ? -1 : 0));
}

// Condition ::= 'exists' | NumOp NumValue | StrOp StrValue | StrOp Modifier ListValue | ListOp ListValue
const NUM_OPERATORS = spellings((r) => r.rhs === "number");
const SYMBOL_STR_OPERATORS = spellings((r) => r.rhs === "string" && !r.needsBlank);
const WORD_STR_OPERATORS = spellings((r) => r.rhs === "string" && r.needsBlank);
const LIST_OPERATORS = spellings((r) => r.rhs === "list");

export const SUPPORTED_OPERATORS: readonly string[] = OPERATOR_SPELLINGS;

/** Parses a whole condition. Throws ConditionSyntaxError with the offset of the problem. */
export function parseCondition(text: string): Expr {
  return new ConditionParser(text).parseWhole();
}

/**
 * Parses one field or transformer at the start of `text` (used for `%field` in outputs).
 * Returns the operand and how many characters it used, or undefined if none starts there.
 */
export function parseOperandPrefix(text: string): { operand: Operand; length: number } | undefined {
  const parser = new ConditionParser(text);
  try {
    const operand = parser.parseOperand();
    if (operand === undefined) return undefined;
    return { operand, length: parser.offset };
  } catch (err) {
    if (err instanceof ConditionSyntaxError) return undefined;
    throw err;
  }
}

class ConditionParser {
  private pos = 0;
  private depth = 0;
  private lastToken = "";

  constructor(private readonly text: string) {}

  get offset(): number {
    return this.pos;
  }

  parseWhole(): Expr {
    if (this.text.trim().length === 0) throw this.error("the condition is empty");
    const expr = this.parseOr();
    this.skipBlanks();
    if (this.pos !== this.text.length) {
      const after = this.lastToken === "" ? "" : ` after '${this.lastToken}'`;
      throw this.error(`unexpected token${after}, expecting 'or', 'and'`);
    }
    return expr;
  }

  /** A field or a transformer call, for output formats; undefined if neither starts here. */
  parseOperand(): Operand | undefined {
    const start = this.pos;
    const fieldName = this.lexRegex(FIELD_NAME);
    if (fieldName !== undefined) return this.parseFieldRest(fieldName, start);
    const transformer = this.lexTransformerName();
    if (transformer !== undefined) return this.parseTransformerRest(transformer, start);
    return undefined;
  }

  // Expr ::= AndExpr ('or' (blank AndExpr | '(' Expr ')'))*
  private parseOr(): Expr {
    return this.nested(() => {
      const start = this.skipBlanksThenPos();
      const children: Expr[] = [this.parseAnd()];
      this.skipBlanks();
      while (this.lexKeyword("or")) {
        children.push(this.parseConjunctionTail("or", () => this.parseAnd()));
        this.skipBlanks();
      }
      return children.length === 1 ? children[0] : { kind: "or", children, pos: start };
    });
  }

  private parseAnd(): Expr {
    return this.nested(() => {
      const start = this.skipBlanksThenPos();
      const children: Expr[] = [this.parseNot()];
      this.skipBlanks();
      while (this.lexKeyword("and")) {
        children.push(this.parseConjunctionTail("and", () => this.parseNot()));
        this.skipBlanks();
      }
      return children.length === 1 ? children[0] : { kind: "and", children, pos: start };
    });
  }

  /** After 'and'/'or' comes a blank, or a parenthesis glued to the keyword. */
  private parseConjunctionTail(keyword: string, next: () => Expr): Expr {
    if (this.skipBlanks()) return next();
    if (this.lexLiteral("(")) return this.parseParenthesisedRest();
    throw this.error(`expected a blank or '(' after '${keyword}'`);
  }

  private parseNot(): Expr {
    return this.nested(() => {
      const start = this.skipBlanksThenPos();
      let negate = false;
      while (this.lexRegex(NOT_BLANK) !== undefined) negate = !negate;
      let child: Expr;
      if (this.lexLiteral("not(")) {
        negate = !negate;
        child = this.parseParenthesisedRest();
      } else {
        child = this.parseCheck();
      }
      return negate ? { kind: "not", child, pos: start } : child;
    });
  }

  /** The rest of '(' Expr ')', after the opening parenthesis. */
  private parseParenthesisedRest(): Expr {
    return this.nested(() => {
      this.skipBlanks();
      const inner = this.parseOr();
      this.skipBlanks();
      if (!this.lexLiteral(")")) throw this.error("expected a ')' token");
      return inner;
    });
  }

  // Check ::= '(' Expr ')' | Field Condition | Transformer Condition | Identifier
  private parseCheck(): Expr {
    return this.nested(() => {
      const start = this.skipBlanksThenPos();
      if (this.lexLiteral("(")) return this.parseParenthesisedRest();
      const operand = this.parseOperand();
      if (operand !== undefined) return this.parseComparison(operand, start);
      const identifier = this.lexRegex(IDENTIFIER);
      if (identifier !== undefined) return { kind: "macro", name: identifier, pos: start };
      throw this.error("expected a '(' token, a field check, or an identifier");
    });
  }

  private parseFieldRest(name: string, start: number): FieldRef {
    const arg = this.parseOptionalFieldArg();
    return arg === undefined ? { kind: "field", name, pos: start } : { kind: "field", name, arg, pos: start };
  }

  private parseOptionalFieldArg(): string | undefined {
    if (!this.lexLiteral("[")) return undefined;
    const arg = this.lexQuoted() ?? this.lexRegex(FIELD_ARG_BARE);
    if (arg === undefined)
      throw this.error("expected a valid field argument: a quoted string or a bare string");
    if (!this.lexLiteral("]")) throw this.error("expected a ']' token");
    return arg;
  }

  private lexTransformerName(): TransformerName | undefined {
    for (const name of TRANSFORMERS) {
      if (this.lexLiteral(`${name}(`)) return name;
    }
    return undefined;
  }

  // Transformer ::= name '(' Arg (',' Arg)* ')' ('[' FieldArg ']')?
  private parseTransformerRest(name: TransformerName, start: number): TransformerCall {
    return this.nested(() => {
      this.skipBlanks();
      const args: TransformerArg[] = [];
      do {
        args.push(this.parseTransformerArg());
        this.skipBlanks();
      } while (this.lexLiteral(","));
      this.skipBlanks();
      if (!this.lexLiteral(")")) throw this.error("expected a ')' token closing the transformer");
      const arg = this.parseOptionalFieldArg();
      const call: TransformerCall = { kind: "transformer", name, args, pos: start };
      if (arg !== undefined) call.arg = arg;
      return call;
    });
  }

  private parseTransformerArg(): TransformerArg {
    this.skipBlanks();
    const start = this.pos;
    const number = this.lexNumber();
    if (number !== undefined) return { kind: "literal", value: number, quoted: false, pos: start };
    const quoted = this.lexQuoted();
    if (quoted !== undefined) return { kind: "literal", value: quoted, quoted: true, pos: start };
    if (this.lexLiteral("(")) return this.parseTransformerListRest(start);
    const operand = this.parseOperand();
    if (operand !== undefined) return operand;
    throw this.error(
      "expected a transformer argument: a field, a transformer, a quoted string, a number or a list",
    );
  }

  private parseTransformerListRest(start: number): TransformerList {
    const items: TransformerList["items"] = [];
    this.skipBlanks();
    if (this.lexLiteral(")")) return { kind: "tlist", items, pos: start };
    do {
      this.skipBlanks();
      const itemStart = this.pos;
      const operand = this.parseOperand();
      const quoted = operand === undefined ? this.lexQuoted() : undefined;
      const number = operand === undefined && quoted === undefined ? this.lexNumber() : undefined;
      if (operand !== undefined) items.push(operand);
      else if (quoted !== undefined)
        items.push({ kind: "literal", value: quoted, quoted: true, pos: itemStart });
      else if (number !== undefined)
        items.push({ kind: "literal", value: number, quoted: false, pos: itemStart });
      else throw this.error("expected a list element: a field, a transformer, a quoted string or a number");
      this.skipBlanks();
    } while (this.lexLiteral(","));
    if (!this.lexLiteral(")")) throw this.error("expected a ')' token");
    return { kind: "tlist", items, pos: start };
  }

  // Condition ::= 'exists' | NumOp NumValue | StrOp StrValue | StrOp Modifier ListValue | ListOp ListValue
  private parseComparison(left: Operand, start: number): CheckExpr {
    return this.nested(() => {
      this.skipBlanks();
      const opPos = this.pos;
      if (this.lexLiteral("exists")) return { kind: "check", left, op: "exists", pos: start, opPos };

      for (const [spelling, op] of NUM_OPERATORS) {
        if (this.lexLiteral(spelling)) {
          return { kind: "check", left, op, right: this.parseNumberOrTransformer(), pos: start, opPos };
        }
      }

      const strOp = this.lexStringOperator();
      if (strOp !== undefined) {
        const hadBlank = strOp.word || this.skipBlanks();
        const op = strOp.op;
        const saved = this.pos;
        if (hadBlank) {
          const modifier = this.lexModifier();
          if (modifier !== undefined && this.listValueFollows() && !this.boolKeywordFollows()) {
            return { kind: "check", left, op, modifier, right: this.parseListValue(), pos: start, opPos };
          }
        }
        this.pos = saved;
        return { kind: "check", left, op, right: this.parseStringOrTransformer(), pos: start, opPos };
      }

      for (const [spelling, op] of LIST_OPERATORS) {
        if (this.lexLiteral(spelling)) {
          return { kind: "check", left, op, right: this.parseListOrTransformer(), pos: start, opPos };
        }
      }
      throw this.error(
        `expected a valid check operator: one of ${SUPPORTED_OPERATORS.map((o) => `'${o}'`).join(", ")}`,
      );
    });
  }

  /** Word operators need a blank after them ("contains x"); symbol operators do not ("=x"). */
  private lexStringOperator(): { op: Operator; word: boolean } | undefined {
    for (const [spelling, op] of SYMBOL_STR_OPERATORS) {
      if (this.lexLiteral(spelling)) return { op, word: false };
    }
    for (const [spelling, op] of WORD_STR_OPERATORS) {
      if (this.lexWordFollowedByBlank(spelling)) return { op, word: true };
    }
    return undefined;
  }

  private lexModifier(): ListModifier | undefined {
    for (const modifier of MODIFIERS) {
      if (this.lexWordFollowedByBlank(modifier)) return modifier;
    }
    return undefined;
  }

  private listValueFollows(): boolean {
    if (this.text[this.pos] === "(") return true;
    IDENTIFIER.lastIndex = this.pos;
    return IDENTIFIER.test(this.text);
  }

  private boolKeywordFollows(): boolean {
    for (const keyword of ["and", "or", "not"]) {
      if (this.text.startsWith(keyword, this.pos)) {
        const next = this.text[this.pos + keyword.length];
        if (next === undefined || !/[a-zA-Z0-9]/.test(next)) return true;
      }
    }
    return false;
  }

  private parseNumberOrTransformer(): RightHand {
    this.skipBlanks();
    const start = this.pos;
    const transformer = this.tryTransformerOrVal();
    if (transformer !== undefined) return transformer;
    const number = this.lexNumber();
    if (number !== undefined) return { kind: "literal", value: number, quoted: false, pos: start };
    throw this.error("expected a number value or a field with a valid transformer");
  }

  private parseStringOrTransformer(): RightHand {
    this.skipBlanks();
    const transformer = this.tryTransformerOrVal();
    if (transformer !== undefined) return transformer;
    const literal = this.lexStringValue();
    if (literal !== undefined) return literal;
    throw this.error("expected a string value or a field with a valid transformer");
  }

  private lexStringValue(): Literal | undefined {
    const start = this.pos;
    const quoted = this.lexQuoted();
    if (quoted !== undefined) return { kind: "literal", value: quoted, quoted: true, pos: start };
    const bare = this.lexRegex(BARE_STRING);
    if (bare !== undefined) return { kind: "literal", value: bare, quoted: false, pos: start };
    return undefined;
  }

  private tryListLiteral(): ListLiteral | undefined {
    const start = this.pos;
    if (!this.lexLiteral("(")) return undefined;
    const items: Literal[] = [];
    this.skipBlanks();
    const first = this.lexStringValue();
    if (first !== undefined) {
      items.push(first);
      this.skipBlanks();
      while (this.lexLiteral(",")) {
        this.skipBlanks();
        const item = this.lexStringValue();
        if (item === undefined) throw this.error("expected a string value");
        items.push(item);
        this.skipBlanks();
      }
    }
    if (!this.lexLiteral(")")) throw this.error("expected a ')' token");
    return { kind: "list", items, pos: start };
  }

  private parseListValue(): ListLiteral | ListRef {
    this.skipBlanks();
    const start = this.pos;
    const list = this.tryListLiteral();
    if (list !== undefined) return list;
    const name = this.lexRegex(IDENTIFIER);
    if (name !== undefined) return { kind: "listref", name, pos: start };
    throw this.error("expected a list or an identifier");
  }

  private parseListOrTransformer(): RightHand {
    this.skipBlanks();
    const start = this.pos;
    const list = this.tryListLiteral();
    if (list !== undefined) return list;
    const transformer = this.tryTransformerOrVal();
    if (transformer !== undefined) return transformer;
    const name = this.lexRegex(IDENTIFIER);
    if (name !== undefined) return { kind: "listref", name, pos: start };
    throw this.error("expected a list, an identifier, or a field with a valid transformer");
  }

  private tryTransformerOrVal(): TransformerCall | FieldValueRef | undefined {
    this.skipBlanks();
    const start = this.pos;
    if (this.lexLiteral("val(")) {
      this.skipBlanks();
      const fieldStart = this.pos;
      const name = this.lexRegex(FIELD_NAME);
      if (name === undefined) throw this.error("expected a field within 'val' transformer");
      const field = this.parseFieldRest(name, fieldStart);
      this.skipBlanks();
      if (!this.lexLiteral(")")) throw this.error("expected a ')' token closing the transformer");
      const arg = this.parseOptionalFieldArg();
      const ref: FieldValueRef = { kind: "val", field, pos: start };
      if (arg !== undefined) ref.arg = arg;
      return ref;
    }
    const transformer = this.lexTransformerName();
    if (transformer !== undefined) {
      this.skipBlanks();
      return this.parseTransformerRest(transformer, start);
    }
    return undefined;
  }

  private lexNumber(): string | undefined {
    return this.lexRegex(HEX_NUMBER) ?? this.lexRegex(NUMBER);
  }

  /** A quoted string, unescaped; undefined if none starts here. */
  private lexQuoted(): string | undefined {
    const quote = this.text[this.pos];
    if (quote !== '"' && quote !== "'") return undefined;
    const start = this.pos;
    let i = start + 1;
    while (i < this.text.length) {
      const c = this.text[i];
      if (c === "\\") {
        i += 2;
        continue;
      }
      if (c === quote) {
        const raw = this.text.slice(start, i + 1);
        const value = unescapeQuoted(raw, start);
        this.pos = i + 1;
        this.lastToken = raw;
        return value;
      }
      i++;
    }
    return undefined;
  }

  private lexRegex(regex: RegExp): string | undefined {
    regex.lastIndex = this.pos;
    const match = regex.exec(this.text);
    if (match === null) return undefined;
    this.pos += match[0].length;
    this.lastToken = match[0];
    return match[0];
  }

  private lexLiteral(literal: string): boolean {
    if (!this.text.startsWith(literal, this.pos)) return false;
    this.pos += literal.length;
    this.lastToken = literal;
    return true;
  }

  /** 'and'/'or' keywords: matched as text, as Falco does; what must follow is checked by the caller. */
  private lexKeyword(keyword: string): boolean {
    return this.lexLiteral(keyword);
  }

  private lexWordFollowedByBlank(word: string): boolean {
    if (!this.text.startsWith(word, this.pos)) return false;
    const next = this.text[this.pos + word.length];
    if (next === undefined || !BLANKS.has(next)) return false;
    this.pos += word.length;
    this.lastToken = word;
    this.skipBlanks();
    return true;
  }

  private skipBlanks(): boolean {
    const start = this.pos;
    while (this.pos < this.text.length && BLANKS.has(this.text[this.pos])) this.pos++;
    return this.pos !== start;
  }

  private skipBlanksThenPos(): number {
    this.skipBlanks();
    return this.pos;
  }

  private nested<T>(parse: () => T): T {
    if (++this.depth >= MAX_DEPTH) {
      this.depth = 0;
      throw this.error(`exceeded the maximum nesting depth of ${MAX_DEPTH}`);
    }
    try {
      return parse();
    } finally {
      this.depth = Math.max(0, this.depth - 1);
    }
  }

  private error(message: string): ConditionSyntaxError {
    return new ConditionSyntaxError(message, this.pos);
  }
}

/**
 * Unescapes a quoted string including its quotes, as Falco does: \b \f \n \r \t \\ \/ \xHH, the
 * string's own quote character, and (for compatibility with old rules) a backslash before a blank,
 * which yields a backslash. Anything else is an error.
 */
const UTF8 = new TextDecoder("utf-8");

export function unescapeQuoted(raw: string, pos = 0): string {
  const quote = raw[0];
  let out = "";
  for (let i = 1; i < raw.length - 1; i++) {
    const c = raw[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = raw[++i];
    switch (e) {
      case "b":
        out += "\b";
        break;
      case "f":
        out += "\f";
        break;
      case "n":
        out += "\n";
        break;
      case "r":
        out += "\r";
        break;
      case "t":
        out += "\t";
        break;
      case " ":
      case "\\":
        out += "\\";
        break;
      case "/":
        out += "/";
        break;
      case '"':
      case "'":
        if (e !== quote) {
          const which = quote === '"' ? '"-quoted' : "'-quoted";
          throw new ConditionSyntaxError(`invalid \\${e} escape in a ${which} string`, pos + i);
        }
        out += e;
        break;
      case "x": {
        const hex = raw.slice(i + 1, i + 3);
        if (i + 2 >= raw.length - 1 || !/^[0-9a-fA-F]{2}$/.test(hex)) {
          throw new ConditionSyntaxError(`invalid hex escape sequence: \\x${hex}`, pos + i);
        }
        // \xHH is a byte: collect runs of them and read them as UTF-8 ("\xc3\xa9" is "é").
        const bytes = [Number.parseInt(hex, 16)];
        i += 2;
        while (
          raw[i + 1] === "\\" &&
          raw[i + 2] === "x" &&
          /^[0-9a-fA-F]{2}$/.test(raw.slice(i + 3, i + 5)) &&
          i + 4 < raw.length - 1
        ) {
          bytes.push(Number.parseInt(raw.slice(i + 3, i + 5), 16));
          i += 4;
        }
        out += UTF8.decode(new Uint8Array(bytes));
        break;
      }
      default:
        throw new ConditionSyntaxError(`unsupported string escape sequence: \\${e ?? ""}`, pos + i);
    }
  }
  return out;
}
