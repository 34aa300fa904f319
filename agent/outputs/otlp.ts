// An alert as an OpenTelemetry log record (OTLP/HTTP, JSON encoding). Each alert becomes one
// ResourceLogs object, so a batch is just `{"resourceLogs":[...]}` around queued lines and the
// spool and queue machinery stays line-based. Resource: host.name, and container.id / k8s pod and
// namespace when the alert has them. Record: time, severity from the priority, the rendered output
// as body, rule/priority/source/tags and every output field as attributes.

import { wallTimeNs } from "../events/index.ts";
import type { Priority } from "../common/index.ts";
import type { Alert } from "./alert.ts";

/** Falco priority -> OpenTelemetry severity number (FATAL 21-24, ERROR 17, WARN 13, INFO 9-12, DEBUG 5). */
export const SEVERITY_NUMBER: Record<Priority, number> = {
  Emergency: 24,
  Alert: 23,
  Critical: 21,
  Error: 17,
  Warning: 13,
  Notice: 10,
  Informational: 9,
  Debug: 5,
};

/** Output fields that describe where the alert happened: OTel resource attributes. */
const RESOURCE_FIELDS: Record<string, string> = {
  "container.id": "container.id",
  "container.name": "container.name",
  "k8s.pod.name": "k8s.pod.name",
  "k8s.ns.name": "k8s.namespace.name",
};

type AnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number }
  | { boolValue: boolean }
  | { arrayValue: { values: AnyValue[] } };

interface KeyValue {
  key: string;
  value: AnyValue;
}

function anyValue(v: unknown): AnyValue | undefined {
  switch (typeof v) {
    case "string":
      return { stringValue: v };
    case "bigint":
      return { intValue: v.toString() };
    case "number":
      return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
    case "boolean":
      return { boolValue: v };
  }
  if (Array.isArray(v)) {
    const values: AnyValue[] = [];
    for (const x of v) {
      const a = anyValue(x);
      if (a !== undefined) values.push(a);
    }
    return { arrayValue: { values } };
  }
  return undefined;
}

function kv(key: string, v: unknown, out: KeyValue[]): void {
  const value = anyValue(v);
  if (value !== undefined) out.push({ key, value });
}

/** One alert as a ResourceLogs JSON object. `text` is the rendered output line. */
export function otlpResourceLogs(alert: Alert, text: string): string {
  const resource: KeyValue[] = [{ key: "host.name", value: { stringValue: alert.hostname } }];
  const attributes: KeyValue[] = [];
  kv("falco.rule", alert.rule, attributes);
  kv("falco.priority", alert.priority, attributes);
  kv("falco.source", alert.source, attributes);
  kv("falco.tags", [...alert.tags], attributes);
  for (const [name, value] of Object.entries(alert.outputFields)) {
    kv(name, value, attributes);
    const res = RESOURCE_FIELDS[name];
    if (res !== undefined && typeof value === "string" && value !== "" && value !== "host")
      kv(res, value, resource);
  }
  const time = wallTimeNs(alert.time).toString();
  return JSON.stringify({
    resource: { attributes: resource },
    scopeLogs: [
      {
        scope: { name: "lanner" },
        logRecords: [
          {
            timeUnixNano: time,
            observedTimeUnixNano: time,
            severityNumber: SEVERITY_NUMBER[alert.priority],
            severityText: alert.priority,
            body: { stringValue: text },
            attributes,
          },
        ],
      },
    ],
  });
}
