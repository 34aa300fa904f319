// Everything that operates a running agent, started in one call: the web server (health,
// readiness, metrics), the signal handlers, hot reload (SIGHUP and watch_config_files), periodic
// metrics snapshots. The agent is reached only through the functions given here, so this module
// does not depend on how the agent is assembled.

import type { MetricSample, MetricSource } from "../common/index.ts";
import type { LannerConfig } from "../config/index.ts";
import type { LogFields, Logger } from "../log.ts";
import type { Alert } from "../outputs/index.ts";
import { type HealthCheck, ProcessMetrics, WebServer } from "../server/index.ts";
import { internalAlert } from "./internal-alert.ts";
import { MetricsReporter } from "./periodic-metrics.ts";
import { type ReloadResult, Reloader, type ReloadStep } from "./reload.ts";
import { installSignals } from "./signals.ts";
import { FileWatcher } from "./watch.ts";

export const RELOAD_REJECTED_RULE = "Lanner internal: reload rejected";

/** A prepared configuration and rule set: what a reload swaps in. */
export interface PreparedSet {
  config: LannerConfig;
  /** Config files, config_files directories and rules files/directories to watch. */
  watched: readonly string[];
}

export interface OperationsParts<T extends PreparedSet> {
  config: LannerConfig;
  /** What the running set was loaded from. */
  watched: readonly string[];
  log: Logger;
  hostname: string;
  /** The agent's metric registry. */
  metrics: MetricSource;
  readiness: readonly HealthCheck[];
  /** Sends an internal alert through the agent's outputs. */
  publish(alert: Alert): void;
  reload: ReloadStep<T>;
  /** SIGUSR1. */
  reopen(): void;
  /** SIGUSR2: the fields of the summary log line. */
  summary(): LogFields;
  /** SIGTERM, SIGINT, SIGQUIT. */
  stop(signal: string): void;
}

/**
 * Keys a reload applies to the running agent (a new rule engine). Any other key that changed is
 * logged as taking effect at the next start.
 */
export const RELOADABLE_KEYS: readonly string[] = [
  "rules_files",
  "rules",
  "priority",
  "rule_matching",
  "config_files",
];

export class Operations<T extends PreparedSet> implements MetricSource {
  readonly webServer: WebServer | undefined;
  private readonly reloader: Reloader<T>;
  private readonly processMetrics = new ProcessMetrics();
  private readonly removeSignals: () => void;
  private readonly watcher: FileWatcher | undefined;
  private readonly reporter: MetricsReporter | undefined;
  private readonly all: MetricSource;
  /** The configuration in effect (the last one applied). */
  private current: LannerConfig;

  constructor(private readonly parts: OperationsParts<T>) {
    const { config, log } = parts;
    this.current = config;
    this.reloader = new Reloader(
      {
        prepare: () => parts.reload.prepare(),
        apply: (next) => {
          parts.reload.apply(next);
          this.afterApply(next);
        },
      },
      log,
      (trigger, problems) =>
        parts.publish(
          internalAlert(
            RELOAD_REJECTED_RULE,
            "Error",
            `Lanner reload rejected (${trigger}): ${problems.length} problem(s); the running configuration and rules are kept`,
            { "lanner.reload.trigger": trigger, "lanner.reload.problems": problems.slice(0, 20).join("\n") },
            parts.hostname,
          ),
        ),
    );
    this.all = { metrics: () => [...parts.metrics.metrics(), ...this.metrics()] };
    if (config.webserver.enabled) {
      this.webServer = new WebServer({
        config: config.webserver,
        metrics: this.all,
        readiness: parts.readiness,
      });
      log.info("web server listening", { url: this.webServer.url });
    }
    this.removeSignals = installSignals({
      reload: (trigger) => this.reload(trigger),
      reopen: () => {
        log.info("reopening output files", { signal: "SIGUSR1" });
        parts.reopen();
      },
      dump: () => log.info("summary", { signal: "SIGUSR2", ...parts.summary() }),
      stop: (signal) => {
        if (signal === "SIGQUIT") log.info("SIGQUIT: stopping as on SIGTERM (no core dump)");
        parts.stop(signal);
      },
    });
    if (config.watch_config_files && parts.watched.length > 0) {
      this.watcher = new FileWatcher({
        paths: parts.watched,
        onChange: (changed) => this.reload(`file changed: ${changed}`),
      });
    }
    if (config.metrics.enabled) {
      this.reporter = new MetricsReporter(config.metrics, this.all, parts.publish, log, parts.hostname);
    }
  }

  reload(trigger: string): ReloadResult {
    return this.reloader.reload(trigger);
  }

  metrics(): MetricSample[] {
    return [
      ...this.processMetrics.metrics(),
      ...this.reloader.metrics(),
      ...(this.webServer?.metrics() ?? []),
    ];
  }

  /** Stops the web server, the watcher, the reporter and the signal handlers. Idempotent. */
  close(): void {
    this.removeSignals();
    this.watcher?.stop();
    this.reporter?.stop();
    this.webServer?.stop();
  }

  private afterApply(next: PreparedSet): void {
    this.watcher?.rebase(next.watched);
    const before = this.current as unknown as Record<string, unknown>;
    const after = next.config as unknown as Record<string, unknown>;
    for (const key of Object.keys(after)) {
      if (RELOADABLE_KEYS.includes(key)) continue;
      if (JSON.stringify(after[key]) !== JSON.stringify(before[key]))
        this.parts.log.warning("a changed key takes effect at the next start, not on reload", { key });
    }
    this.current = next.config;
  }
}
