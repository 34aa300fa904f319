// falco.yaml's syscall_event_drops in the running agent: once a second the probe's counters go to
// the DropPolicy; the actions it lets through (threshold, then token bucket) become a warning line
// naming reasons and kinds, an internal alert through the outputs, or a clean stop that exits
// with EXIT_KERNEL_DROPS (the caller does the stopping).

import { type DropAction, DropPolicy, type DropVerdict, type KernelCounters } from "../capture/index.ts";
import type { MetricSample, MetricSource, MonotonicClock } from "../common/index.ts";
import type { EventKind } from "../events/index.ts";
import type { Logger } from "../log.ts";
import type { Alert } from "../outputs/index.ts";

/** The config block `syscall_event_drops`. */
export interface KernelDropSettings {
  threshold: number;
  actions: readonly DropAction[];
  rate: number;
  max_burst: number;
}

export interface KernelDropWatchOptions {
  counters: () => KernelCounters;
  settings: KernelDropSettings;
  log: Logger;
  /** Where internal alerts go (the agent's outputs). */
  publish: (alert: Alert) => void;
  hostname: string;
  /** The exit action: stop the agent cleanly and exit non-zero. Called at most once. */
  exit: (detail: string) => void;
  /** How often the counters are checked (1 s by default, as the threshold is "per second"). */
  intervalMs?: number;
  clock?: MonotonicClock;
}

export const KERNEL_DROP_RULE = "Lanner internal: kernel events dropped";
/** At most this many kinds are named in a log line or alert (the most dropped first). */
const MAX_KINDS_NAMED = 8;

export class KernelDropWatch implements MetricSource {
  private readonly policy: DropPolicy;
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastRingFull = 0;
  private lastTooBig = 0;
  private lastByKind: Partial<Record<EventKind, number>> = {};
  private readonly taken: Record<Exclude<DropAction, "ignore">, number> = { log: 0, alert: 0, exit: 0 };
  private exited = false;

  constructor(private readonly options: KernelDropWatchOptions) {
    const s = options.settings;
    this.policy = new DropPolicy({
      threshold: s.threshold,
      actions: s.actions,
      rate: s.rate,
      maxBurst: s.max_burst,
      clock: options.clock,
    });
    // The baseline: drops before the watch started are not this second's. Only recorded: applying
    // actions here would spend a token (or call exit) before the caller holds the watch.
    const now = options.counters();
    this.policy.baseline(now);
    this.lastRingFull = now.ringFull;
    this.lastTooBig = now.tooBig;
    this.lastByKind = now.droppedByKind;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.check(), this.options.intervalMs ?? 1000);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check (the timer's tick): reads the counters and applies the actions due. */
  check(): DropVerdict | null {
    const now = this.options.counters();
    const verdict = this.policy.check(now);
    const ringFull = now.ringFull - this.lastRingFull;
    const tooBig = now.tooBig - this.lastTooBig;
    const kinds = kindDeltas(now.droppedByKind, this.lastByKind);
    this.lastRingFull = now.ringFull;
    this.lastTooBig = now.tooBig;
    this.lastByKind = now.droppedByKind;
    if (verdict === null) return null;
    const fields = {
      dropped: verdict.dropped,
      seen: verdict.seen,
      ratio: Number(verdict.ratio.toFixed(4)),
      ring_full: ringFull,
      too_big: tooBig,
      kinds,
    };
    for (const action of verdict.actions) {
      if (action === "ignore") continue;
      this.taken[action]++;
      if (action === "log") {
        this.options.log.warning("kernel drops over syscall_event_drops.threshold", {
          ...fields,
          threshold: this.options.settings.threshold,
          hint: "raise engine.modern_ebpf.buf_size_preset or lower engine.modern_ebpf.drain_interval_ms",
        });
      } else if (action === "alert") {
        this.options.publish(this.alert(fields));
      } else if (!this.exited) {
        this.exited = true;
        const detail = `${verdict.dropped} of ${verdict.seen} events dropped in the last second`;
        this.options.log.error("stopping: kernel drops over syscall_event_drops.threshold (action exit)", {
          ...fields,
        });
        this.options.exit(detail);
      }
    }
    return verdict;
  }

  metrics(): MetricSample[] {
    const help = "syscall_event_drops actions taken, by action";
    const out: MetricSample[] = (["log", "alert", "exit"] as const).map((action) => ({
      name: "kernel_drop_actions_total",
      type: "counter",
      help,
      value: this.taken[action],
      labels: { action },
    }));
    out.push({
      name: "kernel_drop_actions_suppressed_total",
      type: "counter",
      help: "Seconds over syscall_event_drops.threshold whose actions the rate limit held back",
      value: this.policy.suppressed,
    });
    return out;
  }

  private alert(f: {
    dropped: number;
    seen: number;
    ratio: number;
    ring_full: number;
    too_big: number;
    kinds: string;
  }): Alert {
    const ms = Date.now();
    return {
      time: { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 },
      rule: KERNEL_DROP_RULE,
      priority: "Warning",
      message: `${KERNEL_DROP_RULE}: ${f.dropped} of ${f.seen} events in the last second (ring_full=${f.ring_full} too_big=${f.too_big}; kinds ${f.kinds || "none"})`,
      outputFields: {
        "lanner.dropped": f.dropped,
        "lanner.seen": f.seen,
        "lanner.drop_ratio": f.ratio,
        "lanner.drops_ring_full": f.ring_full,
        "lanner.drops_too_big": f.too_big,
        "lanner.drops_kinds": f.kinds,
      },
      source: "internal",
      tags: ["lanner", "internal"],
      hostname: this.options.hostname,
    };
  }
}

/** "openat=120,close=80": the kinds dropped since the last check, most first, at most MAX_KINDS_NAMED. */
function kindDeltas(
  now: Partial<Record<EventKind, number>>,
  last: Partial<Record<EventKind, number>>,
): string {
  const deltas: [string, number][] = [];
  for (const [kind, n] of Object.entries(now)) {
    const d = (n ?? 0) - (last[kind as EventKind] ?? 0);
    if (d > 0) deltas.push([kind, d]);
  }
  deltas.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  return deltas
    .slice(0, MAX_KINDS_NAMED)
    .map(([k, n]) => `${k}=${n}`)
    .join(",");
}
