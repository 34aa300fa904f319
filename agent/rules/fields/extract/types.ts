// An extractor reads one field's value for the current event; a binder builds it once, at rule
// load time, for the argument written in the rule (`proc.aname[2]`, `evt.arg.flags`), so the
// per-event work is a property read or a short walk.

import type { EventContext } from "../../../state/index.ts";
import type { FieldValue } from "../values.ts";

export type Extractor = (ctx: EventContext) => FieldValue | undefined;

/** Builds the extractor for an argument, or throws FieldArgumentError when the argument is invalid. */
export type Binder = (arg: string | undefined) => Extractor;

export class FieldArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FieldArgumentError";
  }
}

/** A binder for a field that takes no argument. */
export function plain(extract: Extractor): Binder {
  return (arg) => {
    if (arg !== undefined) throw new FieldArgumentError("this field takes no argument");
    return extract;
  };
}

/** Parses a non-negative integer index argument. */
export function indexArg(arg: string): number {
  if (!/^[0-9]+$/.test(arg))
    throw new FieldArgumentError(`expected a non-negative integer index, got '${arg}'`);
  return Number.parseInt(arg, 10);
}
