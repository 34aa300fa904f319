// The agent's notion of "now" for everything that measures time (rate limits, throttles, idle
// checks). Live it is the kernel's monotonic clock; on replay it is the time of the last event
// read, so a rate limit behaves in a replay as it did when the events happened.

import { type MonotonicClock, monotonicNs } from "../common/index.ts";
import type { BootClock } from "../events/index.ts";

export type ClockMode = "kernel" | "event";

export class AgentClock {
  /** The clock to give rate limiters, in nanoseconds. Event time may step back a little (events
   * from different CPUs); TokenBucket treats that as no time passing. */
  readonly monotonicNs: MonotonicClock;
  private lastSec = 0;
  private lastNsec = 0;

  constructor(
    readonly mode: ClockMode,
    /** realtime = boottime + this offset. */
    readonly boot: BootClock,
  ) {
    this.monotonicNs = mode === "kernel" ? monotonicNs : () => this.eventNs();
  }

  /** Called for every event; cheap (no allocation), and only kept in event mode's reading. */
  observe(bootSec: number, bootNsec: number): void {
    this.lastSec = bootSec;
    this.lastNsec = bootNsec;
  }

  /** Boot time of the last event seen, [seconds, nanoseconds]. */
  lastEvent(): [number, number] {
    return [this.lastSec, this.lastNsec];
  }

  /** Boot time of the last event seen, in nanoseconds (0 before the first). */
  eventNs(): bigint {
    return BigInt(this.lastSec) * 1_000_000_000n + BigInt(this.lastNsec);
  }
}
