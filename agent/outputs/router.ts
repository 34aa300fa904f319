// Fans each alert out to every sink's queue, and drains the queues off the event path.

import { type Alert, type AlertFormat, formatAlert } from "./alert.ts";
import type { BoundedSink, SinkStats } from "./sink.ts";

export class OutputRouter {
  private drainScheduled = false;

  constructor(
    private readonly sinks: readonly BoundedSink[],
    private readonly format: AlertFormat,
  ) {}

  publish(alert: Alert): void {
    const line = formatAlert(alert, this.format);
    for (const sink of this.sinks) sink.offer(line);
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(() => {
        this.drainScheduled = false;
        this.drain();
      });
    }
  }

  drain(): void {
    for (const sink of this.sinks) sink.drain();
  }

  close(): void {
    for (const sink of this.sinks) sink.close();
  }

  stats(): SinkStats[] {
    return this.sinks.map((s) => s.stats());
  }
}
