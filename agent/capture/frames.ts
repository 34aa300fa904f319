// What every source of kernel records offers the agent: the live probe, or a capture file. Both
// hand over batches of frames ([u32 little-endian length][MessagePack record], docs/EVENTS.md) and
// say how kernel boot time maps to wall time; only a file ever ends. It lives in the capture stage
// so the sources (capture, capturefile) implement it without importing the agent above them.

import type { MetricSource } from "../common/index.ts";
import type { BootClock } from "../events/index.ts";
import type { FrameSink } from "./probe.ts";

export type { FrameSink };

/** How a source ended: `error` is set when it could not go on (a corrupt file). */
export interface SourceEnd {
  error?: Error;
}

export interface FrameSource extends MetricSource {
  /** realtime = boottime + this offset, for every event of the source. */
  readonly clock: BootClock;
  /**
   * Starts delivering frames to `sink`. A finite source calls `onEnd` once after its last batch;
   * the live probe never does.
   */
  start(sink: FrameSink, onEnd: (end: SourceEnd) => void): void;
  /** Stops delivering. The live probe detaches and hands over what the kernel still holds first. Idempotent. */
  stop(): void;
}
