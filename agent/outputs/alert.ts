// An alert in Falco's shape: time, rule, priority, output (the time and priority prefix, then the
// rule's rendered message), output_fields (typed; missing ones null), source, tags, hostname.

import { clockTime, isoTime, type WallTime, wallTimeNs, wallTimeNsText } from "../events/index.ts";
import type { Priority } from "../common/index.ts";
import type { JsonFieldValue } from "../rules/index.ts";
import { type JsonValue, sortedJson } from "./json.ts";

export interface Alert {
  time: WallTime;
  rule: string;
  priority: Priority;
  /** The rule's output with fields substituted. */
  message: string;
  outputFields: Record<string, JsonFieldValue>;
  source: string;
  tags: readonly string[];
  hostname: string;
}

export interface AlertFormat {
  /** json_output: one JSON object per alert; otherwise the text line. */
  json: boolean;
  /** json_include_output_property */
  includeOutput: boolean;
  /** json_include_tags_property */
  includeTags: boolean;
  /** json_include_message_property: the message without time and priority, in "message". */
  includeMessage: boolean;
  /** json_include_output_fields_property */
  includeOutputFields: boolean;
  /** time_format_iso_8601: the text prefix uses ISO time instead of the clock time. */
  isoTime: boolean;
}

export const DEFAULT_ALERT_FORMAT: AlertFormat = {
  json: true,
  includeOutput: true,
  includeTags: true,
  includeMessage: false,
  includeOutputFields: true,
  isoTime: false,
};

/** "HH:MM:SS.nnnnnnnnn: Priority message", as Falco prints an alert. */
export function alertText(alert: Alert, format: AlertFormat): string {
  const when = format.isoTime ? isoTime(alert.time) : clockTime(alert.time);
  return `${when}: ${alert.priority} ${alert.message}`;
}

/**
 * Falco's JSON alert, keys in sorted order. Written out directly (the top-level keys are fixed and
 * already in order; only output_fields is sorted per alert): formatting is most of an alert's cost.
 */
export function alertJson(alert: Alert, format: AlertFormat): string {
  return alertJsonNative(alert, format) ?? alertJsonWritten(alert, format);
}

/**
 * The same text from a few native JSON.stringify calls on objects built in sorted key order (a
 * call per key and value was most of an alert's cost). evt.time (a bigint) is spliced in as
 * digits. Returns undefined for what objects would write differently: bigint field values and
 * integer-like keys (which objects order first); alertJsonWritten handles those.
 */
function alertJsonNative(alert: Alert, format: AlertFormat): string | undefined {
  const time = isoTime(alert.time);
  const head: Record<string, unknown> = { hostname: alert.hostname };
  if (format.includeMessage) head.message = alert.message;
  if (format.includeOutput) head.output = alertText(alert, format);
  let out = JSON.stringify(head);
  if (format.includeOutputFields) {
    const timeKey = format.isoTime ? "evt.time.iso8601" : "evt.time";
    const fields = alert.outputFields;
    const keys = Object.keys(fields);
    keys.sort();
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      if (k === timeKey) continue;
      if (INDEX_LIKE.test(k)) return undefined;
      const v = fields[k];
      if (typeof v === "bigint") return undefined;
      if (Array.isArray(v)) for (const x of v) if (typeof x === "bigint") return undefined;
      if (k < timeKey) before[k] = v;
      else after[k] = v;
    }
    const b = JSON.stringify(before);
    const a = JSON.stringify(after);
    const timeValue = format.isoTime ? JSON.stringify(time) : wallTimeNsText(alert.time);
    out = `${out.slice(0, -1)},"output_fields":{${b.length > 2 ? `${b.slice(1, -1)},` : ""}"${timeKey}":${timeValue}${a.length > 2 ? `,${a.slice(1, -1)}` : ""}}}`;
  }
  const tail: Record<string, unknown> = { priority: alert.priority, rule: alert.rule, source: alert.source };
  if (format.includeTags) tail.tags = alert.tags;
  tail.time = time;
  return `${out.slice(0, -1)},${JSON.stringify(tail).slice(1)}`;
}
const INDEX_LIKE = /^(0|[1-9][0-9]*)$/;

/** The reference writer: one JSON.stringify per key and value (exported for the equivalence test). */
export function alertJsonWritten(alert: Alert, format: AlertFormat): string {
  const time = isoTime(alert.time);
  let out = `{"hostname":${JSON.stringify(alert.hostname)}`;
  if (format.includeMessage) out += `,"message":${JSON.stringify(alert.message)}`;
  if (format.includeOutput) out += `,"output":${JSON.stringify(alertText(alert, format))}`;
  if (format.includeOutputFields) {
    // The prefix's own field, as Falco adds it.
    const timeKey = format.isoTime ? "evt.time.iso8601" : "evt.time";
    const keys = Object.keys(alert.outputFields);
    if (!(timeKey in alert.outputFields)) keys.push(timeKey);
    keys.sort();
    out += `,"output_fields":{`;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      const v: JsonValue =
        k === timeKey
          ? format.isoTime
            ? time
            : wallTimeNs(alert.time)
          : (alert.outputFields[k] as JsonValue);
      out += `${i === 0 ? "" : ","}${JSON.stringify(k)}:${sortedJson(v)}`;
    }
    out += "}";
  }
  out += `,"priority":${JSON.stringify(alert.priority)},"rule":${JSON.stringify(alert.rule)},"source":${JSON.stringify(alert.source)}`;
  if (format.includeTags) out += `,"tags":${sortedJson([...alert.tags])}`;
  return `${out},"time":${JSON.stringify(time)}}`;
}

export function formatAlert(alert: Alert, format: AlertFormat): string {
  return format.json ? alertJson(alert, format) : alertText(alert, format);
}
