// Pass 1 of loading: YAML text -> rule-file items, with positions. It checks the shape of every
// entry (which keys, which types) the way Falco's reader does, and reports each problem with the
// place it occurs; an entry with a problem is left out and the reading goes on.

import {
  isNullScalar,
  mappingGet,
  parseYamlDocuments,
  type SourceFile,
  type YamlMapping,
  type YamlNode,
  type YamlScalar,
  YamlSyntaxError,
} from "../../yaml/index.ts";
import { PRIORITY_SPELLINGS } from "../../common/index.ts";
import type { DiagnosticBag, Location } from "./diagnostics.ts";
import {
  type ExceptionSpec,
  type ExceptionValue,
  parsePriority,
  type PluginRequirement,
  type RuleFields,
  type RuleFileItem,
  type RuleKey,
  RULE_DEFAULTS,
  RULE_KEY_TABLE,
  type RuleKeyRow,
} from "./items.ts";

const LIST_NAME = /^[^()"'\s=,]+$/;
const MACRO_NAME = /^[a-zA-Z]+[a-zA-Z0-9_]*$/;

// The rule keys and how each may be changed come from one table (items.ts).
const yamlNames = (keep: (r: RuleKeyRow) => boolean): string[] =>
  RULE_KEY_TABLE.filter(keep).map((r) => r.yaml);
const RULE_KEYS = new Set([...yamlNames(() => true), "override", "append"]);
const APPENDABLE: ReadonlySet<string> = new Set(yamlNames((r) => r.append));
const REPLACEABLE: ReadonlySet<string> = new Set(yamlNames((r) => r.replace));
const REQUIRED_BODY: readonly string[] = yamlNames((r) => r.required && r.field !== "name");
const APPEND_TRUE_KEYS: readonly string[] = yamlNames((r) => r.appendTrue);
const APPEND_TRUE_IGNORED: readonly string[] = yamlNames((r) => r.ignoredByAppendTrue);

/** Raised inside the reader to abandon one entry; the message becomes a diagnostic. */
class EntryError extends Error {
  constructor(
    readonly code: "schema" | "invalid_override" | "invalid_priority",
    message: string,
    readonly node: YamlNode,
  ) {
    super(message);
  }
}

export interface ReadResult {
  items: RuleFileItem[];
  /** Names whose entry could not be read: later appends to them are not reported again. */
  brokenNames: Set<string>;
}

export function readRuleFile(file: SourceFile, diagnostics: DiagnosticBag): ReadResult {
  const result: ReadResult = { items: [], brokenNames: new Set() };
  let documents: YamlNode[];
  try {
    documents = parseYamlDocuments(file);
  } catch (err) {
    if (err instanceof YamlSyntaxError) {
      diagnostics.error("yaml_parse", err.message, { file, offset: err.offset });
      return result;
    }
    throw err;
  }
  for (const doc of documents) {
    if (doc.kind !== "sequence") {
      if (isNullScalar(doc)) continue;
      diagnostics.error(
        "schema",
        "rules content must be a YAML sequence of entries (- rule: ..., - macro: ..., - list: ...)",
        at(doc),
      );
      continue;
    }
    for (const entry of doc.items) {
      if (isNullScalar(entry)) continue;
      readEntry(entry, diagnostics, result);
    }
  }
  return result;
}

function readEntry(entry: YamlNode, diagnostics: DiagnosticBag, result: ReadResult): void {
  if (entry.kind !== "mapping") {
    diagnostics.error(
      "schema",
      "each entry must be a mapping (- rule: ..., - macro: ..., - list: ...)",
      at(entry),
    );
    return;
  }
  const kind = ["required_engine_version", "required_plugin_versions", "list", "macro", "rule"].find(
    (k) => mappingGet(entry, k) !== undefined,
  );
  if (kind === undefined) {
    diagnostics.warning(
      "unknown_item",
      `unknown top-level entry (keys: ${entry.entries.map((e) => e.key.value).join(", ")}); it is ignored`,
      at(entry),
    );
    return;
  }
  const nameNode = mappingGet(entry, kind);
  const name = nameNode?.kind === "scalar" ? nameNode.value : "";
  const context = kind === "list" || kind === "macro" || kind === "rule" ? [`${kind} '${name}'`] : [kind];
  try {
    switch (kind) {
      case "required_engine_version":
        result.items.push(readEngineVersion(entry));
        warnUnknownKeys(entry, new Set(["required_engine_version"]), diagnostics, context);
        break;
      case "required_plugin_versions":
        result.items.push(readPluginVersions(entry));
        warnUnknownKeys(entry, new Set(["required_plugin_versions"]), diagnostics, context);
        break;
      case "list":
        result.items.push(readList(entry, diagnostics));
        warnUnknownKeys(entry, new Set(["list", "items", "append", "override"]), diagnostics, context);
        break;
      case "macro":
        result.items.push(readMacro(entry, diagnostics));
        warnUnknownKeys(entry, new Set(["macro", "condition", "append", "override"]), diagnostics, context);
        break;
      case "rule":
        result.items.push(...readRule(entry, diagnostics));
        warnUnknownKeys(entry, RULE_KEYS, diagnostics, context);
        break;
    }
  } catch (err) {
    if (!(err instanceof EntryError)) throw err;
    diagnostics.error(err.code, err.message, at(err.node), context);
    if (name !== "") result.brokenNames.add(`${kind}:${name}`);
  }
}

function readEngineVersion(entry: YamlMapping): RuleFileItem {
  const node = requireScalar(entry, "required_engine_version");
  const text = node.value.trim();
  let version: string;
  if (/^[0-9]+$/.test(text)) version = `0.${Number(text)}.0`;
  else if (/^[0-9]+\.[0-9]+\.[0-9]+$/.test(text)) version = text;
  else
    throw new EntryError(
      "schema",
      `cannot read engine version '${text}': expected an integer or "x.y.z"`,
      node,
    );
  return { kind: "engine_version", version, location: at(node) };
}

function readPluginVersions(entry: YamlMapping): RuleFileItem {
  const seq = mappingGet(entry, "required_plugin_versions") as YamlNode;
  if (seq.kind !== "sequence")
    throw new EntryError("schema", "required_plugin_versions must be a sequence", seq);
  const requirements: PluginRequirement[] = [];
  for (const p of seq.items) {
    if (p.kind !== "mapping")
      throw new EntryError(
        "schema",
        "a plugin version requirement must be a mapping with name and version",
        p,
      );
    const req: PluginRequirement = {
      name: requireScalar(p, "name").value,
      version: requireScalar(p, "version").value,
      alternatives: [],
      location: at(p),
    };
    const alternatives = mappingGet(p, "alternatives");
    if (alternatives !== undefined) {
      if (alternatives.kind !== "sequence")
        throw new EntryError("schema", "plugin alternatives must be a sequence", alternatives);
      for (const a of alternatives.items) {
        if (a.kind !== "mapping")
          throw new EntryError("schema", "a plugin alternative must be a mapping with name and version", a);
        req.alternatives.push({
          name: requireScalar(a, "name").value,
          version: requireScalar(a, "version").value,
        });
      }
    }
    requirements.push(req);
  }
  return { kind: "plugin_versions", requirements, location: at(seq) };
}

function readList(entry: YamlMapping, diagnostics: DiagnosticBag): RuleFileItem {
  const nameNode = requireScalar(entry, "list");
  const name = nameNode.value;
  if (!LIST_NAME.test(name)) {
    diagnostics.warning(
      "invalid_name",
      `list name '${name}' cannot be used in a condition (it must not contain blanks, quotes, parentheses, '=' or ',')`,
      at(nameNode),
      [`list '${name}'`],
    );
  }
  const itemsNode = mappingGet(entry, "items");
  if (itemsNode === undefined) throw new EntryError("schema", `list '${name}' has no 'items'`, entry);
  if (itemsNode.kind !== "sequence")
    throw new EntryError("schema", "'items' must be a sequence of values", itemsNode);
  const items = itemsNode.items.map((i) => {
    if (i.kind !== "scalar") throw new EntryError("schema", "list items must be single values", i);
    return i.value;
  });
  const action = readAppendOrOverride(
    entry,
    "items",
    new Set(["items"]),
    new Set(["items"]),
    diagnostics,
    `list '${name}'`,
  );
  return { kind: "list", name, items, action, location: at(entry) };
}

function readMacro(entry: YamlMapping, diagnostics: DiagnosticBag): RuleFileItem {
  const nameNode = requireScalar(entry, "macro");
  const name = nameNode.value;
  if (!MACRO_NAME.test(name)) {
    diagnostics.warning(
      "invalid_name",
      `macro name '${name}' cannot be used in a condition (it must match [a-zA-Z]+[a-zA-Z0-9_]*)`,
      at(nameNode),
      [`macro '${name}'`],
    );
  }
  const condition = requireScalar(entry, "condition", true);
  const action = readAppendOrOverride(
    entry,
    "condition",
    new Set(["condition"]),
    new Set(["condition"]),
    diagnostics,
    `macro '${name}'`,
  );
  return {
    kind: "macro",
    name,
    condition: { text: condition.value, node: condition },
    action,
    location: at(entry),
  };
}

/** For lists and macros: append: true, or override: {key: append|replace}. */
function readAppendOrOverride(
  entry: YamlMapping,
  key: string,
  appendable: ReadonlySet<string>,
  replaceable: ReadonlySet<string>,
  diagnostics: DiagnosticBag,
  context: string,
): "define" | "append" | "replace" {
  const append = readAppendFlag(entry, diagnostics, context);
  const overrides = readOverrides(entry, appendable, replaceable);
  if (append && overrides.size > 0) {
    throw new EntryError(
      "invalid_override",
      "'override' and 'append: true' cannot be used together; put an 'append' entry under 'override' instead",
      entry,
    );
  }
  if (append) return "append";
  const op = overrides.get(key);
  return op === undefined ? "define" : op;
}

function readAppendFlag(entry: YamlMapping, diagnostics: DiagnosticBag, context: string): boolean {
  const node = mappingGet(entry, "append");
  if (node === undefined) return false;
  const value = requireBool(node, "append");
  if (value) {
    diagnostics.warning(
      "deprecated",
      "'append: true' is deprecated in Falco; use 'override: {KEY: append}'",
      at(node),
      [context],
    );
  }
  return value;
}

function readOverrides(
  entry: YamlMapping,
  appendable: ReadonlySet<string>,
  replaceable: ReadonlySet<string>,
): Map<string, "append" | "replace"> {
  const out = new Map<string, "append" | "replace">();
  const node = mappingGet(entry, "override");
  if (node === undefined) return out;
  if (node.kind !== "mapping")
    throw new EntryError("invalid_override", "'override' must be a mapping of KEY: append|replace", node);
  for (const { key, value } of node.entries) {
    const op = value.kind === "scalar" ? value.value : "";
    if (op === "append") {
      if (!appendable.has(key.value)) {
        throw new EntryError(
          "invalid_override",
          `key '${key.value}' cannot be appended to${replaceable.has(key.value) ? ", use 'replace' instead" : ""}`,
          key,
        );
      }
    } else if (op === "replace") {
      if (!replaceable.has(key.value))
        throw new EntryError("invalid_override", `key '${key.value}' cannot be replaced`, key);
    } else {
      const allowed = [
        appendable.has(key.value) ? "append" : "",
        replaceable.has(key.value) ? "replace" : "",
      ].filter((s) => s !== "");
      throw new EntryError(
        "invalid_override",
        `invalid override operation '${op}' for key '${key.value}': allowed ${allowed.join(" or ") || "none"}`,
        value,
      );
    }
    if (mappingGet(entry, key.value) === undefined) {
      throw new EntryError(
        "invalid_override",
        `an override for '${key.value}' was given but '${key.value}' is not defined in this entry`,
        key,
      );
    }
    out.set(key.value, op);
  }
  return out;
}

function readRule(entry: YamlMapping, diagnostics: DiagnosticBag): RuleFileItem[] {
  const name = requireScalar(entry, "rule").value;
  const context = `rule '${name}'`;
  const location = at(entry);
  const append = readAppendFlag(entry, diagnostics, context);
  const overrides = readOverrides(entry, APPENDABLE, REPLACEABLE);
  if (append && overrides.size > 0) {
    throw new EntryError(
      "invalid_override",
      "'override' and 'append: true' cannot be used together; put an 'append' entry under 'override' instead",
      entry,
    );
  }

  if (overrides.size > 0) {
    // Every appendable/replaceable key present must be covered by the override.
    for (const key of [...APPENDABLE, ...REPLACEABLE]) {
      const present = mappingGet(entry, key);
      if (present !== undefined && !overrides.has(key)) {
        throw new EntryError(
          "invalid_override",
          `key '${key}' has no entry under 'override' (add '${key}: append' or '${key}: replace')`,
          present,
        );
      }
    }
    const items: RuleFileItem[] = [];
    for (const action of ["append", "replace"] as const) {
      const keys = [...overrides].filter(([, op]) => op === action).map(([k]) => k);
      if (keys.length === 0) continue;
      const fields = readRuleFields(entry, keys, diagnostics, context, action === "append");
      fields.source = readSource(entry);
      items.push({ kind: "rule", name, action, fields, keys: keys.map(toRuleKey), location });
    }
    return items;
  }

  if (append) {
    // As in Falco, `append: true` appends the condition and exceptions only.
    const keys = APPEND_TRUE_KEYS.filter((k) => mappingGet(entry, k) !== undefined);
    for (const ignored of APPEND_TRUE_IGNORED) {
      const node = mappingGet(entry, ignored);
      if (node === undefined) continue;
      diagnostics.warning(
        "ignored_key",
        `'${ignored}' is ignored with 'append: true', which appends only condition and exceptions; use 'override: {${ignored}: ${RULE_KEY_TABLE.find((r) => r.yaml === ignored)?.append ? "append" : "replace"}}'`,
        at(node),
        [context],
      );
    }
    const fields = readRuleFields(entry, keys, diagnostics, context, true);
    fields.source = readSource(entry);
    if (keys.length === 0)
      diagnostics.warning("empty_append", "appending rule has no condition or exceptions", location, [
        context,
      ]);
    return [{ kind: "rule", name, action: "append", fields, keys: keys.map(toRuleKey), location }];
  }

  const hasBody = REQUIRED_BODY.some((k) => mappingGet(entry, k) !== undefined);
  if (!hasBody) {
    const enabledNode = mappingGet(entry, "enabled");
    if (enabledNode === undefined) {
      throw new EntryError(
        "schema",
        `rule '${name}' needs condition, output, desc and priority (or only 'enabled' to switch an existing rule)`,
        entry,
      );
    }
    diagnostics.warning(
      "deprecated",
      "a rule entry with only 'enabled' is deprecated in Falco; use 'override: {enabled: replace}'",
      at(entry),
      [context],
    );
    return [{ kind: "rule", name, action: "enable", enabled: requireBool(enabledNode, "enabled"), location }];
  }
  for (const key of REQUIRED_BODY) {
    if (mappingGet(entry, key) === undefined)
      throw new EntryError("schema", `rule '${name}' has no '${key}'`, entry);
  }
  const fields = readRuleFields(
    entry,
    [...RULE_KEYS].filter((k) => mappingGet(entry, k) !== undefined),
    diagnostics,
    context,
    false,
  );
  fields.source ??= RULE_DEFAULTS.source;
  return [{ kind: "rule", name, action: "define", fields, location }];
}

/** The `source` of an updating entry, if it names one: it must match the rule's. */
function readSource(entry: YamlMapping): string | undefined {
  const node = mappingGet(entry, "source");
  if (node === undefined || isNullScalar(node)) return undefined;
  return scalarOf(node, "source").value;
}

function toRuleKey(yamlKey: string): RuleKey {
  const field = RULE_KEY_TABLE.find((r) => r.yaml === yamlKey)?.field;
  if (field === undefined || field === "name") throw new Error(`not a rule field: ${yamlKey}`);
  return field;
}

function readRuleFields(
  entry: YamlMapping,
  keys: readonly string[],
  diagnostics: DiagnosticBag,
  context: string,
  appending: boolean,
): RuleFields {
  const fields: RuleFields = {};
  for (const key of keys) {
    switch (key) {
      case "condition": {
        const node = requireScalar(entry, "condition", true);
        fields.condition = { text: node.value, node };
        break;
      }
      case "output": {
        const node = requireScalar(entry, "output", !appending);
        fields.output = { text: appending ? node.value : node.value.trim(), node };
        break;
      }
      case "desc":
        fields.desc = requireScalar(entry, "desc", !appending).value;
        break;
      case "priority": {
        const node = requireScalar(entry, "priority");
        const p = parsePriority(node.value);
        if (p === undefined) {
          throw new EntryError(
            "invalid_priority",
            `invalid priority '${node.value}': expected one of ${PRIORITY_SPELLINGS.join(", ")} (any case)`,
            node,
          );
        }
        fields.priority = p;
        break;
      }
      case "source": {
        const node = mappingGet(entry, "source") as YamlNode;
        if (!isNullScalar(node)) fields.source = scalarOf(node, "source").value;
        break;
      }
      case "enabled":
        fields.enabled = requireBool(mappingGet(entry, "enabled") as YamlNode, "enabled");
        break;
      case "capture":
        fields.capture = requireBool(mappingGet(entry, "capture") as YamlNode, "capture");
        break;
      case "capture_duration": {
        const node = requireScalar(entry, "capture_duration");
        if (!/^[0-9]+$/.test(node.value))
          throw new EntryError(
            "schema",
            `capture_duration must be a whole number of milliseconds, got '${node.value}'`,
            node,
          );
        fields.captureDuration = Number(node.value);
        break;
      }
      case "warn_evttypes":
        fields.warnEvttypes = requireBool(mappingGet(entry, "warn_evttypes") as YamlNode, "warn_evttypes");
        break;
      case "skip-if-unknown-filter":
        fields.skipIfUnknownFilter = requireBool(
          mappingGet(entry, "skip-if-unknown-filter") as YamlNode,
          "skip-if-unknown-filter",
        );
        break;
      case "tags": {
        const node = mappingGet(entry, "tags") as YamlNode;
        if (isNullScalar(node)) {
          fields.tags = [];
          break;
        }
        if (node.kind !== "sequence")
          throw new EntryError("schema", "'tags' must be a sequence of strings", node);
        fields.tags = node.items.map((t) => scalarOf(t, "tags").value);
        break;
      }
      case "exceptions":
        fields.exceptions = readExceptions(entry, diagnostics, context, appending);
        break;
    }
  }
  return fields;
}

function readExceptions(
  entry: YamlMapping,
  diagnostics: DiagnosticBag,
  context: string,
  appending: boolean,
): ExceptionSpec[] {
  const node = mappingGet(entry, "exceptions") as YamlNode;
  if (isNullScalar(node)) return [];
  if (node.kind !== "sequence") throw new EntryError("schema", "rule exceptions must be a sequence", node);
  const out: ExceptionSpec[] = [];
  for (const ex of node.items) {
    if (ex.kind !== "mapping")
      throw new EntryError(
        "schema",
        "a rule exception must be a mapping with name, fields, comps and values",
        ex,
      );
    const name = requireScalar(ex, "name").value;
    if (out.some((o) => o.name === name)) {
      diagnostics.warning(
        "duplicate_exception",
        `exception '${name}' is defined more than once in this rule`,
        at(ex),
        [context, `exception '${name}'`],
      );
    }
    const spec: ExceptionSpec = { name, values: [], location: at(ex) };
    const fieldsNode = mappingGet(ex, "fields");
    if (fieldsNode !== undefined) spec.fields = stringOrList(fieldsNode, "fields");
    else if (!appending) throw new EntryError("schema", `exception '${name}' has no 'fields'`, ex);
    const compsNode = mappingGet(ex, "comps");
    if (compsNode !== undefined) spec.comps = stringOrList(compsNode, "comps");
    const valuesNode = mappingGet(ex, "values");
    if (valuesNode !== undefined && !isNullScalar(valuesNode)) {
      if (valuesNode.kind !== "sequence")
        throw new EntryError("schema", "exception values must be a sequence", valuesNode);
      for (const v of valuesNode.items) spec.values.push(readExceptionValue(v));
    } else if (appending) {
      diagnostics.warning("empty_append", `exception '${name}' is appended with no values`, at(ex), [
        context,
        `exception '${name}'`,
      ]);
    }
    out.push(spec);
  }
  return out;
}

function readExceptionValue(node: YamlNode): ExceptionValue | ExceptionValue[] {
  if (node.kind === "scalar") {
    if (node.value === "") throw new EntryError("schema", "exception values must be non-empty", node);
    return { text: node.value, location: at(node) };
  }
  if (node.kind === "sequence") {
    return node.items.map((i) => {
      if (i.kind === "scalar") return { text: i.value, location: at(i) };
      if (i.kind === "sequence")
        return { items: i.items.map((x) => scalarOf(x, "values").value), location: at(i) };
      throw new EntryError("schema", "exception values must be strings or lists of strings", i);
    });
  }
  throw new EntryError("schema", "exception values must be strings or lists of strings", node);
}

function stringOrList(node: YamlNode, key: string): string | string[] {
  if (node.kind === "scalar") {
    if (node.value.trim() === "") throw new EntryError("schema", `'${key}' must be non-empty`, node);
    return node.value;
  }
  if (node.kind === "sequence") return node.items.map((i) => scalarOf(i, key).value);
  throw new EntryError("schema", `'${key}' must be a string or a list of strings`, node);
}

function requireScalar(map: YamlMapping, key: string, nonEmpty = true): YamlScalar {
  const node = mappingGet(map, key);
  if (node === undefined) throw new EntryError("schema", `missing key '${key}'`, map);
  const scalar = scalarOf(node, key);
  if (nonEmpty && scalar.value.trim() === "")
    throw new EntryError("schema", `'${key}' must not be empty`, node);
  return scalar;
}

function scalarOf(node: YamlNode, key: string): YamlScalar {
  if (node.kind !== "scalar")
    throw new EntryError("schema", `'${key}' must be a single value, not a ${node.kind}`, node);
  return node;
}

function requireBool(node: YamlNode, key: string): boolean {
  const scalar = scalarOf(node, key);
  // yaml-cpp's bool conversion, which Falco uses.
  if (/^(true|True|TRUE|yes|Yes|YES|y|Y|on|On|ON)$/.test(scalar.value)) return true;
  if (/^(false|False|FALSE|no|No|NO|n|N|off|Off|OFF)$/.test(scalar.value)) return false;
  throw new EntryError("schema", `'${key}' must be true or false, got '${scalar.value}'`, node);
}

function warnUnknownKeys(
  entry: YamlMapping,
  known: ReadonlySet<string>,
  diagnostics: DiagnosticBag,
  context: string[],
): void {
  for (const { key } of entry.entries) {
    if (!known.has(key.value))
      diagnostics.warning("unknown_key", `unknown key '${key.value}'; it is ignored`, at(key), context);
  }
}

function at(node: YamlNode): Location {
  return { file: node.file, offset: node.start };
}
