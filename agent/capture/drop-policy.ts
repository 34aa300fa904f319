// What to do when the kernel drops events (falco.yaml's syscall_event_drops): every second the
// caller passes the probe's counters; when the share of events dropped since the last check passes
// the threshold, the configured actions are due, at most as often as a token bucket allows.
import { type MonotonicClock, TokenBucket } from "../common/index.ts";

export type DropAction = "ignore" | "log" | "alert" | "exit";

export interface DropPolicyOptions {
  /** Ratio in [0, 1]: dropped / seen over the interval. */
  threshold: number;
  actions: readonly DropAction[];
  /** Actions per second (token bucket refill). */
  rate: number;
  maxBurst: number;
  clock?: MonotonicClock;
}

/** Cumulative probe counters (KernelCounters has them). */
export interface DropCounters {
  seen: number;
  ringFull: number;
  tooBig: number;
}

/** Actions due now, and why. */
export interface DropVerdict {
  actions: readonly DropAction[];
  /** Dropped and seen since the previous check, and their ratio. */
  dropped: number;
  seen: number;
  ratio: number;
}

export class DropPolicy {
  private readonly bucket: TokenBucket;
  private last: DropCounters = { seen: 0, ringFull: 0, tooBig: 0 };
  /** Intervals over the threshold whose actions the bucket held back. */
  suppressed = 0;

  constructor(private readonly options: DropPolicyOptions) {
    if (!(options.threshold >= 0 && options.threshold <= 1)) {
      throw new RangeError(`syscall_event_drops.threshold must be within [0, 1], got ${options.threshold}`);
    }
    this.bucket = new TokenBucket({ rate: options.rate, maxBurst: options.maxBurst, clock: options.clock });
  }

  /** Counters to compare the first check with (drops before it are nobody's second): no action,
   * no token taken. */
  baseline(now: DropCounters): void {
    this.last = { seen: now.seen, ringFull: now.ringFull, tooBig: now.tooBig };
  }

  /** Compares with the previous call; null when nothing is due. */
  check(now: DropCounters): DropVerdict | null {
    const dropped = now.ringFull + now.tooBig - (this.last.ringFull + this.last.tooBig);
    const seen = now.seen - this.last.seen;
    this.last = { seen: now.seen, ringFull: now.ringFull, tooBig: now.tooBig };
    if (dropped <= 0 || seen <= 0) return null;
    // At most 1: the counters are read one after another while CPUs keep counting, so an interval
    // can hold a drop whose event was seen in the interval before.
    const ratio = Math.min(dropped / seen, 1);
    if (ratio <= this.options.threshold) return null;
    const actions = this.options.actions.filter((a) => a !== "ignore");
    if (actions.length === 0) return null;
    if (!this.bucket.take()) {
      this.suppressed++;
      return null;
    }
    return { actions, dropped, seen, ratio };
  }
}
