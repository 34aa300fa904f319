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
  /** The probe is attached and the agent is running (not draining or stopped). */
  attached: boolean;
  /** Events the kernel probe saw so far. */
  kernelSeen: number;
  /** Records the agent decoded so far. */
  decoded: number;
}

/**
 * The probe is attached and what the kernel sees reaches the agent. An idle node (the kernel sees
 * nothing) is ready; the kernel seeing events while the agent decodes none for longer than
 * `maxStallMs` is not (a stuck drain loop).
 */
export function captureCheck(
  status: () => CaptureStatus,
  maxStallMs: number,
  now: () => number = () => performance.now(),
): HealthCheck {
  let progressAt = now();
  let decodedAtProgress = -1;
  let seenAtProgress = 0;
  return {
    name: "capture",
    check() {
      const s = status();
      const t = now();
      if (!s.attached) return { ok: false, detail: "the probe is not attached" };
      if (s.decoded !== decodedAtProgress) {
        decodedAtProgress = s.decoded;
        seenAtProgress = s.kernelSeen;
        progressAt = t;
      }
      const waiting = s.kernelSeen - seenAtProgress;
      const stalledMs = t - progressAt;
      if (waiting > 0 && stalledMs > maxStallMs)
        return {
          ok: false,
          detail: `the kernel saw ${waiting} event(s) in the last ${Math.round(stalledMs)}ms but none reached the agent (limit ${maxStallMs}ms)`,
        };
      if (waiting === 0 && s.decoded === 0) return { ok: true, detail: "probe attached, idle" };
      return { ok: true, detail: `probe attached, ${s.decoded} record(s) decoded` };
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
