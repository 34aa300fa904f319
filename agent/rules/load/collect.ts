// Pass 2 of loading: applies the items of every file, in load order, to one set of definitions:
// define, redefine, append, replace, enable. It follows Falco's collector, and it keeps the
// history of every definition (which file and line defined it, which later entry appended to or
// replaced it), so `rules explain` can show which definition wins and why.
//
// Order matters in two ways, as in Falco. Each list, macro and rule has an index: the position of
// its first definition (a redefinition keeps it). And each has a visibility: the position of its
// latest definition or append. A macro may use another macro only if that one was first defined
// before the user's latest definition; a list may include another list under the same rule.
// Rules see every macro and list in its final form.

import { nearest } from "../condition/check.ts";
import type { DiagnosticBag, Location } from "./diagnostics.ts";
import type {
  ExceptionSpec,
  PluginRequirement,
  Priority,
  RuleFields,
  RuleFileItem,
  RuleKey,
  TextPiece,
} from "./items.ts";
import { RULE_DEFAULTS } from "./items.ts";

/** The Falco rules-engine version whose language Lanner implements. */
export const ENGINE_VERSION = "0.63.0";

/** Plugins whose fields Lanner provides itself, and the plugin version it is compatible with. */
export const BUILTIN_PLUGINS: Readonly<Record<string, string>> = { container: "0.7.0" };

export type ProvenanceAction = "define" | "redefine" | "append" | "replace" | "enable";

export interface Provenance {
  action: ProvenanceAction;
  /** For append/replace: which keys. */
  keys?: readonly string[];
  location: Location;
}

interface Ordered {
  name: string;
  /** Position of the first definition. */
  index: number;
  /** Position of the latest definition or append. */
  visibility: number;
  history: Provenance[];
}

export interface ListDefinition extends Ordered {
  items: string[];
}

export interface MacroDefinition extends Ordered {
  /** Appends add pieces; the condition is the pieces joined by a blank. */
  pieces: TextPiece[];
}

export interface RuleDefinition extends Ordered {
  condition: TextPiece[];
  output: TextPiece[];
  desc: string;
  priority: Priority;
  source: string;
  enabled: boolean;
  tags: Set<string>;
  exceptions: ExceptionSpec[];
  capture: boolean;
  captureDuration: number;
  warnEvttypes: boolean;
  skipIfUnknownFilter: boolean;
  location: Location;
}

export class Collection {
  readonly lists = new Map<string, ListDefinition>();
  readonly macros = new Map<string, MacroDefinition>();
  readonly rules = new Map<string, RuleDefinition>();
  requiredEngineVersion: string | undefined;
  private nextIndex = 0;

  constructor(private readonly diagnostics: DiagnosticBag) {}

  /** Applies one file's items. `broken` names entries of that file that could not be read. */
  apply(items: readonly RuleFileItem[], broken: ReadonlySet<string>): void {
    for (const item of items) {
      switch (item.kind) {
        case "engine_version":
          this.checkEngineVersion(item.version, item.location);
          break;
        case "plugin_versions":
          for (const req of item.requirements) this.checkPlugin(req, req.location);
          break;
        case "list":
          this.applyList(item, broken);
          break;
        case "macro":
          this.applyMacro(item, broken);
          break;
        case "rule":
          this.applyRule(item, broken);
          break;
      }
    }
  }

  private checkEngineVersion(version: string, location: Location): void {
    if (compareVersions(version, ENGINE_VERSION) > 0 || major(version) !== major(ENGINE_VERSION)) {
      this.diagnostics.error(
        "engine_version",
        `these rules require engine version ${version}; Lanner implements the Falco rules language of engine version ${ENGINE_VERSION}`,
        location,
        ["required_engine_version"],
      );
      return;
    }
    if (
      this.requiredEngineVersion === undefined ||
      compareVersions(version, this.requiredEngineVersion) > 0
    ) {
      this.requiredEngineVersion = version;
    }
  }

  private checkPlugin(req: PluginRequirement, location: Location): void {
    const options = [{ name: req.name, version: req.version }, ...req.alternatives];
    const satisfied = options.some((o) => {
      // Own keys only: a plugin named "constructor" or "__proto__" is just unknown.
      const ours = Object.hasOwn(BUILTIN_PLUGINS, o.name) ? BUILTIN_PLUGINS[o.name] : undefined;
      return ours !== undefined && major(ours) === major(o.version) && compareVersions(o.version, ours) <= 0;
    });
    if (!satisfied) {
      const names = options.map((o) => `${o.name} ${o.version}`).join(" or ");
      const builtin = Object.entries(BUILTIN_PLUGINS)
        .map(([n, v]) => `${n} ${v}`)
        .join(", ");
      this.diagnostics.error(
        "plugin_version",
        `these rules require the plugin ${names}; Lanner has no plugins and provides the fields of: ${builtin}`,
        location,
        ["required_plugin_versions"],
      );
    }
  }

  private applyList(item: Extract<RuleFileItem, { kind: "list" }>, broken: ReadonlySet<string>): void {
    this.applyNamed(this.lists, "list", "items", item, broken, {
      create: () => ({ items: [...item.items] }),
      // A loop, not push(...items): a spread of a million items overflows the call stack.
      extend: (prev) => {
        for (const value of item.items) prev.items.push(value);
      },
    });
  }

  private applyMacro(item: Extract<RuleFileItem, { kind: "macro" }>, broken: ReadonlySet<string>): void {
    this.applyNamed(this.macros, "macro", "condition", item, broken, {
      create: () => ({ pieces: [item.condition] }),
      extend: (prev) => prev.pieces.push(item.condition),
    });
  }

  /**
   * Lists and macros hold one value: a definition (or an override that replaces it) sets it and
   * keeps the first definition's index; an append extends it. Both move the visibility.
   */
  private applyNamed<T extends Ordered>(
    table: Map<string, T>,
    kind: "list" | "macro",
    key: string,
    item: { name: string; action: "define" | "append" | "replace"; location: Location },
    broken: ReadonlySet<string>,
    value: { create: () => Omit<T, keyof Ordered>; extend: (prev: T) => void },
  ): void {
    const prev = table.get(item.name);
    const id = this.nextIndex++;
    if (item.action === "append") {
      if (prev === undefined) {
        this.noPrevious(kind, item.name, item.location, broken);
        return;
      }
      value.extend(prev);
      prev.visibility = id;
      prev.history.push({ action: "append", keys: [key], location: item.location });
      return;
    }
    const history = prev?.history ?? [];
    history.push({
      action: prev === undefined ? "define" : item.action === "replace" ? "replace" : "redefine",
      keys: item.action === "replace" ? [key] : undefined,
      location: item.location,
    });
    table.set(item.name, {
      ...value.create(),
      name: item.name,
      index: prev?.index ?? id,
      visibility: id,
      history,
    } as T);
  }

  private applyRule(item: Extract<RuleFileItem, { kind: "rule" }>, broken: ReadonlySet<string>): void {
    const prev = this.rules.get(item.name);
    const id = this.nextIndex++;
    if (item.action === "define") {
      const f = item.fields;
      if (prev !== undefined && f.source !== undefined && prev.source !== f.source) {
        this.diagnostics.error(
          "schema",
          `rule '${item.name}' is redefined with a different source (${prev.source} -> ${f.source})`,
          item.location,
          [`rule '${item.name}'`],
        );
        return;
      }
      const history = prev?.history ?? [];
      history.push({ action: prev === undefined ? "define" : "redefine", location: item.location });
      this.rules.set(item.name, {
        name: item.name,
        index: prev?.index ?? id,
        visibility: id,
        history,
        condition: f.condition === undefined ? [] : [f.condition],
        output: f.output === undefined ? [] : [f.output],
        desc: f.desc ?? "",
        // A definition always has a priority (the reader requires it); "Debug" only satisfies the type.
        priority: f.priority ?? "Debug",
        source: f.source ?? RULE_DEFAULTS.source,
        enabled: f.enabled ?? RULE_DEFAULTS.enabled,
        tags: new Set(f.tags ?? RULE_DEFAULTS.tags),
        exceptions: f.exceptions ?? [...RULE_DEFAULTS.exceptions],
        capture: f.capture ?? RULE_DEFAULTS.capture,
        captureDuration: f.captureDuration ?? RULE_DEFAULTS.captureDuration,
        warnEvttypes: f.warnEvttypes ?? RULE_DEFAULTS.warnEvttypes,
        skipIfUnknownFilter: f.skipIfUnknownFilter ?? RULE_DEFAULTS.skipIfUnknownFilter,
        location: item.location,
      });
      return;
    }
    if (prev === undefined) {
      this.noPrevious("rule", item.name, item.location, broken, item.action);
      return;
    }
    prev.visibility = id;
    if (item.action === "enable") {
      prev.enabled = item.enabled;
      prev.history.push({ action: "enable", keys: ["enabled"], location: item.location });
      return;
    }
    if (item.fields.source !== undefined && item.fields.source !== "" && item.fields.source !== prev.source) {
      this.diagnostics.error(
        "schema",
        `rule '${item.name}' is updated with a different source (${prev.source} -> ${item.fields.source})`,
        item.location,
        [`rule '${item.name}'`],
      );
      return;
    }
    prev.history.push({ action: item.action, keys: item.keys, location: item.location });
    if (item.action === "append") this.appendToRule(prev, item.fields, item.location);
    else this.replaceInRule(prev, item.fields, item.keys);
  }

  private appendToRule(rule: RuleDefinition, f: RuleFields, location: Location): void {
    if (f.condition !== undefined && f.condition.text.trim() !== "") rule.condition.push(f.condition);
    if (f.output !== undefined && f.output.text.trim() !== "") rule.output.push(f.output);
    if (f.desc !== undefined && f.desc !== "")
      rule.desc = rule.desc === "" ? f.desc : `${rule.desc} ${f.desc}`;
    for (const tag of f.tags ?? []) rule.tags.add(tag);
    for (const ex of f.exceptions ?? []) {
      const existing = rule.exceptions.find((e) => e.name === ex.name);
      if (existing === undefined) {
        if (ex.fields === undefined) {
          this.diagnostics.error("exception", `new exception '${ex.name}' needs 'fields'`, ex.location, [
            `rule '${rule.name}'`,
          ]);
          continue;
        }
        if (ex.values.length === 0) {
          this.diagnostics.error("exception", `new exception '${ex.name}' needs 'values'`, ex.location, [
            `rule '${rule.name}'`,
          ]);
          continue;
        }
        rule.exceptions.push(ex);
      } else {
        if (ex.fields !== undefined || ex.comps !== undefined) {
          this.diagnostics.error(
            "exception",
            `exception '${ex.name}' already exists: an append may add values only, not fields or comps`,
            ex.location,
            [`rule '${rule.name}'`],
          );
          continue;
        }
        existing.values = [...existing.values, ...ex.values];
      }
    }
    void location;
  }

  private replaceInRule(rule: RuleDefinition, f: RuleFields, keys: readonly RuleKey[]): void {
    for (const key of keys) {
      switch (key) {
        case "condition":
          rule.condition = f.condition === undefined ? [] : [f.condition];
          break;
        case "output":
          rule.output = f.output === undefined ? [] : [f.output];
          break;
        case "desc":
          rule.desc = f.desc ?? "";
          break;
        case "tags":
          rule.tags = new Set(f.tags ?? []);
          break;
        case "exceptions":
          rule.exceptions = f.exceptions ?? [];
          break;
        case "priority":
          if (f.priority !== undefined) rule.priority = f.priority;
          break;
        case "capture":
          if (f.capture !== undefined) rule.capture = f.capture;
          break;
        case "captureDuration":
          if (f.captureDuration !== undefined) rule.captureDuration = f.captureDuration;
          break;
        case "enabled":
          if (f.enabled !== undefined) rule.enabled = f.enabled;
          break;
        case "warnEvttypes":
          if (f.warnEvttypes !== undefined) rule.warnEvttypes = f.warnEvttypes;
          break;
        case "skipIfUnknownFilter":
          if (f.skipIfUnknownFilter !== undefined) rule.skipIfUnknownFilter = f.skipIfUnknownFilter;
          break;
        case "source":
          break;
      }
    }
  }

  private noPrevious(
    kind: string,
    name: string,
    location: Location,
    broken: ReadonlySet<string>,
    action = "append",
  ): void {
    // The definition itself failed to read: that error was reported already.
    if (broken.has(`${kind}:${name}`)) return;
    const what =
      action === "enable" ? "sets 'enabled' on" : action === "replace" ? "replaces keys of" : "appends to";
    const table: Map<string, unknown> =
      kind === "list" ? this.lists : kind === "macro" ? this.macros : this.rules;
    const hint = nearest(name, table.keys());
    this.diagnostics.error(
      "no_previous_definition",
      `this entry ${what} ${kind} '${name}', but no ${kind} of that name is defined before it (${hint === undefined ? "check the load order of your rule files" : `did you mean '${hint}'?`})`,
      location,
      [`${kind} '${name}'`],
    );
  }
}

function parseVersion(v: string): number[] {
  return v.split(".").map((p) => Number.parseInt(p, 10) || 0);
}

function major(v: string): number {
  return parseVersion(v)[0];
}

/** Compares dotted versions numerically: -1, 0 or 1. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}
