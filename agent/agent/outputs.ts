// What the agent needs from the alert outputs. agent/outputs builds them from the config
// (`createOutputs`); `agentOutputs` puts them behind this interface.

import type { MetricSample, MetricSource } from "../common/metrics.ts";
import type { Alert } from "../outputs/alert.ts";
import type { Outputs } from "../outputs/index.ts";
import type { OutputRouter } from "../outputs/router.ts";
import type { Logger } from "../log.ts";

export interface OutputsHealth {
  /** False when some sink cannot deliver (failing writes, full queue). */
  healthy: boolean;
  /** One line per unhealthy sink, saying why. */
  problems: string[];
}

export interface AgentOutputs extends MetricSource {
  /** Hands one alert to every sink; never blocks (a full queue drops and counts). */
  publish(alert: Alert): void;
  /** Reopens output files (after logrotate; SIGUSR1). */
  reopen(): void;
  /** Delivers what is queued, then closes every sink. */
  shutdown(): Promise<void>;
  health(): OutputsHealth;
}

export function routerOutputs(router: OutputRouter): AgentOutputs {
  let healthyAt = 0;
  return {
    publish: (alert) => router.publish(alert),
    reopen: () => {},
    async shutdown() {
      router.close();
    },
    health() {
      const problems: string[] = [];
      let failures = 0;
      for (const s of router.stats()) failures += s.failedWrites + s.droppedQueueFull;
      // Unhealthy while losses keep growing since the last look.
      if (failures > healthyAt) problems.push(`${failures - healthyAt} alert(s) lost since the last check`);
      healthyAt = failures;
      return { healthy: problems.length === 0, problems };
    },
    metrics(): MetricSample[] {
      const out: MetricSample[] = [];
      for (const s of router.stats()) {
        const labels = { sink: s.name };
        out.push(
          {
            name: "alerts_written_total",
            type: "counter",
            help: "Alerts a sink wrote",
            value: s.written,
            labels,
          },
          {
            name: "alerts_dropped_total",
            type: "counter",
            help: "Alerts a sink lost, by reason",
            value: s.droppedQueueFull,
            labels: { sink: s.name, reason: "queue_full" },
          },
          {
            name: "alerts_dropped_total",
            type: "counter",
            help: "Alerts a sink lost, by reason",
            value: s.failedWrites,
            labels: { sink: s.name, reason: "write_failed" },
          },
          {
            name: "sink_queue_depth",
            type: "gauge",
            help: "Alerts waiting in a sink's queue",
            value: s.queued,
            labels,
          },
        );
      }
      return out;
    },
  };
}

/** The configured sinks behind the agent's interface; what shutdown could not deliver is logged. */
export function agentOutputs(outputs: Outputs, log: Logger): AgentOutputs {
  return {
    publish: (alert) => outputs.publish(alert),
    reopen: () => outputs.reopen(),
    async shutdown() {
      const report = await outputs.shutdown();
      for (const s of report.sinks)
        if (s.spooled + s.dropped > 0) log.warning("alerts left at shutdown", { ...s });
    },
    health() {
      const problems = outputs
        .health()
        .filter((h) => !h.ok)
        .map((h) => `${h.sink}: ${h.detail}`);
      return { healthy: problems.length === 0, problems };
    },
    metrics: () => outputs.metrics(),
  };
}
