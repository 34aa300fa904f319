// A field's value on an event's context, the field named as a rule writes it ("proc.aname[2]",
// "fd.name"): for state and field tests that check what a rule would read.
import { parseOperandPrefix } from "../../agent/rules/condition/parser.ts";
import { FieldRegistry } from "../../agent/rules/fields/registry.ts";
import type { EventContext } from "../../agent/state/context.ts";

const registry = FieldRegistry.default();

export function readField(ctx: EventContext, text: string): unknown {
  const parsed = parseOperandPrefix(text);
  if (parsed === undefined || parsed.operand.kind !== "field") throw new Error(`not a field: ${text}`);
  return registry.resolve(parsed.operand.name, parsed.operand.arg).extract(ctx);
}
