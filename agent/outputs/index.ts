// Alert delivery, the one entry point the agent uses: createOutputs(settings, context) builds every
// enabled sink (stdout, file, syslog, program, http, otlp), each with its own bounded queue, policy,
// optional spool and worker (delivery.ts). publish() formats an alert once per encoding and offers
// it to every sink: it never waits and never throws. Drops raise a rate-limited internal alert
// (source "internal"). docs/OUTPUTS.md describes every sink, queue, policy and counter.

import { type MetricSample, type MetricSource, type MonotonicClock, TokenBucket } from "../common/index.ts";
import type { Logger } from "../log.ts";
import { type Alert, type AlertFormat, alertJson, alertText } from "./alert.ts";
import {
  type DeliveryOptions,
  type DropReason,
  type SinkHealth,
  SinkDelivery,
  type SinkShutdownReport,
  type Transport,
} from "./delivery.ts";
import { FileTransport } from "./file.ts";
import { type BodyEncoding, HttpTransport } from "./http.ts";
import { otlpResourceLogs } from "./otlp.ts";
import { ProgramTransport } from "./program.ts";
import {
  type CollectorSettings,
  DEFAULT_QUEUE_CAPACITY,
  type FullPolicy,
  type OutputSettings,
} from "./settings.ts";
import { Spool } from "./spool.ts";
import { StdoutTransport } from "./stdout.ts";
import { syslogLine, SyslogTransport } from "./syslog.ts";

export type { Alert } from "./alert.ts";
export type { DropReason, SinkHealth, SinkShutdownReport } from "./delivery.ts";
export { DROP_REASONS, OUTPUT_METRICS } from "./delivery.ts";
export { defaultOutputSettings, type OutputSettings, outputKeys } from "./settings.ts";

/** What the pipeline needs: somewhere to hand each alert as it is produced. */
export interface AlertPublisher {
  publish(alert: Alert): void;
}

export interface OutputsContext {
  log: Logger;
  hostname: string;
  /**
   * Where internal alerts (drops) go. Default: published to the sinks like any alert. The agent may
   * route them through its own path instead (e.g. to count them with the rule alerts).
   */
  onInternalAlert?: (alert: Alert) => void;
  /** For tests of the rate limits. */
  clock?: MonotonicClock;
}

export interface ShutdownReport {
  sinks: SinkShutdownReport[];
  elapsedMs: number;
}

export interface SinkStats {
  sink: string;
  delivered: number;
  dropped: Record<DropReason, number>;
  retries: number;
  failures: number;
  queued: number;
  queuedBytes: number;
}

export interface Outputs extends AlertPublisher, MetricSource {
  /** Hands an alert to every sink; never waits, never throws. */
  publish(alert: Alert): void;
  /** SIGUSR1: reopen files (and sockets). */
  reopen(): void;
  /** Delivers what is queued within `deadlineMs` (default outputs_queue.shutdown_timeout_ms); the rest is spooled or counted. */
  shutdown(deadlineMs?: number): Promise<ShutdownReport>;
  metrics(): MetricSample[];
  /** For /readyz: one entry per sink. */
  health(): SinkHealth[];
  stats(): SinkStats[];
  /** Alerts lost by any sink for any reason, and throttled ones: the stats line's warning trigger. */
  droppedTotal(): number;
}

/** A configuration the sinks cannot run with: the message names the key. */
export class OutputsError extends Error {}

/** How long drops accumulate before the next internal alert when the limiter says no. */
const INTERNAL_ALERT_RETRY_MS = 10_000;
/** Rules tracked by the per-rule limiter; past this, new rules are not throttled (counted). */
const MAX_THROTTLED_RULES = 10_000;

type Encoder = (alert: Alert, cache: FormatCache) => string;

/** The alert's renderings, made once per publish and only when a sink wants them. */
class FormatCache {
  alert!: Alert;
  private json: string | undefined;
  private text: string | undefined;
  constructor(private readonly format: AlertFormat) {}
  reset(alert: Alert): void {
    this.alert = alert;
    this.json = undefined;
    this.text = undefined;
  }
  /** Falco's JSON line, whatever json_output says (collectors need JSON). */
  jsonLine(): string {
    this.json ??= alertJson(this.alert, this.format);
    return this.json;
  }
  /** The text line, on one line (a newline in a field would split it). */
  textLine(): string {
    this.text ??= alertText(this.alert, this.format).replace(/[\r\n]/g, " ");
    return this.text;
  }
  line(): string {
    return this.format.json ? this.jsonLine() : this.textLine();
  }
}

interface Sink {
  delivery: SinkDelivery;
  encode: Encoder;
}

class AlertOutputs implements Outputs {
  private readonly cache: FormatCache;
  private readonly internalLimit: TokenBucket;
  private readonly pendingDrops = new Map<string, number>();
  private internalTimer: ReturnType<typeof setTimeout> | undefined;
  private internalScheduled = false;
  private readonly ruleBuckets = new Map<string, TokenBucket>();
  private throttled = 0;
  private untracked = 0;
  private shuttingDown = false;
  private formatErrors = 0;
  private readonly formatErrorLog = new TokenBucket({ rate: 1 / 60, maxBurst: 1 });

  constructor(
    private readonly settings: OutputSettings,
    private readonly ctx: OutputsContext,
    private readonly sinks: Sink[],
    format: AlertFormat,
  ) {
    this.cache = new FormatCache(format);
    this.internalLimit = new TokenBucket({ rate: 1 / 10, maxBurst: 3, clock: ctx.clock });
  }

  publish(alert: Alert): void {
    try {
      if (
        this.settings.alert_rate_limit.enabled &&
        alert.source !== "internal" &&
        !this.allowRule(alert.rule)
      ) {
        this.throttled++;
        return;
      }
      this.cache.reset(alert);
      for (const s of this.sinks) s.delivery.offer(s.encode(alert, this.cache));
    } catch (err) {
      // An encoding bug must not take the event path down: counted, logged at most once a minute.
      this.formatErrors++;
      if (this.formatErrorLog.take())
        this.ctx.log.error("alert could not be formatted", {
          rule: alert.rule,
          error: (err as Error).message,
          count: this.formatErrors,
        });
    }
  }

  private allowRule(rule: string): boolean {
    let b = this.ruleBuckets.get(rule);
    if (b === undefined) {
      if (this.ruleBuckets.size >= MAX_THROTTLED_RULES) {
        this.untracked++;
        return true;
      }
      const rl = this.settings.alert_rate_limit;
      b = new TokenBucket({ rate: rl.rate, maxBurst: rl.max_burst, clock: this.ctx.clock });
      this.ruleBuckets.set(rule, b);
    }
    return b.take();
  }

  /** Called by each sink as it drops; internal alerts are raised off this call stack. */
  readonly onDrop = (sink: string, reason: DropReason, count: number): void => {
    const key = `${sink}\n${reason}`;
    this.pendingDrops.set(key, (this.pendingDrops.get(key) ?? 0) + count);
    if (this.internalScheduled || this.shuttingDown) return;
    this.internalScheduled = true;
    queueMicrotask(() => {
      this.internalScheduled = false;
      this.raiseInternal();
    });
  };

  private raiseInternal(): void {
    if (this.pendingDrops.size === 0 || this.shuttingDown) return;
    if (!this.internalLimit.take()) {
      this.internalTimer ??= setTimeout(() => {
        this.internalTimer = undefined;
        this.raiseInternal();
      }, INTERNAL_ALERT_RETRY_MS);
      this.internalTimer.unref?.();
      return;
    }
    if (this.internalTimer !== undefined) clearTimeout(this.internalTimer);
    this.internalTimer = undefined;
    let total = 0;
    const parts: string[] = [];
    for (const [key, n] of this.pendingDrops) {
      total += n;
      const cut = key.lastIndexOf("\n");
      parts.push(`${key.slice(0, cut)} reason=${key.slice(cut + 1)} dropped=${n}`);
    }
    this.pendingDrops.clear();
    const detail = parts.join("; ");
    this.ctx.log.warning("alerts were dropped", { dropped: total, detail });
    const ms = Date.now();
    const alert: Alert = {
      time: { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 },
      rule: "Lanner internal: alerts dropped",
      priority: "Warning",
      message: `Lanner internal: ${total} alerts were not delivered (${detail})`,
      outputFields: { "lanner.dropped": total, "lanner.drops": detail },
      source: "internal",
      tags: ["lanner", "internal"],
      hostname: this.ctx.hostname,
    };
    if (this.ctx.onInternalAlert !== undefined) this.ctx.onInternalAlert(alert);
    else this.publish(alert);
  }

  reopen(): void {
    for (const s of this.sinks) s.delivery.reopen();
  }

  async shutdown(deadlineMs = this.settings.outputs_queue.shutdown_timeout_ms): Promise<ShutdownReport> {
    const start = performance.now();
    this.shuttingDown = true;
    if (this.internalTimer !== undefined) clearTimeout(this.internalTimer);
    const sinks = await Promise.all(this.sinks.map((s) => s.delivery.shutdown(deadlineMs)));
    return { sinks, elapsedMs: Math.round(performance.now() - start) };
  }

  metrics(): MetricSample[] {
    const out: MetricSample[] = [];
    for (const s of this.sinks) for (const m of s.delivery.metrics()) out.push(m);
    out.push({
      name: "output_throttled_total",
      type: "counter",
      help: "Alerts suppressed by the per-rule rate limit (alert_rate_limit)",
      value: this.throttled,
    });
    out.push({
      name: "output_format_errors_total",
      type: "counter",
      help: "Alerts that could not be formatted (not delivered anywhere)",
      value: this.formatErrors,
    });
    out.push({
      name: "output_throttle_untracked_total",
      type: "counter",
      help: "Alerts of rules beyond the per-rule limiter's table (not throttled)",
      value: this.untracked,
    });
    return out;
  }

  health(): SinkHealth[] {
    return this.sinks.map((s) => s.delivery.health());
  }

  stats(): SinkStats[] {
    return this.sinks.map((s) => ({ sink: s.delivery.name, ...s.delivery.counters() }));
  }

  droppedTotal(): number {
    let n = this.throttled + this.formatErrors;
    for (const s of this.stats()) for (const v of Object.values(s.dropped)) n += v;
    return n;
  }
}

/** Builds the enabled sinks; throws OutputsError (naming the key) when a sink cannot start. */
export function createOutputs(settings: OutputSettings, ctx: OutputsContext): Outputs {
  const format: AlertFormat = {
    json: settings.json_output,
    includeOutput: settings.json_include_output_property,
    includeTags: settings.json_include_tags_property,
    includeMessage: settings.json_include_message_property,
    includeOutputFields: settings.json_include_output_fields_property,
    isoTime: settings.time_format_iso_8601,
  };
  const q = settings.outputs_queue;
  let capacity = q.capacity;
  if (capacity === 0) {
    capacity = DEFAULT_QUEUE_CAPACITY;
    ctx.log.warning("outputs_queue.capacity 0 (unbounded in Falco) is not supported: using a bounded queue", {
      capacity,
      max_bytes: q.max_bytes,
    });
  }
  const holder: { outputs?: AlertOutputs } = {};
  const onDrop = (sink: string, reason: DropReason, count: number) =>
    holder.outputs?.onDrop(sink, reason, count);
  const onError = (sink: string, message: string) =>
    ctx.log.error("alert sink failed", { sink, error: message });
  const base = (
    sinkPolicy: FullPolicy | "inherit",
    key: string,
  ): Omit<DeliveryOptions, "batchCount" | "batchBytes" | "lingerMs"> => {
    const policy = sinkPolicy === "inherit" ? q.policy : sinkPolicy;
    if (policy === "spool")
      throw new OutputsError(`${key}.policy: spool is only available for http_output and otlp_output`);
    return {
      queueCount: capacity,
      queueBytes: q.max_bytes,
      policy,
      initialBackoffMs: 100,
      maxBackoffMs: 5000,
      maxAttempts: 0,
      stallMs: settings.output_timeout,
      onDrop,
      onError,
    };
  };
  const sinks: Sink[] = [];
  const built: SinkDelivery[] = [];
  const add = (transport: Transport, opts: DeliveryOptions, encode: Encoder) => {
    const delivery = new SinkDelivery(transport, opts);
    built.push(delivery);
    sinks.push({ delivery, encode });
  };
  const localLine: Encoder = (_a, c) => c.line();
  try {
    if (settings.stdout_output.enabled)
      add(
        new StdoutTransport(),
        {
          ...base(settings.stdout_output.policy, "stdout_output"),
          batchCount: 1024,
          batchBytes: 256 << 10,
          lingerMs: 0,
        },
        localLine,
      );
    const f = settings.file_output;
    if (f.enabled)
      add(
        new FileTransport({ path: f.filename, maxBytes: f.max_bytes, keep: f.keep, fsync: f.fsync }),
        { ...base(f.policy, "file_output"), batchCount: 4096, batchBytes: 1 << 20, lingerMs: 0 },
        localLine,
      );
    const sl = settings.syslog_output;
    if (sl.enabled)
      add(
        new SyslogTransport(sl.socket),
        {
          ...base(sl.policy, "syslog_output"),
          batchCount: 256,
          batchBytes: 256 << 10,
          lingerMs: 0,
        },
        (a, c) => syslogLine(sl.format, a.priority, c.line(), ctx.hostname, new Date()),
      );
    const p = settings.program_output;
    if (p.enabled) {
      if (p.program.trim() === "")
        throw new OutputsError("program_output.program is empty: set the command to run");
      add(
        new ProgramTransport(p.program, p.keep_alive),
        {
          ...base(p.policy, "program_output"),
          batchCount: 256,
          batchBytes: 256 << 10,
          lingerMs: 0,
        },
        localLine,
      );
    }
    const h = settings.http_output;
    if (h.enabled) {
      const enc: BodyEncoding = h.batch.mode;
      addCollector("http_output", `http:${h.url}`, h, enc, (_a, c) => c.jsonLine());
    }
    const o = settings.otlp_output;
    if (o.enabled)
      addCollector("otlp_output", `otlp:${o.url}`, o, "otlp", (a, c) => otlpResourceLogs(a, c.textLine()));
  } catch (err) {
    for (const d of built) void d.shutdown(0);
    if (err instanceof OutputsError) throw err;
    throw new OutputsError((err as Error).message);
  }

  function addCollector(
    key: string,
    name: string,
    s: CollectorSettings,
    enc: BodyEncoding,
    encode: Encoder,
  ): void {
    if (s.url === "") throw new OutputsError(`${key}.url is empty: set the collector's URL`);
    const policy: FullPolicy = s.policy !== "inherit" ? s.policy : s.spool.dir !== "" ? "spool" : q.policy;
    if (policy === "spool" && s.spool.dir === "")
      throw new OutputsError(`${key}.policy is spool but ${key}.spool.dir is empty: set a directory`);
    const spool = s.spool.dir === "" ? undefined : new Spool(s.spool.dir, s.spool.max_bytes);
    const transport = new HttpTransport({
      name,
      settings: s,
      encoding: enc,
      timeoutMs: s.timeout_ms > 0 ? s.timeout_ms : settings.output_timeout,
      log: (level, msg, fields) => ctx.log.log(level, msg, fields),
    });
    const single = enc === "single";
    add(
      transport,
      {
        queueCount: capacity,
        queueBytes: q.max_bytes,
        policy,
        spool,
        batchCount: single ? Math.min(s.batch.max_alerts, 64) : s.batch.max_alerts,
        // One POST per alert either way; fewer, larger spool files cost fewer fsyncs.
        spillCount: s.batch.max_alerts,
        batchBytes: s.batch.max_bytes,
        lingerMs: single ? 0 : s.batch.linger_ms,
        initialBackoffMs: s.retry.initial_backoff_ms,
        maxBackoffMs: s.retry.max_backoff_ms,
        maxAttempts: s.retry.max_attempts,
        stallMs: settings.output_timeout,
        onDrop,
        onError,
      },
      encode,
    );
  }

  const outputs = new AlertOutputs(settings, ctx, sinks, format);
  holder.outputs = outputs;
  return outputs;
}
