// Rule-triggered capture (Falco's `capture` config and rule keys): the most recent records are
// kept in a fixed ring; when a rule with `capture: true` fires (any rule, in `all_rules` mode) the
// ring and the records of the following `capture_duration` ms (event time) are written to a file
// named after the rule and the alert's time. One capture at a time; one that would start while
// another is open is counted as skipped. Memory: the ring, preallocated, and one writer block.

import type { RecordTap } from "./record-tap.ts";
import type { MetricSample, MetricSource } from "../common/index.ts";
import type { ActiveRule } from "../rules/index.ts";
import type { EventContext } from "../state/index.ts";
import type { CaptureHeader, Compression } from "./format.ts";
import { CaptureWriter } from "./writer.ts";

export interface RuleCaptureOptions {
  /** Files are `<pathPrefix>_<rule>_<alert time in ns>.lcap`. */
  pathPrefix: string;
  mode: "rules" | "all_rules";
  /** For rules without their own capture_duration. */
  defaultDurationMs: number;
  maxFileBytes: number;
  /** Bytes of recent records kept for the part of the capture before the alert. */
  ringBytes: number;
  compression: Compression;
  /** The header without its per-capture fields. */
  header: Omit<CaptureHeader, "reason" | "detail" | "startTime">;
  /** The state snapshot to write (taken when the capture starts). */
  snapshot: () => unknown;
  onWritten?: (path: string, rule: string, records: number) => void;
  onError?: (message: string) => void;
}

const CHUNK_BYTES = 64 * 1024;
const FRAME_HEADER_BYTES = 4;

/** A ring of fixed chunks, each holding whole records ([u32 length][record]). */
class RecordRing {
  private readonly chunks: Uint8Array[];
  private readonly used: Int32Array;
  private head = 0;

  constructor(bytes: number) {
    const n = Math.max(2, Math.ceil(bytes / CHUNK_BYTES));
    this.chunks = Array.from({ length: n }, () => new Uint8Array(CHUNK_BYTES));
    this.used = new Int32Array(n);
  }

  add(bytes: Uint8Array, start: number, end: number): void {
    const length = end - start;
    if (length + FRAME_HEADER_BYTES > CHUNK_BYTES) return;
    if (this.used[this.head] + FRAME_HEADER_BYTES + length > CHUNK_BYTES) {
      // The oldest chunk is overwritten: the ring forgets its records.
      this.head = (this.head + 1) % this.chunks.length;
      this.used[this.head] = 0;
    }
    const chunk = this.chunks[this.head];
    let at = this.used[this.head];
    chunk[at] = length & 0xff;
    chunk[at + 1] = (length >>> 8) & 0xff;
    chunk[at + 2] = (length >>> 16) & 0xff;
    chunk[at + 3] = (length >>> 24) & 0xff;
    at += FRAME_HEADER_BYTES;
    chunk.set(bytes.subarray(start, end), at);
    this.used[this.head] = at + length;
  }

  /** Every record held, oldest first. */
  each(visit: (bytes: Uint8Array, start: number, end: number) => void): void {
    for (let k = 1; k <= this.chunks.length; k++) {
      const i = (this.head + k) % this.chunks.length;
      const chunk = this.chunks[i];
      const used = this.used[i];
      for (let at = 0; at + FRAME_HEADER_BYTES <= used; ) {
        const length =
          (chunk[at] | (chunk[at + 1] << 8) | (chunk[at + 2] << 16) | (chunk[at + 3] << 24)) >>> 0;
        visit(chunk, at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length);
        at += FRAME_HEADER_BYTES + length;
      }
    }
  }
}

export class RuleCaptureTap implements RecordTap, MetricSource {
  private readonly ring: RecordRing;
  private writer: CaptureWriter | undefined;
  private writerRule = "";
  /** Event time (ns since boot) at which the open capture ends. */
  private until = 0;
  private written = 0;
  private skipped = 0;
  private failures = 0;

  constructor(private readonly options: RuleCaptureOptions) {
    this.ring = new RecordRing(options.ringBytes);
  }

  onRecord(bytes: Uint8Array, start: number, end: number, ctx: EventContext): void {
    const w = this.writer;
    if (w === undefined) {
      this.ring.add(bytes, start, end);
      return;
    }
    const e = ctx.event;
    if (e.bootSec * 1e9 + e.bootNsec > this.until) {
      this.finish("rule_window");
      this.ring.add(bytes, start, end);
      return;
    }
    this.guard(() => w.addRecord(bytes, start, end));
    if (w.full !== undefined) this.finish(w.full);
  }

  onAlert(rule: ActiveRule<EventContext>, ctx: EventContext): void {
    const o = this.options;
    if (o.mode === "rules" && !rule.rule.capture) return;
    if (this.writer !== undefined) {
      this.skipped++;
      return;
    }
    const e = ctx.event;
    const durationMs = rule.rule.captureDuration > 0 ? rule.rule.captureDuration : o.defaultDurationMs;
    const wallSec = e.bootSec + ctx.host.clock.offsetSec;
    const wallNs = BigInt(wallSec) * 1_000_000_000n + BigInt(e.bootNsec + ctx.host.clock.offsetNsec);
    const path = `${o.pathPrefix}_${slug(rule.rule.name)}_${wallNs}.lcap`;
    this.guard(() => {
      const now = Date.now();
      const writer = new CaptureWriter(
        path,
        {
          ...o.header,
          startTime: [Math.floor(now / 1000), (now % 1000) * 1_000_000],
          reason: "rule",
          detail: rule.rule.name,
        },
        o.snapshot(),
        o.compression,
        { maxBytes: o.maxFileBytes },
      );
      this.ring.each((bytes, start, end) => {
        writer.addRecord(bytes, start, end);
      });
      this.writer = writer;
      this.writerRule = rule.rule.name;
      this.until = e.bootSec * 1e9 + e.bootNsec + durationMs * 1e6;
      if (writer.full !== undefined) this.finish(writer.full);
    });
  }

  /** Closes an open capture (at shutdown). */
  close(stoppedBy = "signal"): void {
    this.finish(stoppedBy);
  }

  metrics(): MetricSample[] {
    return [
      {
        name: "rule_captures_written_total",
        type: "counter",
        help: "Rule-triggered capture files written",
        value: this.written,
      },
      {
        name: "rule_captures_skipped_total",
        type: "counter",
        help: "Rule-triggered captures not started because one was open",
        value: this.skipped,
      },
      {
        name: "rule_capture_failures_total",
        type: "counter",
        help: "Rule-triggered captures that failed to write",
        value: this.failures,
      },
    ];
  }

  private finish(stoppedBy: string): void {
    const w = this.writer;
    if (w === undefined) return;
    this.writer = undefined;
    this.guard(() => {
      w.close(stoppedBy);
      this.written++;
      this.options.onWritten?.(w.path, this.writerRule, w.records);
    });
  }

  /** A capture that cannot be written is counted and reported; the event path goes on. */
  private guard(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.failures++;
      this.writer = undefined;
      this.options.onError?.((error as Error).message);
    }
  }
}

/** A file-name-safe form of a rule name. */
export function slug(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_|_$/g, "");
  return (s === "" ? "rule" : s).slice(0, 64);
}
