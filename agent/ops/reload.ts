// Hot reload: the new configuration and rules are loaded and checked in a dry run while the
// running set keeps working; only a complete, valid set is swapped in. A rejected set leaves the
// running one untouched, and every problem is logged and reported (an internal alert).

import type { MetricSample, MetricSource } from "../common/index.ts";
import type { Logger } from "../log.ts";

export interface ReloadStep<T> {
  /** Loads and validates the new set without touching the running agent; throws on any problem. */
  prepare(): T;
  /** Swaps the prepared set in. */
  apply(next: T): void;
}

export type ReloadResult = { ok: true } | { ok: false; problems: string[] };

/** An error that carries a list of problems (ConfigError, or the rules' errors). */
interface WithProblems {
  problems?: readonly string[];
  message: string;
}

export class Reloader<T> implements MetricSource {
  private succeeded = 0;
  private failed = 0;

  constructor(
    private readonly step: ReloadStep<T>,
    private readonly log: Logger,
    private readonly onRejected: (trigger: string, problems: readonly string[]) => void = () => {},
  ) {}

  reload(trigger: string): ReloadResult {
    this.log.info("reloading configuration and rules", { trigger });
    let next: T;
    try {
      next = this.step.prepare();
    } catch (err) {
      const e = err as WithProblems;
      const problems =
        e.problems !== undefined && e.problems.length > 0 ? [...e.problems] : e.message.split("\n");
      return this.reject(trigger, problems);
    }
    try {
      this.step.apply(next);
    } catch (err) {
      return this.reject(trigger, [`applying the new set failed: ${(err as Error).message}`]);
    }
    this.succeeded++;
    this.log.info("reload done", { trigger });
    return { ok: true };
  }

  private reject(trigger: string, problems: string[]): ReloadResult {
    this.failed++;
    this.log.error("reload rejected; the running configuration and rules are kept", {
      trigger,
      problems: problems.length,
    });
    for (const p of problems) this.log.error("reload problem", { detail: p });
    this.onRejected(trigger, problems);
    return { ok: false, problems };
  }

  metrics(): MetricSample[] {
    const help = "Reloads of the configuration and rules, by result";
    return [
      {
        name: "config_reloads_total",
        type: "counter",
        help,
        value: this.succeeded,
        labels: { result: "ok" },
      },
      {
        name: "config_reloads_total",
        type: "counter",
        help,
        value: this.failed,
        labels: { result: "rejected" },
      },
    ];
  }
}
