// A capture file as the agent's frame source. Batches are handed over in slices of at most
// SLICE_FRAMES frames with a turn of the event loop between them, so the outputs drain as they
// would live and a progress display can update; memory stays one block.

import type { FrameSink, FrameSource, SourceEnd } from "../capture/index.ts";
import type { MetricSample } from "../common/index.ts";
import type { BootClock } from "../events/index.ts";
import { CaptureFileError } from "./format.ts";
import type { CaptureReader, RecordBatch } from "./reader.ts";

const SLICE_FRAMES = 1024;

export class CaptureFileSource implements FrameSource {
  readonly clock: BootClock;
  private stopped = false;
  private batch: RecordBatch | undefined;
  /** Byte offset of the current slice within the batch's frames. */
  private sliceStart = 0;

  constructor(readonly reader: CaptureReader) {
    const [sec, nsec] = reader.header.bootTime;
    this.clock = { offsetSec: sec, offsetNsec: nsec };
  }

  start(sink: FrameSink, onEnd: (end: SourceEnd) => void): void {
    const finish = (error?: Error) => {
      this.stopped = true;
      this.reader.close();
      onEnd(error === undefined ? {} : { error });
    };
    const step = () => {
      if (this.stopped) return;
      try {
        if (!this.slice(sink)) return finish();
      } catch (error) {
        return finish(error instanceof Error ? error : new Error(String(error)));
      }
      setImmediate(step);
    };
    setImmediate(step);
  }

  stop(): void {
    this.stopped = true;
  }

  /** How far through the file the reader is, 0..1. */
  progress(): number {
    return this.reader.fileBytes === 0 ? 1 : this.reader.position / this.reader.fileBytes;
  }

  /**
   * A file offset for a record `offset` bytes into the current slice: exact in an uncompressed
   * block, else the compressed block's offset and the place within its content.
   */
  locate(offset: number): string {
    const b = this.batch;
    if (b === undefined) return "the start";
    const within = this.sliceStart + offset;
    return b.framesOffset >= 0
      ? `byte ${b.framesOffset + within}`
      : `byte ${within + 4} of the content of the compressed block at byte ${b.blockOffset}`;
  }

  /** The file offset of a malformed record, as a CaptureFileError. */
  malformed(offset: number, reason: string): CaptureFileError {
    const b = this.batch;
    const exact = b !== undefined && b.framesOffset >= 0 ? b.framesOffset + this.sliceStart + offset : -1;
    const where = exact >= 0 ? "" : ` (${this.locate(offset)})`;
    return new CaptureFileError(this.reader.path, exact, `malformed record${where}: ${reason}`);
  }

  metrics(): MetricSample[] {
    const s = this.reader.lastStats;
    const recorded = (
      name: string,
      help: string,
      value: number,
      labels?: Record<string, string>,
    ): MetricSample =>
      labels === undefined
        ? { name, type: "counter", help, value }
        : { name, type: "counter", help, value, labels };
    return [
      recorded("kernel_events_seen_total", "Events that passed the probe's filters (recorded)", s?.seen ?? 0),
      recorded("kernel_records_written_total", "Records the probe wrote (recorded)", s?.written ?? 0),
      recorded("kernel_drops_total", "Records the probe dropped (recorded)", s?.ringFull ?? 0, {
        reason: "ring_full",
      }),
      recorded("kernel_drops_total", "Records the probe dropped (recorded)", s?.tooBig ?? 0, {
        reason: "too_big",
      }),
      recorded("capture_bad_blocks_total", "Capture file blocks skipped as corrupt", this.reader.badBlocks),
    ];
  }

  /** Hands over the next slice; false at the end of the file. */
  private slice(sink: FrameSink): boolean {
    let b = this.batch;
    if (b === undefined || b.count === 0) {
      b = this.reader.nextRecords();
      this.batch = b;
      this.sliceStart = 0;
      if (b === undefined) return false;
    }
    const frames = b.frames;
    let off = this.sliceStart;
    let n = 0;
    while (n < SLICE_FRAMES && n < b.count) {
      const length =
        (frames[off] | (frames[off + 1] << 8) | (frames[off + 2] << 16) | (frames[off + 3] << 24)) >>> 0;
      off += 4 + length;
      n++;
    }
    const start = this.sliceStart;
    sink(frames.subarray(start, off), n);
    this.sliceStart = off;
    b.count -= n;
    return true;
  }
}
