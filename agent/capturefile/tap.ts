// Writes the records the agent sees into a capture file (lanner capture). With a filter, the
// records that keep the process tree (exec, fork, exit) are always written, so a replay knows
// every process; the filter selects among the others.

import type { RecordTap } from "./record-tap.ts";
import type { RuleEngine } from "../rules/index.ts";
import type { EventContext } from "../state/index.ts";
import type { CaptureWriter } from "./writer.ts";

const noMatch = () => {};

export class CaptureTap implements RecordTap {
  filtered = 0;

  constructor(
    private readonly writer: CaptureWriter,
    /** An engine holding the filter as its one rule, or undefined for every record. */
    private readonly filter?: RuleEngine<EventContext>,
    /** Called once when the writer refuses a record because a limit is reached. */
    private readonly onFull: (reason: string) => void = () => {},
  ) {}

  onRecord(bytes: Uint8Array, start: number, end: number, ctx: EventContext): void {
    const kind = ctx.event.kind;
    if (
      this.filter !== undefined &&
      kind !== "procfork" &&
      kind !== "procexit" &&
      kind !== "execve" &&
      kind !== "execveat"
    ) {
      if (this.filter.evaluate(kind, ctx, noMatch) === 0) {
        this.filtered++;
        return;
      }
    }
    if (this.writer.full !== undefined) return;
    this.writer.addRecord(bytes, start, end);
    if (this.writer.full !== undefined) this.onFull(this.writer.full);
  }
}
