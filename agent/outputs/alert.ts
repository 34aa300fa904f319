// An alert in Falco's shape: time, rule, priority, output (the time and priority prefix, then the
// rule's rendered message), output_fields (typed; missing ones null), source, tags, hostname.

import { clockTime, isoTime, type WallTime, wallTimeNs } from "../events/time.ts";
import type { Priority } from "../rules/load/items.ts";
import type { JsonFieldValue } from "../rules/output/format.ts";
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

export function alertJson(alert: Alert, format: AlertFormat): string {
  const fields: Record<string, JsonValue> = { ...alert.outputFields };
  // The prefix's own field, as Falco adds it.
  if (format.isoTime) fields["evt.time.iso8601"] = isoTime(alert.time);
  else fields["evt.time"] = wallTimeNs(alert.time);
  const obj: Record<string, JsonValue> = {
    hostname: alert.hostname,
    priority: alert.priority,
    rule: alert.rule,
    source: alert.source,
    time: isoTime(alert.time),
  };
  if (format.includeOutputFields) obj.output_fields = fields;
  if (format.includeOutput) obj.output = alertText(alert, format);
  if (format.includeMessage) obj.message = alert.message;
  if (format.includeTags) obj.tags = [...alert.tags];
  return sortedJson(obj);
}

export function formatAlert(alert: Alert, format: AlertFormat): string {
  return format.json ? alertJson(alert, format) : alertText(alert, format);
}
