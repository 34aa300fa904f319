// The kernel prefilter derived from the compiled rules (agent/capture/open-filter.ts): the close
// prefilter runs when no rule runs on close (agent/capture/selection.ts, closePrefilterFor), and
// the open prefilter is derived here: which opens (open, openat, openat2; creat is
// never filtered) any enabled rule could match or read later, as entries of class bits and a path
// prefix (agent/capture/open-filter.ts). Each condition is read conservatively, as a set of
// entries that holds every open it can match: `and` intersects, `or` unites, and anything not
// understood (negation, `contains`, an unknown field, a transformer...) matches every open. A
// false pass costs one record; a false drop would hide an event, so there is none.
//
// Who needs an open:
// - a rule that runs on open, openat or openat2: the open itself (its flags, result and fd.name);
// - a rule that runs on another event and reads the fd table (fd.*, evt.arg/evt.args, which
//   render fds): the open that made the fd it looks at, so its fd.name/fd.type conditions bound
//   those opens (a dup'd fd keeps its open's name); fd.types and proc.fdopencount read every fd of
//   the process, so a rule using them keeps every open;
// - the state: opens of directories (later openat and fchdir resolve paths through them), which
//   the probe always keeps. An fd whose open was dropped is unknown to the state, so its close is
//   dropped by the close prefilter too (its creation was not recorded) or is the close of an fd
//   the state never had; no later lookup can miss a name a rule needs, by the two points above.

import {
  boundOpenFilter,
  closePrefilterFor,
  type KernelPrefilter,
  NO_PREFILTER,
  type OpenFilter,
  type OpenFilterEntry,
} from "../capture/index.ts";
import { EVT_PARAMS, type EvtParam, OPEN_FILTER } from "../events/index.ts";
import type { CheckedCompare, CheckedExpr, CheckedOperand } from "./condition/checked.ts";
import type { CompiledRule } from "./load/compile.ts";
import type { OutputToken } from "./output/format.ts";

/** fd fields that only sockets have (agent/rules/fields/extract/fd.ts): missing for a file. */
const SOCKET_FIELDS: ReadonlySet<string> = new Set([
  "fd.l4proto",
  "fd.is_server",
  "fd.connected",
  "fd.sockfamily",
  "fd.sip",
  "fd.cip",
  "fd.lip",
  "fd.rip",
  "fd.sport",
  "fd.cport",
  "fd.lport",
  "fd.rport",
  "fd.snet",
  "fd.cnet",
  "fd.lnet",
  "fd.rnet",
  "fd.ip",
  "fd.port",
  "fd.net",
]);

/** The kinds the probe filters with the open prefilter. */
export const FILTERED_OPEN_KINDS: readonly string[] = ["open", "openat", "openat2"];

/** The derived filter; when it is "all", the rules that made it so (at most three named). */
export interface DerivedOpenFilter {
  filter: OpenFilter;
  keptAllBy: readonly string[];
}

export interface PrefilterRule {
  rule: CompiledRule;
  /** The output tokens as the engine renders them (append_output included); rule.output if absent.
   * The engine's ActiveRule is a PrefilterRule. */
  outputTokens?: readonly OutputToken[];
}

type Entries = OpenFilterEntry[];
const ANY: Entries = [{ need: 0, prefix: "" }];
const NONE: Entries = [];
const UNCLEAN: Entries = [{ need: OPEN_FILTER.unclean, prefix: "" }];
/** While deriving, sets larger than this are widened (boundOpenFilter), so `and` stays cheap. */
const WORKING_CAP = 256;

/** Fields that read the whole fd table of the process: every open may matter to them. */
const WHOLE_TABLE_FIELDS: ReadonlySet<string> = new Set(["fd.types", "proc.fdopencount"]);

/** Kinds whose fd parameters are all fds the call itself creates (state/fd-events.ts): the fd a
 * rule sees on them never comes from an open. */
const FRESH_FD_KINDS: ReadonlySet<string> = new Set([
  "socket",
  "socketpair",
  "pipe",
  "pipe2",
  "creat",
  "memfd_create",
  "accept",
  "accept4",
]);

const paramsOf = (kind: string): readonly EvtParam[] =>
  (EVT_PARAMS as Readonly<Record<string, readonly EvtParam[]>>)[kind] ?? [];

/** Whether a field, on events of these (non-open) kinds, can read an fd an open made: fd.* on a
 * kind that names an existing fd (the state looks its `fd` or `oldfd` parameter up in the table);
 * evt.arg.NAME / evt.arg[N] when that parameter renders as an fd, evt.args when any does. */
function readsFdTable(field: UsedField, kinds: readonly string[]): boolean {
  const seeing = kinds.filter((k) => !FRESH_FD_KINDS.has(k));
  if (field.name.startsWith("fd."))
    return seeing.some((k) => paramsOf(k).some((p) => p.falco === "fd" || p.falco === "oldfd"));
  if (field.name !== "evt.arg" && field.name !== "evt.args") return false;
  return seeing.some((kind) => {
    const params = paramsOf(kind);
    if (field.name === "evt.args" || field.arg === undefined) return params.some((p) => p.render === "fd");
    const p = /^[0-9]+$/.test(field.arg)
      ? params[Number(field.arg)]
      : params.find((q) => q.falco === field.arg);
    return p?.render === "fd";
  });
}

interface UsedField {
  name: string;
  arg: string | undefined;
}

const ALL_KINDS: readonly string[] = Object.keys(EVT_PARAMS);

/** What the probe may drop for these rules (the engine's active ones, or a ruleset's enabled
 * ones); `enabled` is the configuration's switch (engine.prefilter): off, nothing is dropped. */
export function prefilterFor(
  rules: readonly PrefilterRule[],
  enabled: boolean,
): KernelPrefilter & { keptAllBy: readonly string[] } {
  if (!enabled) return { ...NO_PREFILTER, keptAllBy: [] };
  let types: Set<string> | "all" = new Set();
  for (const { rule } of rules) {
    if (rule.eventTypes === "all") types = "all";
    else if (types !== "all") for (const t of rule.eventTypes) types.add(t);
  }
  const open = deriveOpenFilter(rules);
  return { close: closePrefilterFor(types, true), open: open.filter, keptAllBy: open.keptAllBy };
}

/** The open filter for the enabled rules given (the engine's active rules). */
export function deriveOpenFilter(rules: readonly PrefilterRule[]): DerivedOpenFilter {
  const all: Entries = [];
  const keptAllBy: string[] = [];
  for (const r of rules) {
    const mine = ruleEntries(r);
    if (mine.length === 0) continue;
    if (boundOpenFilter(mine) === "all") keptAllBy.push(r.rule.name);
    all.push(...mine);
  }
  const filter = boundOpenFilter(all);
  return { filter, keptAllBy: filter === "all" ? keptAllBy.slice(0, 3) : [] };
}

/** The opens one rule needs. */
export function ruleEntries(r: PrefilterRule): Entries {
  const types = r.rule.eventTypes;
  const onOpens = types === "all" || FILTERED_OPEN_KINDS.some((k) => types.has(k));
  const onOthers = types === "all" || [...types].some((t) => !FILTERED_OPEN_KINDS.includes(t));
  const fields: UsedField[] = [];
  collectFields(r.rule.condition, fields, new Set());
  for (const t of r.outputTokens ?? r.rule.output) if (t.kind === "field") operandFields(t.operand, fields);
  if (fields.some((f) => WHOLE_TABLE_FIELDS.has(f.name))) return ANY;
  const others = (types === "all" ? ALL_KINDS : [...types]).filter((t) => !FILTERED_OPEN_KINDS.includes(t));
  const out: Entries = [];
  if (onOpens) out.push(...entriesOf(r.rule.condition, "open"));
  if (onOthers && fields.some((f) => readsFdTable(f, others))) out.push(...entriesOf(r.rule.condition, "fd"));
  return out;
}

/** "open": the condition on an open event; "fd": on another event, bounding the open that made its fd. */
type Mode = "open" | "fd";

const macroMemo: Record<Mode, WeakMap<CheckedExpr, Entries>> = { open: new WeakMap(), fd: new WeakMap() };

function entriesOf(expr: CheckedExpr, mode: Mode): Entries {
  switch (expr.kind) {
    case "and": {
      let acc = ANY;
      for (const c of expr.children) {
        acc = intersect(acc, entriesOf(c, mode));
        if (acc.length === 0) break;
      }
      return acc;
    }
    case "or":
      return widen(expr.children.flatMap((c) => entriesOf(c, mode)));
    case "not":
      return ANY;
    case "macro": {
      const memo = macroMemo[mode];
      let known = memo.get(expr.body);
      if (known === undefined) {
        known = entriesOf(expr.body, mode);
        memo.set(expr.body, known);
      }
      return known;
    }
    case "compare":
      return leaf(expr, mode);
  }
}

function widen(list: Entries): Entries {
  if (list.length <= WORKING_CAP) return list;
  const bounded = boundOpenFilter(list);
  return bounded === "all" ? ANY : [...bounded];
}

function intersect(a: Entries, b: Entries): Entries {
  if (a === ANY) return b;
  if (b === ANY) return a;
  const out: Entries = [];
  const both = OPEN_FILTER.success | OPEN_FILTER.failed;
  for (const x of a) {
    for (const y of b) {
      const need = x.need | y.need;
      if ((need & both) === both) continue;
      if ((need & OPEN_FILTER.unclean) !== 0) out.push({ need, prefix: "" });
      else if (x.prefix.startsWith(y.prefix)) out.push({ need, prefix: x.prefix });
      else if (y.prefix.startsWith(x.prefix)) out.push({ need, prefix: y.prefix });
    }
  }
  return widen(out);
}

const need = (bits: number): Entries => [{ need: bits, prefix: "" }];

function leaf(cmp: CheckedCompare, mode: Mode): Entries {
  const left = cmp.left;
  const literals = cmp.literals;
  if (
    left.kind !== "field" ||
    cmp.right !== undefined ||
    cmp.modifier !== undefined ||
    literals === undefined
  )
    return ANY;
  const name = left.field.def.name;
  const op = cmp.op;
  // A missing value fails every comparison, and an fd made by an open has no socket.
  if (SOCKET_FIELDS.has(name)) return NONE;
  switch (name) {
    case "fd.name":
    case "fd.nameraw":
    case "fd.directory":
      return pathEntries(op, literals);
    case "fd.type":
      return typeEntries(op, literals, ["file", "directory"]);
    case "fd.typechar":
      return typeEntries(op, literals, ["f", "d"]);
  }
  if (mode === "fd") return ANY;
  switch (name) {
    case "evt.type":
      if (op !== "=" && op !== "in") return ANY;
      return literals.some((t) => FILTERED_OPEN_KINDS.includes(t)) ? ANY : NONE;
    case "evt.is_open_read":
    case "evt.is_open_write":
      if (op !== "=" || literals.length !== 1 || literals[0].toLowerCase() !== "true") return ANY;
      return need(name === "evt.is_open_read" ? OPEN_FILTER.read : OPEN_FILTER.write);
    case "fd.num":
    case "evt.rawres":
      return resultEntries(op, literals);
    case "evt.failed":
      if (op !== "=" || literals.length !== 1) return ANY;
      return need(literals[0].toLowerCase() === "true" ? OPEN_FILTER.failed : OPEN_FILTER.success);
    case "evt.res":
      if (literals.length !== 1) return ANY;
      if (op === "=") return need(literals[0] === "SUCCESS" ? OPEN_FILTER.success : OPEN_FILTER.failed);
      return op === "!=" && literals[0] === "SUCCESS" ? need(OPEN_FILTER.failed) : ANY;
    case "evt.arg":
      // evt.arg.flags contains O_CREAT (the rendering names the bit).
      if (
        left.field.arg === "flags" &&
        op === "contains" &&
        literals.length === 1 &&
        literals[0] === "O_CREAT"
      )
        return need(OPEN_FILTER.create);
      return ANY;
  }
  return ANY;
}

/** fd.num / evt.rawres against a number: which results it allows. */
function resultEntries(op: string, literals: readonly string[]): Entries {
  if (literals.length !== 1 || !/^-?[0-9]+$/.test(literals[0])) return ANY;
  const n = Number(literals[0]);
  if ((op === ">=" && n >= 0) || (op === ">" && n >= -1) || (op === "=" && n >= 0))
    return need(OPEN_FILTER.success);
  if ((op === "<" && n <= 0) || (op === "<=" && n < 0) || (op === "=" && n < 0))
    return need(OPEN_FILTER.failed);
  return ANY;
}

/** An fd.type/fd.typechar check: an fd made by an open is a file or a directory. */
function typeEntries(op: string, literals: readonly string[], openTypes: readonly string[]): Entries {
  if (op !== "=" && op !== "in") return ANY;
  return literals.some((t) => openTypes.includes(t)) ? ANY : NONE;
}

/** A normalized path holding one of these has a raw path the prefix test cannot decide (relative,
 * "//", "/." or "./" in it): the probe keeps it by its class bits alone. */
const UNCLEAN_MARKS = ["/.", "./", "//"];

/**
 * fd.name, fd.nameraw or fd.directory against literals. Every value of these starts with the
 * fd's normalized path's start: fd.directory is fd.name up to its last slash. So =, in and pmatch
 * with L, and startswith L, need the prefix L; glob needs what comes before its first wildcard.
 * A literal that must appear in the value and holds "/.", "./" or "//" (e.g. endswith /.ssh)
 * means an unclean raw path. Anything else bounds nothing.
 */
function pathEntries(op: string, literals: readonly string[]): Entries {
  const out: Entries = [];
  for (const l of literals) {
    const fixed = op === "glob" ? globFixedParts(l) : [l];
    const mustContain = ["=", "in", "pmatch", "startswith", "endswith", "contains", "glob"].includes(op);
    if (mustContain && fixed.some((part) => UNCLEAN_MARKS.some((m) => part.includes(m)))) {
      out.push(...UNCLEAN);
      continue;
    }
    if (op === "=" || op === "in" || op === "pmatch" || op === "startswith") out.push({ need: 0, prefix: l });
    else if (op === "glob") out.push({ need: 0, prefix: fixed[0] });
    else return ANY;
  }
  return widen(out);
}

/** The parts of a glob pattern that appear literally in every value it matches; the first is what
 * precedes the first wildcard. With a bracket or an escape, only that first part is sure. */
function globFixedParts(pattern: string): string[] {
  const parts = pattern.split(/[*?]/);
  const special = /[[\\]/;
  if (!special.test(pattern)) return parts;
  const first = pattern.split(/[*?[\\]/)[0];
  return [first];
}

function collectFields(expr: CheckedExpr, into: UsedField[], seen: Set<CheckedExpr>): void {
  switch (expr.kind) {
    case "and":
    case "or":
      for (const c of expr.children) collectFields(c, into, seen);
      return;
    case "not":
      collectFields(expr.child, into, seen);
      return;
    case "macro":
      if (seen.has(expr.body)) return;
      seen.add(expr.body);
      collectFields(expr.body, into, seen);
      return;
    case "compare":
      operandFields(expr.left, into);
      if (expr.right !== undefined) operandFields(expr.right, into);
      return;
  }
}

function operandFields(op: CheckedOperand, into: UsedField[]): void {
  if (op.kind === "field") {
    into.push({ name: op.field.def.name, arg: op.field.arg });
    return;
  }
  for (const a of op.args) {
    if (a.kind === "field" || a.kind === "transformer") operandFields(a, into);
    else if (a.kind === "list") for (const i of a.items) if (i.kind !== "literal") operandFields(i, into);
  }
}
