// The field registry: every field Falco's syscall source defines (from the catalog), with its type,
// and for the fields Lanner fills, how to read it. A field Lanner does not fill yet still resolves
// (rules load), and reads as missing at run time. Field resolution lives here and only here:
// resolveField says which catalog field a reference names, FieldRegistry.resolve binds it.

import { editDistance } from "../../common/index.ts";
import {
  DOT_SUFFIX_FIELDS,
  FIELD_BY_NAME,
  FIELD_CATALOG,
  type FieldArgForm,
  type FieldInfo,
} from "./catalog.ts";
import { CONTAINER_FIELDS } from "./extract/container.ts";
import { EVT_FIELDS, EVT_TEXT_RENDERERS } from "./extract/evt.ts";
import { ANY_END_FIELDS, FD_FIELDS } from "./extract/fd.ts";
import { ANY_ANCESTOR_FIELDS, PROC_FIELDS } from "./extract/proc.ts";
import { type Binder, type Extractor, FieldArgumentError } from "./extract/types.ts";
import { USER_FIELDS } from "./extract/user.ts";
import { EVENT_ARGS } from "./event-names.ts";
import { RAWARG_NUMERIC_TYPES } from "./rawarg-types.ts";
import { type ValueKind, valueKindOf } from "./values.ts";
import type { EventContext } from "../../state/index.ts";

export interface FieldDef {
  readonly name: string;
  readonly info: FieldInfo;
  readonly kind: ValueKind;
  /** Falco's list-valued fields: `in` tests every element, `intersects` any. */
  readonly isList: boolean;
  /** Unindexed ancestor fields: a comparison holds if it holds for any ancestor. */
  readonly anyAncestor: boolean;
  /** How Lanner reads it; undefined when Lanner does not fill this field yet. */
  readonly binder: Binder | undefined;
  /** A text rendering that differs from the value (evt.time). */
  readonly text?: (ctx: EventContext) => string;
}

export interface ResolvedField {
  readonly def: FieldDef;
  readonly arg: string | undefined;
  /** The field as written, e.g. "proc.aname[2]" or "evt.arg.flags". */
  readonly display: string;
  readonly extract: Extractor;
  /** The value may be several values (list field, or unindexed ancestor field). */
  readonly multi: "list" | "any" | "single";
}

/** Of the DOT_SUFFIX_FIELDS, the ones whose key can ONLY be written as a dotted suffix (a bracket argument is rejected). */
const DOT_ONLY = new Set(["evt.rawarg", "evt.type.is", "evt.abspath", "thread.cgroup"]);

/** Keyed fields whose empty key (`[""]`) libsinsp reads as no key (sinsp_filtercheck_thread.cpp). */
const EMPTY_KEY_IS_BARE = new Set(["proc.env", "proc.aenv"]);

/** Every parameter name of every event, which is what libsinsp accepts after `evt.arg.` / `evt.rawarg.`. */
const ALL_EVENT_ARG_NAMES: ReadonlySet<string> = new Set(Object.values(EVENT_ARGS).flat());
/** Event-table names, which is what libsinsp accepts after `evt.type.is.` (besides a number). */
const EVENT_TABLE_NAMES: ReadonlySet<string> = new Set(Object.keys(EVENT_ARGS));

/** Which catalog field a reference names, and its argument: the first step of resolving it. */
export interface FieldMatch {
  field: FieldInfo;
  /** The argument (index or key) as text, if one was given. */
  arg?: string;
  /** How the argument was written. */
  via: "none" | "bracket" | "dot";
}

const SIGNED_INT = /^[+-]?[0-9]+$/;
const PLUGIN_INDEX = /^(0|[1-9][0-9]*)$/;

function isRequired(form: FieldArgForm): boolean {
  return form === "index_required" || form === "key_required" || form === "index_or_key_required";
}

/**
 * Resolves a field reference as the condition parser produced it (`name` as written, `bracketArg` the
 * text inside `[...]`, unquoted) to its catalog entry, accepting exactly what Falco accepts when it
 * loads a rule. Returns undefined for an unknown field or an argument Falco would reject.
 */
export function resolveField(name: string, bracketArg?: string): FieldMatch | undefined {
  const exact = FIELD_BY_NAME.get(name);
  if (exact) {
    if (bracketArg === undefined) {
      return isRequired(exact.arg) ? undefined : { field: exact, via: "none" };
    }
    // libsinsp reads proc.env[""] and proc.aenv[""] as the bare field: the whole environment.
    if (bracketArg === "" && EMPTY_KEY_IS_BARE.has(exact.name)) return { field: exact, via: "none" };
    if (exact.arg === "none" || DOT_ONLY.has(exact.name) || bracketArg === "") return undefined;
    if (exact.provider !== "libsinsp") {
      // Plugin arguments: an index must be a plain decimal without leading zeros, a key is any text.
      if (
        (exact.arg === "index_optional" || exact.arg === "index_required") &&
        !PLUGIN_INDEX.test(bracketArg)
      ) {
        return undefined;
      }
      return { field: exact, arg: bracketArg, via: "bracket" };
    }
    // libsinsp: evt.arg's bracket form is a parameter position; the other index forms are numbers too.
    const indexOnly =
      exact.arg === "index_optional" || exact.arg === "index_required" || exact.name === "evt.arg";
    if (indexOnly && !SIGNED_INT.test(bracketArg)) return undefined;
    return { field: exact, arg: bracketArg, via: "bracket" };
  }
  let base: string | undefined;
  for (const d of DOT_SUFFIX_FIELDS) {
    if (name.startsWith(d + ".") && (base === undefined || d.length > base.length)) base = d;
  }
  if (base === undefined || bracketArg !== undefined) return undefined;
  const key = name.slice(base.length + 1);
  const field = FIELD_BY_NAME.get(base)!;
  switch (base) {
    case "evt.arg":
    case "evt.rawarg":
      if (!ALL_EVENT_ARG_NAMES.has(key)) return undefined;
      break;
    case "evt.type.is":
      if (!EVENT_TABLE_NAMES.has(key) && !/^[0-9]+$/.test(key)) return undefined;
      break;
    case "evt.abspath":
      if (key !== "src" && key !== "dst") return undefined;
      break;
    case "thread.cgroup":
      if (!/^[A-Za-z_]+$/.test(key)) return undefined;
      break;
  }
  return { field, arg: key, via: "dot" };
}

export type FieldErrorKind = "unknown_field" | "bad_argument";

export class FieldResolveError extends Error {
  readonly kind: FieldErrorKind;
  constructor(kind: FieldErrorKind, message: string) {
    super(message);
    this.name = "FieldResolveError";
    this.kind = kind;
  }
}

const IMPLEMENTED: Readonly<Record<string, Binder>> = {
  ...EVT_FIELDS,
  ...PROC_FIELDS,
  ...FD_FIELDS,
  ...USER_FIELDS,
  ...CONTAINER_FIELDS,
};

const missing: Extractor = () => undefined;

export class FieldRegistry {
  private readonly defs = new Map<string, FieldDef>();
  private readonly rawargDefs = new Map<string, FieldDef>();

  constructor(catalog: readonly FieldInfo[], implemented: Readonly<Record<string, Binder>>) {
    for (const info of catalog) {
      this.defs.set(info.name, {
        name: info.name,
        info,
        kind: valueKindOf(info.type),
        isList: info.isList,
        anyAncestor: ANY_ANCESTOR_FIELDS.has(info.name) || ANY_END_FIELDS.has(info.name),
        binder: implemented[info.name],
        text: EVT_TEXT_RENDERERS[info.name],
      });
    }
  }

  static default(): FieldRegistry {
    defaultRegistry ??= new FieldRegistry(FIELD_CATALOG, IMPLEMENTED);
    return defaultRegistry;
  }

  get size(): number {
    return this.defs.size;
  }

  all(): Iterable<FieldDef> {
    return this.defs.values();
  }

  lookup(name: string): FieldDef | undefined {
    return this.defs.get(name);
  }

  /** Names of Falco fields Lanner implements, for docs and `rules explain`. */
  isImplemented(name: string): boolean {
    return this.defs.get(name)?.binder !== undefined;
  }

  /**
   * Resolves a field as written in a rule: `proc.aname[2]` is `proc.aname` with argument `2`, and
   * `evt.arg.flags` is `evt.arg` with argument `flags`, accepting exactly what Falco accepts.
   */
  resolve(name: string, bracketArg: string | undefined): ResolvedField {
    const found = resolveField(name, bracketArg);
    if (found === undefined) throw this.explainRejection(name, bracketArg);
    const def = this.defs.get(found.field.name);
    if (def === undefined) throw new FieldResolveError("unknown_field", `unknown field '${name}'`);
    const arg = found.arg;
    let extract = missing;
    if (def.binder !== undefined) {
      try {
        extract = def.binder(arg);
      } catch (err) {
        if (err instanceof FieldArgumentError) {
          throw new FieldResolveError("bad_argument", `field '${def.name}': ${err.message}`);
        }
        throw err;
      }
    }
    const display = bracketArg !== undefined ? `${name}[${bracketArg}]` : name;
    const multi = def.isList ? "list" : def.anyAncestor && arg === undefined ? "any" : "single";
    return { def: this.typedByParameter(def, arg), arg, display, extract, multi };
  }

  /**
   * evt.rawarg.NAME takes the type of the parameter NAME (libsinsp types it from the event table),
   * so `evt.rawarg.res < -1` compares numbers. One derived definition per parameter name.
   */
  private typedByParameter(def: FieldDef, arg: string | undefined): FieldDef {
    if (def.name !== "evt.rawarg" || arg === undefined) return def;
    const type = RAWARG_NUMERIC_TYPES.get(arg);
    if (type === undefined) return def;
    const known = this.rawargDefs.get(arg);
    if (known !== undefined) return known;
    const typed: FieldDef = { ...def, kind: valueKindOf(type), info: { ...def.info, type } };
    this.rawargDefs.set(arg, typed);
    return typed;
  }

  private explainRejection(name: string, bracketArg: string | undefined): FieldResolveError {
    const def = this.defs.get(name) ?? this.dottedBase(name);
    if (def === undefined) {
      const hint = this.nearestName(name);
      return new FieldResolveError(
        "unknown_field",
        `unknown field '${name}'${hint === undefined ? "" : `; did you mean '${hint}'?`}`,
      );
    }
    const form = def.info.arg;
    if (bracketArg === undefined && def.name === name) {
      return new FieldResolveError(
        "bad_argument",
        `field '${name}' requires an argument (${describeArg(form)})`,
      );
    }
    const written = bracketArg === undefined ? name.slice(def.name.length + 1) : bracketArg;
    return new FieldResolveError(
      "bad_argument",
      `field '${def.name}' does not accept the argument '${written}' (${describeArg(form)})`,
    );
  }

  private dottedBase(name: string): FieldDef | undefined {
    for (const base of DOT_SUFFIX_FIELDS) {
      if (name.startsWith(`${base}.`)) return this.defs.get(base);
    }
    return undefined;
  }

  private nearestName(name: string): string | undefined {
    let best: string | undefined;
    let bestDistance = Math.max(2, Math.floor(name.length / 4)) + 1;
    for (const candidate of this.defs.keys()) {
      const d = editDistance(name, candidate, bestDistance);
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    return best;
  }
}

function describeArg(form: FieldInfo["arg"]): string {
  switch (form) {
    case "none":
      return "it takes none";
    case "index_optional":
    case "index_required":
      return "a numeric index, as in [2]";
    case "key_optional":
    case "key_required":
      return "a key, as in [KEY]";
    default:
      return "a numeric index or a key";
  }
}

let defaultRegistry: FieldRegistry | undefined;
