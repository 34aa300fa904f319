// An alert in Falco's shape: time, rule, priority, output (the time and priority prefix, then the
// rule's rendered message), output_fields (typed; missing ones null), source, tags, hostname.

import { clockTime, isoTime, type WallTime, wallTimeNs } from "../events/index.ts";
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
