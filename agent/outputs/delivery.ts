// One sink's delivery: its bounded queue, the policy when the queue is full, an optional disk spool,
// and a worker that sends one batch at a time through a transport, retrying with exponential backoff
// and jitter. `offer` is called on the event path: it never waits and never throws. Every alert that
// is not delivered is counted under one reason (DROP_REASONS).
//
// Order: the batch in flight is older than the spool, which is older than the queue. A batch that
// fails goes back to the head of the spool (spool policy) or is retried from memory; the worker
// always sends the spool's head before the queue, so alerts arrive in the order they were produced.

import { type MetricSample, TokenBucket } from "../common/index.ts";
import { LineQueue, lineBytes } from "./queue.ts";
import type { FullPolicy } from "./settings.ts";
import { type Spool, SpoolError } from "./spool.ts";

/** Why an alert was not delivered: one counter each, per sink. */
export const DROP_REASONS = {
  queue_full: "the queue was full (drop_newest), or full with the spool at its cap",
  evicted: "pushed out of a full queue by a newer alert (drop_oldest)",
  spool_full: "the queue was full and the spool had reached its cap",
  spool_error: "the spool could not be written (disk error)",
  spool_corrupt: "in a spool batch found damaged (moved aside as .corrupt)",
  too_big: "one alert larger than the queue's byte cap",
  rejected: "the collector refused it (4xx other than 408/429)",
  retries_exhausted: "retry.max_attempts failed attempts",
  shutdown: "still queued when the shutdown deadline passed, with no spool to keep it",
  closed: "published after shutdown began",
} as const;
export type DropReason = keyof typeof DROP_REASONS;

/** Metric names other stages read (the agent's stats line): defined once, here. */
export const OUTPUT_METRICS = {
  delivered: "output_delivered_total",
  dropped: "output_dropped_total",
} as const;

/** A transport failed to send; `delivered` lines of the batch got through before it failed. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly delivered = 0,
    /** Server-requested delay (Retry-After), milliseconds. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Where a sink's batches go. */
export interface Transport {
  /** The sink's label in metrics and logs, e.g. "file:/var/log/alerts.jsonl". */
  readonly name: string;
  /**
   * Sends lines in order. Resolves with the number of lines the receiver refused for good (counted as
   * rejected, not retried); throws DeliveryError for a failure worth retrying.
   */
  writeBatch(lines: string[], signal: AbortSignal): Promise<number>;
  /** SIGUSR1: reopen files and connections. */
  reopen?(): void;
  close(): Promise<void>;
  /** The transport's own counters (rotations, reopens, restarts), labelled by the sink. */
  metrics?(): MetricSample[];
}

export interface DeliveryOptions {
  queueCount: number;
  queueBytes: number;
  policy: FullPolicy;
  spool?: Spool;
  batchCount: number;
  batchBytes: number;
  /** Alerts per spool file when the queue overflows (default batchCount). */
  spillCount?: number;
  lingerMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** 0 = retry until delivered. */
  maxAttempts: number;
  /** A batch in flight longer than this makes the sink unhealthy (Falco's output_timeout). */
  stallMs?: number;
  onDrop: (sink: string, reason: DropReason, count: number) => void;
  onError: (sink: string, message: string) => void;
}

export interface SinkHealth {
  sink: string;
  ok: boolean;
  detail: string;
}

export interface SinkShutdownReport {
  sink: string;
  delivered: number;
  /** Alerts left in the spool for the next start. */
  spooled: number;
  /** Alerts lost at shutdown (no spool, or the spool full). */
  dropped: number;
}

/** How long shutdown waits for a batch in flight to notice the abort. */
const ABORT_GRACE_MS = 1000;

/** Longest Retry-After honoured: a collector cannot park the sink for longer. */
const MAX_RETRY_AFTER_MS = 600_000;

export class SinkDelivery {
  private readonly queue: LineQueue;
  private readonly dropped = new Map<DropReason, number>();
  private delivered = 0;
  private retries = 0;
  private failures = 0;
  private consecutiveFailures = 0;
  /** Attempts at the current head batch (for retry.max_attempts). */
  private headAttempts = 0;
  private lastError = "";
  private readonly errorLog = new TokenBucket({ rate: 1 / 30, maxBurst: 1 });
  /** The batch being sent when it came from the queue (not from the spool). */
  private inFlight: string[] | undefined;
  private closing = false;
  private closed = false;
  /** performance.now() when the batch in flight was handed to the transport; 0 when idle. */
  private sendingSince = 0;
  private wake: (() => void) | undefined;
  private readonly abort = new AbortController();
  private readonly worker: Promise<void>;

  constructor(
    private readonly transport: Transport,
    private readonly opts: DeliveryOptions,
  ) {
    this.queue = new LineQueue(opts.queueCount, opts.queueBytes);
    for (const r of Object.keys(DROP_REASONS) as DropReason[]) this.dropped.set(r, 0);
    this.worker = this.run();
  }

  get name(): string {
    return this.transport.name;
  }

  /** Queues one formatted alert; never waits, never throws. */
  offer(line: string): void {
    if (this.closed || this.closing) {
      this.drop("closed", 1);
      return;
    }
    const size = lineBytes(line);
    if (size > this.queue.maxBytes) {
      this.drop("too_big", 1);
      return;
    }
    if (!this.queue.fits(size)) {
      switch (this.opts.policy) {
        case "drop_newest":
          this.drop("queue_full", 1);
          return;
        case "drop_oldest":
          while (!this.queue.fits(size) && this.queue.shift() !== undefined) this.drop("evicted", 1);
          break;
        case "spool":
          if (!this.spill(size)) return;
          break;
      }
    }
    this.queue.push(line, size);
    if (this.wake !== undefined) {
      const w = this.wake;
      this.wake = undefined;
      w();
    }
  }

  /** Moves the oldest queued batch to the spool to make room; false when the new alert was dropped. */
  private spill(size: number): boolean {
    const spool = this.opts.spool as Spool;
    while (!this.queue.fits(size)) {
      const lines = this.queue.peek(this.opts.spillCount ?? this.opts.batchCount, this.opts.batchBytes);
      try {
        if (!spool.append(lines)) {
          this.drop("spool_full", 1);
          return false;
        }
      } catch (err) {
        this.reportError(err instanceof SpoolError ? err.message : String(err));
        this.drop("spool_error", 1);
        return false;
      }
      this.queue.take(lines.length, Number.MAX_SAFE_INTEGER);
    }
    return true;
  }

  reopen(): void {
    this.transport.reopen?.();
  }

  private drop(reason: DropReason, count: number): void {
    if (count <= 0) return;
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + count);
    this.opts.onDrop(this.transport.name, reason, count);
  }

  private reportError(message: string): void {
    this.lastError = message;
    if (this.errorLog.take()) this.opts.onError(this.transport.name, message);
  }

  private async run(): Promise<void> {
    const spool = this.opts.spool;
    for (;;) {
      let lines: string[] | undefined;
      let fromSpool = false;
      if (spool !== undefined && spool.batches > 0) {
        try {
          const corruptBefore = spool.corruptAlerts;
          lines = spool.head();
          this.drop("spool_corrupt", spool.corruptAlerts - corruptBefore);
          fromSpool = lines !== undefined;
        } catch (err) {
          this.reportError((err as Error).message);
          if (!(await this.sleep(this.backoff(++this.consecutiveFailures)))) return;
          continue;
        }
      }
      if (lines === undefined) {
        if (this.queue.count === 0) {
          if (this.closing) return;
          await new Promise<void>((resolve) => {
            this.wake = resolve;
          });
          continue;
        }
        if (this.opts.lingerMs > 0 && !this.closing && !this.batchReady()) {
          if (!(await this.sleep(this.opts.lingerMs))) return;
        }
        lines = this.queue.take(this.opts.batchCount, this.opts.batchBytes);
        if (lines.length === 0) continue;
        this.inFlight = lines;
      }
      if (!(await this.send(lines, fromSpool))) return;
    }
  }

  private batchReady(): boolean {
    return this.queue.count >= this.opts.batchCount || this.queue.bytes >= this.opts.batchBytes;
  }

  /** Sends one batch until it is delivered, rejected or given up; false when the worker must stop. */
  private async send(batch: string[], batchFromSpool: boolean): Promise<boolean> {
    const spool = this.opts.spool;
    let lines = batch;
    let fromSpool = batchFromSpool;
    for (;;) {
      this.headAttempts++;
      try {
        this.sendingSince = performance.now();
        const rejected = await this.transport.writeBatch(lines, this.abort.signal).finally(() => {
          this.sendingSince = 0;
        });
        this.delivered += lines.length - rejected;
        this.drop("rejected", rejected);
        this.consecutiveFailures = 0;
        this.headAttempts = 0;
        if (fromSpool) (spool as Spool).removeHead();
        this.inFlight = undefined;
        return true;
      } catch (err) {
        const e = err instanceof DeliveryError ? err : new DeliveryError(String(err));
        if (e.delivered > 0) {
          this.delivered += e.delivered;
          lines = lines.slice(e.delivered);
          if (fromSpool) (spool as Spool).replaceHead(lines);
          else this.inFlight = lines;
        }
        if (this.abort.signal.aborted) return false;
        this.failures++;
        this.consecutiveFailures++;
        this.reportError(e.message);
        if (this.opts.maxAttempts > 0 && this.headAttempts >= this.opts.maxAttempts) {
          this.drop("retries_exhausted", lines.length);
          if (fromSpool) (spool as Spool).removeHead();
          this.inFlight = undefined;
          this.headAttempts = 0;
          return true;
        }
        // With a spool, a failed batch from the queue goes back to the spool's head, so it survives a
        // restart and keeps its place; if the spool is at its cap it stays in memory.
        if (!fromSpool && spool !== undefined && this.opts.policy === "spool") {
          try {
            if (spool.prepend(lines)) {
              this.inFlight = undefined;
              fromSpool = true;
            }
          } catch (spoolErr) {
            this.reportError((spoolErr as Error).message);
          }
        }
        // Shutting down with a spool: what is left waits there for the next start.
        if (this.closing && spool !== undefined) return false;
        this.retries++;
        if (!(await this.sleep(this.delay(e)))) return false;
      }
    }
  }

  private delay(e: DeliveryError): number {
    if (e.retryAfterMs !== undefined) return Math.min(e.retryAfterMs, MAX_RETRY_AFTER_MS);
    return this.backoff(this.consecutiveFailures);
  }

  /** Exponential backoff with "equal jitter": half fixed, half random. */
  private backoff(failures: number): number {
    const exp = Math.min(
      this.opts.maxBackoffMs,
      this.opts.initialBackoffMs * 2 ** Math.min(failures - 1, 30),
    );
    return exp / 2 + Math.random() * (exp / 2);
  }

  /** Waits, or returns early (false) when the shutdown deadline aborts the sink. */
  private sleep(ms: number): Promise<boolean> {
    if (this.abort.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.abort.signal.removeEventListener("abort", onAbort);
        resolve(true);
      }, ms);
      this.abort.signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Stops taking alerts, delivers what is queued until `deadlineMs` from now, then aborts: what is
   * left goes to the spool (when there is one) or is counted as dropped (shutdown).
   */
  async shutdown(deadlineMs: number): Promise<SinkShutdownReport> {
    this.closing = true;
    if (this.wake !== undefined) this.wake();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    // With a spool, what remains can wait there; only the queue must be tried before the deadline.
    await Promise.race([this.worker, deadline]);
    clearTimeout(timer);
    this.abort.abort();
    // Every transport gives up on abort; the grace only guards against one that does not.
    await Promise.race([this.worker, Bun.sleep(ABORT_GRACE_MS)]);
    this.closed = true;
    const inFlight = this.inFlight ?? [];
    const queued = this.queue.takeAll();
    this.inFlight = undefined;
    let spooled = 0;
    const spool = this.opts.spool;
    if (spool !== undefined) {
      // The batch in flight is older than anything spilled to the spool while it was out: it goes
      // first, whatever the cap (it was already counted as held); the queue goes last, within the cap.
      try {
        if (inFlight.length > 0 && spool.prepend(inFlight, true)) spooled += inFlight.length;
        if (queued.length > 0 && spool.append(queued)) spooled += queued.length;
      } catch (err) {
        this.reportError((err as Error).message);
      }
    }
    const droppedNow = inFlight.length + queued.length - spooled;
    this.drop("shutdown", droppedNow);
    try {
      await this.transport.close();
    } catch (err) {
      this.reportError((err as Error).message);
    }
    return { sink: this.name, delivered: this.delivered, spooled, dropped: droppedNow };
  }

  health(): SinkHealth {
    const sending = this.sendingSince === 0 ? 0 : performance.now() - this.sendingSince;
    if (this.opts.stallMs !== undefined && sending > this.opts.stallMs)
      return {
        sink: this.name,
        ok: false,
        detail: `one batch in flight for ${Math.round(sending)} ms (stalled)`,
      };
    const ok = this.consecutiveFailures === 0;
    return {
      sink: this.name,
      ok,
      detail: ok ? "delivering" : `${this.consecutiveFailures} failed attempts in a row: ${this.lastError}`,
    };
  }

  /** Counters for tests and the stats line. */
  counters(): {
    delivered: number;
    dropped: Record<DropReason, number>;
    retries: number;
    failures: number;
    queued: number;
    queuedBytes: number;
  } {
    return {
      delivered: this.delivered,
      dropped: Object.fromEntries(this.dropped) as Record<DropReason, number>,
      retries: this.retries,
      failures: this.failures,
      queued: this.queue.count,
      queuedBytes: this.queue.bytes,
    };
  }

  metrics(): MetricSample[] {
    const labels = { sink: this.name };
    const out: MetricSample[] = [
      g("output_queue_alerts", "Alerts waiting in the sink's queue", this.queue.count, labels),
      g("output_queue_bytes", "Bytes waiting in the sink's queue", this.queue.bytes, labels),
      c(OUTPUT_METRICS.delivered, "Alerts delivered by the sink", this.delivered, labels),
      c("output_retries_total", "Batches retried after a failure", this.retries, labels),
      c("output_failures_total", "Send attempts that failed", this.failures, labels),
    ];
    for (const [reason, n] of this.dropped)
      out.push(c(OUTPUT_METRICS.dropped, "Alerts not delivered, by reason", n, { ...labels, reason }));
    for (const m of this.transport.metrics?.() ?? []) out.push({ ...m, labels: { ...labels, ...m.labels } });
    const spool = this.opts.spool;
    if (spool !== undefined) {
      out.push(g("output_spool_bytes", "Bytes in the sink's disk spool", spool.bytes, labels));
      out.push(g("output_spool_batches", "Batches in the sink's disk spool", spool.batches, labels));
      out.push(c("output_spool_corrupt_total", "Damaged spool batches moved aside", spool.corrupt, labels));
    }
    return out;
  }
}

function g(name: string, help: string, value: number, labels: Record<string, string>): MetricSample {
  return { name, type: "gauge", help, value, labels };
}
function c(name: string, help: string, value: number, labels: Record<string, string>): MetricSample {
  return { name, type: "counter", help, value, labels };
}
