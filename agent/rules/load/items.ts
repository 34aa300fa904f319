// The items of a rules file after reading: what each YAML entry asks for, with the position of
// every piece, before any definition is applied.

import type { YamlScalar } from "../../yaml/positioned.ts";
import type { Location } from "./diagnostics.ts";

/** A condition or output written in a file, with the YAML node it came from (for error positions). */
export interface TextPiece {
  text: string;
  node: YamlScalar;
}

// Priorities are one table shared with the config schema (agent/common/priorities.ts).
export { PRIORITIES, type Priority, parsePriority } from "../../common/priorities.ts";

import type { Priority } from "../../common/priorities.ts";

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
