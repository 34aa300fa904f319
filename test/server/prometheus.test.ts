// /metrics text (agent/server/prometheus.ts): names, HELP/TYPE once per family, escaped labels,
// and the output accepted by Prometheus' own checker (`promtool check metrics`).

import { describe, expect, test } from "bun:test";
import type { MetricSample } from "../../agent/common/metrics.ts";
import { ProcessMetrics } from "../../agent/server/process-metrics.ts";
import { prometheusName, renderPrometheus } from "../../agent/server/prometheus.ts";
import { promtool } from "./promtool.ts";

const SAMPLES: MetricSample[] = [
  { name: "events", type: "counter", help: "Events decoded, by kind", value: 10, labels: { kind: "execve" } },
  { name: "events", type: "counter", help: "Events decoded, by kind", value: 3, labels: { kind: "open" } },
  {
    name: "rule_matches",
    type: "counter",
    help: "Alerts per rule\nwith a \\ backslash",
    value: 2,
    labels: { rule: 'Read "sensitive" file\\untrusted\nx' },
  },
  { name: "queue_depth", type: "gauge", help: "Alerts waiting", value: 0, labels: { sink: "stdout" } },
  { name: "spool_bytes_total", type: "counter", help: "Bytes spooled", value: 1.5e9 },
  {
    name: "weird-name.x",
    type: "gauge",
    help: "Odd characters",
    value: Number.NaN,
    labels: { "0bad-label": "v" },
  },
];

describe("renderPrometheus", () => {
  test("one HELP and TYPE per family, prefixed names, counters with _total, labels escaped", () => {
    const { text, skipped } = renderPrometheus(SAMPLES);
    expect(skipped).toBe(0);
    expect(text).toBe(
      [
        "# HELP lanner_events_total Events decoded, by kind",
        "# TYPE lanner_events_total counter",
        'lanner_events_total{kind="execve"} 10',
        'lanner_events_total{kind="open"} 3',
        "# HELP lanner_rule_matches_total Alerts per rule\\nwith a \\\\ backslash",
        "# TYPE lanner_rule_matches_total counter",
        'lanner_rule_matches_total{rule="Read \\"sensitive\\" file\\\\untrusted\\nx"} 2',
        "# HELP lanner_queue_depth Alerts waiting",
        "# TYPE lanner_queue_depth gauge",
        'lanner_queue_depth{sink="stdout"} 0',
        "# HELP lanner_spool_bytes_total Bytes spooled",
        "# TYPE lanner_spool_bytes_total counter",
        "lanner_spool_bytes_total 1500000000",
        "# HELP lanner_weird_name_x Odd characters",
        "# TYPE lanner_weird_name_x gauge",
        'lanner_weird_name_x{l_0bad_label="v"} NaN',
        "",
      ].join("\n"),
    );
  });

  test("a conflicting type and a repeated label set are left out and counted", () => {
    const { text, skipped } = renderPrometheus([
      { name: "x", type: "gauge", help: "x", value: 1 },
      { name: "x", type: "gauge", help: "x", value: 2 },
      { name: "y", type: "gauge", help: "y", value: 1, labels: { a: "1" } },
      { name: "y", type: "gauge", help: "y", value: 1, labels: { a: "2" } },
      { name: "y", type: "gauge", help: "y", value: 3, labels: { a: "1" } },
    ]);
    expect(skipped).toBe(2);
    expect(text.match(/^lanner_x /gm)?.length).toBe(1);
    expect(text.match(/^lanner_y\{/gm)?.length).toBe(2);
    // A counter named like a gauge family gets _total, so it is another family, not a conflict.
    expect(prometheusName("x", "counter")).toBe("lanner_x_total");
  });

  test("no samples: an empty exposition", () => {
    expect(renderPrometheus([])).toEqual({ text: "", skipped: 0 });
  });

  test("promtool accepts the output, process metrics included", () => {
    const samples = [...SAMPLES.filter((s) => !Number.isNaN(s.value)), ...new ProcessMetrics().metrics()];
    const r = promtool(renderPrometheus(samples).text);
    expect(r.output).toBe("");
    expect(r.code).toBe(0);
  });

  test("promtool is a real check: it rejects a broken exposition", () => {
    expect(promtool("# TYPE lanner_x counter\nlanner_x 1\nlanner_x 2\n").code).not.toBe(0);
  });

  test("process metrics: RSS and CPU are real, positive numbers", () => {
    const m = new ProcessMetrics().metrics();
    const by = (n: string) => m.find((s) => s.name === n)?.value ?? -1;
    expect(by("process_resident_memory_bytes")).toBeGreaterThan(1 << 20);
    expect(by("process_cpu_seconds")).toBeGreaterThan(0);
    expect(by("process_start_time_seconds")).toBeLessThanOrEqual(Date.now() / 1000);
  });
});
