// MetricSample[] as Prometheus text exposition format (version 0.0.4): one HELP and one TYPE line
// per metric family, then its samples. Names get the `lanner_` prefix (counters also `_total`,
// as Prometheus asks); label values are escaped; a family reported twice with another type, and
// a sample repeating a label set, are left out and counted so /metrics always parses.

import type { MetricSample, MetricType } from "../common/index.ts";

export const METRIC_PREFIX = "lanner_";
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

interface Family {
  type: MetricType;
  help: string;
  lines: string[];
  labelSets: Set<string>;
}

/** The exposition name: prefixed, invalid characters replaced, counters ending in _total. */
export function prometheusName(name: string, type: MetricType): string {
  let n = `${METRIC_PREFIX}${name.replace(/[^a-zA-Z0-9_:]/g, "_")}`;
  if (type === "counter" && !n.endsWith("_total")) n += "_total";
  return n;
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
const labelName = (k: string) => {
  const n = k.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[0-9]/.test(n) || n.startsWith("__") ? `l_${n}` : n;
};

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

export interface Exposition {
  text: string;
  /** Samples left out: a family's type conflicting with its first report, or a repeated label set. */
  skipped: number;
}

export function renderPrometheus(samples: readonly MetricSample[]): Exposition {
  const families = new Map<string, Family>();
  let skipped = 0;
  for (const s of samples) {
    const name = prometheusName(s.name, s.type);
    let family = families.get(name);
    if (family === undefined) {
      family = { type: s.type, help: s.help, lines: [], labelSets: new Set() };
      families.set(name, family);
    } else if (family.type !== s.type) {
      skipped++;
      continue;
    }
    const labels = Object.entries(s.labels ?? {})
      .map(([k, v]) => [labelName(k), v] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
      .join(",");
    if (family.labelSets.has(labels)) {
      skipped++;
      continue;
    }
    family.labelSets.add(labels);
    family.lines.push(`${name}${labels === "" ? "" : `{${labels}}`} ${formatValue(s.value)}`);
  }
  const out: string[] = [];
  for (const [name, f] of families) {
    out.push(`# HELP ${name} ${escapeHelp(f.help)}`, `# TYPE ${name} ${f.type}`, ...f.lines);
  }
  return { text: out.length === 0 ? "" : `${out.join("\n")}\n`, skipped };
}
