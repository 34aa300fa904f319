// Writes a capture file: preamble, header block, snapshot block, then records blocks (frames
// exactly as the probe drains them) with stats blocks between them, and an end block on close.
// Bounded: one records block is buffered at a time; limits on bytes and records stop the growth.

import { closeSync, constants, fsyncSync, openSync, writeSync } from "node:fs";
import { pack } from "msgpackr/pack";
import {
  BLOCK,
  BLOCK_HEADER_BYTES,
  BLOCK_MAX_BYTES,
  BLOCK_SYNC,
  type BlockType,
  COMPRESSION,
  type CaptureEnd,
  type CaptureHeader,
  type CaptureStats,
  type Compression,
  FORMAT_VERSION,
  MAGIC,
  PREAMBLE_BYTES,
  RECORDS_BLOCK_TARGET_BYTES,
} from "./format.ts";

export interface CaptureLimits {
  /** Stop once the file reaches this many bytes (it may end up to one block over). */
  maxBytes?: number;
  /** Stop after this many records. */
  maxRecords?: number;
}

const FRAME_HEADER_BYTES = 4;
const COUNT_BYTES = 4;

export class CaptureWriter {
  private fd: number;
  private readonly buffer = new Uint8Array(BLOCK_MAX_BYTES[BLOCK.records]);
  private readonly view = new DataView(this.buffer.buffer);
  private used = COUNT_BYTES;
  private pending = 0;
  private bytes = 0;
  private recordCount = 0;
  private blockCount = 0;
  /** Set once a limit is reached: further records are refused. */
  full: "max_size" | "max_events" | undefined;

  /** Creates (or truncates) `path` with mode 0600, never following a symlink, and writes the header and snapshot. */
  constructor(
    readonly path: string,
    header: CaptureHeader,
    snapshot: unknown,
    private readonly compression: Compression = "none",
    private readonly limits: CaptureLimits = {},
  ) {
    this.fd = openSync(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      const preamble = new Uint8Array(PREAMBLE_BYTES);
      preamble.set(MAGIC, 0);
      new DataView(preamble.buffer).setUint16(8, FORMAT_VERSION, true);
      this.write(preamble);
      this.block(BLOCK.header, pack(header));
      this.block(BLOCK.snapshot, pack(snapshot));
    } catch (error) {
      closeSync(this.fd);
      throw error;
    }
  }

  get records(): number {
    return this.recordCount;
  }

  get size(): number {
    return this.bytes + this.used;
  }

  /** Appends bytes[start, end) as one record; false (and nothing written) once a limit is reached. */
  addRecord(bytes: Uint8Array, start: number, end: number): boolean {
    if (this.full !== undefined) return false;
    const length = end - start;
    if (this.used + FRAME_HEADER_BYTES + length > this.buffer.length) this.flush();
    if (FRAME_HEADER_BYTES + length + COUNT_BYTES > this.buffer.length) return true;
    this.view.setUint32(this.used, length, true);
    this.buffer.set(bytes.subarray(start, end), this.used + FRAME_HEADER_BYTES);
    this.used += FRAME_HEADER_BYTES + length;
    this.pending++;
    this.recordCount++;
    if (this.used >= RECORDS_BLOCK_TARGET_BYTES) this.flush();
    this.checkLimits();
    return true;
  }

  /** Writes the buffered records, then a stats block. */
  addStats(stats: CaptureStats): void {
    this.flush();
    this.block(BLOCK.stats, pack(stats));
  }

  /** Writes what is buffered as a records block. */
  flush(): void {
    if (this.pending === 0) return;
    this.view.setUint32(0, this.pending, true);
    this.block(BLOCK.records, this.buffer.subarray(0, this.used));
    this.used = COUNT_BYTES;
    this.pending = 0;
    this.checkLimits();
  }

  /** Flushes, writes the end block, syncs and closes. Idempotent. */
  close(stoppedBy: string): void {
    if (this.fd < 0) return;
    try {
      this.flush();
      const end: CaptureEnd = { records: this.recordCount, blocks: this.blockCount + 1, stoppedBy };
      this.block(BLOCK.end, pack(end));
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  private checkLimits(): void {
    if (this.limits.maxRecords !== undefined && this.recordCount >= this.limits.maxRecords)
      this.full = "max_events";
    else if (this.limits.maxBytes !== undefined && this.size >= this.limits.maxBytes) this.full = "max_size";
  }

  private block(type: BlockType, payload: Uint8Array): void {
    let stored: Uint8Array = payload;
    let flags = 0;
    if (this.compression !== "none" && type !== BLOCK.header) {
      stored =
        this.compression === "gzip"
          ? Bun.gzipSync(bytesOf(payload), { level: 1 })
          : Bun.zstdCompressSync(bytesOf(payload));
      flags = COMPRESSION[this.compression];
    }
    const head = new Uint8Array(BLOCK_HEADER_BYTES);
    const h = new DataView(head.buffer);
    h.setUint32(0, BLOCK_SYNC, true);
    h.setUint8(4, type);
    h.setUint8(5, flags);
    h.setUint32(8, stored.length, true);
    h.setUint32(12, Bun.hash.crc32(stored), true);
    this.write(head);
    this.write(stored);
    this.blockCount++;
  }

  private write(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    this.bytes += bytes.length;
  }
}

/** The compressors take only ArrayBuffer-backed views; ours always are (never shared memory). */
function bytesOf(view: Uint8Array): Uint8Array<ArrayBuffer> {
  return view as Uint8Array<ArrayBuffer>;
}
