// The condition language, case by case: what the parser accepts and the tree it builds, what it
// rejects and where it points, what the checker accepts and refuses, and how a checked condition
// evaluates. The expectations follow libsinsp's parser (userspace/libsinsp/filter/parser.cpp,
// escaping.cpp at falcosecurity/libs 48dfd53c) and Falco's evaluation semantics; where Lanner is
// known to differ from libsinsp the case is left out of these tables and described in the report
// that came with this file, never asserted here.

import { describe, expect, test } from "bun:test";
import type {
  Expr,
  FieldRef,
  Literal,
  Operand,
  RightHand,
  TransformerArg,
  TransformerList,
} from "../../agent/rules/condition/ast.ts";
import { type CheckIssueCode, type CheckScope, checkCondition } from "../../agent/rules/condition/check.ts";
import { type CheckedExpr, printChecked } from "../../agent/rules/condition/checked.ts";
import {
  ConditionSyntaxError,
  parseCondition,
  parseOperandPrefix,
  SUPPORTED_OPERATORS,
  unescapeQuoted,
} from "../../agent/rules/condition/parser.ts";
import { type FieldBinder, planCondition } from "../../agent/rules/condition/plan.ts";
import { FieldRegistry } from "../../agent/rules/fields/registry.ts";
import type { FieldValue } from "../../agent/rules/fields/values.ts";

// ---------------------------------------------------------------------------------------------
// Helpers

/** Marks the offset an error must point at, inside an expected-error input. */
const CARET = "‸";

function marked(input: string): { text: string; pos: number } {
  const pos = input.indexOf(CARET);
  if (pos < 0 || input.indexOf(CARET, pos + 1) >= 0) {
    throw new Error(`test table: ${JSON.stringify(input)} needs exactly one ${CARET}`);
  }
  return { text: input.slice(0, pos) + input.slice(pos + CARET.length), pos };
}

/** A compact rendering of a tree: and(..), or(..), not(..), macro names, [left op modifier right]. */
function show(e: Expr): string {
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

function showLiteral(l: Literal): string {
  return l.quoted ? JSON.stringify(l.value) : l.value;
}

function showField(f: FieldRef): string {
  return f.arg === undefined ? f.name : `${f.name}[${f.arg}]`;
}

function showArg(a: Operand | TransformerArg | TransformerList): string {
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

function showRight(r: RightHand): string {
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

function syntaxError(text: string): ConditionSyntaxError {
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
function blankVariants(input: string): string[] {
  // A trailing `not` followed by a blank would start a negation instead of naming a macro.
  if (/["'\\]/.test(input) || /\bnot$/.test(input)) return [];
  const padded = ` ${input} `;
  return [padded, "\n", "\t", "\r", "\r\n", "\t \n"].map((blank, i) =>
    i === 0 ? padded : padded.replaceAll(" ", blank),
  );
}

// ---------------------------------------------------------------------------------------------
// Parser: accepted conditions and their trees

/** [condition, tree]. */
const ACCEPT: readonly [string, string][] = [
  // Identifiers in boolean position are macro references.
  ["a", "a"],
  ["  a", "a"],
  ["a  ", "a"],
  ["(a)", "a"],
  ["((a))", "a"],
  ["( ( a ) )", "a"],
  ["macro_1", "macro_1"],
  ["Macro_With_CAPS_9", "Macro_With_CAPS_9"],
  ["a_", "a_"],
  // Keywords are identifiers where an identifier is expected (libsinsp has no reserved words).
  ["and", "and"],
  ["or", "or"],
  ["not", "not"],
  ["a and not", "and(a, not)"],
  ["not and", "not(and)"],
  ["notb", "notb"],
  ["a and notb", "and(a, notb)"],
  ["a or notb", "or(a, notb)"],
  ["notz and a and b", "and(notz, a, b)"],
  ["macro and not_macro", "and(macro, not_macro)"],
  ["macro and not not_macro", "and(macro, not(not_macro))"],
  ["macro and not(not_macro)", "and(macro, not(not_macro))"],
  ["macro and and_macro", "and(macro, and_macro)"],
  ["macro and or_macro", "and(macro, or_macro)"],
  ["((macro) and (or_macro))", "and(macro, or_macro)"],
  ["andy or orson", "or(andy, orson)"],
  // Precedence: not binds tighter than and, and tighter than or; same operators flatten.
  ["a and b", "and(a, b)"],
  ["a or b", "or(a, b)"],
  ["a and b and c", "and(a, b, c)"],
  ["a or b or c", "or(a, b, c)"],
  ["a and b or c", "or(and(a, b), c)"],
  ["a or b and c", "or(a, and(b, c))"],
  ["a or b and c or d", "or(a, and(b, c), d)"],
  ["a and b or c and d", "or(and(a, b), and(c, d))"],
  ["(a or b) and c", "and(or(a, b), c)"],
  ["a and (b or c)", "and(a, or(b, c))"],
  ["a and (b or c) and d", "and(a, or(b, c), d)"],
  ["a and (b and c)", "and(a, and(b, c))"],
  ["(a and b) and c", "and(and(a, b), c)"],
  ["a or (b or c)", "or(a, or(b, c))"],
  ["not a and b", "and(not(a), b)"],
  ["not a or b", "or(not(a), b)"],
  ["a and not b", "and(a, not(b))"],
  ["a and not b or c", "or(and(a, not(b)), c)"],
  ["not (a and b)", "not(and(a, b))"],
  ["not (a or b) and c", "and(not(or(a, b)), c)"],
  ["a.a=1 or b.b=2 and c", "or([a.a = 1], and([b.b = 2], c))"],
  // Negation: `not ` repeated cancels in pairs; `not(` counts as one more.
  ["not a", "not(a)"],
  ["not not a", "a"],
  ["not not not a", "not(a)"],
  ["not not not not a", "a"],
  ["(not not a)", "a"],
  ["not (a)", "not(a)"],
  ["not(a)", "not(a)"],
  ["not not(a)", "a"],
  ["not not not(a)", "not(a)"],
  ["not(not(a))", "not(not(a))"],
  ["not (not (a))", "not(not(a))"],
  ["not(a)and(not(b))", "and(not(a), not(b))"],
  ["not not not not not(not not(not x_macro))", "not(not(x_macro))"],
  ["not a.b=1", "not([a.b = 1])"],
  ["not a.a exists", "not([a.a exists])"],
  ["not (a.a exists)", "not([a.a exists])"],
  ["a.b = 1 and not a", "and([a.b = 1], not(a))"],
  ["not\ta", "not(a)"],
  ["not\na", "not(a)"],
  ["not\ra", "not(a)"],
  // After `not` any POSIX space works, also vertical tab and form feed (libsinsp's RGX_NOTBLANK).
  ["not\va", "not(a)"],
  ["not\fa", "not(a)"],
  ["not \t\n a", "not(a)"],
  // `and(` / `or(`: a parenthesis may be glued to the keyword.
  ["a and(b)", "and(a, b)"],
  ["a or(b)", "or(a, b)"],
  ["(a)and(b)and(c)", "and(a, b, c)"],
  ["(a)or(b)or(c)", "or(a, b, c)"],
  ["a and b and(c)", "and(a, b, c)"],
  ["a or b or(c)", "or(a, b, c)"],
  ["a and( b )", "and(a, b)"],
  ["a and(b or c)", "and(a, or(b, c))"],
  ["(a)and b", "and(a, b)"],
  ["(a)or b", "or(a, b)"],
  // The keyword only needs a blank or '(' after it; what precedes it may be glued.
  ["a.b exists and(c)", "and([a.b exists], c)"],
  ["x.y in (a)and b", "and([x.y in (a)], b)"],
  ['x.y = "v"and b', 'and([x.y = "v"], b)'],
  ["x.y > 1and b", "and([x.y > 1], b)"],
  ["x.y > 1or b", "or([x.y > 1], b)"],
  ["x.y exists or b", "or([x.y exists], b)"],
  ["x.y existsand b", "and([x.y exists], b)"],
  ["x.y existsor b", "or([x.y exists], b)"],
  // Operators with and without blanks; symbols need none, words need one after them.
  ["proc.name=bash", "[proc.name = bash]"],
  ["proc.name =bash", "[proc.name = bash]"],
  ["proc.name= bash", "[proc.name = bash]"],
  ["proc.name = bash", "[proc.name = bash]"],
  ["proc.name==bash", "[proc.name = bash]"],
  ["proc.name == bash", "[proc.name = bash]"],
  ["proc.name ==bash", "[proc.name = bash]"],
  ["proc.name!=bash", "[proc.name != bash]"],
  ["proc.name != bash", "[proc.name != bash]"],
  ["proc.name contains bash", "[proc.name contains bash]"],
  ["proc.name icontains bash", "[proc.name icontains bash]"],
  ["proc.name bcontains 48545450", "[proc.name bcontains 48545450]"],
  ["proc.name startswith /usr", "[proc.name startswith /usr]"],
  ["proc.name bstartswith 12ab001fc5", "[proc.name bstartswith 12ab001fc5]"],
  ["proc.name endswith .sh", "[proc.name endswith .sh]"],
  ["proc.name glob *sh", "[proc.name glob *sh]"],
  ["proc.name iglob *SH", "[proc.name iglob *SH]"],
  ["proc.name regex ba.*", "[proc.name regex ba.*]"],
  ["proc.name contains  bash", "[proc.name contains bash]"],
  ["proc.name contains\tbash", "[proc.name contains bash]"],
  ["proc.name contains\nbash", "[proc.name contains bash]"],
  ["proc.name contains\rbash", "[proc.name contains bash]"],
  ["proc.pid>1", "[proc.pid > 1]"],
  ["proc.pid >1", "[proc.pid > 1]"],
  ["proc.pid> 1", "[proc.pid > 1]"],
  ["proc.pid<1", "[proc.pid < 1]"],
  ["proc.pid>=1", "[proc.pid >= 1]"],
  ["proc.pid <= 1", "[proc.pid <= 1]"],
  ["proc.pid < 1", "[proc.pid < 1]"],
  ["proc.name exists", "[proc.name exists]"],
  ["proc.name   exists", "[proc.name exists]"],
  ["proc.name in (a, b)", "[proc.name in (a, b)]"],
  ["proc.name in(a,b)", "[proc.name in (a, b)]"],
  ["proc.name intersects (a)", "[proc.name intersects (a)]"],
  ["proc.name intersects(a)", "[proc.name intersects (a)]"],
  ["proc.name pmatch (/tmp)", "[proc.name pmatch (/tmp)]"],
  ["proc.name pmatch(/tmp)", "[proc.name pmatch (/tmp)]"],
  ["proc.name in shell_binaries", "[proc.name in @shell_binaries]"],
  ["proc.name intersects shell_binaries", "[proc.name intersects @shell_binaries]"],
  ["proc.name pmatch dirs", "[proc.name pmatch @dirs]"],
  // List operators need no blank after them (libsinsp matches `in` as a bare prefix).
  ["proc.name inshell_binaries", "[proc.name in @shell_binaries]"],
  ["proc.name interesting", "[proc.name in @teresting]"],
  ["proc.name in oneof", "[proc.name in @oneof]"],
  ["proc.name in val", "[proc.name in @val]"],
  ["proc.name in tolower", "[proc.name in @tolower]"],
  // Values: bare strings take anything but blanks, quotes, parentheses, ',' and '='.
  ["fd.name=*.log", "[fd.name = *.log]"],
  ["x.y = 0a!@#456:/\\.;!$%^&*[]{}|", "[x.y = 0a!@#456:/\\.;!$%^&*[]{}|]"],
  ["x.y = not", "[x.y = not]"],
  ["x.y = and", "[x.y = and]"],
  ["x.y = test.field", "[x.y = test.field]"],
  ["x.y = héllo", "[x.y = héllo]"],
  ["x.y = a\bb", "[x.y = a\bb]"],
  ["x.y = <", "[x.y = <]"],
  ["x.y = !0.1222e+10", "[x.y = !0.1222e+10]"],
  ["x.y = 0xAAA.1", "[x.y = 0xAAA.1]"],
  ["x.y = 0aaaaa", "[x.y = 0aaaaa]"],
  ["x.y = -1.5e+3", "[x.y = -1.5e+3]"],
  ["x.y = b64 and(m)", "and([x.y = b64], m)"],
  ["x.y = b64 or(m)", "or([x.y = b64], m)"],
  ["x.y = tolower", "[x.y = tolower]"],
  ["x.y = val", "[x.y = val]"],
  ['x.y = ""', '[x.y = ""]'],
  ["x.y = ''", '[x.y = ""]'],
  ['x.y = "a b"', '[x.y = "a b"]'],
  ["x.y = 'a b'", '[x.y = "a b"]'],
  ["x.y = 'mixed \"'", '[x.y = "mixed \\""]'],
  ['x.y = "mixed \'"', '[x.y = "mixed \'"]'],
  ['x.y = "0a!@#456:/.; !$%^&*[]{}|"', '[x.y = "0a!@#456:/.; !$%^&*[]{}|"]'],
  ['x.y = "(a) and b, c = d"', '[x.y = "(a) and b, c = d"]'],
  ["x.y = 'tolower(m)'", '[x.y = "tolower(m)"]'],
  ['x.y="a"', '[x.y = "a"]'],
  ['x.y contains "a"', '[x.y contains "a"]'],
  ['x.y = "日本"', '[x.y = "日本"]'],
  // Numbers after the numeric operators: decimal, signed, fractional, exponent with a sign, hex.
  ["x.y > 1000", "[x.y > 1000]"],
  ["x.y < +1", "[x.y < +1]"],
  ["x.y >= -1", "[x.y >= -1]"],
  ["x.y <= 0x12345", "[x.y <= 0x12345]"],
  ["x.y <= 0XaB00AB", "[x.y <= 0XaB00AB]"],
  ["x.y > 1.2", "[x.y > 1.2]"],
  ["x.y > 1.", "[x.y > 1.]"],
  ["x.y < -1.2", "[x.y < -1.2]"],
  ["x.y > -0.1222e+10", "[x.y > -0.1222e+10]"],
  ["x.y > 1.5E-3", "[x.y > 1.5E-3]"],
  ["x.y > 1e+5", "[x.y > 1e+5]"],
  ["x.y > 2E-0", "[x.y > 2E-0]"],
  ["x.y > 007", "[x.y > 007]"],
  // Lists: quoted, bare and empty items; blanks anywhere between items.
  ["x.y in ()", "[x.y in ()]"],
  ["x.y in ( )", "[x.y in ()]"],
  ["x.y in (a)", "[x.y in (a)]"],
  ["x.y in ('single-quoted')", '[x.y in ("single-quoted")]'],
  ['x.y in ("double-quoted")', '[x.y in ("double-quoted")]'],
  ["x.y in (value, \"value\", 'value')", '[x.y in (value, "value", "value")]'],
  ["x.y in (1, 'a', b.c)", '[x.y in (1, "a", b.c)]'],
  ["x.y in ( a , b )", "[x.y in (a, b)]"],
  ["x.y in (a,b,c)", "[x.y in (a, b, c)]"],
  ["x.y in (0a!@#456:/\\.;!$%^&*[]{}|, value)", "[x.y in (0a!@#456:/\\.;!$%^&*[]{}|, value)]"],
  ['x.y in ("a,b", "c)d")', '[x.y in ("a,b", "c)d")]'],
  ['x.y in ("")', '[x.y in ("")]'],
  ["x.y in ('', '')", '[x.y in ("", "")]'],
  ["x.y intersects ()", "[x.y intersects ()]"],
  ["x.y pmatch ()", "[x.y pmatch ()]"],
  ["x.y in (/usr/bin/*, *.sh)", "[x.y in (/usr/bin/*, *.sh)]"],
  // Field names and arguments.
  ["a.b exists", "[a.b exists]"],
  ["a.b.c.d exists", "[a.b.c.d exists]"],
  ["k8s.ns.name = x", "[k8s.ns.name = x]"],
  ["a1_.b2_.c3 exists", "[a1_.b2_.c3 exists]"],
  ["evt.arg.flags contains O_RDONLY", "[evt.arg.flags contains O_RDONLY]"],
  ["proc.aname[2] = bash", "[proc.aname[2] = bash]"],
  ["proc.aname[2]=bash", "[proc.aname[2] = bash]"],
  ["evt.arg[0] contains /bin", "[evt.arg[0] contains /bin]"],
  ["evt.arg[a] contains /bin", "[evt.arg[a] contains /bin]"],
  [
    "container.mount.dest[/var/run/docker.sock] exists",
    "[container.mount.dest[/var/run/docker.sock] exists]",
  ],
  ['proc.env["HOME"] = /root', "[proc.env[HOME] = /root]"],
  ["proc.env['HOME'] = /root", "[proc.env[HOME] = /root]"],
  ["x.y['a aa'] = a", "[x.y[a aa] = a]"],
  ['x.y[""] = empty', "[x.y[] = empty]"],
  ['x.y["test \\"with\\"escaping"] = a', '[x.y[test "with"escaping] = a]'],
  ["x.y[0a!@#456:/\\.;!$%^&*(){}|] = v", "[x.y[0a!@#456:/\\.;!$%^&*(){}|] = v]"],
  ["x.y[+0.25e+10] = a", "[x.y[+0.25e+10] = a]"],
  ["x.y[1]exists", "[x.y[1] exists]"],
  ["x.y[k=v,w] = a", "[x.y[k=v,w] = a]"],
  ["x.y[a\bb] = a", "[x.y[a\bb] = a]"],
  ["x.y in (a) or z.w[1] in (b)", "or([x.y in (a)], [z.w[1] in (b)])"],
  // Transformers on the left.
  ["tolower(proc.name) = bash", "[tolower(proc.name) = bash]"],
  ["tolower(proc.name)=bash", "[tolower(proc.name) = bash]"],
  ["toupper(x.y) exists", "[toupper(x.y) exists]"],
  ["b64(x.y) exists", "[b64(x.y) exists]"],
  ["basename(x.y) = ls", "[basename(x.y) = ls]"],
  ["len(proc.name) > 3", "[len(proc.name) > 3]"],
  ["len(proc.name)>3", "[len(proc.name) > 3]"],
  ["b64( x.y) exists", "[b64(x.y) exists]"],
  ["b64(x.y ) exists", "[b64(x.y) exists]"],
  ["b64(x.y)  exists", "[b64(x.y) exists]"],
  ["b64(b64(x.y)) exists", "[b64(b64(x.y)) exists]"],
  ["b64( b64( x.y ) ) exists", "[b64(b64(x.y)) exists]"],
  ["b64(toupper(x.y)) exists", "[b64(toupper(x.y)) exists]"],
  ["tolower(proc.aname[2]) = x", "[tolower(proc.aname[2]) = x]"],
  ['concat(proc.name, "-", proc.pid) = x', '[concat(proc.name, "-", proc.pid) = x]'],
  ["concat(x.y, 12, 0x1f, -1.5) = x", "[concat(x.y, 12, 0x1f, -1.5) = x]"],
  ["concat(x.y,'a') = x", '[concat(x.y, "a") = x]'],
  ['join(",", (proc.name, proc.exe)) = x', '[join(",", (proc.name, proc.exe)) = x]'],
  ['join("-", ()) = x', '[join("-", ()) = x]'],
  ['join("-", ( )) = x', '[join("-", ()) = x]'],
  ['join("-", ( fd.name , fd.directory )) = x', '[join("-", (fd.name, fd.directory)) = x]'],
  ['join( "-" , (fd.name)) = x', '[join("-", (fd.name)) = x]'],
  ["join('-', (\"aaa\", 'bbb', 123, 0x1f)) = x", '[join("-", ("aaa", "bbb", 123, 0x1f)) = x]'],
  ['join("-", (tolower(fd.name), fd.directory)) = x', '[join("-", (tolower(fd.name), fd.directory)) = x]'],
  ['join("-", (tolower(toupper(fd.name)))) = x', '[join("-", (tolower(toupper(fd.name)))) = x]'],
  ['toupper(join("-", (fd.name, fd.directory))) = V', '[toupper(join("-", (fd.name, fd.directory))) = V]'],
  ['len(join("-", (fd.name))) > 5', '[len(join("-", (fd.name))) > 5]'],
  ['join("-", (fd.name, fd.directory)) in (a, b)', '[join("-", (fd.name, fd.directory)) in (a, b)]'],
  ['getopt(proc.args, "nt:")[t] = value', '[getopt(proc.args, "nt:")[t] = value]'],
  ['getopt(proc.args, "nt:")["t"] = value', '[getopt(proc.args, "nt:")[t] = value]'],
  ['getopt(proc.args, "nt:")[""] = value', '[getopt(proc.args, "nt:")[] = value]'],
  ["not tolower(x.y) = a", "not([tolower(x.y) = a])"],
  ["(tolower(x.y) = a)", "[tolower(x.y) = a]"],
  // Transformers and val() on the right.
  ["proc.name = val(proc.pname)", "[proc.name = val(proc.pname)]"],
  ["proc.name=val(proc.pname)", "[proc.name = val(proc.pname)]"],
  ["proc.name = val( proc.pname )", "[proc.name = val(proc.pname)]"],
  ["proc.name = val(proc.aname[2])", "[proc.name = val(proc.aname[2])]"],
  ["proc.name = val(proc.pname)[1]", "[proc.name = val(proc.pname)[1]]"],
  ["proc.aname[1] = val(proc.name)", "[proc.aname[1] = val(proc.name)]"],
  ["proc.name = tolower(proc.pname)", "[proc.name = tolower(proc.pname)]"],
  ["proc.name = b64(tolower(x.y))", "[proc.name = b64(tolower(x.y))]"],
  ["proc.name contains val(x.y)", "[proc.name contains val(x.y)]"],
  ["proc.name startswith toupper(x.y)", "[proc.name startswith toupper(x.y)]"],
  ["proc.pid > len(proc.name)", "[proc.pid > len(proc.name)]"],
  ["proc.pid>val(proc.ppid)", "[proc.pid > val(proc.ppid)]"],
  ["proc.pid <= val(proc.ppid)", "[proc.pid <= val(proc.ppid)]"],
  ["proc.name in val(x.y)", "[proc.name in val(x.y)]"],
  ["proc.name in tolower(x.y)", "[proc.name in tolower(x.y)]"],
  ["proc.name pmatch b64(x.y)", "[proc.name pmatch b64(x.y)]"],
  ["proc.name intersects val(x.y)", "[proc.name intersects val(x.y)]"],
  ['evt.type = tolower(join("-", (fd.name)))', '[evt.type = tolower(join("-", (fd.name)))]'],
  ["tolower(a.b) = b64(c.d)", "[tolower(a.b) = b64(c.d)]"],
  [
    "b64(evt.name) exists and tolower(toupper(evt.type)) in val(some.field) or proc.name=b64(tolower(some.field))",
    "or(and([b64(evt.name) exists], [tolower(toupper(evt.type)) in val(some.field)]), [proc.name = b64(tolower(some.field))])",
  ],
  // String-operator modifiers take a list; a modifier word with no list after it is a value.
  ["proc.name = oneof (a, b)", "[proc.name = oneof (a, b)]"],
  ["proc.name == anyof (a)", "[proc.name = anyof (a)]"],
  ["proc.name != allof (a, b)", "[proc.name != allof (a, b)]"],
  ["proc.name = oneof ()", "[proc.name = oneof ()]"],
  ["proc.name = oneof ( a , 'b' )", '[proc.name = oneof (a, "b")]'],
  ["proc.name startswith oneof (/a, /b)", "[proc.name startswith oneof (/a, /b)]"],
  ["proc.name contains anyof (a)", "[proc.name contains anyof (a)]"],
  ["proc.name icontains anyof (a)", "[proc.name icontains anyof (a)]"],
  ["proc.name bcontains oneof (41)", "[proc.name bcontains oneof (41)]"],
  ["proc.name bstartswith anyof (41, 4142)", "[proc.name bstartswith anyof (41, 4142)]"],
  ["proc.name endswith allof (.so, .so.1)", "[proc.name endswith allof (.so, .so.1)]"],
  ["proc.name glob oneof (cat*, *dog)", "[proc.name glob oneof (cat*, *dog)]"],
  ["proc.name iglob allof (cat*)", "[proc.name iglob allof (cat*)]"],
  ["proc.name regex anyof (a.*, b+)", "[proc.name regex anyof (a.*, b+)]"],
  ["proc.name = oneof my_list", "[proc.name = oneof @my_list]"],
  ["proc.name != allof my_list", "[proc.name != allof @my_list]"],
  ["proc.name = oneof oneof", "[proc.name = oneof @oneof]"],
  ["proc.name = anyof anyof", "[proc.name = anyof @anyof]"],
  ["proc.name = oneof\t(a)", "[proc.name = oneof (a)]"],
  ["proc.name = oneof\n(a)", "[proc.name = oneof (a)]"],
  ["proc.name = oneof   (a)", "[proc.name = oneof (a)]"],
  ["proc.name contains  oneof  (a)", "[proc.name contains oneof (a)]"],
  ["evt.arg[0] = oneof (connect, accept)", "[evt.arg[0] = oneof (connect, accept)]"],
  ["proc.aname[2] != oneof (bash, sh)", "[proc.aname[2] != oneof (bash, sh)]"],
  ["tolower(proc.name) = oneof (a)", "[tolower(proc.name) = oneof (a)]"],
  ['b64(proc.cmdline) == allof ("dGVzdA==")', '[b64(proc.cmdline) = allof ("dGVzdA==")]'],
  ["proc.name = oneof", "[proc.name = oneof]"],
  ["proc.name = anyof", "[proc.name = anyof]"],
  ["proc.name = allof", "[proc.name = allof]"],
  ["proc.name = oneof ", "[proc.name = oneof]"],
  ["proc.name contains oneof", "[proc.name contains oneof]"],
  ["proc.name = 'oneof'", '[proc.name = "oneof"]'],
  ["proc.name = oneof_something", "[proc.name = oneof_something]"],
  ["proc.name =oneof", "[proc.name = oneof]"],
  ["(proc.name = oneof)", "[proc.name = oneof]"],
  ["(proc.name = anyof) and x.y exists", "and([proc.name = anyof], [x.y exists])"],
  // The bool keyword rule: and/or/not followed by a non-alphanumeric is not a list name.
  ["proc.name = oneof and x.y exists", "and([proc.name = oneof], [x.y exists])"],
  ["proc.name = anyof or x.y exists", "or([proc.name = anyof], [x.y exists])"],
  ["proc.name = allof and proc.name = oneof (cat)", "and([proc.name = allof], [proc.name = oneof (cat)])"],
  ["proc.name = oneof and(b)", "and([proc.name = oneof], b)"],
  ["proc.name = oneof or(b)", "or([proc.name = oneof], b)"],
  ["proc.name = oneof order", "[proc.name = oneof @order]"],
  ["proc.name = oneof andy", "[proc.name = oneof @andy]"],
  ["proc.name = oneof notes", "[proc.name = oneof @notes]"],
  ["proc.name = oneof or9", "[proc.name = oneof @or9]"],
  ["proc.name = oneof (a) and proc.name = anyof", "and([proc.name = oneof (a)], [proc.name = anyof])"],
  ["not proc.name = oneof (a, b)", "not([proc.name = oneof (a, b)])"],
  // Quoting and escapes (escaping.cpp): \b \f \n \r \t \\ \/ \xHH and the string's own quote.
  ['x.y = "a\\"b"', '[x.y = "a\\"b"]'],
  ["x.y = 'a\\'b'", '[x.y = "a\'b"]'],
  ['x.y = "a\\\\b"', '[x.y = "a\\\\b"]'],
  ['x.y = "a\\/b"', '[x.y = "a/b"]'],
  ['x.y = "\\n"', '[x.y = "\\n"]'],
  ['x.y = "\\t"', '[x.y = "\\t"]'],
  ['x.y = "\\r"', '[x.y = "\\r"]'],
  ['x.y = "\\b"', '[x.y = "\\b"]'],
  ['x.y = "\\f"', '[x.y = "\\f"]'],
  ['x.y = "\\x41"', '[x.y = "A"]'],
  ['x.y = "\\x4a\\x4B"', '[x.y = "JK"]'],
  ['x.y = "\\x7e!"', '[x.y = "~!"]'],
  ["x.y = 'escape single quote \\' '", '[x.y = "escape single quote \' "]'],
  ['x.y = "escape double quote \\" "', '[x.y = "escape double quote \\" "]'],
  // A backslash before a blank stays a backslash and the blank goes (libsinsp keeps this for old rules).
  ['x.y = "bad escape \\ "', '[x.y = "bad escape \\\\"]'],
  ['x.y = "a\\ b"', '[x.y = "a\\\\b"]'],
  ["x.y in ('a\\'', \"b\\\"\")", '[x.y in ("a\'", "b\\"")]'],
  // Other blanks: \b is a blank for the lexer (not for `not`), and bare strings stop at any space.
  ["a\band\bb", "and(a, b)"],
  ["proc.name\b=\bbash", "[proc.name = bash]"],
  ["\r\na\r\nand\r\nb\r\n", "and(a, b)"],
  ["\t proc.name\tin\t(\ta\t,\tb\t)\t", "[proc.name in (a, b)]"],
  ["a\n  and\n  (b\n   or c)\n", "and(a, or(b, c))"],
];

describe("parser: accepted conditions", () => {
  test.each(ACCEPT)("%p", (input, tree) => {
    expect(show(parseCondition(input))).toBe(tree);
    for (const variant of blankVariants(input)) {
      expect(show(parseCondition(variant)), JSON.stringify(variant)).toBe(tree);
    }
  });
});

describe("parser: node positions", () => {
  // [condition, path into the tree, offset]: the positions libsinsp reports for the same nodes.
  const POSITIONS: readonly [string, string, number][] = [
    ["proc.name exists", "check", 0],
    ["proc.name exists", "check.op", 10],
    ["proc.name=nginx", "check.right", 10],
    ["proc.aname[3]=nginx", "check.right", 14],
    ["proc.name =nginx", "check.right", 11],
    ["proc.name= nginx", "check.right", 11],
    ["proc.name = nginx", "check.right", 12],
    ["proc.name = nginx", "check.op", 10],
    ["proc.name in (nginx, apache)", "check.right", 13],
    ["proc.name in ( nginx, apache)", "check.right", 13],
    ["proc.name in ( nginx, apache)", "check.right.items.0", 15],
    ["proc.name == oneof (cat)", "check.right", 19],
    ["not proc.name=nginx", "not", 0],
    ["not proc.name=nginx", "not.child", 4],
    ["proc.name=nginx or proc.name=apache", "or.1", 19],
    ["proc.name=nginx and proc.name=apache", "and.1", 20],
    ["(proc.name=nginx or proc.name=apache)", "or", 1],
    ["(proc.name=nginx or proc.name=apache)", "or.1", 20],
    ["b64(evt.name) exists and tolower(toupper(evt.type)) in val(x.y)", "and.1", 25],
    ["b64(evt.name) exists and tolower(toupper(evt.type)) in val(x.y)", "and.1.left.args.0", 33],
    ["b64(evt.name) exists and tolower(toupper(evt.type)) in val(x.y)", "and.1.right", 55],
    ["b64(evt.name) exists and tolower(toupper(evt.type)) in val(x.y)", "and.1.right.field", 59],
    ["a and\n  b", "and.1", 8],
  ];
  function at(e: Expr, path: string): { pos: number } {
    // biome-ignore lint/suspicious/noExplicitAny: walking a tree by a path written in the table
    let node: any = e;
    for (const step of path.split(".")) {
      if (step === "check" || step === "and" || step === "or" || step === "not") {
        expect(node.kind).toBe(step);
      } else if (step === "op") {
        return { pos: node.opPos };
      } else if (/^[0-9]+$/.test(step)) {
        node = (Array.isArray(node) ? node : node.children)[Number(step)];
      } else {
        node = node[step];
      }
    }
    return node;
  }
  test.each(POSITIONS)("%p %s at %d", (input, path, pos) => {
    expect(at(parseCondition(input), path).pos).toBe(pos);
  });
});

// ---------------------------------------------------------------------------------------------
// Parser: rejected conditions and where the error points

/**
 * [condition with ‸ where the error must point, message pattern]. Every position here is exact;
 * it is the offset where libsinsp's parser stops too, unless the comment says otherwise.
 */
const REJECT: readonly [string, RegExp?][] = [
  // Empty and dangling conditions.
  ["‸", /empty/],
  ["a and‸", /blank or '\('/],
  ["a and ‸", /expected a '\(' token, a field check, or an identifier/],
  ["a and b or‸", /blank or '\('/],
  ["a or b and‸"],
  ["a and b and‸"],
  ["a or b or ‸"],
  ["and ‸a", /expecting 'or', 'and'/],
  ["or ‸a"],
  ["a and b ‸not"],
  ["a ‸not b"],
  ["a ‸not b and"],
  ["a ‸notb"],
  ["anot ‸b"],
  ["aand ‸b"],
  ["aor ‸b"],
  ["a and‸b", /blank or '\('/],
  ["a or‸b", /blank or '\('/],
  ["a and or ‸b"],
  ["a and‸or b"],
  ["a and‸not b"],
  ["a and‸notb"],
  ["(a)and‸not(b)"],
  ["a or‸not b"],
  ["(a)or‸not(b)"],
  ["not ‸"],
  ["not not ‸"],
  ["not(‸"],
  ["not(‸)"],
  ["not (a‸", /expected a '\)' token/],
  ["not(a‸"],
  ["a and(‸"],
  ["a and(b‸"],
  ["a and (‸)"],
  ["‸#a and b; a and b"],
  ["‸1 = 1"],
  ['‸"a" = b'],
  ["‸=a"],
  ["‸_a.b = 1"],
  ["‸é = 1"],
  ["a‸..b = 1"],
  ["a‸.1b = 1"],
  ["a.b‸. = 1"],
  [" ‸= 1"],
  ["a‸\v"],
  ["a‸\vand b"],
  ["not\b‸a"],
  // Parentheses.
  ["(a‸", /expected a '\)' token/],
  ["((a)‸"],
  ["(((a))‸"],
  ["a‸)"],
  ["(a)‸)"],
  ["(‸)"],
  ["( ‸)"],
  ["((‸))"],
  ["(a) ‸(b)"],
  ["(a.b = 1‸"],
  ["(a.b = 1 and (c)‸"],
  ["a.b = ‸(1"],
  ["‸)a("],
  // Missing or unknown operator, missing value.
  ["proc.name‸", /expected a valid check operator/],
  ["proc.name ‸"],
  ["proc.name =‸", /expected a string value/],
  ["proc.name = ‸"],
  ["proc.name == ‸"],
  ["proc.name != ‸"],
  ["proc.name contains ‸"],
  ["proc.name ‸contains"],
  ["proc.name ‸containsbash", /expected a valid check operator/],
  ["proc.name ‸icontainsbash"],
  ["proc.name ‸bcontainsbash"],
  ["proc.name ‸startswithvalue"],
  ["proc.name ‸bstartswithvalue"],
  ["proc.name ‸endswithvalue"],
  ["proc.name ‸globvalue"],
  ["proc.name ‸iglobvalue"],
  ["proc.name ‸regexvalue"],
  ["proc.name ‸contains\vbash"],
  ["proc.name ‸ExIsTs"],
  ["proc.name ‸EXISTS"],
  ["proc.name ‸Contains x"],
  ["proc.name ‸unknownop xxx"],
  ["proc.name ‸like x"],
  ["proc.name ‸~= x"],
  ["proc.name ‸!~ x"],
  ["proc.name ‸! = x"],
  ["proc.name =‸\vbash"],
  ["proc.name exists ‸something"],
  ["proc.name exists ‸exists"],
  ["proc.name ==‸="],
  ["proc.name ==‸= value"],
  ["proc.name !=‸="],
  ["proc.name !=‸= value"],
  ["proc.name =< ‸1"],
  ["proc.name <‸> 1"],
  ["proc.name => ‸1"],
  ["macro ‸> 12"],
  ["macro ‸= 1"],
  ["tolower(proc.name)‸"],
  ["tolower(proc.name) ‸bash"],
  ["proc.name = bash ‸extra"],
  ["proc.name = bash‸)"],
  ['proc.name = "a" ‸"b"'],
  ["proc.name = a ‸b = c"],
  ["a.b = b ‸= 1"],
  ["proc.name = a‸,"],
  ["proc.name = a‸="],
  ["proc.name = a‸('\")"],
  ["proc.name = missing ‸start quote"],
  ["fd.name=/var/lo‸);g/httpd.log"],
  // Numeric operators take numbers (or a transformer) only.
  ["proc.pid >‸", /expected a number value/],
  ["proc.pid <‸"],
  ["proc.pid >=‸"],
  ["proc.pid <=‸"],
  ["proc.pid < ‸"],
  ["proc.pid >= ‸a"],
  ["proc.pid <= ‸a"],
  ["proc.pid > ‸!0.1222e+10"],
  ["proc.pid < 0xAAA‸.1"],
  ["proc.pid >= 0‸aaaaa"],
  ["proc.pid > 1‸e5", /expecting 'or', 'and'/],
  ["proc.pid > 1.5‸e5"],
  ["proc.pid > ‸.5"],
  ["proc.pid > 0‸x"],
  ["proc.pid > 0‸xg"],
  ["proc.pid > ‸'1'"],
  ['proc.pid > ‸"1"'],
  ["proc.pid > ‸(1)"],
  ["proc.pid > ‸val"],
  ["proc.pid > 1‸,2"],
  ["proc.pid > ‸oneof (1, 2)"],
  ["proc.pid <= ‸anyof (1, 2)"],
  ["evt.is_open_read > ‸true"],
  ["proc.pid > ‸- 1"],
  ["proc.pid > ‸--1"],
  // List operators need a list, a list name or a transformer.
  ["proc.name in‸", /expected a list, an identifier, or a field with a valid transformer/],
  ["proc.name in ‸"],
  ["proc.name intersects‸"],
  ["proc.name pmatch‸"],
  ['proc.name in ‸"a"'],
  ["proc.name in ‸'a'"],
  ["proc.name in ‸1"],
  ["proc.name in ‸/tmp"],
  ["proc.name in (‸", /expected a '\)' token/],
  ["proc.name in ‸)"],
  ["proc.name in (a,‸)", /expected a string value/],
  ["proc.name in (a,‸,)"],
  ["proc.name in (a,‸,b)"],
  ["proc.name in (‸,)"],
  ["proc.name in (‸,   ,)"],
  ["proc.name in ( 1 ,‸, , b)"],
  ["proc.name in (a ‸b)"],
  ["proc.name in (a‸=b)"],
  ["proc.name in (a‸"],
  ["proc.name in (a, ‸"],
  ["proc.name in (‸(a))"],
  ["proc.name in (b64‸(x.y))"],
  ["proc.name in (a, b64‸(x.y))"],
  ["proc.name in (a, b, b64‸(x.y))"],
  ["proc.name in (val‸(x.y))"],
  ["proc.name in (a)‸)"],
  ["proc.name in shell‸.binaries"],
  ["proc.name in oneof ‸(cat)"],
  ["proc.name intersects anyof ‸(cat)"],
  ["proc.name pmatch allof ‸(cat)"],
  ["proc.name in (a) ‸(b)"],
  ["x.y > ‸(value)"],
  ["x.y = ‸(value)"],
  ["x.y < ‸(value)"],
  ["x.y startswith ‸(value)"],
  ["x.y bstartswith ‸(value)"],
  ["x.y contains ‸(value)"],
  ["x.y icontains ‸(value)"],
  // Strings: unterminated, mixed quotes, escapes. For a bad escape Lanner points at the character
  // after the backslash; libsinsp only reports the end of the string (it unescapes after lexing).
  ["proc.name = ‸'"],
  ['proc.name = ‸"'],
  ["proc.name = ‸'\""],
  ["proc.name = ‸\"'"],
  ["proc.name = ‸'abc"],
  ['proc.name = ‸"abc'],
  ["proc.name = ‸\"abc'"],
  ['proc.name = "broken escape double quote"‸"'],
  ["proc.name = 'broken escape single quote'‸'"],
  ['proc.name = "a\\‸q"', /unsupported string escape sequence: \\q/],
  ['proc.name = "\\‸a"'],
  ['proc.name = "\\‸0"'],
  ['proc.name = "\\‸u0041"'],
  ['proc.name = "mixed \\‸\'"', /invalid \\' escape/],
  ["proc.name = 'mixed \\‸\"'", /invalid \\" escape/],
  ['proc.name = "\\‸x4"', /hex escape/],
  ['proc.name = "\\‸x"'],
  ['proc.name = "\\‸x4g"'],
  ['proc.name = "\\‸xg1"'],
  ['proc.name = "\\‸x+4"'],
  ['proc.name = "ab\\‸x4"'],
  ['proc.name in ("ok", "\\‸q")'],
  ['proc.name = oneof ("\\‸q", a)'],
  ['x.y["\\‸q"] = a'],
  ['concat(x.y, "\\‸q") = a'],
  // Field arguments.
  ["x.y[‸] = v", /expected a valid field argument/],
  ['x.y["x"‸ = v', /expected a ']' token/],
  ["x.y[‸[] = v"],
  ["x.y[‸]] = v"],
  ["x.y[''‸'] = a"],
  ['x.y[aaa‸"] = a'],
  ["x.y[‸   test   ] = v"],
  ["x.y[‸ = v"],
  ["x.y[a‸ = v"],
  ["x.y[a‸ b] = v"],
  ["x.y‸] = v"],
  ["x.y[0a!@#456:/\\.;!$%^&*‸[]{}] = testval"],
  ["x.y[1]‸[2] = v"],
  ["x.y ‸[1]"],
  ['getopt(proc.args, "nt:")[‸] = value'],
  ['getopt(proc.args, "nt:")["t"‸ = value'],
  // Transformers.
  ["b64 ‸(x.y) exists"],
  ["b64\n‸(x.y) exists"],
  ["b64‸,(x.y) exists"],
  ["some_fake‸(x.y) exists"],
  ["some.fake.transformer‸(x.y) exists"],
  ["a‸(x.y) exists"],
  ["a‸(b(x.y)) exists"],
  ["val‸(x.y) exists"],
  ["val‸(val(x.y)) exists"],
  ["b64(‸val(x.y)) exists"],
  ["b64(x.y ‸[1]) exists"],
  ["b64(‸testfield)) exists"],
  ["b64(‸test_field)) exists"],
  ["b64(‸b64)) exists"],
  ["b64(x.y)‸) exists"],
  ["b64(x.y ‸exists"],
  ["b64(b64(x.y ‸exists"],
  ["b64(b64(x.y) ‸exists"],
  ["b64(‸) exists"],
  ["b64(‸, x.y) exists"],
  ["concat(x.y, ‸) = a"],
  ["concat(x.y,‸, z.w) = a"],
  ["b64(x.y)[‸] = a"],
  ["TOLOWER‸(x.y) = a"],
  ["x.y = val(‸val(a.b))"],
  ["x.y = val(‸toupper(a.b))"],
  ["x.y = val(‸)"],
  ["x.y = val(‸'a')"],
  ["x.y = val(a.b ‸[1])"],
  ["x.y = val(a.b‸"],
  ["x.y = val(a.b‸, c.d)"],
  ["x.y = b64(‸val(a.b))"],
  ["x.y = b64 ‸(a.b)"],
  ["x.y = b64‸,(a.b)"],
  ["x.y = ‸(b64(a.b))"],
  ["x.y = b64(a.b)‸)"],
  ["x.y = b64(a.b‸"],
  ["x.y = b64(b64(a.b‸"],
  ["x.y = b64(b64(a.b)‸"],
  ["x.y = a.b‸)"],
  ["x.y = ‸(a.b"],
  ["x.y = ‸((b64(a.b)))"],
  ["x.y = b64\n‸(a.b)"],
  ["x.y = b64and‸(m)"],
  ["x.y = b64or‸(m)"],
  ["x.y = aaaa‸(a.b)"],
  ["x.y = some.fake.transformer‸(a.b)"],
  ['join("-", (fd.name, fd.directory) ‸= /tmp'],
  ['join("-", fd.name, fd.directory)‸) = /tmp'],
  ['join("-", (‸,)) = /tmp'],
  ['join("-", (‸,fd.name)) = /tmp'],
  ['join("-", (fd.name,‸)) = /tmp'],
  ['join("-", (fd.name,‸,fd.directory)) = /tmp'],
  ['join("-", (‸(fd.name))) = /tmp'],
  ['join("-", (‸macro)) = /tmp'],
  ['join("-", (‸barestring)) = /tmp'],
  ['join("-", (fd.name ‸fd.directory)) = /tmp'],
  ['join("-", (fd.name) ‸= /tmp'],
  // Modifiers.
  ["proc.name ==oneof ‸(cat, nginx)"],
  ["proc.name !=anyof ‸(cat, nginx)"],
  ["proc.name =allof ‸(cat, nginx)"],
  ["proc.name ==oneof‸(cat, nginx)"],
  ["proc.name == oneof‸(cat, nginx)"],
  ["proc.name == allof‸(cat)"],
  ["proc.name == ONEOF ‸(cat)"],
  ["proc.name == Anyof ‸(cat)"],
  ["proc.name contains ONEOF ‸(cat)"],
  ["proc.name contains oneof‸(cat, nginx)"],
  ["proc.name startswith anyof‸(cat)"],
  ["proc.name == oneof_something ‸(cat)"],
  ["proc.name startswith oneof_something ‸(cat)"],
  ["proc.name == oneof (cat,‸)"],
  ["proc.name == oneof (cat,‸,nginx)"],
  ["proc.name == oneof (‸,cat)"],
  ["proc.name == oneof (cat, nginx‸"],
  ["proc.name == oneof ‸'a'"],
  ["proc.name = oneof ‸not_list"],
  ["proc.name = oneof and‸"],
  ["proc.name = oneof or‸_list"],
  ["proc.name = oneof and‸_list"],
  ["proc.name startswith oneof val‸(x.y)"],
  ["proc.name = oneof tolower‸(x.y)"],
];

describe("parser: rejected conditions", () => {
  // Rows always have two cells: a missing cell would make the runner pass a `done` callback.
  const rows = REJECT.map(([input, message]) => [input, message ?? null] as const);
  test.each(rows)("%p", (input, message) => {
    const { text, pos } = marked(input);
    const err = syntaxError(text);
    expect(err.pos).toBe(pos);
    if (message !== null) expect(err.message).toMatch(message);
  });

  test("a blank-only condition is rejected (Lanner points at its start, libsinsp at its end)", () => {
    for (const text of [" ", "   ", "\t\n", "\r\n", "\b"]) {
      const err = syntaxError(text);
      expect(err.pos).toBeGreaterThanOrEqual(0);
      expect(err.pos).toBeLessThanOrEqual(text.length);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Parser: nesting

describe("parser: nesting depth", () => {
  const parens = (n: number, inner: string) => "(".repeat(n) + inner + ")".repeat(n);
  const nots = (n: number, inner: string) => "not(".repeat(n) + inner + ")".repeat(n);
  const transformers = (n: number) => `${"tolower(".repeat(n)}proc.name${")".repeat(n)} exists`;

  // libsinsp's parser is built with a depth limit of 1000 by Falco's rule loader and counts one
  // level per parse function; these thresholds are where its counting stops, and so does Lanner's.
  const BOUNDARIES: readonly [string, (n: number) => string, number][] = [
    ["parenthesised check", (n) => parens(n, "a.b = 1"), 198],
    ["parenthesised exists", (n) => parens(n, "a.b exists"), 198],
    ["parenthesised macro", (n) => parens(n, "a"), 199],
    ["not( chain", (n) => nots(n, "a"), 248],
  ];
  test.each(BOUNDARIES)("%s: %d levels parse, one more is refused", (_name, build, deepest) => {
    const ok = parseCondition(build(deepest));
    expect(ok.kind === "macro" || ok.kind === "check" || ok.kind === "not").toBe(true);
    const err = syntaxError(build(deepest + 1));
    expect(err.message).toMatch(/nesting depth/);
  });

  test("deep nesting throws a syntax error instead of overflowing the stack", () => {
    for (const text of [
      "(".repeat(100_000),
      "not(".repeat(50_000),
      parens(100_000, "a"),
      `x.y = ${"tolower(".repeat(50_000)}`,
      `${"b64(".repeat(50_000)}x.y${")".repeat(50_000)} exists`,
      `join(",", ${"(".repeat(50_000)}`,
      "a and (".repeat(30_000),
    ]) {
      const err = syntaxError(text);
      expect(err.message).toMatch(/nesting depth|expected/);
    }
  });

  test("moderately nested transformers parse (both parsers accept 400 levels, both refuse 2000)", () => {
    expect(show(parseCondition(transformers(400)))).toStartWith("[tolower(tolower(");
    expect(syntaxError(transformers(2000)).message).toMatch(/nesting depth/);
  });

  test("the depth is per condition: after an error the next parse starts from zero", () => {
    syntaxError(parens(5000, "a"));
    expect(show(parseCondition(parens(150, "a")))).toBe("a");
  });

  test("long flat chains are not nesting", () => {
    const terms = 20_000;
    const chain = Array.from({ length: terms }, (_, i) => `m${i}`).join(" and ");
    const e = parseCondition(chain);
    expect(e.kind === "and" && e.children.length).toBe(terms);
    const mixed = Array.from({ length: terms }, (_, i) => `f.x${i % 7} = ${i}`).join(" or ");
    const m = parseCondition(mixed);
    expect(m.kind === "or" && m.children.length).toBe(terms);
    expect(show(parseCondition(`${"not ".repeat(10_001)}a`))).toBe("not(a)");
    expect(show(parseCondition(`${"not ".repeat(10_000)}a`))).toBe("a");
  });
});

// ---------------------------------------------------------------------------------------------
// Escapes, operator list, operand prefixes

describe("unescapeQuoted", () => {
  const OK: readonly [string, string][] = [
    ['""', ""],
    ["''", ""],
    ['"abc"', "abc"],
    ['"a\\"b"', 'a"b'],
    ["'a\\'b'", "a'b"],
    ['"\\\\"', "\\"],
    ['"\\/"', "/"],
    ['"\\b\\f\\n\\r\\t"', "\b\f\n\r\t"],
    ['"\\x41\\x62"', "Ab"],
    ['"\\x7E"', "~"],
    ['"a\\ b"', "a\\b"],
    ["'\"'", '"'],
    ['"\'"', "'"],
  ];
  test.each(OK)("%p", (raw, value) => {
    expect(unescapeQuoted(raw)).toBe(value);
  });
  const BAD: readonly string[] = [
    '"\\q"',
    '"\\a"',
    '"\\\'"',
    "'\\\"'",
    '"\\x4"',
    '"\\x"',
    '"\\xzz"',
    '"\\x-1"',
    '"\\u0041"',
  ];
  test.each(BAD)("%p is refused", (raw) => {
    expect(() => unescapeQuoted(raw, 100)).toThrow(ConditionSyntaxError);
    try {
      unescapeQuoted(raw, 100);
    } catch (err) {
      expect((err as ConditionSyntaxError).pos).toBeGreaterThanOrEqual(100);
      expect((err as ConditionSyntaxError).pos).toBeLessThan(100 + raw.length);
    }
  });
});

test("the supported operators are libsinsp's", () => {
  expect([...SUPPORTED_OPERATORS].sort()).toEqual(
    [
      "=",
      "==",
      "!=",
      "<=",
      ">=",
      "<",
      ">",
      "exists",
      "contains",
      "icontains",
      "bcontains",
      "glob",
      "iglob",
      "bstartswith",
      "startswith",
      "endswith",
      "in",
      "intersects",
      "pmatch",
      "regex",
    ].sort(),
  );
});

describe("parseOperandPrefix", () => {
  const CASES: readonly [string, string | undefined, number?][] = [
    ["proc.name", "proc.name", 9],
    ["proc.name and more", "proc.name", 9],
    ["proc.name)", "proc.name", 9],
    ["proc.aname[2] x", "proc.aname[2]", 13],
    ['proc.env["A B"]!', "proc.env[A B]", 15],
    ["evt.arg.flags,", "evt.arg.flags", 13],
    ["tolower(proc.name) rest", "tolower(proc.name)", 18],
    ['join(",", (a.b, c.d))x', 'join(",", (a.b, c.d))', 21],
    ["proc.name.", "proc.name", 9],
    ["bash", undefined],
    ["", undefined],
    [" proc.name", undefined],
    ["%proc.name", undefined],
    ["proc.aname[", undefined],
    ["proc.aname[]", undefined],
    ["tolower(proc.name", undefined],
    ["tolower()", undefined],
    ['tolower("\\q")', undefined],
    ["val(proc.name)", undefined],
  ];
  const rows = CASES.map(([text, operand, length]) => [text, operand ?? null, length ?? null] as const);
  test.each(rows)("%p", (text, operand, length) => {
    const got = parseOperandPrefix(text);
    if (operand === null) {
      expect(got).toBeUndefined();
      return;
    }
    expect(got).toBeDefined();
    expect(showArg(got!.operand)).toBe(operand);
    expect(got!.length).toBe(length as number);
  });
});

// ---------------------------------------------------------------------------------------------
// Checker

const LISTS: Readonly<Record<string, readonly string[]>> = {
  shell_binaries: ["bash", "sh", "zsh"],
  web_ports: ["80", "443", "http"],
  private_nets: ["10.0.0.0/8", "192.168.0.0/16"],
  empty_list: [],
  ssh_dirs: ["/home/*/.ssh", "/root/.ssh"],
};

const MACROS: Readonly<Record<string, string>> = {
  is_shell: "proc.name in shell_binaries",
  open_read: "evt.type in (open, openat) and evt.is_open_read = true",
  never_true: "evt.num = 0",
  uses_shell: "is_shell and proc.pname exists",
};

function scope(): CheckScope {
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

function check(text: string) {
  return checkCondition(parseCondition(text), scope());
}

/** [condition, the checked condition printed with macros and lists expanded]. */
const CHECK_ACCEPT: readonly [string, string][] = [
  ["proc.name = bash", "proc.name = bash"],
  ["proc.name in shell_binaries", "proc.name in (bash, sh, zsh)"],
  ["proc.name in (shell_binaries, fish)", "proc.name in (bash, sh, zsh, fish)"],
  ['proc.name in ("shell_binaries")', "proc.name in (shell_binaries)"],
  ["proc.name in (empty_list)", "proc.name in ()"],
  ["proc.name in empty_list", "proc.name in ()"],
  ["proc.name in unknown_list", "proc.name in (unknown_list)"],
  ["proc.name = shell_binaries", "proc.name = shell_binaries"],
  ["proc.name startswith oneof shell_binaries", "proc.name startswith oneof (bash, sh, zsh)"],
  ["proc.name = anyof (shell_binaries, ksh)", "proc.name = anyof (bash, sh, zsh, ksh)"],
  ["fd.name pmatch ssh_dirs", "fd.name pmatch (/home/*/.ssh, /root/.ssh)"],
  ["fd.sport in web_ports", "fd.sport in (80, 443, http)"],
  ["fd.sport = http", "fd.sport = http"],
  ["fd.sport = https", "fd.sport = https"],
  ["fd.sport = 8080", "fd.sport = 8080"],
  ['fd.sport = ""', 'fd.sport = ""'],
  ["fd.rport in (22, ssh, 0)", "fd.rport in (22, ssh, 0)"],
  ["user.uid = 0", "user.uid = 0"],
  ["user.uid in (0, 1000, 4294967295)", "user.uid in (0, 1000, 4294967295)"],
  ["proc.pid = -1", "proc.pid = -1"],
  ["proc.pid > +5", "proc.pid > +5"],
  ["proc.pid in (1, 2, 3)", "proc.pid in (1, 2, 3)"],
  ["evt.is_open_read = true", "evt.is_open_read = true"],
  ["evt.is_open_read != false", "evt.is_open_read != false"],
  ["evt.is_open_read in (true, false)", "evt.is_open_read in (true, false)"],
  ["fd.ip = 10.0.0.1", "fd.ip = 10.0.0.1"],
  ["fd.ip in (127.0.0.1, ::1)", "fd.ip in (127.0.0.1, ::1)"],
  ["fd.ip == anyof (127.0.0.1)", "fd.ip = anyof (127.0.0.1)"],
  ["fd.ip != allof (127.0.0.1)", "fd.ip != allof (127.0.0.1)"],
  ["fd.ip = ::1", "fd.ip = ::1"],
  ["fd.ip = 2001:db8::1", "fd.ip = 2001:db8::1"],
  ["fd.net in private_nets", "fd.net in (10.0.0.0/8, 192.168.0.0/16)"],
  ["fd.net == anyof (127.0.0.1/32)", "fd.net = anyof (127.0.0.1/32)"],
  ["fd.net = 10.0.0.0/8", "fd.net = 10.0.0.0/8"],
  ["fd.net = 10.0.0.1/32", "fd.net = 10.0.0.1/32"],
  ['fd.net = "::/0"', "fd.net = ::/0"],
  ["fd.net != 192.168.0.0/16", "fd.net != 192.168.0.0/16"],
  ["evt.type = open", "evt.type = open"],
  ["evt.type in (open, openat, execve)", "evt.type in (open, openat, execve)"],
  ["evt.type != connect", "evt.type != connect"],
  ["evt.type = oneof (open, openat)", "evt.type = oneof (open, openat)"],
  ["proc.aname = bash", "proc.aname = bash"],
  ["proc.aname[2] = bash", "proc.aname[2] = bash"],
  ['proc.aname["3"] = bash', "proc.aname[3] = bash"],
  ["proc.apid[1] > 1", "proc.apid[1] > 1"],
  ["evt.arg[0] = x", "evt.arg[0] = x"],
  ["evt.arg.flags contains O_RDONLY", "evt.arg.flags contains O_RDONLY"],
  ["container.mount.dest[/var/run/docker.sock] exists", "container.mount.dest[/var/run/docker.sock] exists"],
  ["proc.env[HOME] = /root", "proc.env[HOME] = /root"],
  ["proc.env = x", "proc.env = x"],
  ["fd.types in (file, ipv4)", "fd.types in (file, ipv4)"],
  ["fd.types intersects (unix)", "fd.types intersects (unix)"],
  ["fd.types exists", "fd.types exists"],
  ["fd.types[0] in (file)", "fd.types[0] in (file)"],
  ["proc.name exists", "proc.name exists"],
  ["not proc.name exists", "not proc.name exists"],
  ["tolower(proc.name) = bash", "tolower(proc.name) = bash"],
  ["toupper(proc.name) contains SH", "toupper(proc.name) contains SH"],
  ["basename(proc.exe) = ls", "basename(proc.exe) = ls"],
  ["b64(proc.cmdline) = x", "b64(proc.cmdline) = x"],
  ["b64(evt.buffer) = x", "b64(evt.buffer) = x"],
  ["len(proc.name) > 3", "len(proc.name) > 3"],
  ["len(fd.types) >= 1", "len(fd.types) >= 1"],
  ["len(evt.buffer) < 10", "len(evt.buffer) < 10"],
  ['concat(proc.name, "-", proc.exe) = a-b', 'concat(proc.name, "-", proc.exe) = a-b'],
  ['join(",", (proc.name, proc.exe)) = "a,b"', 'join(",", (proc.name, proc.exe)) = "a,b"'],
  ['join(",", fd.types) = file', 'join(",", fd.types) = file'],
  ["toupper(tolower(proc.name)) = X", "toupper(tolower(proc.name)) = X"],
  ["proc.name = val(proc.pname)", "proc.name = val(proc.pname)"],
  ["proc.pid < val(proc.ppid)", "proc.pid < val(proc.ppid)"],
  ["proc.name = tolower(proc.pname)", "proc.name = val(tolower(proc.pname))"],
  ["evt.buflen > len(proc.name)", "evt.buflen > val(len(proc.name))"],
  ["proc.name in val(proc.pname)", "proc.name in val(proc.pname)"],
  ["evt.buffer bcontains cafebabe", "evt.buffer bcontains cafebabe"],
  ["evt.buffer bstartswith 7F454C46", "evt.buffer bstartswith 7F454C46"],
  ["evt.buffer contains abc", "evt.buffer contains abc"],
  ['proc.name regex "ba(sh|zsh)"', 'proc.name regex "ba(sh|zsh)"'],
  ['proc.cmdline regex "[0-9]{3}\\\\.x"', "proc.cmdline regex [0-9]{3}\\.x"],
  ['proc.name glob "/tmp/*"', "proc.name glob /tmp/*"],
  ["fd.name pmatch (/home/*/.ssh, /etc)", "fd.name pmatch (/home/*/.ssh, /etc)"],
  ["proc.name = oneof (a, b)", "proc.name = oneof (a, b)"],
  ["proc.name icontains anyof (a)", "proc.name icontains anyof (a)"],
  ["proc.name regex allof (a.*, .*b)", "proc.name regex allof (a.*, .*b)"],
  ["is_shell", "proc.name in (bash, sh, zsh)"],
  [
    "is_shell and open_read",
    "(proc.name in (bash, sh, zsh) and (evt.type in (open, openat) and evt.is_open_read = true))",
  ],
  ["uses_shell or never_true", "((proc.name in (bash, sh, zsh) and proc.pname exists) or evt.num = 0)"],
  ["not is_shell", "not proc.name in (bash, sh, zsh)"],
];

/** [condition with ‸ at the reported position, issue code, message pattern]. */
const CHECK_REJECT: readonly [string, CheckIssueCode, RegExp][] = [
  ["‸proc.nme = x", "unknown_field", /unknown field 'proc.nme'; did you mean 'proc.name'\?/],
  ["‸proc.nmae = x", "unknown_field", /did you mean 'proc.name'\?/],
  ["‸user.udi = 0", "unknown_field", /did you mean 'user.uid'\?/],
  ["proc.name = a and ‸fd.nmae = x", "unknown_field", /did you mean 'fd.name'\?/],
  ["‸proc.exepth = x", "unknown_field", /did you mean 'proc.exepath'\?/],
  ["‸foo.bar = x", "unknown_field", /unknown field 'foo.bar'/],
  ["‸zzzzzz.qqqqqqqq exists", "unknown_field", /^unknown field 'zzzzzz.qqqqqqqq'$/],
  ["tolower(‸proc.nme) = x", "unknown_field", /did you mean 'proc.name'/],
  ["proc.name = val(‸proc.nme)", "unknown_field", /did you mean 'proc.name'/],
  ["‸proc.aname[x] = a", "bad_argument", /does not accept the argument 'x'/],
  ["‸proc.aname[1.5] = a", "bad_argument", /does not accept the argument '1.5'/],
  ["‸proc.name[1] = a", "bad_argument", /does not accept the argument '1' \(it takes none\)/],
  ["‸proc.name[x] = a", "bad_argument", /it takes none/],
  ["‸evt.arg[x] = y", "bad_argument", /does not accept the argument 'x'/],
  ["‸evt.rawarg = 1", "bad_argument", /requires an argument/],
  ["‸evt.arg.no_such_param = 1", "bad_argument", /does not accept the argument 'no_such_param'/],
  ["‸fd.types[x] in (file)", "bad_argument", /fd.types/],
  ["user.uid = ‸root", "bad_literal", /'root' is not a number/],
  ["evt.is_open_read = ‸yes", "bad_literal", /'yes' is not a boolean/],
  ["evt.is_open_read = ‸TRUE", "bad_literal", /not a boolean/],
  ["evt.is_open_read = ‸1", "bad_literal", /not a boolean/],
  ["fd.ip = ‸1.2.3", "bad_literal", /'1.2.3' is not an IP address/],
  ["fd.ip = ‸1.2.3.256", "bad_literal", /not an IP address/],
  ["fd.ip = ‸localhost", "bad_literal", /not an IP address/],
  ["fd.ip = ‸1::2::3", "bad_literal", /not an IP address/],
  ["fd.ip = ‸10.0.0.0/40", "bad_literal", /invalid prefix length/],
  ["fd.net = ‸10.0.0.0/33", "bad_literal", /invalid prefix length \(0..32\)/],
  ["fd.net = ‸::1/129", "bad_literal", /invalid prefix length \(0..128\)/],
  ["fd.net = ‸10.0.0.1", "bad_literal", /not an IP network/],
  ["fd.net = ‸10.0.0.0/x", "bad_literal", /invalid prefix length/],
  ["fd.sport = ‸gopher", "bad_literal", /not a port number or a known service name/],
  ["fd.sport = ‸-1", "bad_literal", /port/],
  ["proc.pid = ‸1.5", "bad_literal", /not a number/],
  ["proc.pid > ‸1.5", "bad_literal", /not a number/],
  ["proc.pid > ‸-0.1222e+10", "bad_literal", /not a number/],
  ["proc.pid = ‸bash", "bad_literal", /not a number/],
  // For a list the position is the list's, not the offending item's.
  ["proc.pid in (1, ‸x)", "bad_literal", /'x' is not a number/],
  ["user.uid in ‸shell_binaries", "bad_literal", /'bash' is not a number/],
  ["fd.ip in (10.0.0.1, ‸nope)", "bad_literal", /'nope' is not an IP address/],
  ["evt.type = ‸foo", "unknown_event_type", /unknown event type 'foo'/],
  ["evt.type = ‸Open", "unknown_event_type", /'Open'/],
  ["evt.type in ‸(open, foo)", "unknown_event_type", /'foo'/],
  ["evt.type = oneof ‸(open, foo)", "unknown_event_type", /'foo'/],
  ["evt.type in ‸shell_binaries", "unknown_event_type", /'bash'/],
  ["fd.num ‸contains 1", "bad_operator", /'contains' is not supported for numeric fields/],
  ["user.uid ‸startswith 0", "bad_operator", /'startswith' is not supported for numeric fields/],
  ["proc.pid ‸glob 1*", "bad_operator", /numeric/],
  ["proc.pid ‸pmatch (/1)", "bad_operator", /numeric/],
  ["proc.pid ‸regex 1", "bad_operator", /numeric/],
  ["evt.is_open_read ‸> 1", "bad_operator", /'>' is not supported for boolean fields/],
  ["evt.is_open_read ‸contains t", "bad_operator", /boolean/],
  ["proc.name ‸bcontains 41", "bad_operator", /'bcontains' is not supported for string fields/],
  ["proc.name ‸bstartswith 41", "bad_operator", /string/],
  ["fd.ip ‸startswith 10", "bad_operator", /ip address/],
  ["fd.ip ‸> 1", "bad_operator", /ip address/],
  ["fd.net ‸contains 10", "bad_operator", /ip network/],
  ["evt.buffer ‸glob x", "bad_operator", /buffer/],
  ["evt.buffer ‸regex x", "bad_operator", /buffer/],
  ["evt.buffer ‸icontains x", "bad_operator", /buffer/],
  ["evt.buffer ‸pmatch (/x)", "bad_operator", /buffer/],
  [
    "fd.types ‸= file",
    "bad_operator",
    /'=' is not supported for list fields \(use in, intersects or exists\)/,
  ],
  ["fd.types ‸!= file", "bad_operator", /list fields/],
  ["fd.types ‸contains file", "bad_operator", /list fields/],
  ["fd.types ‸pmatch (/a)", "bad_operator", /list fields/],
  ["fd.types ‸startswith oneof (a)", "bad_operator", /list fields/],
  ["len(proc.name) ‸contains 1", "bad_operator", /numeric/],
  ['proc.name regex "‸("', "bad_literal", /invalid regular expression '\(': missing closing \)/],
  ['proc.name regex "‸[a-"', "bad_literal", /invalid regular expression.*missing closing \]/],
  ['proc.name regex "‸*a"', "bad_literal", /invalid regular expression.*missing argument to repetition/],
  ['proc.name regex "ab[‸z-a]"', "bad_literal", /invalid character class range: 'z-a' at offset 3/],
  ['proc.name regex oneof (ok, ‸"(")', "bad_literal", /invalid regular expression/],
  ["evt.buffer bcontains ‸4", "bad_literal", /not a hex byte string/],
  ["evt.buffer bcontains ‸zz", "bad_literal", /not a hex byte string/],
  ["evt.buffer bstartswith ‸0x41", "bad_literal", /not a hex byte string/],
  [
    "proc.pid = ‸val(proc.name)",
    "bad_operator",
    /field 'proc.pid' has type 'int64' while the right-hand side field 'proc.name' has incompatible type 'charbuf'/,
  ],
  ["proc.name = ‸val(proc.pid)", "bad_operator", /has type 'charbuf' while .* incompatible type 'int64'/],
  // libsinsp compares field types exactly: int64 is not uint64.
  [
    "proc.pid = ‸val(evt.buflen.in)",
    "bad_operator",
    /type 'int64' while .*'evt.buflen.in' has incompatible type 'uint64'/,
  ],
  ["proc.pid > ‸len(proc.name)", "bad_operator", /incompatible type 'uint64'/],
  ["fd.ip = ‸val(fd.name)", "bad_operator", /field 'fd.ip' doesn't support right-hand side fields/],
  [
    "proc.name = ‸val(proc.aname[1])",
    "bad_operator",
    /field 'proc.aname' can't be used as a right-hand side field/,
  ],
  [
    "evt.num = ‸val(evt.around[1])",
    "bad_operator",
    /field 'evt.around' can't be used as a right-hand side field/,
  ],
  ["proc.name = ‸val(proc.pname)[x]", "bad_argument", /transformer 'val' does not support field arguments/],
  [
    "proc.name = ‸len(proc.exe)",
    "bad_operator",
    /type 'charbuf' while the right-hand side field 'len\(proc.exe\)' has incompatible type 'uint64'/,
  ],
  [
    "‸tolower(evt.type) in (open)",
    "bad_operator",
    /event code search does not support `evt.type` checks with transformers/,
  ],
  ["‸b64(evt.type) = close", "bad_operator", /with transformers/],
  ["‸concat(syscall.type, x.y) != open", "bad_operator", /with transformers/],
  [
    "evt.type = ‸val(proc.name)",
    "bad_operator",
    /right-hand field comparisons on `evt.type`\/`syscall.type` checks are not supported/,
  ],
  ["syscall.type in ‸tolower(proc.name)", "bad_operator", /right-hand field comparisons/],
  ["proc.name regex ‸val(proc.pname)", "bad_operator", /'regex' does not accept a field/],
  ["proc.name pmatch ‸val(proc.pname)", "bad_operator", /'pmatch' does not accept a field/],
  ["‸tolower(user.uid) = x", "bad_argument", /tolower\(\) needs a string, 'user.uid' is a number/],
  ["‸toupper(proc.pid) = x", "bad_argument", /toupper\(\) needs a string/],
  ["‸basename(fd.num) = x", "bad_argument", /basename\(\) needs a string/],
  ["‸tolower(evt.is_open_read) = x", "bad_argument", /a boolean/],
  ["‸tolower(fd.ip) = x", "bad_argument", /field 'fd.ip' does not support transformers/],
  ["‸b64(proc.pid) = x", "bad_argument", /b64\(\) needs a string or buffer/],
  ["‸len(user.uid) > 1", "bad_argument", /len\(\) needs a string, buffer or list/],
  ["‸tolower(len(proc.name)) = x", "bad_argument", /tolower\(\) needs a string/],
  ["proc.name = ‸tolower(proc.pid)", "bad_argument", /tolower\(\) needs a string/],
  ["‸concat(proc.name) = x", "bad_argument", /concat\(\) requires at least 2 arguments/],
  ["‸concat(proc.name, proc.pid) = x", "bad_argument", /concat\(\) arguments must be single strings/],
  ["‸concat(proc.name, fd.types) = x", "bad_argument", /single strings/],
  ['‸concat(proc.name, ("a")) = x', "bad_argument", /single strings/],
  ['‸join(",", proc.name) = x', "bad_argument", /join\(\) second argument must be a list/],
  ["‸join(fd.types, (proc.exe)) = x", "bad_argument", /separator string and a list/],
  ['‸join(",") = x', "bad_argument", /exactly 2 arguments/],
  ['‸join(",", (proc.name), (proc.exe)) = x', "bad_argument", /exactly 2 arguments/],
  ["‸tolower(proc.name, proc.exe) = x", "bad_argument", /tolower\(\) takes exactly one field or transformer/],
  ['‸tolower("abc") = x', "bad_argument", /exactly one/],
  ["‸tolower((proc.name)) = x", "bad_argument", /exactly one/],
  ["‸tolower(proc.name)[1] = x", "bad_argument", /tolower\(\) takes no \[argument\]/],
  ["‸tolower(proc.aname) = x", "bad_argument", /does not support transformers/],
  // proc.args is one string in libsinsp, not a list.
  ['‸getopt(proc.args, "a:")[a] = x', "bad_argument", /getopt\(\) first argument must be a list/],
  ['proc.name = ‸getopt(("-a", "x"), "a:")', "bad_operator", /incompatible type 'charbuf \(list\)'/],
  ['‸getopt(("-a"), "a:", "x") intersects (a)', "bad_argument", /exactly 2 arguments/],
  ['‸getopt(("-a"), ("a")) intersects (a)', "bad_argument", /optstring\) must be a single value/],
  ['‸getopt(("-a"), "a")[ab] = a', "bad_argument", /single option character/],
  ['‸getopt(("-a"), proc.pid) intersects (a)', "bad_argument", /arguments must be strings/],
  ["‸unknown_macro", "undefined_macro", /undefined macro 'unknown_macro'/],
  ["proc.name in (a) and ‸nope", "undefined_macro", /'nope'/],
  ["proc.name exists and not ‸cyclic", "macro_cycle", /cyclic/],
];

describe("checker: accepted conditions", () => {
  test.each(CHECK_ACCEPT)("%p", (input, printed) => {
    const result = check(input);
    if ("issue" in result) throw new Error(`unexpected issue: ${result.issue.message}`);
    expect(printChecked(result.checked)).toBe(printed);
  });
});

describe("checker: rejected conditions", () => {
  test.each(CHECK_REJECT)("%p", (input, code, message) => {
    const { text, pos } = marked(input);
    const result = check(text);
    if ("checked" in result) throw new Error(`accepted: ${printChecked(result.checked)}`);
    expect(result.issue.code).toBe(code);
    expect(result.issue.message).toMatch(message);
    expect(result.issue.pos).toBe(pos);
  });
});

describe("checker: operators per field type", () => {
  // Which operators libsinsp lets each field type use (flt_is_comparable, and list fields only with
  // exists/in/intersects). One representative field per type; `list` is a list-valued field.
  const TYPES: Readonly<Record<string, { field: string; value: string; number: string; ok: string }>> = {
    string: {
      field: "fd.name",
      value: "x",
      number: "1",
      ok: "exists = != < <= > >= contains icontains startswith endswith glob iglob regex in intersects pmatch =anyof !=allof containsanyof",
    },
    number: { field: "proc.pid", value: "1", number: "1", ok: "exists = != < <= > >= in intersects" },
    bool: { field: "evt.is_open_read", value: "true", number: "1", ok: "exists = != in intersects" },
    ipaddr: {
      field: "fd.ip",
      value: "127.0.0.1",
      number: "127",
      ok: "exists = != in intersects =anyof !=allof",
    },
    ipnet: {
      field: "fd.net",
      value: "127.0.0.1/32",
      number: "127",
      ok: "exists = != in intersects =anyof !=allof",
    },
    bytes: {
      field: "evt.buffer",
      value: "303000",
      number: "1",
      ok: "exists = != contains startswith endswith bcontains bstartswith in intersects",
    },
    list: { field: "fd.types", value: "file", number: "1", ok: "exists in intersects" },
  };
  const OPERATORS = [
    "exists",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "contains",
    "icontains",
    "bcontains",
    "startswith",
    "bstartswith",
    "endswith",
    "glob",
    "iglob",
    "regex",
    "in",
    "intersects",
    "pmatch",
    "=anyof",
    "!=allof",
    "containsanyof",
  ];
  const rows: [string, string, boolean][] = [];
  for (const [type, t] of Object.entries(TYPES)) {
    const ok = new Set(t.ok.split(" "));
    for (const op of OPERATORS) {
      // libsinsp's tests only pin modifiers down for strings, addresses and networks (and list
      // fields refuse every operator but exists/in/intersects); the other types are left out.
      const modified = op.endsWith("anyof") || op.endsWith("allof");
      if (modified && (type === "number" || type === "bool" || type === "bytes")) continue;
      let condition: string;
      if (op === "exists") condition = `${t.field} exists`;
      else if (/^[<>]/.test(op)) condition = `${t.field} ${op} ${t.number}`;
      else if (op === "in" || op === "intersects" || op === "pmatch")
        condition = `${t.field} ${op} (${t.value})`;
      else if (modified) {
        condition = `${t.field} ${op.slice(0, -5)} ${op.slice(-5)} (${t.value})`;
      } else condition = `${t.field} ${op} ${t.value}`;
      rows.push([type, condition, ok.has(op)]);
    }
  }
  test.each(rows)("%s: %p accepted: %p", (_type, condition, accepted) => {
    const result = check(condition);
    if (accepted) {
      expect("issue" in result ? result.issue.message : "accepted").toBe("accepted");
    } else {
      expect("issue" in result && result.issue.code).toBe("bad_operator");
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Evaluation

type Values = Readonly<Record<string, FieldValue>>;

/** Field values by the field as written, as a rule test case gives them. */
const binder: FieldBinder<Values> = (field) => (ctx) => ctx[field.display];

function holds(condition: string, values: Values): boolean {
  const result = check(condition);
  if ("issue" in result) throw new Error(`${condition}: ${result.issue.message}`);
  return planCondition(result.checked, binder)(values);
}

const bytes = (...b: number[]) => new Uint8Array(b);

/** [condition, field values, whether it holds]. */
const EVAL: readonly [string, Values, boolean][] = [
  // A missing field makes its comparison false, whatever the operator; `not` of it is true.
  ["proc.name = bash", {}, false],
  ["not proc.name = bash", {}, true],
  ["proc.name != bash", {}, false],
  ["not proc.name != bash", {}, true],
  ["proc.name in (a, b)", {}, false],
  ["not proc.name in (a, b)", {}, true],
  ["proc.name contains a", {}, false],
  ["proc.pid > 0", {}, false],
  ["proc.pid < 0", {}, false],
  ["tolower(proc.name) = bash", {}, false],
  ["not tolower(proc.name) = bash", {}, true],
  ["proc.name = val(proc.pname)", { "proc.name": "a" }, false],
  ["proc.name != val(proc.pname)", { "proc.name": "a" }, false],
  ["proc.name exists", {}, false],
  ["proc.name exists", { "proc.name": "" }, true],
  ["not proc.name exists", {}, true],
  ["proc.name != bash", { "proc.name": "sh" }, true],
  ["proc.name != bash", { "proc.name": "bash" }, false],
  ["proc.name = bash and proc.pid = 1", { "proc.name": "bash" }, false],
  ["proc.name = bash or proc.pid = 1", { "proc.name": "bash" }, true],
  ["is_shell and not proc.name = zsh", { "proc.name": "sh" }, true],
  ["is_shell and not proc.name = zsh", { "proc.name": "zsh" }, false],
  ["never_true", { "evt.num": 0 }, true],
  // Unindexed ancestor fields hold if any ancestor holds; an indexed one reads one ancestor.
  ["proc.aname = bash", { "proc.aname": ["sshd", "bash", "systemd"] }, true],
  ["proc.aname = bash", { "proc.aname": ["sshd", "systemd"] }, false],
  ["proc.aname = bash", { "proc.aname": [] }, false],
  ["not proc.aname = bash", { "proc.aname": [] }, true],
  ["proc.aname != bash", { "proc.aname": ["bash", "sh"] }, true],
  ["proc.aname != bash", { "proc.aname": ["bash"] }, false],
  ["proc.aname in (sshd, cron)", { "proc.aname": ["bash", "cron"] }, true],
  ["proc.aname startswith ss", { "proc.aname": ["bash", "sshd"] }, true],
  ["proc.aname exists", { "proc.aname": ["init"] }, true],
  ["proc.aname[2] = bash", { "proc.aname": ["bash"], "proc.aname[2]": "sshd" }, false],
  ["proc.aname[2] = bash", { "proc.aname": ["sshd"], "proc.aname[2]": "bash" }, true],
  ["proc.aname[2] = bash", { "proc.aname": ["bash"] }, false],
  ["proc.apid > 100", { "proc.apid": [1, 50, 200] }, true],
  ["proc.apid > 100", { "proc.apid": [1, 50] }, false],
  // List fields: `in` needs every element in the set, `intersects` one.
  ["fd.types in (file, ipv4)", { "fd.types": ["file", "ipv4"] }, true],
  ["fd.types in (file, ipv4)", { "fd.types": ["file"] }, true],
  ["fd.types in (file, ipv4)", { "fd.types": ["file", "unix"] }, false],
  ["fd.types intersects (unix, pipe)", { "fd.types": ["file", "unix"] }, true],
  ["fd.types intersects (unix, pipe)", { "fd.types": ["file", "ipv4"] }, false],
  ["fd.types intersects (unix)", { "fd.types": [] }, false],
  ["not fd.types intersects (unix)", { "fd.types": ["file"] }, true],
  ["fd.types exists", { "fd.types": ["file"] }, true],
  ["fd.types exists", {}, false],
  ["len(fd.types) = 3", { "fd.types": ["a", "b", "c"] }, true],
  ['join(",", fd.types) = "a,b"', { "fd.types": ["a", "b"] }, true],
  // String operators.
  ["proc.cmdline contains curl", { "proc.cmdline": "sh -c curl x" }, true],
  ["proc.cmdline contains CURL", { "proc.cmdline": "sh -c curl x" }, false],
  ["proc.cmdline icontains CURL", { "proc.cmdline": "sh -c curl x" }, true],
  ["proc.cmdline icontains curl", { "proc.cmdline": "SH -C CURL X" }, true],
  ["proc.name startswith ba", { "proc.name": "bash" }, true],
  ["proc.name startswith sh", { "proc.name": "bash" }, false],
  ["proc.name endswith sh", { "proc.name": "bash" }, true],
  ['proc.name contains ""', { "proc.name": "bash" }, true],
  // glob: '*' and '?' also match '/', classes and escapes work, iglob ignores case.
  ["fd.name glob /tmp/*", { "fd.name": "/tmp/a/b/c" }, true],
  ["fd.name glob /tmp/*", { "fd.name": "/tmpx" }, false],
  ["fd.name glob /tmp/*", { "fd.name": "/tmp/" }, true],
  ["fd.name glob /tmp/?.sh", { "fd.name": "/tmp/a.sh" }, true],
  ["fd.name glob /tmp/?.sh", { "fd.name": "/tmp/ab.sh" }, false],
  ["fd.name glob /a?b", { "fd.name": "/a/b" }, true],
  ['fd.name glob "/home/*/.ssh/*"', { "fd.name": "/home/u/.ssh/id_rsa" }, true],
  ['fd.name glob "/home/*/.ssh/*"', { "fd.name": "/home/u/ssh/id_rsa" }, false],
  ['proc.name glob "[bc]ash"', { "proc.name": "bash" }, true],
  ['proc.name glob "[bc]ash"', { "proc.name": "dash" }, false],
  ['proc.name glob "[!b]ash"', { "proc.name": "dash" }, true],
  ['proc.name glob "[a-c]ash"', { "proc.name": "cash" }, true],
  ['proc.name glob "a\\\\*b"', { "proc.name": "a*b" }, true],
  ['proc.name glob "a\\\\*b"', { "proc.name": "axb" }, false],
  ["proc.name glob a.c", { "proc.name": "abc" }, false],
  ["proc.name glob BASH", { "proc.name": "bash" }, false],
  ["proc.name iglob BA*", { "proc.name": "bash" }, true],
  ["proc.name iglob ba?h", { "proc.name": "BASH" }, true],
  // regex is a full match.
  ['proc.name regex "ba"', { "proc.name": "bash" }, false],
  ['proc.name regex "ba.*"', { "proc.name": "bash" }, true],
  ['proc.name regex "b|bash"', { "proc.name": "bash" }, true],
  ['proc.name regex "a"', { "proc.name": "bab" }, false],
  ['proc.name regex ".*a.*"', { "proc.name": "bab" }, true],
  ['proc.cmdline regex "[0-9]+"', { "proc.cmdline": "123" }, true],
  ['proc.cmdline regex "[0-9]+"', { "proc.cmdline": "123x" }, false],
  // pmatch: a listed path is a prefix of whole components; a component may be a glob.
  ["fd.name pmatch (/usr)", { "fd.name": "/usr/bin/ls" }, true],
  ["fd.name pmatch (/usr)", { "fd.name": "/usr" }, true],
  ["fd.name pmatch (/usr)", { "fd.name": "/usrx/bin" }, false],
  ["fd.name pmatch (/usr)", { "fd.name": "/us" }, false],
  ["fd.name pmatch (/usr/)", { "fd.name": "/usr/lib" }, true],
  ["fd.name pmatch (/etc, /usr)", { "fd.name": "/etc/passwd" }, true],
  ["fd.name pmatch (/home/*/.ssh)", { "fd.name": "/home/u/.ssh/id_rsa" }, true],
  ["fd.name pmatch (/home/*/.ssh)", { "fd.name": "/home/u/.ssh" }, true],
  ["fd.name pmatch (/home/*/.ssh)", { "fd.name": "/home/u/x/.ssh" }, false],
  ["fd.name pmatch (/home/*/.ssh)", { "fd.name": "/home/.ssh" }, false],
  ["fd.name pmatch ssh_dirs", { "fd.name": "/root/.ssh/authorized_keys" }, true],
  ["fd.name pmatch ()", { "fd.name": "/etc" }, false],
  // Modifiers: oneof is exactly one match, anyof at least one, allof every one.
  ["proc.cmdline contains oneof (a, b)", { "proc.cmdline": "a" }, true],
  ["proc.cmdline contains oneof (a, b)", { "proc.cmdline": "ab" }, false],
  ["proc.cmdline contains oneof (a, b)", { "proc.cmdline": "c" }, false],
  ["proc.cmdline contains anyof (a, b)", { "proc.cmdline": "ab" }, true],
  ["proc.cmdline contains anyof (a, b)", { "proc.cmdline": "b" }, true],
  ["proc.cmdline contains anyof (a, b)", { "proc.cmdline": "c" }, false],
  ["proc.cmdline contains allof (a, b)", { "proc.cmdline": "ba" }, true],
  ["proc.cmdline contains allof (a, b)", { "proc.cmdline": "a" }, false],
  ["proc.name != allof (a, b)", { "proc.name": "c" }, true],
  ["proc.name != allof (a, b)", { "proc.name": "a" }, false],
  ["proc.name = oneof (a, b)", { "proc.name": "b" }, true],
  ["proc.name = oneof ()", { "proc.name": "b" }, false],
  ["proc.name = anyof ()", { "proc.name": "b" }, false],
  ["proc.name startswith oneof (/usr, /usr/bin)", { "proc.name": "/usr/bin/x" }, false],
  ["proc.name startswith oneof (/usr, /opt)", { "proc.name": "/usr/bin/x" }, true],
  ["proc.name glob anyof (*.sh, *.py)", { "proc.name": "x.py" }, true],
  ["proc.name regex allof (a.*, .*b)", { "proc.name": "axb" }, true],
  ["proc.name regex allof (a.*, .*b)", { "proc.name": "axc" }, false],
  ["proc.name = oneof (a) and proc.name = anyof", { "proc.name": "a" }, false],
  ["proc.name = anyof", { "proc.name": "anyof" }, true],
  ["not proc.name contains anyof (a)", {}, true],
  // Numbers: exact against number and bigint values; in, ranges, signs.
  ["proc.pid = 1", { "proc.pid": 1 }, true],
  ["proc.pid = 1", { "proc.pid": 1n }, true],
  ["proc.pid != 1", { "proc.pid": 1n }, false],
  ["proc.pid != 1", { "proc.pid": 2n }, true],
  ["proc.pid > -1", { "proc.pid": 0 }, true],
  ["proc.pid >= 5", { "proc.pid": 5n }, true],
  ["proc.pid < 5", { "proc.pid": 5n }, false],
  ["proc.pid <= 5", { "proc.pid": 4 }, true],
  ["proc.pid in (1, 2)", { "proc.pid": 2 }, true],
  ["proc.pid in (1, 2)", { "proc.pid": 2n }, true],
  ["proc.pid in (1, 2)", { "proc.pid": 3 }, false],
  ["evt.rawtime > 5", { "evt.rawtime": 1_700_000_000_000_000_000n }, true],
  ["evt.rawtime < 100", { "evt.rawtime": 99n }, true],
  ["evt.rawtime = 9007199254740991", { "evt.rawtime": 9_007_199_254_740_991n }, true],
  ["evt.rawtime = 9007199254740991", { "evt.rawtime": 9_007_199_254_740_990n }, false],
  ["proc.pid < val(proc.ppid)", { "proc.pid": 5, "proc.ppid": 7n }, true],
  ["proc.pid = val(proc.ppid)", { "proc.pid": 7n, "proc.ppid": 7 }, true],
  ["proc.pid != val(proc.ppid)", { "proc.pid": 7n, "proc.ppid": 7 }, false],
  ["user.uid = 0", { "user.uid": 0 }, true],
  ["fd.sport = http", { "fd.sport": 80 }, true],
  ["fd.sport in web_ports", { "fd.sport": 443 }, true],
  ["fd.sport in web_ports", { "fd.sport": 8080 }, false],
  // Booleans and buffers.
  ["evt.is_open_read = true", { "evt.is_open_read": true }, true],
  ["evt.is_open_read = true", { "evt.is_open_read": false }, false],
  ["evt.is_open_read != true", { "evt.is_open_read": false }, true],
  ["evt.buffer bcontains 4243", { "evt.buffer": bytes(0x41, 0x42, 0x43) }, true],
  ["evt.buffer bcontains 4341", { "evt.buffer": bytes(0x41, 0x42, 0x43) }, false],
  ["evt.buffer bstartswith 4142", { "evt.buffer": bytes(0x41, 0x42, 0x43) }, true],
  ["evt.buffer bstartswith 4243", { "evt.buffer": bytes(0x41, 0x42, 0x43) }, false],
  ["evt.buffer contains BC", { "evt.buffer": bytes(0x41, 0x42, 0x43) }, true],
  ["evt.buffer = ABC", { "evt.buffer": bytes(0x41, 0x42, 0x43) }, true],
  ["evt.buffer endswith BC", { "evt.buffer": bytes(0x41, 0x42, 0x43) }, true],
  // Addresses and networks.
  ["fd.ip = 10.0.0.1", { "fd.ip": "10.0.0.1" }, true],
  ["fd.ip = 10.0.0.1", { "fd.ip": "10.0.0.2" }, false],
  ["fd.ip != 10.0.0.1", { "fd.ip": "10.0.0.2" }, true],
  ["fd.ip in (1.2.3.4, 10.9.9.9)", { "fd.ip": "10.9.9.9" }, true],
  ["fd.ip in (1.2.3.4, 10.9.9.9)", { "fd.ip": "1.2.3.5" }, false],
  ["fd.ip in (1.2.3.4, ::1)", { "fd.ip": "0::1" }, true],
  ["fd.ip = anyof (1.2.3.4, 10.9.9.9)", { "fd.ip": "1.2.3.4" }, true],
  ["fd.ip != allof (1.2.3.4, 10.9.9.9)", { "fd.ip": "1.2.3.4" }, false],
  ["fd.ip != allof (1.2.3.4, 10.9.9.9)", { "fd.ip": "1.2.3.5" }, true],
  ["fd.ip = ::1", { "fd.ip": "::1" }, true],
  ["fd.ip = ::1", { "fd.ip": "0:0:0:0:0:0:0:1" }, true],
  ["fd.ip = 127.0.0.1", { "fd.ip": "::1" }, false],
  ["fd.net = 10.0.0.0/8", { "fd.net": "10.3.3.3" }, true],
  ["fd.net = 10.0.0.0/8", { "fd.net": "172.16.0.1" }, false],
  ["fd.net != 10.0.0.0/8", { "fd.net": "172.16.0.1" }, true],
  ["fd.net != 10.0.0.0/8", { "fd.net": "10.0.0.1" }, false],
  ["fd.net = 2001:db8::/32", { "fd.net": "2001:db8:1::5" }, true],
  ["fd.net = 2001:db8::/32", { "fd.net": "2001:db9::5" }, false],
  ["fd.net = 10.0.0.0/8", { "fd.net": "::1" }, false],
  ["fd.net in private_nets", { "fd.net": "192.168.1.1" }, true],
  ["fd.net in private_nets", { "fd.net": "172.16.0.1" }, false],
  ["fd.net = 0.0.0.0/0", { "fd.net": "172.16.0.1" }, true],
  // Transformers and field-to-field comparisons.
  ["tolower(proc.name) = bash", { "proc.name": "BaSh" }, true],
  ["toupper(proc.name) = BASH", { "proc.name": "bash" }, true],
  ["len(proc.name) > 3", { "proc.name": "bash" }, true],
  ["len(proc.name) > 3", { "proc.name": "sh" }, false],
  ["len(proc.name) = 2", { "proc.name": "é" }, true],
  ["basename(proc.exe) = ls", { "proc.exe": "/bin/ls" }, true],
  ["basename(proc.exe) = ls", { "proc.exe": "ls" }, true],
  ['concat(proc.name, "-", proc.exe) = a-b', { "proc.name": "a", "proc.exe": "b" }, true],
  ['concat(proc.name, "-", proc.exe) exists', { "proc.name": "a" }, false],
  ['join(",", (proc.name, proc.exe)) = "a,b"', { "proc.name": "a", "proc.exe": "b" }, true],
  ["b64(proc.cmdline) = hello", { "proc.cmdline": "aGVsbG8=" }, true],
  ["proc.name = val(proc.pname)", { "proc.name": "a", "proc.pname": "a" }, true],
  ["proc.name = val(proc.pname)", { "proc.name": "a", "proc.pname": "b" }, false],
  ["proc.name != val(proc.pname)", { "proc.name": "a", "proc.pname": "b" }, true],
  ["proc.name contains val(proc.pname)", { "proc.name": "bash-x", "proc.pname": "bash" }, true],
  ["proc.name startswith val(proc.pname)", { "proc.name": "bash-x", "proc.pname": "x" }, false],
  ["proc.name = tolower(proc.pname)", { "proc.name": "bash", "proc.pname": "BASH" }, true],
  ["evt.buflen > len(proc.name)", { "evt.buflen": 5, "proc.name": "bash" }, true],
  ["proc.name = val(proc.pname)", { "proc.name": "a", "proc.pname": "a" }, true],
  // evt.type under a transformer is refused only where it names event types (=, !=, in).
  ["tolower(evt.type) contains OPEN", { "evt.type": "open" }, false],
  ["evt.type in (open, openat)", { "evt.type": "openat" }, true],
];

describe("evaluation", () => {
  test.each(EVAL)("%p with %p is %p", (condition, values, expected) => {
    expect(holds(condition, values)).toBe(expected);
  });
});

describe("fixes after the first review", () => {
  const scope: CheckScope = {
    registry: FieldRegistry.default(),
    list: () => undefined,
    macro: () => ({ problem: "undefined_macro", message: "no" }),
  };
  const holds = (condition: string, values: Record<string, FieldValue>): boolean => {
    const result = checkCondition(parseCondition(condition), scope);
    if (!("checked" in result)) throw new Error(result.issue.message);
    const map = new Map(Object.entries(values));
    return planCondition(result.checked, (f) => () => map.get(f.display))(undefined);
  };
  const issue = (condition: string): string | undefined => {
    const result = checkCondition(parseCondition(condition), scope);
    return "issue" in result ? result.issue.message : undefined;
  };

  test.each([
    ['fd.name glob "[z-a]"', "/a", false],
    ['fd.name glob "[!z-a]"', "b", true],
    ["fd.name pmatch (/home/[z-a])", "/home/x/y", false],
    ['fd.name glob "[[:alpha:]]"', "a", true],
    ['fd.name glob "[[:digit:]]x"', "7x", true],
    ['fd.name glob "[\\\\]]"', "]", true],
  ])("glob never throws and reads fnmatch's bracket expressions: %s on %s", (c, v, want) => {
    expect(holds(c, { "fd.name": v })).toBe(want);
  });

  test.each([
    ['proc.name regex "[[:digit:]]+"', "123", true],
    ['proc.name regex "a]"', "a]", true],
    ['proc.name regex "ab|cd"', "cd", true],
    ['proc.name regex "b"', "abc", false],
    // RE2's POSIX mode has no lazy quantifiers: x*? is (x*)?, as in egrep.
    ['proc.name regex "x*?"', "xxx", true],
    // Leftmost-longest and whole-value: the alternation must cover the value.
    ['proc.name regex "a|ab"', "ab", true],
    ['proc.name regex "[^a]"', "\n", false],
  ])("regex reads RE2's POSIX syntax and matches the whole value: %s on %s", (c, v, want) => {
    expect(holds(c, { "proc.name": v })).toBe(want);
  });

  test.each([
    ['proc.name regex "\\\\d+"'],
    ['proc.name regex "(?:a)"'],
    ['proc.name regex "(a)\\\\1"'],
    ['proc.name regex "\\\\pL"'],
    ['proc.name regex "\\\\bfoo"'],
    ['proc.name regex "(?i)abc"'],
    ['proc.name regex "(?=a)a"'],
  ])("regex refuses what RE2's POSIX mode refuses: %s", (c) => {
    expect(issue(c)).toContain("invalid regular expression");
  });

  test("a NUL byte is refused in string values, allowed in buffers", () => {
    expect(issue('proc.name = "\\x00"')).toContain("NUL");
    expect(issue('proc.name contains "a\\x00"')).toContain("NUL");
    expect(issue('evt.buffer = "\\x00"')).toBeUndefined();
  });

  test("64-bit literals beyond 2^53 stay exact", () => {
    expect(issue("evt.rawtime > 1700000000000000000")).toBeUndefined();
    expect(holds("evt.rawtime > 1700000000000000000", { "evt.rawtime": 1700000000000000001n })).toBe(true);
    expect(holds("evt.rawtime = 9007199254740993", { "evt.rawtime": 9007199254740993n })).toBe(true);
    expect(holds("evt.rawtime = 9007199254740993", { "evt.rawtime": 9007199254740992n })).toBe(false);
    expect(holds("evt.rawtime in (9007199254740993, 1)", { "evt.rawtime": 9007199254740993n })).toBe(true);
  });

  test("an empty oneof/anyof/allof list matches nothing", () => {
    for (const m of ["oneof", "anyof", "allof"])
      expect(holds(`proc.name = ${m} ()`, { "proc.name": "a" })).toBe(false);
  });

  test("join: a field may be the separator; a missing element leaves no value", () => {
    expect(
      holds("join(fd.name, (proc.name, proc.exe)) = a/b", {
        "fd.name": "/",
        "proc.name": "a",
        "proc.exe": "b",
      }),
    ).toBe(true);
    expect(holds('join(",", (proc.name, proc.exe)) = a', { "proc.name": "a" })).toBe(false);
  });

  test("\\x escapes are bytes, read as UTF-8", () => {
    expect(unescapeQuoted('"\\xc3\\xa9"')).toBe("é");
    expect(holds('proc.name = "\\xc3\\xa9t\\xc3\\xa9"', { "proc.name": "été" })).toBe(true);
  });

  test("a swap of two letters is one edit for suggestions", () => {
    expect(issue("evt.tpye = open")).toContain("did you mean 'evt.type'");
  });
});
