// The items of a rules file after reading: what each YAML entry asks for, with the position of
// every piece, before any definition is applied.

import type { YamlScalar } from "../../yaml/index.ts";
import type { Location } from "./diagnostics.ts";

/** A condition or output written in a file, with the YAML node it came from (for error positions). */
export interface TextPiece {
  text: string;
  node: YamlScalar;
}

// Priorities are one table shared with the config schema (agent/common/priorities.ts).
export { PRIORITIES, type Priority, parsePriority } from "../../common/index.ts";

import type { Priority } from "../../common/index.ts";

/** A value in an exception: a single string, or (for list-form comparisons) a list of strings. */
export type ExceptionValue = { text: string; location: Location } | { items: string[]; location: Location };

export interface ExceptionSpec {
  name: string;
  /** One field (`fields: proc.name`) or several (`fields: [proc.name, fd.name]`). */
  fields?: string | string[];
  comps?: string | string[];
  /** For the several-field form, each value is a tuple with one entry per field. */
  values: (ExceptionValue | ExceptionValue[])[];
  location: Location;
}

/** Every key a rule may set. `undefined` means "not given in this item". */
export interface RuleFields {
  condition?: TextPiece;
  output?: TextPiece;
  desc?: string;
  priority?: Priority;
  source?: string;
  enabled?: boolean;
  tags?: string[];
  exceptions?: ExceptionSpec[];
  capture?: boolean;
  captureDuration?: number;
  warnEvttypes?: boolean;
  skipIfUnknownFilter?: boolean;
}

export type RuleKey = keyof RuleFields;

/**
 * A key a rule entry may have, as one table: its YAML name, the field it fills, whether a
 * definition needs it, what it means and defaults to (docs/RULES.md's table is checked against
 * this), and how later entries may change it: `override: {KEY: append}`, `override: {KEY: replace}`,
 * and the deprecated `append: true` (which appends condition and exceptions only, and warns that it
 * ignores the keys marked `ignoredByAppendTrue`).
 */
export interface RuleKeyRow {
  readonly yaml: string;
  readonly field: RuleKey | "name";
  readonly required: boolean;
  readonly meaning: string;
  /** As docs show it; "" for none. */
  readonly default: string;
  readonly append: boolean;
  readonly replace: boolean;
  readonly appendTrue: boolean;
  readonly ignoredByAppendTrue: boolean;
}

/** What a rule definition gets for an optional key it does not give (collect.ts applies these). */
export const RULE_DEFAULTS = {
  source: "syscall",
  enabled: true,
  tags: [] as string[],
  exceptions: [] as ExceptionSpec[],
  warnEvttypes: true,
  skipIfUnknownFilter: false,
  capture: false,
  captureDuration: 0,
} as const satisfies Partial<Record<RuleKey, unknown>>;

function defaultText(field: RuleKeyRow["field"]): string {
  if (!Object.hasOwn(RULE_DEFAULTS, field)) return "";
  const value: unknown = RULE_DEFAULTS[field as keyof typeof RULE_DEFAULTS];
  return Array.isArray(value) ? "none" : `\`${String(value)}\``;
}

const row = (
  yaml: string,
  field: RuleKeyRow["field"],
  required: boolean,
  meaning: string,
  policy: { append?: boolean; replace?: boolean; appendTrue?: boolean; ignored?: boolean },
): RuleKeyRow => ({
  yaml,
  field,
  required,
  meaning,
  default: defaultText(field),
  append: policy.append ?? false,
  replace: policy.replace ?? false,
  appendTrue: policy.appendTrue ?? false,
  ignoredByAppendTrue: policy.ignored ?? false,
});

export const RULE_KEY_TABLE: readonly RuleKeyRow[] = [
  row("rule", "name", true, "the name", {}),
  row("condition", "condition", true, "when it fires (Falco's condition language)", {
    append: true,
    replace: true,
    appendTrue: true,
  }),
  row("output", "output", true, "the alert message, with `%field`s", {
    append: true,
    replace: true,
    ignored: true,
  }),
  row("desc", "desc", true, "what it detects", { append: true, replace: true, ignored: true }),
  row("priority", "priority", true, "severity", { replace: true, ignored: true }),
  row("source", "source", false, "event source", {}),
  row("enabled", "enabled", false, "load it switched on or off", { replace: true }),
  row("tags", "tags", false, "labels for selection", { append: true, replace: true, ignored: true }),
  row("exceptions", "exceptions", false, "structured exclusions (section 7)", {
    append: true,
    replace: true,
    appendTrue: true,
  }),
  row(
    "warn_evttypes",
    "warnEvttypes",
    false,
    "warn when the condition does not narrow event types",

    {
      replace: true,
    },
  ),
  row(
    "skip-if-unknown-filter",
    "skipIfUnknownFilter",
    false,
    "skip the rule, with a warning, if it names an unknown field",

    { replace: true },
  ),
  row("capture", "capture", false, "request a capture when it fires (kept, not used yet)", {
    replace: true,
  }),
  row("capture_duration", "captureDuration", false, "capture length in milliseconds", {
    replace: true,
  }),
];

export interface PluginRequirement {
  name: string;
  version: string;
  alternatives: { name: string; version: string }[];
  location: Location;
}

export type RuleFileItem =
  | { kind: "engine_version"; version: string; location: Location }
  | { kind: "plugin_versions"; requirements: PluginRequirement[]; location: Location }
  | {
      kind: "list";
      name: string;
      items: string[];
      action: "define" | "append" | "replace";
      location: Location;
    }
  | {
      kind: "macro";
      name: string;
      condition: TextPiece;
      action: "define" | "append" | "replace";
      location: Location;
    }
  | { kind: "rule"; name: string; action: "define"; fields: RuleFields; location: Location }
  | {
      kind: "rule";
      name: string;
      action: "append" | "replace";
      fields: RuleFields;
      keys: RuleKey[];
      location: Location;
    }
  | { kind: "rule"; name: string; action: "enable"; enabled: boolean; location: Location };
