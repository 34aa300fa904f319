// The Agent: one running assembly of a frame source (live probe or capture file), the state
// tracker, the rule engine and the outputs. It owns the clock, the stats (every stage reports
// through one MetricRegistry) and the lifecycle: start, reload, drain, stop. `lanner run`,
// `lanner capture` and `lanner replay` are thin commands over it.

import { type MetricSample, MetricRegistry, metricTotal } from "../common/index.ts";
import type { LogFields, Logger } from "../log.ts";
import { OUTPUT_METRICS } from "../outputs/index.ts";
import type { RuleEngine } from "../rules/index.ts";
import type { EventContext, StateTracker } from "../state/index.ts";
import { AgentClock, type ClockMode } from "./clock.ts";
import type { FrameSource, SourceEnd } from "../capture/index.ts";
import type { AgentOutputs } from "./outputs.ts";
import { Pipeline, type PipelineStats, type RecordTap } from "./pipeline.ts";

export interface AgentParts {
  source: FrameSource;
  state: StateTracker;
  engine: RuleEngine<EventContext>;
  outputs: AgentOutputs;
  log: Logger;
  /** The hostname alerts carry (the captured host's on replay). */
  hostname: string;
  /**
   * "kernel": rate limits run on the machine's clock; "event": on event time (replay). A clock
   * made beforehand lets parts built before the Agent (the outputs' rate limits) share it.
   */
  clock: ClockMode | AgentClock;
  /** The stats line every this many ms while running; 0: only the final one at stop (default 60 s). */
  statsIntervalMs?: number;
  /** Record observers (capture file writers, the rule-triggered capture ring). */
  taps?: readonly RecordTap[];
  /** The record schema version of the source (a capture file's header); the current one by default. */
  schemaVersion?: number;
  /** Called for each malformed record with its offset in the batch (replay turns it into a file offset). */
  onMalformed?: (offset: number, reason: string) => void;
}

export type AgentPhase = "created" | "running" | "draining" | "stopped";

const DEFAULT_STATS_INTERVAL_MS = 60_000;

export class Agent {
  readonly clock: AgentClock;
  /** Every stage's counters; the stats line, /metrics and the replay summary read it. */
  readonly metrics = new MetricRegistry();
  /** Resolves when the source ends by itself (a capture file's end, or a fatal read error). */
  readonly ended: Promise<SourceEnd>;
  private readonly pipeline: Pipeline;
  private phase: AgentPhase = "created";
  private statsTimer: ReturnType<typeof setInterval> | undefined;
  private reloads = 0;
  private lastLosses = { kernel: 0, sinks: 0 };
  private resolveEnded: (end: SourceEnd) => void = () => {};
  private stopping: Promise<void> | undefined;

  constructor(private readonly parts: AgentParts) {
    this.clock =
      parts.clock instanceof AgentClock ? parts.clock : new AgentClock(parts.clock, parts.source.clock);
    this.pipeline = new Pipeline({
      engine: parts.engine,
      state: parts.state,
      outputs: parts.outputs,
      log: parts.log,
      hostname: parts.hostname,
      clock: this.clock,
      taps: parts.taps,
      onMalformed: parts.onMalformed,
      schemaVersion: parts.schemaVersion,
    });
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
    this.metrics.register(this.pipeline);
    this.metrics.register(parts.source);
    this.metrics.register(parts.state);
    this.metrics.register(parts.outputs);
    this.metrics.register({ metrics: () => this.ownMetrics() });
  }

  get status(): AgentPhase {
    return this.phase;
  }

  /** The engine evaluating events now. */
  get engine(): RuleEngine<EventContext> {
    return this.pipeline.currentEngine;
  }

  /** Starts the source; events flow until stop() (or the end of a capture file). */
  start(): void {
    if (this.phase !== "created") throw new Error(`the agent cannot start when ${this.phase}`);
    this.phase = "running";
    this.parts.source.start(this.pipeline.onFrames, (end) => this.resolveEnded(end));
    const interval = this.parts.statsIntervalMs ?? DEFAULT_STATS_INTERVAL_MS;
    if (interval > 0) this.statsTimer = setInterval(() => this.logStats(), interval);
  }

  /**
   * Swaps the rules: the next record is evaluated by `engine`. The source stays attached, so no
   * event is missed; the state is kept.
   */
  reload(engine: RuleEngine<EventContext>): void {
    this.pipeline.setEngine(engine);
    this.reloads++;
  }

  /**
   * Stops taking new events: the source stops (the live probe detaches and hands over what the
   * kernel still holds, which is processed now). The outputs keep delivering. Idempotent.
   */
  async drain(): Promise<void> {
    if (this.phase === "created" || this.phase === "running") {
      this.phase = "draining";
      if (this.statsTimer !== undefined) clearInterval(this.statsTimer);
      this.statsTimer = undefined;
      this.parts.source.stop();
      this.resolveEnded({});
    }
  }

  /** drain(), then deliver what the outputs hold and close them, then log the final stats. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.drain();
      await this.parts.outputs.shutdown();
      this.phase = "stopped";
      this.logStats();
    })();
    return this.stopping;
  }

  stats(): PipelineStats {
    return this.pipeline.stats();
  }

  /** Alerts per rule name over the whole run (across reloads). */
  alertCounts(): ReadonlyMap<string, number> {
    return this.pipeline.alertCounts();
  }

  /** The fields of the stats log line, from the metric registry. */
  statsFields(samples: readonly MetricSample[] = this.metrics.metrics()): LogFields {
    return {
      events: metricTotal(samples, "events_total"),
      alerts: metricTotal(samples, "alerts_total"),
      malformed_records: metricTotal(samples, "malformed_records_total"),
      kernel_seen: metricTotal(samples, "kernel_events_seen_total"),
      kernel_written: metricTotal(samples, "kernel_records_written_total"),
      kernel_drops_ring_full: labelled(samples, "kernel_drops_total", "reason", "ring_full"),
      kernel_drops_too_big: labelled(samples, "kernel_drops_total", "reason", "too_big"),
      // Not losses: what the prefilters chose not to send (engine.prefilter).
      kernel_prefiltered_open: labelled(samples, "kernel_prefiltered_total", "syscall", "open"),
      kernel_prefiltered_close: labelled(samples, "kernel_prefiltered_total", "syscall", "close"),
      processes: metricTotal(samples, "state_processes"),
      processes_evicted: metricTotal(samples, "state_processes_evicted_total"),
      fds: metricTotal(samples, "state_fds"),
      fds_evicted: metricTotal(samples, "state_fds_evicted_total"),
      containers_missing_metadata: metricTotal(samples, "state_container_missing_total"),
      sink_drops: metricTotal(samples, OUTPUT_METRICS.dropped),
      reloads: this.reloads,
    };
  }

  /** Logs the stats line, and a warning for each loss counter that moved since the last line. */
  logStats(): void {
    const samples = this.metrics.metrics();
    const log = this.parts.log;
    log.info("stats", this.statsFields(samples));
    const kernel = metricTotal(samples, "kernel_drops_total");
    const sinks = metricTotal(samples, OUTPUT_METRICS.dropped);
    if (kernel > this.lastLosses.kernel) {
      log.warning("the kernel dropped events", {
        dropped: kernel - this.lastLosses.kernel,
        ring_full: labelled(samples, "kernel_drops_total", "reason", "ring_full"),
        too_big: labelled(samples, "kernel_drops_total", "reason", "too_big"),
        hint: "raise engine.modern_ebpf.buf_size_preset or lower engine.modern_ebpf.drain_interval_ms",
      });
    }
    if (sinks > this.lastLosses.sinks) {
      log.warning("alerts were dropped by a sink", {
        dropped: sinks - this.lastLosses.sinks,
        hint: "see outputs_queue.capacity",
      });
    }
    this.lastLosses = { kernel, sinks };
  }

  private ownMetrics(): MetricSample[] {
    return [
      {
        name: "rule_reloads_total",
        type: "counter",
        help: "Rule sets swapped in while running",
        value: this.reloads,
      },
      {
        name: "rules_active",
        type: "gauge",
        help: "Rules the engine evaluates",
        value: this.engine.active.length,
      },
    ];
  }
}

function labelled(samples: readonly MetricSample[], name: string, label: string, value: string): number {
  let n = 0;
  for (const s of samples) if (s.name === name && s.labels?.[label] === value) n += s.value;
  return n;
}
