// What the agent needs from the alert outputs. agent/outputs builds them from the config
// (`createOutputs`); `agentOutputs` puts them behind this interface.

import type { MetricSource } from "../common/index.ts";
import type { Alert, Outputs } from "../outputs/index.ts";
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
