// One interface through which every stage reports its counters and gauges. The agent's stats
// log line, the /metrics endpoint and the replay summary all read the same samples, so a counter
// is defined once, where it is counted. This module sits below every stage and imports nothing.

export type MetricType = "counter" | "gauge";

/** One sample. `name` is a Prometheus metric name without the `lanner_` prefix, snake_case. */
export interface MetricSample {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly value: number;
  readonly labels?: Readonly<Record<string, string>>;
}

/** Anything that has counters: a sink, the probe, the state tracker, the rule engine. */
export interface MetricSource {
  metrics(): MetricSample[];
}

/** Collects samples from named sources; each stage registers itself once at assembly. */
export class MetricRegistry implements MetricSource {
  private readonly sources: MetricSource[] = [];

  register(source: MetricSource): void {
    this.sources.push(source);
  }

  metrics(): MetricSample[] {
    const out: MetricSample[] = [];
    for (const s of this.sources) for (const m of s.metrics()) out.push(m);
    return out;
  }
}

/** Sum of the samples named `name` (all label sets), 0 when there is none. */
export function metricTotal(samples: readonly MetricSample[], name: string): number {
  let n = 0;
  for (const s of samples) if (s.name === name) n += s.value;
  return n;
}
