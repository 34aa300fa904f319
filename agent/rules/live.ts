// Binding rules to live state: fields read through the registry's extractors over the state
// tracker's event context.

import type { EventContext } from "../state/index.ts";
import type { CheckedOperand } from "./condition/checked.ts";
import type { FieldBinder } from "./condition/plan.ts";

export const liveBinder: FieldBinder<EventContext> = (field) => field.extract;

/** Fields whose printed form differs from their value (evt.time prints as a clock time). */
export function liveText(operand: CheckedOperand): ((ctx: EventContext) => string) | undefined {
  return operand.kind === "field" ? operand.field.def.text : undefined;
}

/** What identifies the event a live context holds: a new event object per event. */
export const liveEventKey = (ctx: EventContext): unknown => ctx.event;
