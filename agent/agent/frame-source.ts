// Where the agent's records come from: the live probe, or a capture file. Both hand over batches
// of frames ([u32 little-endian length][MessagePack record], docs/EVENTS.md) and say how kernel
// boot time maps to wall time; only a file ever ends.

import type { LiveProbe } from "../capture/index.ts";
import type { MetricSample, MetricSource } from "../common/metrics.ts";
import type { BootClock } from "../events/index.ts";

/** Receives `count` frames; `frames` is only valid during the call (its memory is reused). */
export type FrameSink = (frames: Uint8Array, count: number) => void;

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

/** The live probe as a frame source; its kernel counters become metrics. */
export function liveFrameSource(probe: LiveProbe): FrameSource {
  return {
    clock: probe.clock,
    start: (sink) => probe.start(sink),
    stop: () => probe.stop(),
    // The probe reports its own counters (by reason and by kind): one definition of each.
    metrics: (): MetricSample[] => probe.metrics(),
  };
}
