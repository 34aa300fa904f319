// Health checks behind /healthz (liveness) and /readyz (readiness). A check is a name and a
// function saying ok or not with a short reason; the agent assembles the list. The checks here
// are built from small status functions so they do not depend on how a stage is implemented.

export interface HealthResult {
  ok: boolean;
  detail: string;
}

export interface HealthCheck {
  readonly name: string;
  check(): HealthResult;
}

export interface HealthReport {
  ok: boolean;
  checks: ({ name: string } & HealthResult)[];
}

/** Runs every check; a check that throws is a failed check with the error as its detail. */
export function runChecks(checks: readonly HealthCheck[]): HealthReport {
  const results = checks.map((c) => {
    try {
      return { name: c.name, ...c.check() };
    } catch (err) {
      return { name: c.name, ok: false, detail: `the check failed: ${(err as Error).message}` };
    }
  });
  return { ok: results.every((r) => r.ok), checks: results };
}

export interface CaptureStatus {
  attached: boolean;
  /** Milliseconds since the ring buffer was last drained (events or not). */
  msSinceDrain: number;
}

/**
 * The probe is attached and its ring buffer is being drained. An idle node (no events) is ready:
 * what matters is that the drain loop runs, so events would flow if there were any.
 */
export function captureCheck(status: () => CaptureStatus, maxDrainGapMs: number): HealthCheck {
  return {
    name: "capture",
    check() {
      const s = status();
      if (!s.attached) return { ok: false, detail: "the probe is not attached" };
      if (s.msSinceDrain > maxDrainGapMs)
        return {
          ok: false,
          detail: `the ring buffer was last drained ${Math.round(s.msSinceDrain)}ms ago (limit ${maxDrainGapMs}ms)`,
        };
      return { ok: true, detail: `probe attached, drained ${Math.round(s.msSinceDrain)}ms ago` };
    },
  };
}

export interface KernelCounters {
  /** Events the probe saw (written or dropped). */
  seen: number;
  dropped: number;
}

/**
 * The kernel drop rate since the previous check is at most `threshold` (a fraction, as Falco's
 * syscall_event_drops.threshold). The first check measures from the agent's start.
 */
export function kernelDropCheck(counters: () => KernelCounters, threshold: number): HealthCheck {
  let last: KernelCounters = { seen: 0, dropped: 0 };
  return {
    name: "kernel_drops",
    check() {
      const now = counters();
      const seen = now.seen - last.seen;
      const dropped = now.dropped - last.dropped;
      last = now;
      if (seen <= 0) return { ok: true, detail: "no events since the last check" };
      const rate = dropped / seen;
      const text = `${dropped} of ${seen} events dropped since the last check (rate ${rate.toFixed(4)}, threshold ${threshold})`;
      return { ok: rate <= threshold, detail: text };
    },
  };
}

export interface SinkStatus {
  name: string;
  /** Writing, or spooling to disk while its destination is away: both count as healthy. */
  healthy: boolean;
  detail: string;
}

export function sinksCheck(sinks: () => readonly SinkStatus[]): HealthCheck {
  return {
    name: "sinks",
    check() {
      const all = sinks();
      const bad = all.filter((s) => !s.healthy);
      if (all.length === 0) return { ok: true, detail: "no alert sinks configured" };
      if (bad.length === 0) return { ok: true, detail: `${all.length} sink(s) healthy` };
      return { ok: false, detail: bad.map((s) => `${s.name}: ${s.detail}`).join("; ") };
    },
  };
}
