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
 * The same text from one native JSON.stringify call on an object built in sorted key order (a
 * call per key and value was most of an alert's cost). evt.time (a bigint) is written as a 0
 * placeholder and its digits spliced in: the placeholder's key, quoted, cannot occur elsewhere
 * (a quote inside a JSON string is escaped, and only output_fields holds that key). A rule's tags
 * are written once per tags list. Returns undefined for what objects would write differently:
 * bigint field values and integer-like keys (which objects order first); alertJsonWritten
 * handles those.
 */
function alertJsonNative(alert: Alert, format: AlertFormat): string | undefined {
  const time = isoTime(alert.time);
  const out: Record<string, unknown> = { hostname: alert.hostname };
  if (format.includeMessage) out.message = alert.message;
  if (format.includeOutput) out.output = alertText(alert, format);
  if (format.includeOutputFields) {
    const fields = alert.outputFields;
    const keys = sortedKeys(alert.rule, fields, format.isoTime);
    if (keys === undefined) return undefined;
    const timeKey = format.isoTime ? "evt.time.iso8601" : "evt.time";
    const sorted: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      if (k === timeKey) {
        sorted[k] = format.isoTime ? time : 0;
        continue;
      }
      const v = fields[k];
      if (typeof v === "bigint") return undefined;
      if (Array.isArray(v)) for (const x of v) if (typeof x === "bigint") return undefined;
      sorted[k] = v;
    }
    out.output_fields = sorted;
  }
  out.priority = alert.priority;
  out.rule = alert.rule;
  out.source = alert.source;
  let json = JSON.stringify(out);
  if (format.includeOutputFields && !format.isoTime) {
    const at = json.indexOf(TIME_PLACEHOLDER) + TIME_PLACEHOLDER.length - 1;
    json = `${json.slice(0, at)}${wallTimeNsText(alert.time)}${json.slice(at + 1)}`;
  }
  // The ISO time is digits and punctuation: quoting it is its JSON.
  const tags = format.includeTags ? `,"tags":${tagsJson(alert.tags)}` : "";
  return `${json.slice(0, -1)}${tags},"time":"${time}"}`;
}
const TIME_PLACEHOLDER = '"evt.time":0';

/** A rule's tags list (the same array for each of its alerts) as JSON. */
const TAGS_JSON = new WeakMap<readonly string[], string>();
function tagsJson(tags: readonly string[]): string {
  let json = TAGS_JSON.get(tags);
  if (json === undefined) {
    json = JSON.stringify(tags);
    TAGS_JSON.set(tags, json);
  }
  return json;
}

/**
 * output_fields keys in sorted order, the time key included; undefined when one is integer-like.
 * A rule's alerts have the same keys in the same order, so the order is worked out once per rule
 * (and time key) and only checked per alert: sorting was a quarter of an alert's formatting. At
 * most SORTED_KEYS_CAP rules are remembered; alerts of others are sorted each time.
 */
function sortedKeys(
  rule: string,
  fields: Record<string, unknown>,
  isoTime: boolean,
): readonly string[] | undefined {
  const plans = isoTime ? SORTED_KEYS_ISO : SORTED_KEYS;
  const plan = plans.get(rule);
  if (plan !== undefined) {
    let i = 0;
    let same = true;
    for (const k in fields) {
      if (k !== plan.order[i++]) {
        same = false;
        break;
      }
    }
    if (same && i === plan.order.length) return plan.sorted;
  }
  const order = Object.keys(fields);
  const timeKey = isoTime ? "evt.time.iso8601" : "evt.time";
  const keys = order.includes(timeKey) ? [...order] : [...order, timeKey];
  keys.sort();
  const sorted = keys.some((k) => INDEX_LIKE.test(k)) ? undefined : keys;
  if (plan !== undefined || plans.size < SORTED_KEYS_CAP) plans.set(rule, { order, sorted });
  return sorted;
}
interface KeyPlan {
  /** The keys in the fields object's own order. */
  order: readonly string[];
  sorted: readonly string[] | undefined;
}
const SORTED_KEYS_CAP = 4096;
const SORTED_KEYS = new Map<string, KeyPlan>();
const SORTED_KEYS_ISO = new Map<string, KeyPlan>();
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
