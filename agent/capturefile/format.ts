// The capture file format (docs/CAPTURE.md, byte by byte): a 12-byte preamble, then blocks, each
// a 16-byte block header and a payload. One table of block types and bounds, read by the writer,
// the reader, the docs and the tests.

import { KIND_BY_ID, PARAM_COUNT } from "../events/index.ts";

/** 0x89 "LNRCAP" "\n": the high byte catches 7-bit transfers, the newline catches text-mode mangling. */
export const MAGIC = Uint8Array.from([0x89, 0x4c, 0x4e, 0x52, 0x43, 0x41, 0x50, 0x0a]);
/** The newest format this agent writes and reads. */
export const FORMAT_VERSION = 1;
export const PREAMBLE_BYTES = 12;

/** "LBLK" little-endian: every block header starts with it, so a reader can resynchronise. */
export const BLOCK_SYNC = 0x4b4c424c;
export const BLOCK_HEADER_BYTES = 16;

export const BLOCK = {
  /** MessagePack map: CaptureHeader. Always the first block. */
  header: 1,
  /** MessagePack map: the state snapshot (agent/state/snapshot.ts). The second block. */
  snapshot: 2,
  /** u32 LE frame count, then frames ([u32 LE length][MessagePack record]) as the probe drains them. */
  records: 3,
  /** MessagePack map: cumulative kernel counters at a moment (CaptureStats). */
  stats: 4,
  /** MessagePack map: totals (CaptureEnd). The last block of a capture that was closed. */
  end: 5,
} as const;
export type BlockType = (typeof BLOCK)[keyof typeof BLOCK];
export const BLOCK_NAME: Readonly<Record<number, string>> = {
  1: "header",
  2: "snapshot",
  3: "records",
  4: "stats",
  5: "end",
};

/** Payload compression, the low bits of the block header's flags byte. */
export const COMPRESSION = { none: 0, gzip: 1, zstd: 2 } as const;
export type Compression = keyof typeof COMPRESSION;
export const COMPRESSION_MASK = 0x03;

/** Largest payload (after decompression) per block type; a reader refuses anything bigger. */
export const BLOCK_MAX_BYTES: Readonly<Record<number, number>> = {
  1: 64 * 1024,
  2: 64 * 1024 * 1024,
  3: 4 * 1024 * 1024,
  4: 4 * 1024,
  5: 4 * 1024,
};
/** The writer closes a records block when it holds this much. */
export const RECORDS_BLOCK_TARGET_BYTES = 1024 * 1024;

export interface CaptureHeader {
  /** The record schema version the records were written with (agent/events/schema.ts). */
  schemaVersion: number;
  /** Hash of the event table (kinds, ids, parameter counts): same version, same table. */
  eventTableHash: string;
  agentVersion: string;
  hostname: string;
  kernelRelease: string;
  /** Wall-clock time of boot: realtime - boottime, [seconds, nanoseconds]. Event times convert with it. */
  bootTime: [number, number];
  /** Wall-clock time the capture started, [seconds, nanoseconds]. */
  startTime: [number, number];
  /** Why the file exists: "command" (lanner capture) or "rule" (rule-triggered). */
  reason: "command" | "rule";
  /** The --filter condition, or the rule name for a rule-triggered capture; "" when none. */
  detail: string;
}

export interface CaptureStats {
  /** Boot time of the moment, [seconds, nanoseconds]. */
  at: [number, number];
  seen: number;
  written: number;
  ringFull: number;
  tooBig: number;
}

export interface CaptureEnd {
  records: number;
  blocks: number;
  /** Why the capture stopped: "signal", "duration", "max_size", "max_events", "source_end". */
  stoppedBy: string;
}

/** A short hash of the event table the records follow; changes whenever a kind or its arity does. */
export function eventTableHash(): string {
  const lines: string[] = [];
  for (const [id, kind] of [...KIND_BY_ID].sort((a, b) => a[0] - b[0]))
    lines.push(`${id} ${kind} ${PARAM_COUNT[kind]}`);
  // Bun's hasher, not node:crypto: loading that module took about 10 ms of every start.
  return new Bun.CryptoHasher("sha256").update(lines.join("\n")).digest("hex").slice(0, 16);
}

export class CaptureFileError extends Error {
  constructor(
    readonly path: string,
    /** Byte offset in the file where the problem is (-1 when it is not about a place). */
    readonly offset: number,
    readonly reason: string,
  ) {
    super(offset >= 0 ? `${path}: at byte ${offset}: ${reason}` : `${path}: ${reason}`);
    this.name = "CaptureFileError";
  }
}
