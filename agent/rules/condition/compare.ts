// Comparison functions, built once per check at load time from the operator, the field's value kind
// and the converted literals. At run time a test is one call on an extracted value.

import type { ScalarValue, ValueKind } from "../fields/values.ts";
import { type ListModifier, type Operator, OPERATORS } from "./operators.ts";
import {
  type Converted,
  convertLiteral,
  hexBytes,
  type IpAddress,
  type IpNetwork,
  ipInNetwork,
  LiteralError,
  parseIpAddress,
} from "./literals.ts";
import { globToRegExp, PathPrefixSet } from "./matchers.ts";
import { compileRe2Posix, RegexDialectError, type WholeMatch } from "./re2-posix.ts";

export type Test = (value: ScalarValue) => boolean;

/** Which operators each value kind accepts (Falco's flt_is_comparable), from the operator table. */
const OPERATORS_BY_KIND: Readonly<Record<ValueKind, ReadonlySet<Operator>>> = {
  string: operatorsFor("string"),
  number: operatorsFor("number"),
  bool: operatorsFor("bool"),
  ipaddr: operatorsFor("ipaddr"),
  ipnet: operatorsFor("ipnet"),
  bytes: operatorsFor("bytes"),
};

function operatorsFor(kind: ValueKind): ReadonlySet<Operator> {
  return new Set(OPERATORS.filter((r) => r.kinds.includes(kind)).map((r) => r.op));
}

const KIND_NAMES: Readonly<Record<ValueKind, string>> = {
  string: "string",
  number: "numeric",
  bool: "boolean",
  ipaddr: "ip address",
  ipnet: "ip network",
  bytes: "buffer",
};

/** Undefined if the operator applies to the kind, else the reason it does not. */
export function operatorProblem(kind: ValueKind, op: Operator, list: boolean): string | undefined {
  if (op === "exists") return undefined;
  if (list) {
    return op === "in" || op === "intersects"
      ? undefined
      : `'${op}' is not supported for list fields (use in, intersects or exists)`;
  }
  return OPERATORS_BY_KIND[kind].has(op)
    ? undefined
    : `'${op}' is not supported for ${KIND_NAMES[kind]} fields`;
}

export interface TestSpec {
  kind: ValueKind;
  falcoType: string;
  op: Operator;
  modifier?: ListModifier;
  /** The literal(s) as written: one for scalar operators, the list for in/intersects/pmatch/modifiers. */
  literals: readonly string[];
}

/** Builds the test; throws LiteralError for a literal that does not fit. */
export function buildTest(spec: TestSpec): Test {
  const { op, modifier, literals } = spec;
  // Buffers may hold any byte; every other value is a C string in Falco, so NUL is refused.
  if (spec.kind !== "bytes" && literals.some((l) => l.includes("\0"))) {
    throw new LiteralError("a value cannot contain a NUL byte (\\x00)");
  }
  if (op === "in" || op === "intersects") return membership(spec);
  if (op === "pmatch") {
    const set = new PathPrefixSet(literals);
    return (v) => typeof v === "string" && set.matches(v);
  }
  if (modifier !== undefined) {
    // An empty list matches nothing, whichever the modifier (as libsinsp).
    if (literals.length === 0) return () => false;
    const tests = literals.map((lit) => single(spec, lit));
    if (modifier === "anyof") return (v) => tests.some((t) => t(v));
    if (modifier === "allof") return (v) => tests.every((t) => t(v));
    return (v) => {
      let n = 0;
      for (const t of tests) if (t(v) && ++n > 1) return false;
      return n === 1;
    };
  }
  return single(spec, literals[0]);
}

function single(spec: TestSpec, literal: string): Test {
  const { kind, op } = spec;
  if (op === "bcontains" || op === "bstartswith") {
    const needle = hexBytes(literal);
    return op === "bcontains"
      ? (v) => v instanceof Uint8Array && bytesIndexOf(v, needle) >= 0
      : (v) => v instanceof Uint8Array && bytesStartWith(v, needle);
  }
  switch (kind) {
    case "string":
      return stringTest(op, literal);
    case "number":
      return numberTest(op, convertLiteral(literal, kind, spec.falcoType) as number | bigint);
    case "bool": {
      const want = convertLiteral(literal, kind, spec.falcoType) as boolean;
      return op === "=" ? (v) => v === want : (v) => v !== want;
    }
    case "ipaddr":
      return ipTest(op, literal);
    case "ipnet":
      return netTest(op, literal);
    case "bytes":
      return bytesTest(op, convertLiteral(literal, kind, spec.falcoType) as Uint8Array);
  }
}

/**
 * A string test that keeps its last answer. Consecutive events of one process test the same
 * proc.name, cmdline or file name again and again (the decoder hands out one string per text),
 * and comparing with the last string is cheaper than hashing, searching or matching it again.
 * Holds one string per test. Anything but a string fails, as in the tests it wraps.
 */
function rememberLast(test: (v: string) => boolean): Test {
  let last: string | undefined;
  let answer = false;
  return (v) => {
    if (typeof v !== "string") return false;
    if (v === last) return answer;
    answer = test(v);
    last = v;
    return answer;
  };
}

function stringTest(op: Operator, lit: string): Test {
  switch (op) {
    case "=":
      return (v) => v === lit;
    case "!=":
      return (v) => v !== lit;
    case "<":
      return (v) => typeof v === "string" && v < lit;
    case "<=":
      return (v) => typeof v === "string" && v <= lit;
    case ">":
      return (v) => typeof v === "string" && v > lit;
    case ">=":
      return (v) => typeof v === "string" && v >= lit;
    case "contains":
      return rememberLast((v) => v.includes(lit));
    case "icontains": {
      const lower = lit.toLowerCase();
      return rememberLast((v) => v.toLowerCase().includes(lower));
    }
    case "startswith":
      return (v) => typeof v === "string" && v.startsWith(lit);
    case "endswith":
      return (v) => typeof v === "string" && v.endsWith(lit);
    case "glob":
    case "iglob": {
      const re = globToRegExp(lit, op === "iglob");
      return rememberLast((v) => re.test(v));
    }
    case "regex": {
      let re: WholeMatch;
      try {
        re = compileRe2Posix(lit);
      } catch (err) {
        if (!(err instanceof RegexDialectError)) throw err;
        throw new LiteralError(`invalid regular expression '${lit}': ${err.message}`, err.index);
      }
      return rememberLast((v) => re.test(v));
    }
    default:
      throw new LiteralError(`'${op}' is not supported for string fields`);
  }
}

/** Numbers compare exactly, also against bigint values (64-bit times). */
function numberTest(op: Operator, literal: number | bigint): Test {
  // A literal beyond 2^53 is a bigint; values are numbers or (64-bit times) bigints. Comparing
  // bigint with bigint and number with number keeps every comparison exact.
  const big = typeof literal === "bigint" ? literal : Number.isInteger(literal) ? BigInt(literal) : undefined;
  const lit = Number(literal);
  const exactNumber = typeof literal === "number";
  const cmp = (v: ScalarValue): number => {
    if (typeof v === "number") {
      if (exactNumber || !Number.isInteger(v)) return v < lit ? -1 : v > lit ? 1 : 0;
      const b = BigInt(v);
      return b < (big as bigint) ? -1 : b > (big as bigint) ? 1 : 0;
    }
    if (typeof v === "bigint" && big !== undefined) return v < big ? -1 : v > big ? 1 : 0;
    return Number.NaN;
  };
  switch (op) {
    case "=":
      return (v) => cmp(v) === 0;
    case "!=": {
      return (v) => {
        const c = cmp(v);
        return c === -1 || c === 1;
      };
    }
    case "<":
      return (v) => cmp(v) < 0;
    case "<=":
      return (v) => cmp(v) <= 0;
    case ">":
      return (v) => cmp(v) > 0;
    case ">=":
      return (v) => cmp(v) >= 0;
    default:
      throw new LiteralError(`'${op}' is not supported for numeric fields`);
  }
}

function toAddress(v: ScalarValue): IpAddress | undefined {
  if (typeof v !== "string") return undefined;
  try {
    return parseIpAddress(v);
  } catch {
    return undefined;
  }
}

function ipTest(op: Operator, literal: string): Test {
  // An address field compared with a network literal tests membership, as Falco does.
  if (literal.includes("/")) {
    const net = convertLiteral(literal, "ipnet", "IPNET") as IpNetwork;
    const inNet = (v: ScalarValue) => {
      const a = toAddress(v);
      return a !== undefined && ipInNetwork(a, net);
    };
    return op === "=" ? inNet : (v) => toAddress(v) !== undefined && !inNet(v);
  }
  const want = convertLiteral(literal, "ipaddr", "IPADDR") as IpAddress;
  const same = (v: ScalarValue) => {
    const a = toAddress(v);
    return a !== undefined && a.v6 === want.v6 && a.value === want.value;
  };
  return op === "=" ? same : (v) => toAddress(v) !== undefined && !same(v);
}

function netTest(op: Operator, literal: string): Test {
  const net = convertLiteral(literal, "ipnet", "IPNET") as IpNetwork;
  const inNet = (v: ScalarValue) => {
    const a = toAddress(v);
    return a !== undefined && ipInNetwork(a, net);
  };
  return op === "=" ? inNet : (v) => toAddress(v) !== undefined && !inNet(v);
}

function bytesTest(op: Operator, lit: Uint8Array): Test {
  switch (op) {
    case "=":
      return (v) => v instanceof Uint8Array && bytesEqual(v, lit);
    case "!=":
      return (v) => v instanceof Uint8Array && !bytesEqual(v, lit);
    case "contains":
      return (v) => v instanceof Uint8Array && bytesIndexOf(v, lit) >= 0;
    case "startswith":
      return (v) => v instanceof Uint8Array && bytesStartWith(v, lit);
    case "endswith":
      return (v) =>
        v instanceof Uint8Array &&
        v.length >= lit.length &&
        bytesEqual(v.subarray(v.length - lit.length), lit);
    default:
      throw new LiteralError(`'${op}' is not supported for buffer fields`);
  }
}

/** in / intersects against a list of literals: a hash set where equality is the test. */
function membership(spec: TestSpec): Test {
  const { kind, literals } = spec;
  if (kind === "string") {
    const set = new Set(literals);
    // Equal strings have equal lengths: a value of a length no literal has is out without hashing
    // it (field values are mostly fresh strings per event, whose first hash walks every character).
    let longest = 0;
    for (const l of literals) longest = Math.max(longest, l.length);
    const hasLength = new Uint8Array(longest + 1);
    for (const l of literals) hasLength[l.length] = 1;
    return rememberLast((v) => v.length <= longest && hasLength[v.length] === 1 && set.has(v));
  }
  if (kind === "number") {
    // Numbers in one set, exact 64-bit values (bigint literals, bigint field values) in another.
    const numbers = new Set<number>();
    const bigs = new Set<bigint>();
    for (const l of literals) {
      const n = convertLiteral(l, kind, spec.falcoType) as number | bigint;
      if (typeof n === "bigint") bigs.add(n);
      else {
        numbers.add(n);
        if (Number.isInteger(n)) bigs.add(BigInt(n));
      }
    }
    return (v) => (typeof v === "bigint" ? bigs.has(v) : typeof v === "number" && numbers.has(v));
  }
  const tests = literals.map((l) => single({ ...spec, op: "=" }, l));
  return (v) => tests.some((t) => t(v));
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function bytesStartWith(a: Uint8Array, prefix: Uint8Array): boolean {
  return a.length >= prefix.length && bytesEqual(a.subarray(0, prefix.length), prefix);
}

function bytesIndexOf(hay: Uint8Array, needle: Uint8Array): number {
  if (needle.length === 0) return 0;
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Values of two fields compared with each other (`val(field)`), both already extracted. */
export function compareValues(op: Operator, kind: ValueKind, left: ScalarValue, right: ScalarValue): boolean {
  if (kind === "number" || typeof left === "bigint" || typeof right === "bigint") {
    const l = typeof left === "bigint" ? left : typeof left === "number" ? left : Number.NaN;
    const r = typeof right === "bigint" ? right : typeof right === "number" ? right : Number.NaN;
    // Ordering works across number and bigint; equality is "neither below nor above".
    const equal = !(l < r) && !(l > r) && !Number.isNaN(l) && !Number.isNaN(r);
    switch (op) {
      case "=":
      case "in":
      case "intersects":
        return equal;
      case "!=":
        return !equal && !Number.isNaN(l) && !Number.isNaN(r);
      case "<":
        return l < r;
      case "<=":
        return l <= r;
      case ">":
        return l > r;
      case ">=":
        return l >= r;
      default:
        return false;
    }
  }
  if (typeof left === "string" && typeof right === "string") {
    switch (op) {
      case "=":
      case "in":
      case "intersects":
        return left === right;
      case "!=":
        return left !== right;
      case "<":
        return left < right;
      case "<=":
        return left <= right;
      case ">":
        return left > right;
      case ">=":
        return left >= right;
      case "contains":
        return left.includes(right);
      case "icontains":
        return left.toLowerCase().includes(right.toLowerCase());
      case "startswith":
        return left.startsWith(right);
      case "endswith":
        return left.endsWith(right);
      case "glob":
      case "iglob":
        return globToRegExp(right, op === "iglob").test(left);
      default:
        return false;
    }
  }
  if (left instanceof Uint8Array && right instanceof Uint8Array) {
    if (op === "=") return bytesEqual(left, right);
    if (op === "!=") return !bytesEqual(left, right);
    if (op === "contains" || op === "bcontains") return bytesIndexOf(left, right) >= 0;
    if (op === "startswith" || op === "bstartswith") return bytesStartWith(left, right);
    return false;
  }
  if (op === "=") return left === right;
  if (op === "!=") return left !== right;
  return false;
}

export type { Converted };
