// The per-record path: frames -> decode -> state -> rules -> alerts. One instance per agent; the
// rule engine can be swapped between two batches (hot reload) without touching the source.

import type { MetricSample, MetricSource } from "../common/index.ts";
import { DecodeError, type Event, RecordDecoder, toWallTime } from "../events/index.ts";
import type { Logger } from "../log.ts";
import type { Alert } from "../outputs/index.ts";
import { type ActiveRule, factoryCacheStats, type RuleEngine } from "../rules/index.ts";
import type { EventContext, StateTracker } from "../state/index.ts";
import type { RecordTap } from "../capturefile/index.ts";
import type { AgentClock } from "./clock.ts";
import type { AgentOutputs } from "./outputs.ts";

/** Malformed records are logged individually up to this many, then counted only. */
const LOGGED_DECODE_ERRORS = 20;
const FRAME_HEADER_BYTES = 4;

export type { RecordTap };

export interface PipelineParts {
  engine: RuleEngine<EventContext>;
  state: StateTracker;
  outputs: Pick<AgentOutputs, "publish">;
  log: Logger;
  hostname: string;
  clock?: AgentClock;
  taps?: readonly RecordTap[];
  /** The record schema version of the source (a capture file's header); the current one by default. */
  schemaVersion?: number;
  /** Called for each malformed record (offset in the batch) before it is logged; may throw to stop. */
  onMalformed?: (offset: number, reason: string) => void;
}

export interface PipelineStats {
  events: number;
  malformed: number;
  alerts: number;
}

export class Pipeline implements MetricSource {
  private readonly decoder: RecordDecoder;
  private engine: RuleEngine<EventContext>;
  private readonly taps: readonly RecordTap[];
  private alerts = 0;
  /** Frames whose length prefix ran past the batch (the decoder never saw them). */
  private framing = 0;
  /** Alerts per rule name over the whole run, across reloads. */
  private readonly alertsByRule = new Map<string, number>();
  /** The context of the event being evaluated, for onMatch (one closure for all events). */
  private ctx: EventContext | undefined;
  private readonly onMatch = (rule: ActiveRule<EventContext>): void => {
    if (this.ctx !== undefined) this.emit(rule, this.ctx);
  };
  // The record being processed, for taps.
  private bytes: Uint8Array = new Uint8Array(0);
  private start = 0;
  private end = 0;

  constructor(private readonly parts: PipelineParts) {
    this.decoder = new RecordDecoder(parts.schemaVersion);
    this.engine = parts.engine;
    this.taps = parts.taps ?? [];
  }

  get currentEngine(): RuleEngine<EventContext> {
    return this.engine;
  }

  /** The next record is evaluated with `engine`; nothing else changes. */
  setEngine(engine: RuleEngine<EventContext>): void {
    this.engine = engine;
  }

  /** Takes a batch of frames ([u32 length][record] each), as the probe drains them. */
  readonly onFrames = (frames: Uint8Array, count: number): void => {
    let offset = 0;
    this.bytes = frames;
    for (let i = 0; i < count; i++) {
      const start = offset + FRAME_HEADER_BYTES;
      if (start > frames.length) {
        this.framingError(offset, `frame ${i} of ${count}: length prefix cut off by the end of the batch`);
        return;
      }
      const length =
        (frames[offset] |
          (frames[offset + 1] << 8) |
          (frames[offset + 2] << 16) |
          (frames[offset + 3] << 24)) >>>
        0;
      const end = start + length;
      if (end > frames.length) {
        this.framingError(
          start,
          `frame ${i} of ${count}: ${length} bytes announced, ${frames.length - start} left`,
        );
        return;
      }
      offset = end;
      let event: Event;
      try {
        event = this.decoder.decode(frames, start, end);
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        this.onDecodeError(error);
        continue;
      }
      this.start = start;
      this.end = end;
      this.onEvent(event);
    }
  };

  private onEvent(event: Event): void {
    this.parts.clock?.observe(event.bootSec, event.bootNsec);
    const ctx = this.parts.state.apply(event);
    const taps = this.taps;
    for (let i = 0; i < taps.length; i++) taps[i].onRecord(this.bytes, this.start, this.end, ctx);
    // Fork events only maintain the process table; Falco has no such event type for rules.
    if (event.kind === "procfork") return;
    this.ctx = ctx;
    this.engine.evaluate(event.kind, ctx, this.onMatch);
  }

  private framingError(offset: number, reason: string): void {
    this.framing++;
    this.report(offset, reason);
  }

  private onDecodeError(err: DecodeError): void {
    this.report(err.offset, err.reason);
  }

  private report(offset: number, reason: string): void {
    this.parts.onMalformed?.(offset, reason);
    const n = this.malformed();
    if (n <= LOGGED_DECODE_ERRORS)
      this.parts.log.error("malformed kernel record skipped", { offset, reason, count: n });
    if (n === LOGGED_DECODE_ERRORS) this.parts.log.error("further malformed records are counted, not logged");
  }

  private malformed(): number {
    return this.decoder.stats.malformed + this.framing;
  }

  private emit(rule: ActiveRule<EventContext>, ctx: EventContext): void {
    const e = ctx.event;
    const output = rule.output.render(ctx);
    const alert: Alert = {
      time: toWallTime(ctx.host.clock, e.bootSec, e.bootNsec),
      rule: rule.rule.name,
      priority: rule.rule.priority,
      message: output.text,
      outputFields: output.fields,
      source: rule.rule.source,
      tags: rule.rule.tags,
      hostname: this.parts.hostname,
    };
    this.alerts++;
    this.alertsByRule.set(alert.rule, (this.alertsByRule.get(alert.rule) ?? 0) + 1);
    this.parts.outputs.publish(alert);
    const taps = this.taps;
    for (let i = 0; i < taps.length; i++) taps[i].onAlert?.(rule, ctx);
  }

  stats(): PipelineStats {
    return { events: this.decoder.stats.decoded, malformed: this.malformed(), alerts: this.alerts };
  }

  /** Alerts per rule, in the order the rules first fired. */
  alertCounts(): ReadonlyMap<string, number> {
    return this.alertsByRule;
  }

  metrics(): MetricSample[] {
    const out: MetricSample[] = [
      {
        name: "events_total",
        type: "counter",
        help: "Records decoded into events",
        value: this.decoder.stats.decoded,
      },
      {
        name: "malformed_records_total",
        type: "counter",
        help: "Records skipped because they could not be framed or decoded",
        value: this.malformed(),
      },
      { name: "alerts_total", type: "counter", help: "Alerts raised", value: this.alerts },
      {
        name: "rules_generated_code_bytes",
        type: "gauge",
        help: "Characters of generated rule code kept for reuse across reloads (capped at 16 M)",
        value: factoryCacheStats.chars,
      },
      {
        name: "rules_generated_code_uncached_total",
        type: "counter",
        help: "Generated rule functions made but not kept because the cache was full (compiled again on reuse)",
        value: factoryCacheStats.uncached,
      },
    ];
    for (const [rule, n] of this.alertsByRule)
      out.push({
        name: "rule_matches_total",
        type: "counter",
        help: "Alerts raised, per rule",
        value: n,
        labels: { rule },
      });
    return out;
  }
}
