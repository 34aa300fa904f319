// The agent process's own resource use, as metric samples: resident memory, CPU time, heap and
// the start time (Prometheus' usual process_* metrics, under the lanner_ prefix).

import type { MetricSample, MetricSource } from "../common/index.ts";

export class ProcessMetrics implements MetricSource {
  private readonly startSeconds = Date.now() / 1000 - process.uptime();

  metrics(): MetricSample[] {
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    return [
      {
        name: "process_resident_memory_bytes",
        type: "gauge",
        help: "Resident set size of the agent process",
        value: mem.rss,
      },
      {
        name: "process_heap_used_bytes",
        type: "gauge",
        help: "JavaScript heap in use",
        value: mem.heapUsed,
      },
      {
        name: "process_cpu_seconds",
        type: "counter",
        help: "CPU time the agent process used (user and system)",
        value: (cpu.user + cpu.system) / 1e6,
      },
      {
        name: "process_start_time_seconds",
        type: "gauge",
        help: "When the agent process started, seconds since the Unix epoch",
        value: this.startSeconds,
      },
    ];
  }
}
