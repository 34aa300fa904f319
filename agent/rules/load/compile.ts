// Pass 3 of loading: turns the collected definitions into rules ready to run. Lists are expanded,
// macros parsed and checked (each once), every rule condition parsed, extended with its exceptions,
// checked, and its output compiled. Every problem is reported at its place in its file.

import { positionAt, scalarOffset } from "../../yaml/index.ts";
import type { CheckExpr, Expr, ListLiteral, Literal } from "../condition/ast.ts";
import {
  type CheckIssue,
  type CheckScope,
  checkCondition,
  DEPRECATED_FIELDS,
  nearest,
} from "../condition/check.ts";
import type { CheckedExpr } from "../condition/checked.ts";
import { type EventTypeSet, eventTypeCount, eventTypesOf } from "../condition/evttypes.ts";
import {
  ConditionSyntaxError,
  parseCondition,
  parseOperandPrefix,
  unescapeQuoted,
} from "../condition/parser.ts";
import { LIST_OPERATORS, MODIFIERS, OPERATORS, operatorOf } from "../condition/operators.ts";
import type { FieldRegistry } from "../fields/registry.ts";
import { compileOutput, type OutputToken } from "../output/format.ts";
import type { Collection, ListDefinition, MacroDefinition, RuleDefinition } from "./collect.ts";
import type { DiagnosticBag, Location } from "./diagnostics.ts";
import { PRIORITIES, type Priority, type TextPiece } from "./items.ts";

const CONTAINER_INFO = "%container.info";

/** Falco warns when a rule runs on more event types than this. */
const TOO_MANY_EVENT_TYPES = 100;

export interface CompiledRule {
  name: string;
  /** Load order of the rule's first definition: `rule_matching: first` picks the lowest. */
  index: number;
  desc: string;
  priority: Priority;
  /** 0 = Emergency ... 7 = Debug. */
  priorityRank: number;
  /** Sorted, as Falco keeps them. */
  tags: string[];
  source: string;
  enabled: boolean;
  capture: boolean;
  captureDuration: number;
  /** The condition as written, after appends and overrides. */
  conditionText: string;
  /** Checked condition, exceptions included, macros inlined. */
  condition: CheckedExpr;
  eventTypes: EventTypeSet;
  output: OutputToken[];
  outputText: string;
  exceptionFields: string[];
  definition: RuleDefinition;
}

export interface CompiledList {
  definition: ListDefinition;
  values: string[];
  /** Lists named among the items and expanded into `values`. */
  includes: string[];
  used: boolean;
}

export interface CompiledMacro {
  definition: MacroDefinition;
  /** Undefined when the macro has errors. */
  checked: CheckedExpr | undefined;
  used: boolean;
}

export interface CompiledRuleset {
  rules: CompiledRule[];
  lists: Map<string, CompiledList>;
  macros: Map<string, CompiledMacro>;
  requiredEngineVersion: string | undefined;
}

const QUOTED = /^(["']).*\1$/s;

export function compileCollection(
  collection: Collection,
  registry: FieldRegistry,
  diagnostics: DiagnosticBag,
): CompiledRuleset {
  return new Compiler(collection, registry, diagnostics).run();
}

/** Most values one list may hold once the lists it names are expanded. */
export const MAX_LIST_ITEMS = 100_000;
/** Most values copied while expanding all lists of a load. */
export const MAX_LIST_EXPANSION_STEPS = 10_000_000;

class ListTooLarge extends Error {}

type MacroState = { state: "checking" } | { state: "done"; checked: CheckedExpr | undefined };

class Compiler {
  private readonly lists = new Map<string, CompiledList>();
  private readonly macros = new Map<string, CompiledMacro>();
  private readonly macroStates = new Map<string, MacroState>();
  /** Lists expanded so far (those whose expansion did not depend on a cycle). */
  private readonly expandedLists = new Map<string, string[]>();
  private expansionSteps = 0;

  constructor(
    private readonly collection: Collection,
    private readonly registry: FieldRegistry,
    private readonly diagnostics: DiagnosticBag,
  ) {}

  run(): CompiledRuleset {
    for (const def of this.collection.lists.values()) {
      const includes: string[] = [];
      let values: string[];
      try {
        values = this.expandList(def, new Set(), includes).values;
      } catch (err) {
        if (!(err instanceof ListTooLarge)) throw err;
        this.diagnostics.error("limit_exceeded", err.message, firstLocation(def), [`list '${def.name}'`]);
        values = [];
      }
      this.lists.set(def.name, { definition: def, values, includes, used: false });
    }
    for (const l of this.lists.values()) {
      for (const name of l.includes) {
        const included = this.lists.get(name);
        if (included !== undefined) included.used = true;
      }
    }
    for (const def of this.collection.macros.values()) {
      this.macros.set(def.name, { definition: def, checked: undefined, used: false });
    }
    for (const name of this.collection.macros.keys()) this.checkMacro(name);

    const rules: CompiledRule[] = [];
    const ordered = [...this.collection.rules.values()].sort((a, b) => a.index - b.index);
    for (const def of ordered) {
      const rule = this.compileRule(def);
      if (rule !== undefined) rules.push(rule);
    }

    for (const m of this.macros.values()) {
      if (!m.used) {
        this.diagnostics.warning(
          "unused_macro",
          `macro '${m.definition.name}' is not used by any rule or macro`,
          firstLocation(m.definition),
          [`macro '${m.definition.name}'`],
        );
      }
    }
    for (const l of this.lists.values()) {
      if (!l.used) {
        this.diagnostics.warning(
          "unused_list",
          `list '${l.definition.name}' is not used by any rule, macro or list`,
          firstLocation(l.definition),
          [`list '${l.definition.name}'`],
        );
      }
    }
    return {
      rules,
      lists: this.lists,
      macros: this.macros,
      requiredEngineVersion: this.collection.requiredEngineVersion,
    };
  }

  /**
   * A list's values, with the lists it names (defined before it) replaced by their values. Each
   * list is expanded once and reused (unless a cycle made its expansion depend on the path to it),
   * a list may hold at most MAX_LIST_ITEMS values, and the whole expansion at most
   * MAX_LIST_EXPANSION_STEPS steps, so lists naming each other twice over stay linear.
   */
  private expandList(
    def: ListDefinition,
    visiting: Set<string>,
    includes: string[],
  ): { values: string[]; cyclic: boolean } {
    const known = this.expandedLists.get(def.name);
    if (known !== undefined) return { values: known, cyclic: false };
    visiting.add(def.name);
    const out: string[] = [];
    let cyclic = false;
    const push = (value: string): void => {
      if (out.length >= MAX_LIST_ITEMS)
        throw new ListTooLarge(
          `list '${def.name}' has more than ${MAX_LIST_ITEMS} items (after expanding the lists it names)`,
        );
      if (++this.expansionSteps > MAX_LIST_EXPANSION_STEPS)
        throw new ListTooLarge(
          `expanding lists takes more than ${MAX_LIST_EXPANSION_STEPS} steps; lists name each other too often`,
        );
      out.push(value);
    };
    for (const raw of def.items) {
      if (QUOTED.test(raw)) {
        push(unquoteItem(raw));
        continue;
      }
      const ref = this.collection.lists.get(raw);
      if (ref !== undefined && ref.index < def.visibility && !visiting.has(raw)) {
        includes.push(raw);
        const inner = this.expandList(ref, visiting, []);
        cyclic ||= inner.cyclic;
        for (const value of inner.values) push(value);
      } else {
        if (ref !== undefined && visiting.has(raw)) cyclic = true;
        push(raw);
      }
    }
    visiting.delete(def.name);
    if (!cyclic) this.expandedLists.set(def.name, out);
    return { values: out, cyclic };
  }

  /** The scope of a condition: lists in their final form, macros visible from `visibility`. */
  private scope(visibility: number): CheckScope {
    return {
      registry: this.registry,
      list: (name) => {
        const l = this.lists.get(name);
        if (l === undefined) return undefined;
        l.used = true;
        return l.values;
      },
      macro: (name) => {
        const def = this.collection.macros.get(name);
        if (def === undefined) {
          const hint = nearest(name, this.collection.macros.keys());
          return {
            problem: "undefined_macro",
            message: `undefined macro '${name}'${hint === undefined ? "" : `; did you mean '${hint}'?`}`,
          };
        }
        if (def.index >= visibility) {
          return {
            problem: "undefined_macro",
            message: `macro '${name}' is used before it is defined (${describeLocation(firstLocation(def))}); a macro can only use macros defined before it`,
          };
        }
        const entry = this.macros.get(name);
        if (entry !== undefined) entry.used = true;
        const state = this.macroStates.get(name);
        if (state?.state === "checking")
          return { problem: "macro_cycle", message: `macro '${name}' refers to itself` };
        const checked = this.checkMacro(name);
        if (checked === undefined)
          return {
            problem: "undefined_macro",
            message: `macro '${name}' has errors (reported at its definition)`,
          };
        return checked;
      },
    };
  }

  private checkMacro(name: string): CheckedExpr | undefined {
    const state = this.macroStates.get(name);
    if (state?.state === "done") return state.checked;
    const def = this.collection.macros.get(name);
    if (def === undefined) return undefined;
    this.macroStates.set(name, { state: "checking" });
    const context = [`macro '${name}'`, "condition"];
    const result = this.parseAndCheck(def.pieces, this.scope(def.visibility), context);
    const checked = result !== undefined && "checked" in result ? result.checked : undefined;
    this.macroStates.set(name, { state: "done", checked });
    const entry = this.macros.get(name);
    if (entry !== undefined) entry.checked = checked;
    return checked;
  }

  /** Parses the joined pieces of a condition and checks it; reports and returns undefined on error. */
  private parseAndCheck(
    pieces: readonly TextPiece[],
    scope: CheckScope,
    context: string[],
    allowUnknown = false,
  ): { checked: CheckedExpr } | { unknown: CheckIssue } | undefined {
    const text = pieces.map((p) => p.text).join(" ");
    let ast: Expr;
    try {
      ast = parseCondition(text);
    } catch (err) {
      if (!(err instanceof ConditionSyntaxError)) throw err;
      this.diagnostics.error("compile_condition", err.message, pieceLocation(pieces, err.pos), context);
      return undefined;
    }
    const result = checkCondition(ast, scope);
    if ("issue" in result) {
      if (
        allowUnknown &&
        (result.issue.code === "unknown_field" || result.issue.code === "unknown_event_type")
      )
        return { unknown: result.issue };
      this.diagnostics.error(
        result.issue.code,
        result.issue.message,
        pieceLocation(pieces, result.issue.pos),
        context,
      );
      return undefined;
    }
    for (const w of result.warnings)
      this.diagnostics.warning(w.code, w.message, pieceLocation(pieces, w.pos), context);
    return result;
  }

  private compileRule(def: RuleDefinition): CompiledRule | undefined {
    const context = [`rule '${def.name}'`];
    if (def.source !== "syscall") {
      this.diagnostics.warning(
        "unknown_source",
        `source '${def.source}' is not supported by Lanner (only syscall); the rule is skipped`,
        def.location,
        context,
      );
      return undefined;
    }
    if (def.condition.length === 0 || def.output.length === 0) {
      this.diagnostics.error(
        "schema",
        "the rule has no condition or no output left after overrides",
        def.location,
        context,
      );
      return undefined;
    }
    const scope = this.scope(Number.MAX_SAFE_INTEGER);
    const checked = this.parseAndCheck(
      def.condition,
      scope,
      [...context, "condition"],
      def.skipIfUnknownFilter,
    );
    if (checked !== undefined && "unknown" in checked) {
      this.diagnostics.warning(
        "unknown_filter_skipped",
        `${checked.unknown.message}; the rule is skipped (skip-if-unknown-filter: true)`,
        pieceLocation(def.condition, checked.unknown.pos),
        [...context, "condition"],
      );
      return undefined;
    }
    const withExceptions =
      checked === undefined ? undefined : this.addExceptions(def, checked.checked, scope, context);
    // The output is compiled even when the condition failed, so its own problems (an unknown
    // field) are reported in the same run.
    const compiledOutput = this.compileRuleOutput(def, scope, context);
    if (withExceptions === undefined || compiledOutput === undefined) return undefined;
    const { output, outputText } = compiledOutput;

    const eventTypes = eventTypesOf(withExceptions.condition);
    if (def.warnEvttypes && eventTypeCount(eventTypes) > TOO_MANY_EVENT_TYPES) {
      this.diagnostics.warning(
        "too_many_event_types",
        "the condition does not narrow the event types (no evt.type check that applies to every match), so the rule runs on every event; add e.g. 'evt.type in (...)' or set warn_evttypes: false",
        def.location,
        context,
      );
    }
    return {
      name: def.name,
      index: def.index,
      desc: def.desc,
      priority: def.priority,
      priorityRank: PRIORITIES.indexOf(def.priority),
      tags: [...def.tags].sort(),
      source: def.source,
      enabled: def.enabled,
      capture: def.capture,
      captureDuration: def.captureDuration,
      conditionText: def.condition.map((p) => p.text).join(" "),
      condition: withExceptions.condition,
      eventTypes,
      output,
      outputText,
      exceptionFields: withExceptions.fields,
      definition: def,
    };
  }

  /** A rule's output, compiled; problems are reported, and undefined returned. */
  private compileRuleOutput(
    def: RuleDefinition,
    scope: CheckScope,
    context: string[],
  ): { output: OutputToken[]; outputText: string } | undefined {
    let outputText = def.output.map((p) => p.text).join(" ");
    if (outputText.includes(CONTAINER_INFO)) {
      // Falco dropped %container.info's meaning but still accepts it; so do we.
      this.diagnostics.warning(
        "deprecated",
        "%container.info is deprecated and has no effect (Falco removed it); use %container.id and %container.name",
        pieceLocation(def.output, outputText.indexOf(CONTAINER_INFO)),
        [...context, "output"],
      );
      outputText = outputText.replaceAll(CONTAINER_INFO, "");
    }
    // Falco looks for each deprecated field's name anywhere in the output text (so evt.latency.s
    // also reports evt.latency).
    for (const field of DEPRECATED_FIELDS.keys()) {
      const at = outputText.indexOf(field);
      if (at >= 0)
        this.diagnostics.warning(
          "deprecated",
          `usage of deprecated field '${field}' has been detected in the rule output`,
          pieceLocation(def.output, at),
          [...context, "output"],
        );
    }
    const output = compileOutput(outputText, scope);
    if ("problem" in output) {
      if (def.skipIfUnknownFilter && output.problem.code === "unknown_field") {
        this.diagnostics.warning(
          "unknown_filter_skipped",
          `${output.problem.message}; the rule is skipped (skip-if-unknown-filter: true)`,
          pieceLocation(def.output, output.problem.pos),
          [...context, "output"],
        );
        return undefined;
      }
      this.diagnostics.error(
        output.problem.code === "compile_output" ? "compile_output" : output.problem.code,
        output.problem.message,
        pieceLocation(def.output, output.problem.pos),
        [...context, "output"],
      );
      return undefined;
    }
    return { output: output.tokens, outputText };
  }

  /**
   * Exceptions compile into the condition as Falco builds them: `(condition) and not (exception 1)
   * and not (exception 2)`, where an exception is an `or` of its values, each an `and` of one
   * comparison per field.
   */
  private addExceptions(
    def: RuleDefinition,
    condition: CheckedExpr,
    scope: CheckScope,
    context: string[],
  ): { condition: CheckedExpr; fields: string[] } | undefined {
    const fields = new Set<string>();
    const parts: CheckedExpr[] = [condition];
    for (const ex of def.exceptions) {
      const exContext = [...context, `exception '${ex.name}'`];
      const built = buildExceptionExpr(ex, fields);
      if ("error" in built) {
        this.diagnostics.error("exception", built.error, ex.location, exContext);
        return undefined;
      }
      if (built.expr === undefined) continue;
      const result = checkCondition(built.expr, scope);
      if ("issue" in result) {
        this.diagnostics.error(result.issue.code, result.issue.message, ex.location, exContext);
        return undefined;
      }
      for (const w of result.warnings) this.diagnostics.warning(w.code, w.message, ex.location, exContext);
      parts.push({ kind: "not", child: result.checked });
    }
    return {
      condition: parts.length === 1 ? condition : { kind: "and", children: parts },
      fields: [...fields],
    };
  }
}

const LIST_COMPARISONS: ReadonlySet<string> = LIST_OPERATORS;
/** `OP MODIFIER` for every modifiable operator's spelling and every modifier (operators.ts). */
const MODIFIED = new RegExp(
  `^(${OPERATORS.filter((r) => r.modifiable)
    .flatMap((r) => r.spellings)
    .map((s) => s.replace(/[=!]/g, (c) => `\\${c}`))
    .join("|")})\\s+(${MODIFIERS.join("|")})$`,
);

/** Builds the syntax of one exception; undefined expr when it has no values. */
function buildExceptionExpr(
  ex: RuleDefinition["exceptions"][number],
  usedFields: Set<string>,
): { expr: Expr | undefined } | { error: string } {
  if (ex.fields === undefined) return { error: `exception '${ex.name}' has no fields` };
  if (typeof ex.fields === "string") {
    const comp = normalizeComp(typeof ex.comps === "string" ? ex.comps : "in");
    if (Array.isArray(ex.comps))
      return { error: "when 'fields' is a single field, 'comps' must be a single operator too" };
    if (!LIST_COMPARISONS.has(comp) && !MODIFIED.test(comp)) {
      return {
        error: `when 'fields' is a single field, 'comps' must be in, pmatch, intersects or an operator with a modifier (e.g. 'startswith oneof'), not '${comp}'`,
      };
    }
    const values: string[] = [];
    for (const v of ex.values) {
      if (Array.isArray(v) || !("text" in v))
        return { error: "with a single field, each exception value must be a single string" };
      values.push(v.text);
    }
    if (values.length === 0) return { expr: undefined };
    usedFields.add(ex.fields);
    const check = comparison(ex.fields, comp, { kind: "list", items: values.map(literalOf), pos: -1 });
    return "error" in check ? check : { expr: check };
  }
  const fieldList = ex.fields;
  const comps =
    ex.comps === undefined
      ? fieldList.map(() => "=")
      : Array.isArray(ex.comps)
        ? ex.comps.map(normalizeComp)
        : undefined;
  if (comps === undefined) return { error: "when 'fields' is a list, 'comps' must be a list too" };
  if (comps.length !== fieldList.length)
    return {
      error: `'fields' has ${fieldList.length} entries but 'comps' has ${comps.length}; they must have equal length`,
    };
  const alternatives: Expr[] = [];
  for (const tuple of ex.values) {
    const entries = Array.isArray(tuple) ? tuple : [tuple];
    if (entries.length !== fieldList.length) {
      return {
        error: `an exception value has ${entries.length} entries but there are ${fieldList.length} fields; they must have equal length`,
      };
    }
    const checks: Expr[] = [];
    for (let k = 0; k < fieldList.length; k++) {
      const entry = entries[k];
      const comp = comps[k];
      const listComp = LIST_COMPARISONS.has(comp) || MODIFIED.test(comp);
      const rhs: Literal | ListLiteral =
        "items" in entry
          ? { kind: "list", items: entry.items.map(literalOf), pos: -1 }
          : listComp
            ? { kind: "list", items: [literalOf(entry.text)], pos: -1 }
            : literalOf(entry.text);
      const check = comparison(fieldList[k], comp, rhs);
      if ("error" in check) return check;
      checks.push(check);
      usedFields.add(fieldList[k]);
    }
    alternatives.push(checks.length === 1 ? checks[0] : { kind: "and", children: checks, pos: -1 });
  }
  if (alternatives.length === 0) return { expr: undefined };
  return {
    expr: alternatives.length === 1 ? alternatives[0] : { kind: "or", children: alternatives, pos: -1 },
  };
}

function normalizeComp(comp: string): string {
  return comp.trim().replace(/\s+/g, " ");
}

/** Builds `field comp rhs` by parsing the field and operator as Falco would read them. */
function comparison(
  fieldText: string,
  comp: string,
  rhs: Literal | ListLiteral,
): CheckExpr | { error: string } {
  const operand = parseOperandPrefix(fieldText);
  if (operand === undefined || operand.length !== fieldText.length)
    return { error: `'${fieldText}' is not a field` };
  const modified = MODIFIED.exec(comp);
  const op = operatorOf(modified?.[1] ?? comp);
  if (op === undefined || op === "exists") {
    return { error: `'${comp}' is not a supported comparison operator` };
  }
  const expr: CheckExpr = {
    kind: "check",
    left: operand.operand,
    op,
    right: rhs,
    pos: -1,
    opPos: -1,
  };
  if (modified !== null) expr.modifier = modified[2] as CheckExpr["modifier"];
  return expr;
}

/** An exception or list value written with its own quotes ('"a b"') is read as the quoted string. */
function literalOf(text: string): Literal {
  if (QUOTED.test(text)) return { kind: "literal", value: unquoteItem(text), quoted: true, pos: -1 };
  return { kind: "literal", value: text, quoted: false, pos: -1 };
}

function unquoteItem(raw: string): string {
  try {
    return unescapeQuoted(raw);
  } catch {
    return raw.slice(1, -1);
  }
}

/** Maps an offset in the pieces joined by blanks back to the file. */
function pieceLocation(pieces: readonly TextPiece[], offset: number): Location {
  let rest = Math.max(0, offset);
  for (const piece of pieces) {
    if (rest <= piece.text.length)
      return {
        file: piece.node.file,
        offset: scalarOffset(piece.node, Math.min(rest, Math.max(0, piece.text.length - 1))),
      };
    rest -= piece.text.length + 1;
  }
  const last = pieces[pieces.length - 1];
  return { file: last.node.file, offset: scalarOffset(last.node, Math.max(0, last.text.length - 1)) };
}

function firstLocation(def: { history: { location: Location }[] }): Location {
  return def.history[0].location;
}

function describeLocation(loc: Location): string {
  return `${loc.file.name}:${positionAt(loc.file, loc.offset).line}`;
}
