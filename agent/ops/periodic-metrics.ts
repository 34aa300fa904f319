// Falco's `metrics` keys: every metrics.interval, one snapshot of every metric, as an internal
// alert through the outputs (metrics.output_rule, rule "Lanner internal: metrics snapshot") or
// else a log line, and also appended as a JSON line to metrics.output_file when set.

import { appendFileSync } from "node:fs";
import type { MetricSample, MetricSource } from "../common/index.ts";
import { durationMs } from "../config/index.ts";
import type { Logger } from "../log.ts";
import type { Alert } from "../outputs/index.ts";
import { internalAlert } from "./internal-alert.ts";

export const METRICS_RULE = "Lanner internal: metrics snapshot";

export interface MetricsReportConfig {
  interval: string;
  output_rule: boolean;
  output_file: string;
  include_empty_values: boolean;
}

/** "lanner.name" or "lanner.name{label=value,...}" -> value, in sample order. */
export function snapshotFields(
  samples: readonly MetricSample[],
  includeEmpty: boolean,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (!includeEmpty && s.value === 0) continue;
    const labels = Object.entries(s.labels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    out[`lanner.${s.name}${labels === "" ? "" : `{${labels}}`}`] = s.value;
  }
  return out;
}

export class MetricsReporter {
  private readonly timer: ReturnType<typeof setInterval>;
  private fileFailed = false;

  constructor(
    private readonly config: MetricsReportConfig,
    private readonly source: MetricSource,
    private readonly publish: (alert: Alert) => void,
    private readonly log: Logger,
    private readonly hostname: string,
  ) {
    this.timer = setInterval(() => this.report(), durationMs(config.interval));
    this.timer.unref?.();
  }

  report(): void {
    const fields = snapshotFields(this.source.metrics(), this.config.include_empty_values);
    if (this.config.output_rule)
      this.publish(
        internalAlert(METRICS_RULE, "Informational", "Lanner metrics snapshot", fields, this.hostname),
      );
    else this.log.info("metrics snapshot", fields);
    if (this.config.output_file !== "") {
      try {
        appendFileSync(
          this.config.output_file,
          `${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`,
          {
            mode: 0o600,
          },
        );
        this.fileFailed = false;
      } catch (err) {
        // Logged once per failing streak, not once per interval.
        if (!this.fileFailed)
          this.log.error("cannot write metrics.output_file", {
            file: this.config.output_file,
            error: (err as Error).message,
          });
        this.fileFailed = true;
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
