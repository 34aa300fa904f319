// An alert sink behind its own bounded queue. Alerts are queued without blocking the event path
// and written by a drain that runs right after; when the queue is full the newest alert is dropped
// and counted, and a write that fails is counted too, so no loss goes unreported.

const MAX_REPORTED_ERRORS = 64;

export interface SinkWriter {
  readonly name: string;
  /** Writes one formatted alert; throws on failure. */
  write(line: string): void;
  close(): void;
}

export interface SinkStats {
  name: string;
  queued: number;
  capacity: number;
  written: number;
  /** Dropped because the queue was full. */
  droppedQueueFull: number;
  /** Lost because the writer failed. */
  failedWrites: number;
}

export class BoundedSink {
  private queue: string[] = [];
  private written = 0;
  private droppedQueueFull = 0;
  private failedWrites = 0;
  /** Failure messages already reported; bounded so a flood of distinct errors cannot grow it. */
  private readonly reported = new Set<string>();

  constructor(
    readonly writer: SinkWriter,
    readonly capacity: number,
    private readonly onError: (sink: string, message: string) => void = () => {},
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError("a sink queue capacity must be >= 1");
  }

  /** Queues a line; false when the queue is full (the line is dropped and counted). */
  offer(line: string): boolean {
    if (this.queue.length >= this.capacity) {
      this.droppedQueueFull++;
      return false;
    }
    this.queue.push(line);
    return true;
  }

  drain(): void {
    const lines = this.queue;
    this.queue = [];
    for (const line of lines) {
      try {
        this.writer.write(line);
        this.written++;
      } catch (err) {
        this.failedWrites++;
        const message = (err as Error).message;
        // Report each kind of failure once, not once per alert; the counter has them all.
        if (!this.reported.has(message) && this.reported.size < MAX_REPORTED_ERRORS) {
          this.reported.add(message);
          this.onError(this.writer.name, message);
        }
      }
    }
  }

  close(): void {
    this.drain();
    this.writer.close();
  }

  stats(): SinkStats {
    return {
      name: this.writer.name,
      queued: this.queue.length,
      capacity: this.capacity,
      written: this.written,
      droppedQueueFull: this.droppedQueueFull,
      failedWrites: this.failedWrites,
    };
  }
}
