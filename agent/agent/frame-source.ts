// The live probe as the agent's source of records. The FrameSource interface it meets (and a
// capture file's reader meets too) is in agent/capture/frames.ts, below both.

import type { FrameSource, LiveProbe } from "../capture/index.ts";
import type { MetricSample } from "../common/index.ts";

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
