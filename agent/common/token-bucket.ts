// A token bucket for rate limits (kernel-drop actions, internal alerts, per-rule throttling).
// It reads a monotonic clock passed in, and treats a clock that goes backwards as "no time
// passed": no refill from the jump, and no lock-out either (the next forward step refills from
// the clamped point). Falco's own limiter refills from wall time and misbehaves when it jumps.

/** Nanoseconds from a monotonic source; tests pass their own. */
export type MonotonicClock = () => bigint;

export const monotonicNs: MonotonicClock = () => process.hrtime.bigint();

export interface TokenBucketOptions {
  /** Tokens added per second (may be fractional: 0.03333 is one every 30 s). */
  rate: number;
  /** Most tokens held at once; the bucket starts full. */
  maxBurst: number;
  clock?: MonotonicClock;
}

export class TokenBucket {
  private tokens: number;
  private last: bigint;
  private readonly clock: MonotonicClock;
  private readonly rate: number;
  private readonly maxBurst: number;
  /** Times `take` said no. */
  denied = 0;

  constructor(options: TokenBucketOptions) {
    if (!(options.rate >= 0) || !Number.isFinite(options.rate))
      throw new RangeError(`token bucket rate must be a finite number >= 0, got ${options.rate}`);
    if (!(options.maxBurst >= 1) || !Number.isFinite(options.maxBurst))
      throw new RangeError(`token bucket max_burst must be a finite number >= 1, got ${options.maxBurst}`);
    this.rate = options.rate;
    this.maxBurst = options.maxBurst;
    this.clock = options.clock ?? monotonicNs;
    this.tokens = options.maxBurst;
    this.last = this.clock();
  }

  /** Takes one token if there is one. */
  take(): boolean {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.denied++;
    return false;
  }

  /** Tokens available now (after refill), for tests and metrics. */
  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const now = this.clock();
    if (now <= this.last) {
      // Backwards (or still): no refill; remember the earlier point so the next forward step
      // is measured from here and cannot create a long lock-out.
      this.last = now;
      return;
    }
    const elapsedSec = Number(now - this.last) / 1e9;
    this.last = now;
    this.tokens = Math.min(this.maxBurst, this.tokens + elapsedSec * this.rate);
  }
}
