// Catalog of every field Falco's syscall event source can evaluate: the libsinsp filterchecks
// (evt, process/thread, user, group, fd, fs.path, fdlist, util) and the fields of the two
// metadata plugins rules rely on (container: container.*, k8s.*, proc.is_container_*;
// k8smeta: k8smeta.*). Lanner does not fill all of them; the catalog lists them anyway so a rule
// using any Falco field is recognised, and an unfilled one can be reported as such.
//
// Facts (names, types, flags, argument forms) were read from the sources:
//   falcosecurity/libs     48dfd53cd23f95720521d41b89883bbc35c8567f  userspace/libsinsp/sinsp_filtercheck_*.cpp
//   falcosecurity/plugins  0b3cbd8d84eba83877159cf3c9fdae1820084c26  plugins/container (v0.7.0), plugins/k8smeta (v0.4.1)
// The rows are data, one per field, in fields.tsv (embedded in the executable); this module reads
// and checks them against the vocabularies below. `display` is Falco's short display name; `desc`
// is our own wording. Resolving a field reference is registry.ts's job (resolveField there).
//
// How arguments are written:
//   - Bracket form `field[ARG]`: the condition parser hands over the field name and the text inside
//     the brackets. Used by proc.aname[2], proc.env[HOME], fd.types[0], evt.arg[0], evt.around[T],
//     container.mount.dest[/etc], k8s.pod.label[app], ... (quotes around ARG are allowed by the parser).
//   - Dotted-suffix form `field.KEY`: a few libsinsp fields take their key as extra dotted name
//     components. The catalog has ONE entry for the base field (e.g. `evt.arg`, arg "index_or_key_required")
//     and `evt.arg.flags` is that same field with key "flags". The complete list is DOT_SUFFIX_FIELDS:
//       evt.arg.NAME        NAME = an event parameter name (any event's); bracket form takes an index only
//       evt.rawarg.NAME     NAME = an event parameter name; no bracket form
//       evt.type.is.NAME    NAME = an event-table name or a number; no bracket form
//       evt.abspath.src|dst optional; only "src" or "dst"; no bracket form
//       thread.cgroup.SUBSYS SUBSYS = a cgroup controller name (letters and '_'); no bracket form
//     Plugin fields never take a dotted suffix in libsinsp (only `[KEY]`), even where a plugin's own
//     documentation shows `k8s.pod.label.foo`.
//   - A dotted name that is itself a catalog entry always wins (`evt.args`, `fs.path.name`,
//     `fd.cip.name`, `proc.vpgid.name`, `container.mount.dest` are fields, not suffix forms).

import fieldTableText from "./fields.tsv" with { type: "text" };

/** Falco's parameter type of a field (the PT_* name without the prefix), kept as Falco has it. Only types that occur. */
export const FALCO_PARAM_TYPES = [
  "CHARBUF",
  "INT8",
  "UINT8",
  "UINT16",
  "INT16",
  "INT32",
  "INT64",
  "UINT32",
  "UINT64",
  "DOUBLE",
  "BOOL",
  "IPADDR",
  "IPNET",
  "PORT",
  "RELTIME",
  "ABSTIME",
  "BYTEBUF",
  "DYN",
] as const;
export type FalcoParamType = (typeof FALCO_PARAM_TYPES)[number];

/**
 * How a field takes an argument.
 * - none: no argument.
 * - index_optional / index_required: a number in brackets, `[N]` (proc.aname[2], evt.around[T]).
 * - key_optional / key_required: free text, in brackets (`proc.env[HOME]`, `container.label[KEY]`)
 *   or, for the fields in DOT_SUFFIX_FIELDS, as a dotted suffix (`evt.rawarg.size`, `thread.cgroup.cpu`).
 * - index_or_key_optional / index_or_key_required: either; `proc.aenv[2]` / `proc.aenv[PATH]`,
 *   `container.mount.dest[0]` / `container.mount.dest[/etc]`, and `evt.arg[0]` / `evt.arg.flags`.
 * "optional" means the bare name is valid too, with its own meaning (e.g. unindexed proc.aname matches
 * any ancestor); "required" means the bare name is rejected when the rule is loaded.
 */
export const FIELD_ARG_FORMS = [
  "none",
  "index_optional",
  "index_required",
  "key_optional",
  "key_required",
  "index_or_key_optional",
  "index_or_key_required",
] as const;
export type FieldArgForm = (typeof FIELD_ARG_FORMS)[number];

/**
 * EPF_* flags of a field that matter to a rule engine. The argument flags (EPF_ARG_REQUIRED/ALLOWED/
 * INDEX/KEY) are not repeated here: libsinsp's custom parsers make them unreliable, `arg` says the truth.
 * EPF_IS_LIST is `isList`.
 * - EPF_FILTER_ONLY: usable in conditions, not in outputs.    - EPF_PRINT_ONLY: outputs only.
 * - EPF_TABLE_ONLY: meant for tables (hidden from listings).  - EPF_DEPRECATED: still accepted.
 * - EPF_NO_RHS: cannot be compared with another field, nor be the right-hand side of a comparison.
 * - EPF_NO_TRANSFORMER: cannot be wrapped in tolower(), b64(), ...
 * - EPF_NO_PTR_STABILITY: extracted value must be copied before a field-to-field comparison.
 * - EPF_FORMAT_SUGGESTED: suggested as an output field (plugins' addOutput).
 */
export const FALCO_FIELD_FLAGS = [
  "EPF_FILTER_ONLY",
  "EPF_PRINT_ONLY",
  "EPF_TABLE_ONLY",
  "EPF_INFO",
  "EPF_CONVERSATION",
  "EPF_DEPRECATED",
  "EPF_NO_TRANSFORMER",
  "EPF_NO_RHS",
  "EPF_NO_PTR_STABILITY",
  "EPF_FORMAT_SUGGESTED",
] as const;
export type FalcoFieldFlag = (typeof FALCO_FIELD_FLAGS)[number];

/** Where Falco gets a field: libsinsp itself or one of the two metadata plugins. */
export const FIELD_PROVIDERS = ["libsinsp", "container", "k8smeta"] as const;
export type FieldProvider = (typeof FIELD_PROVIDERS)[number];

export interface FieldInfo {
  /** Full field name, e.g. "proc.aname". */
  name: string;
  type: FalcoParamType;
  arg: FieldArgForm;
  /** Falco marks it EPF_IS_LIST: the value is a list (in/intersects apply to its elements). */
  isList: boolean;
  flags: readonly FalcoFieldFlag[];
  /** Where Falco gets it: "libsinsp" or the plugin name ("container", "k8smeta"). */
  provider: FieldProvider;
  /** Falco's display name. */
  display: string;
  /** One sentence, our own words. */
  desc: string;
}

/** The columns of fields.tsv, in order (its first non-comment line names them). */
export const FIELD_TABLE_COLUMNS = [
  "name",
  "type",
  "arg",
  "list",
  "flags",
  "provider",
  "display",
  "desc",
] as const;

const FIELD_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

function member<T extends string>(vocabulary: readonly T[], text: string): T | undefined {
  return (vocabulary as readonly string[]).includes(text) ? (text as T) : undefined;
}

/**
 * Reads a field table (fields.tsv's format): '#' comment lines, one header row naming
 * FIELD_TABLE_COLUMNS, then one TAB-separated row per field. Every value must come from the
 * vocabularies above and every name must be unique; the first problem throws, naming
 * `source:line` and what was expected.
 */
export function parseFieldTable(text: string, source: string): FieldInfo[] {
  const fields: FieldInfo[] = [];
  const seen = new Map<string, number>();
  let header = false;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (line === "" || line.startsWith("#")) continue;
    const where = `${source}:${i + 1}`;
    const cols = line.split("\t");
    if (cols.length !== FIELD_TABLE_COLUMNS.length) {
      throw new Error(
        `${where}: expected ${FIELD_TABLE_COLUMNS.length} TAB-separated columns, found ${cols.length}`,
      );
    }
    if (!header) {
      if (cols.join(",") !== FIELD_TABLE_COLUMNS.join(",")) {
        throw new Error(`${where}: expected the header row '${FIELD_TABLE_COLUMNS.join(" ")}'`);
      }
      header = true;
      continue;
    }
    const [name, type, arg, list, flags, provider, display, desc] = cols as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const bad = (column: (typeof FIELD_TABLE_COLUMNS)[number], expected: string): Error => {
      const written = cols[FIELD_TABLE_COLUMNS.indexOf(column)];
      return new Error(`${where}: field '${name}': ${column} '${written}' is not ${expected}`);
    };
    if (!FIELD_NAME.test(name)) throw bad("name", "a dotted lower-case field name");
    const earlier = seen.get(name);
    if (earlier !== undefined)
      throw new Error(`${where}: field '${name}' is already defined on line ${earlier}`);
    seen.set(name, i + 1);
    const fieldType = member(FALCO_PARAM_TYPES, type);
    if (fieldType === undefined) throw bad("type", `one of ${FALCO_PARAM_TYPES.join(", ")}`);
    const form = member(FIELD_ARG_FORMS, arg);
    if (form === undefined) throw bad("arg", `one of ${FIELD_ARG_FORMS.join(", ")}`);
    if (list !== "list" && list !== "-") throw bad("list", "'list' or '-'");
    const flagList: FalcoFieldFlag[] = [];
    if (flags !== "-") {
      for (const flag of flags.split(",")) {
        const known = member(FALCO_FIELD_FLAGS, flag);
        if (known === undefined || flagList.includes(known)) {
          throw bad("flags", `'-' or distinct flags from ${FALCO_FIELD_FLAGS.join(", ")}`);
        }
        flagList.push(known);
      }
    }
    const from = member(FIELD_PROVIDERS, provider);
    if (from === undefined) throw bad("provider", `one of ${FIELD_PROVIDERS.join(", ")}`);
    if (display.trim() === "") throw bad("display", "a display name");
    if (desc.trim() === "") throw bad("desc", "a description");
    fields.push({
      name,
      type: fieldType,
      arg: form,
      isList: list === "list",
      flags: flagList,
      provider: from,
      display,
      desc,
    });
  }
  if (!header) throw new Error(`${source}: no header row '${FIELD_TABLE_COLUMNS.join(" ")}'`);
  return fields;
}

export const FIELD_CATALOG: readonly FieldInfo[] = parseFieldTable(fieldTableText, "fields.tsv");

/** Fields whose key may be written as a dotted suffix (`evt.arg.flags` = field `evt.arg`, key `flags`). */
export const DOT_SUFFIX_FIELDS: readonly string[] = [
  "evt.arg",
  "evt.rawarg",
  "evt.type.is",
  "evt.abspath",
  "thread.cgroup",
];

export const FIELD_BY_NAME: ReadonlyMap<string, FieldInfo> = new Map(FIELD_CATALOG.map((f) => [f.name, f]));

/** First name component of every catalog field: evt, syscall, proc, thread, user, group, fd, fs, ... */
export const FIELD_CLASSES: ReadonlySet<string> = new Set(FIELD_CATALOG.map((f) => f.name.split(".")[0]!));
