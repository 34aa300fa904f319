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
 * Falco's JSON alert, keys in sorted order, written as one string: the top-level keys are fixed
 * and already in order; a rule's output_fields keys are sorted once per rule and their JSON
 * prefixes kept (formatting is most of an alert's cost). Byte-identical to alertJsonWritten (the
 * reference, one JSON.stringify per key and value): strings are quoted as JSON.stringify quotes
 * them, numbers written as it writes them (non-finite ones null), bigints as their digits.
 */
export function alertJson(alert: Alert, format: AlertFormat): string {
  const time = isoTime(alert.time);
  let out = `{"hostname":${jsonString(alert.hostname)}`;
  if (format.includeMessage) out += `,"message":${jsonString(alert.message)}`;
  if (format.includeOutput) out += `,"output":${jsonString(alertText(alert, format))}`;
  if (format.includeOutputFields) {
    const fields = alert.outputFields;
    const plan = keyPlan(alert.rule, fields, format.isoTime);
    const { sorted, prefixes, timeAt } = plan;
    out += `,"output_fields":{`;
    for (let i = 0; i < sorted.length; i++) {
      if (i === timeAt) out += `${prefixes[i]}${format.isoTime ? `"${time}"` : wallTimeNsText(alert.time)}`;
      else out += `${prefixes[i]}${fieldJson(fields[sorted[i]] as JsonFieldValue)}`;
    }
    out += "}";
  }
  out += `,"priority":${jsonString(alert.priority)},"rule":${jsonString(alert.rule)},"source":${jsonString(alert.source)}`;
  // The ISO time is digits and punctuation: quoting it is its JSON.
  if (format.includeTags) out += `,"tags":${tagsJson(alert.tags)}`;
  return `${out},"time":"${time}"}`;
}

/**
 * What JSON.stringify escapes in a string: controls, quote, backslash and (lone) surrogates. From
 * a string: the JIT-compiled form of this class (no unicode flag, no property escapes) is several
 * times faster than one written with \p{...}.
 */
const ESCAPED_CHARS = '[\\u0000-\\u001f"\\\\\\ud800-\\udfff]';
const NEEDS_ESCAPE = new RegExp(ESCAPED_CHARS);

/** JSON.stringify(s), without the call for the usual string that needs no escape. */
function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** An output field's value as the reference writer's sortedJson writes it. */
function fieldJson(v: JsonFieldValue): string {
  if (typeof v === "string") return jsonString(v);
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "null";
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "bigint") return v.toString();
  let out = "[";
  for (let i = 0; i < v.length; i++) out += `${i === 0 ? "" : ","}${fieldJson(v[i])}`;
  return `${out}]`;
}

/** A rule's tags list (the same array for each of its alerts) as JSON. */
const TAGS_JSON = new WeakMap<readonly string[], string>();
function tagsJson(tags: readonly string[]): string {
  let json = TAGS_JSON.get(tags);
  if (json === undefined) {
    json = sortedJson([...tags]);
    TAGS_JSON.set(tags, json);
  }
  return json;
}

/**
 * output_fields keys in sorted order, the time key included, with each key's JSON prefix. A
 * rule's alerts have the same keys in the same order, so the plan is worked out once per rule (and
 * time key) and only checked per alert: sorting was a quarter of an alert's formatting. At most
 * KEY_PLANS_CAP rules are remembered; alerts of others are planned each time.
 */
function keyPlan(rule: string, fields: Record<string, unknown>, isoTime: boolean): KeyPlan {
  const plans = isoTime ? KEY_PLANS_ISO : KEY_PLANS;
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
    if (same && i === plan.order.length) return plan;
  }
  const order = Object.keys(fields);
  const timeKey = isoTime ? "evt.time.iso8601" : "evt.time";
  const sorted = order.includes(timeKey) ? [...order] : [...order, timeKey];
  sorted.sort();
  const prefixes = sorted.map((k, i) => `${i === 0 ? "" : ","}${JSON.stringify(k)}:`);
  const made = { order, sorted, prefixes, timeAt: sorted.indexOf(timeKey) };
  if (plan !== undefined || plans.size < KEY_PLANS_CAP) plans.set(rule, made);
  return made;
}
interface KeyPlan {
  /** The keys in the fields object's own order. */
  order: readonly string[];
  sorted: readonly string[];
  /** Per sorted key: `"key":`, after a comma but for the first. */
  prefixes: readonly string[];
  /** The time key's place in `sorted`. */
  timeAt: number;
}
const KEY_PLANS_CAP = 4096;
const KEY_PLANS = new Map<string, KeyPlan>();
const KEY_PLANS_ISO = new Map<string, KeyPlan>();

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
