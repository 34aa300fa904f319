// One running agent's data flow: frames of kernel records -> decode -> state -> rules -> alerts.
// The frame source (the live probe, later a capture file) is outside; this is the same for both.

import { type DecodeError, RecordDecoder } from "./events/decode.ts";
import { toWallTime } from "./events/time.ts";
import type { Event } from "./events/types.ts";
import type { Logger } from "./log.ts";
import type { Alert } from "./outputs/alert.ts";
import type { AlertPublisher } from "./outputs/index.ts";
import type { ActiveRule, RuleEngine } from "./rules/engine.ts";
import type { EventContext } from "./state/context.ts";
import type { StateTracker } from "./state/tracker.ts";

/** Malformed records are logged individually up to this many, then counted only. */
const LOGGED_DECODE_ERRORS = 20;

export interface PipelineParts {
  engine: RuleEngine<EventContext>;
  state: StateTracker;
  outputs: AlertPublisher;
  log: Logger;
  hostname: string;
}

export interface PipelineStats {
  events: number;
  malformed: number;
  alerts: number;
}

export class Pipeline {
  private readonly decoder = new RecordDecoder();
  private alerts = 0;

  constructor(private readonly parts: PipelineParts) {}

  /** Takes a batch of frames ([u32 length][record] each), as the probe drains them. */
  readonly onFrames = (frames: Uint8Array, count: number): void => {
    this.decoder.decodeFrames(frames, count, this.onEvent, this.onDecodeError);
  };

  readonly onEvent = (event: Event): void => {
    const ctx = this.parts.state.apply(event);
    // Fork events only maintain the process table; Falco has no such event type for rules.
    if (event.kind === "procfork") return;
    this.parts.engine.evaluate(event.kind, ctx, (rule) => this.emit(rule, ctx));
  };

  private readonly onDecodeError = (err: DecodeError): void => {
    const n = this.decoder.stats.malformed;
    if (n <= LOGGED_DECODE_ERRORS)
      this.parts.log.error("malformed kernel record skipped", {
        offset: err.offset,
        reason: err.reason,
        count: n,
      });
    if (n === LOGGED_DECODE_ERRORS) this.parts.log.error("further malformed records are counted, not logged");
  };

  private emit(rule: ActiveRule<EventContext>, ctx: EventContext): void {
    const e = ctx.event;
    const alert: Alert = {
      time: toWallTime(ctx.host.clock, e.bootSec, e.bootNsec),
      rule: rule.rule.name,
      priority: rule.rule.priority,
      message: rule.output.text(ctx),
      outputFields: rule.output.fields(ctx),
      source: rule.rule.source,
      tags: rule.rule.tags,
      hostname: this.parts.hostname,
    };
    this.alerts++;
    this.parts.outputs.publish(alert);
  }

  stats(): PipelineStats {
    return {
      events: this.decoder.stats.decoded,
      malformed: this.decoder.stats.malformed,
      alerts: this.alerts,
    };
  }
}
