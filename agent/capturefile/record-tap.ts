// An observer of every record after the state applied it, and of every alert: what the capture
// writer and the rule-triggered capture ring are. Defined here, beside them, so the agent's
// pipeline (above) calls them without the capture-file stage importing the agent.

import type { ActiveRule } from "../rules/index.ts";
import type { EventContext } from "../state/index.ts";

/** Sees every record after the state applied it (capture writers, the rule-triggered ring). */
export interface RecordTap {
  /** bytes[start, end) is the raw record; valid only during the call. */
  onRecord(bytes: Uint8Array, start: number, end: number, ctx: EventContext): void;
  /** Called for each alert, after onRecord for the same record. */
  onAlert?(rule: ActiveRule<EventContext>, ctx: EventContext): void;
}
