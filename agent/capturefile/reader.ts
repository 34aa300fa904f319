// Reads a capture file block by block with bounded memory: every length is checked against the
// file's size and the block type's cap before anything is allocated, every payload against its
// CRC-32, every decompression capped. A problem is a CaptureFileError with the byte offset; with
// skipBad the reader counts the bad block, finds the next good one and goes on.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type * as Zlib from "node:zlib";
import { Unpackr } from "msgpackr/unpack";
import { z } from "zod";
import { SCHEMA_VERSION } from "../events/index.ts";
import {
  BLOCK,
  BLOCK_HEADER_BYTES,
  BLOCK_MAX_BYTES,
  BLOCK_NAME,
  BLOCK_SYNC,
  CaptureFileError,
  type CaptureEnd,
  type CaptureHeader,
  type CaptureStats,
  COMPRESSION,
  COMPRESSION_MASK,
  FORMAT_VERSION,
  MAGIC,
  PREAMBLE_BYTES,
} from "./format.ts";

export interface ReaderOptions {
  /** Count bad blocks and continue at the next good one instead of failing. */
  skipBad?: boolean;
}

/** One records block: `count` frames in `frames` (valid until the next call). */
export interface RecordBatch {
  frames: Uint8Array;
  count: number;
  /** File offset of the block header; `compressed` blocks have no byte-exact record offsets. */
  blockOffset: number;
  /** File offset of frames[0] when the block is stored uncompressed, else -1. */
  framesOffset: number;
}

/** Compressed payloads may be a little larger than their content. */
const STORED_SLACK = 64 * 1024;
/** The largest stored (maybe compressed) payload read, of any block type. */
const STORED_MAX = BLOCK_MAX_BYTES[BLOCK.records] + STORED_SLACK;
/** The read buffer's first size: a small file never needs the largest (allocating 4 MB up front
 * took 0.3-35 ms of a replay's start). */
const STORED_INITIAL = 64 * 1024;

let zlib: typeof Zlib | undefined;
/** node:zlib, loaded on the first compressed block: loading it took about 10 ms of every start. */
function zlibModule(): typeof Zlib {
  zlib ??= require("node:zlib") as typeof Zlib;
  return zlib;
}
const SCAN_WINDOW = 64 * 1024;

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: "number" });
const pair = z.tuple([z.number().int(), z.number().int().min(0).max(999_999_999)]);
const count = z.number().int().min(0);
const headerSchema = z.object({
  schemaVersion: z.number().int().min(1),
  eventTableHash: z.string().max(128),
  agentVersion: z.string().max(128),
  hostname: z.string().max(1024),
  kernelRelease: z.string().max(1024),
  bootTime: pair,
  startTime: pair,
  reason: z.enum(["command", "rule"]),
  detail: z.string().max(65_536),
});
const statsSchema = z.object({ at: pair, seen: count, written: count, ringFull: count, tooBig: count });
const endSchema = z.object({ records: count, blocks: count, stoppedBy: z.string().max(64) });

export class CaptureReader {
  readonly header: CaptureHeader;
  /** The snapshot as decoded MessagePack; agent/state's parseSnapshot checks it. */
  readonly snapshot: unknown;
  readonly formatVersion: number;
  readonly fileBytes: number;
  /** Where the next block starts. */
  position = PREAMBLE_BYTES;
  badBlocks = 0;
  records = 0;
  /** The last stats block read. */
  lastStats: CaptureStats | undefined;
  /** The end block, once read: a file without one was not closed (the capture was killed). */
  end: CaptureEnd | undefined;
  private fd: number;
  private readonly head = new Uint8Array(BLOCK_HEADER_BYTES);
  private readonly headView = new DataView(this.head.buffer);
  /** Stored payloads are read here; grown to the largest block met, up to STORED_MAX. */
  private stored = new Uint8Array(STORED_INITIAL);

  /** Opens the file and reads its preamble, header and snapshot; throws CaptureFileError. */
  constructor(
    readonly path: string,
    private readonly options: ReaderOptions = {},
  ) {
    try {
      this.fd = openSync(path, "r");
    } catch (error) {
      throw new CaptureFileError(path, -1, `cannot open: ${(error as Error).message}`);
    }
    try {
      this.fileBytes = fstatSync(this.fd).size;
      this.formatVersion = this.readPreamble();
      const header = this.readBlock(true);
      if (header?.type !== BLOCK.header)
        throw this.fail(PREAMBLE_BYTES, "the first block is not the header block");
      this.header = this.decodeHeader(header.payload, PREAMBLE_BYTES);
      const at = this.position;
      const snapshot = this.readBlock(true);
      if (snapshot?.type !== BLOCK.snapshot)
        throw this.fail(at, "the second block is not the state snapshot block");
      this.snapshot = this.unpack(snapshot.payload, at, "snapshot");
    } catch (error) {
      closeSync(this.fd);
      throw error;
    }
  }

  /** The next records block, reading stats and end blocks on the way; undefined at the end of the file. */
  nextRecords(): RecordBatch | undefined {
    for (;;) {
      const at = this.position;
      const block = this.readBlock(false);
      if (block === undefined) return undefined;
      switch (block.type) {
        case BLOCK.records: {
          const n =
            block.payload.length >= 4
              ? new DataView(block.payload.buffer, block.payload.byteOffset).getUint32(0, true)
              : -1;
          const problem = n < 0 ? "records block shorter than its count" : checkFrames(block.payload, n);
          if (problem !== undefined) {
            this.bad(at, problem);
            continue;
          }
          this.records += n;
          return {
            frames: block.payload.subarray(4),
            count: n,
            blockOffset: at,
            framesOffset: block.compressed ? -1 : at + BLOCK_HEADER_BYTES + 4,
          };
        }
        case BLOCK.stats: {
          const parsed = statsSchema.safeParse(this.unpackOrBad(block.payload, at, "stats"));
          if (parsed.success) this.lastStats = parsed.data as CaptureStats;
          else this.bad(at, `stats block: ${parsed.error.issues[0].message}`);
          continue;
        }
        case BLOCK.end: {
          const parsed = endSchema.safeParse(this.unpackOrBad(block.payload, at, "end"));
          if (parsed.success) this.end = parsed.data;
          else this.bad(at, `end block: ${parsed.error.issues[0].message}`);
          continue;
        }
        default:
          this.bad(at, `a ${BLOCK_NAME[block.type]} block after the start of the records`);
      }
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private readPreamble(): number {
    const pre = new Uint8Array(PREAMBLE_BYTES);
    const got =
      this.fileBytes < PREAMBLE_BYTES ? this.fileBytes : readSync(this.fd, pre, 0, PREAMBLE_BYTES, 0);
    for (let i = 0; i < MAGIC.length; i++) {
      if (i >= got || pre[i] !== MAGIC[i])
        throw this.fail(0, "not a Lanner capture file (the first 8 bytes are not 89 4c 4e 52 43 41 50 0a)");
    }
    if (got < PREAMBLE_BYTES) throw this.fail(got, `truncated preamble: ${got} of ${PREAMBLE_BYTES} bytes`);
    const version = new DataView(pre.buffer).getUint16(8, true);
    if (version > FORMAT_VERSION || version === 0)
      throw this.fail(
        8,
        `capture format version ${version} is not readable by this agent, which reads format versions 1 to ${FORMAT_VERSION}; replay it with a newer lanner`,
      );
    return version;
  }

  private decodeHeader(payload: Uint8Array, at: number): CaptureHeader {
    const parsed = headerSchema.safeParse(this.unpack(payload, at, "header"));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw this.fail(at, `header block: ${issue.path.join(".") || "value"}: ${issue.message}`);
    }
    const header = parsed.data as CaptureHeader;
    if (header.schemaVersion > SCHEMA_VERSION)
      throw this.fail(
        at,
        `the records use event schema version ${header.schemaVersion} (lanner ${header.agentVersion}); this agent decodes versions up to ${SCHEMA_VERSION}: replay it with a newer lanner`,
      );
    return header;
  }

  /**
   * Reads the block at `position` and advances. Undefined at the end of the file. A bad block
   * throws, or with skipBad is counted and the reader moves to the next good block.
   */
  private readBlock(strict: boolean): { type: number; payload: Uint8Array; compressed: boolean } | undefined {
    for (;;) {
      const at = this.position;
      if (at >= this.fileBytes) return undefined;
      const problem = this.checkBlockAt(at);
      if (problem !== undefined) {
        if (strict || !this.options.skipBad) throw this.fail(at, problem);
        this.badBlocks++;
        if (!this.resync(at + 1)) return undefined;
        continue;
      }
      const type = this.head[4];
      const flags = this.head[5];
      const length = this.headView.getUint32(8, true);
      const storedStart = at + BLOCK_HEADER_BYTES;
      this.position = storedStart + length;
      const compression = flags & COMPRESSION_MASK;
      const stored = this.stored.subarray(0, length);
      if (compression === COMPRESSION.none) return { type, payload: stored, compressed: false };
      try {
        const options = { maxOutputLength: BLOCK_MAX_BYTES[type] };
        const out =
          compression === COMPRESSION.gzip
            ? zlibModule().gunzipSync(stored, options)
            : zlibModule().zstdDecompressSync(stored, options);
        return { type, payload: new Uint8Array(out.buffer, out.byteOffset, out.length), compressed: true };
      } catch (error) {
        const reason = `${BLOCK_NAME[type]} block does not decompress within ${BLOCK_MAX_BYTES[type]} bytes: ${(error as Error).message}`;
        if (strict || !this.options.skipBad) throw this.fail(at, reason);
        this.badBlocks++;
      }
    }
  }

  /** Reads the header and payload of the block at `at` into the buffers; a reason if it is not a good block. */
  private checkBlockAt(at: number): string | undefined {
    const left = this.fileBytes - at;
    if (left < BLOCK_HEADER_BYTES)
      return `truncated: ${left} bytes left, a block header has ${BLOCK_HEADER_BYTES}`;
    readSync(this.fd, this.head, 0, BLOCK_HEADER_BYTES, at);
    const sync = this.headView.getUint32(0, true);
    if (sync !== BLOCK_SYNC)
      return `no block starts here (0x${sync.toString(16).padStart(8, "0")} instead of "LBLK")`;
    const type = this.head[4];
    const flags = this.head[5];
    const cap = BLOCK_MAX_BYTES[type];
    if (cap === undefined) return `unknown block type ${type}`;
    if (
      (flags & ~COMPRESSION_MASK) !== 0 ||
      (flags & COMPRESSION_MASK) === 3 ||
      this.headView.getUint16(6, true) !== 0
    )
      return `${BLOCK_NAME[type]} block has unknown flags 0x${flags.toString(16)}`;
    const length = this.headView.getUint32(8, true);
    if (length > cap + STORED_SLACK || length > STORED_MAX)
      return `${BLOCK_NAME[type]} block of ${length} bytes, more than its cap of ${cap}`;
    if (length > left - BLOCK_HEADER_BYTES)
      return `truncated: the ${BLOCK_NAME[type]} block announces ${length} bytes, ${left - BLOCK_HEADER_BYTES} left`;
    // Grown only for a length the file really holds, and never past the largest cap.
    if (length > this.stored.length)
      this.stored = new Uint8Array(Math.min(STORED_MAX, Math.max(length, 2 * this.stored.length)));
    readSync(this.fd, this.stored, 0, length, at + BLOCK_HEADER_BYTES);
    const crc = Bun.hash.crc32(this.stored.subarray(0, length));
    if (crc !== this.headView.getUint32(12, true)) return `${BLOCK_NAME[type]} block fails its CRC-32 check`;
    return undefined;
  }

  /** Scans forward from `from` for the next block that checks out; false at the end of the file. */
  private resync(from: number): boolean {
    const window = new Uint8Array(SCAN_WINDOW);
    let base = from;
    while (base < this.fileBytes) {
      const got = readSync(this.fd, window, 0, SCAN_WINDOW, base);
      for (let i = 0; i + 4 <= got; i++) {
        if (window[i] !== 0x4c || window[i + 1] !== 0x42 || window[i + 2] !== 0x4c || window[i + 3] !== 0x4b)
          continue;
        if (this.checkBlockAt(base + i) === undefined) {
          this.position = base + i;
          return true;
        }
      }
      base += Math.max(1, got - 3);
    }
    this.position = this.fileBytes;
    return false;
  }

  private bad(at: number, reason: string): void {
    if (!this.options.skipBad) throw this.fail(at, reason);
    this.badBlocks++;
  }

  private unpack(payload: Uint8Array, at: number, what: string): unknown {
    try {
      return unpackr.unpack(payload);
    } catch (error) {
      throw this.fail(at, `${what} block is not one MessagePack value: ${(error as Error).message}`);
    }
  }

  private unpackOrBad(payload: Uint8Array, at: number, what: string): unknown {
    try {
      return this.unpack(payload, at, what);
    } catch (error) {
      if (!this.options.skipBad) throw error;
      return undefined;
    }
  }

  private fail(offset: number, reason: string): CaptureFileError {
    return new CaptureFileError(this.path, offset, reason);
  }
}

/** Checks that a records payload holds exactly `count` frames; a reason if not. */
function checkFrames(payload: Uint8Array, count: number): string | undefined {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  let off = 4;
  for (let i = 0; i < count; i++) {
    if (off + 4 > payload.length) return `records block: frame ${i} of ${count} starts past the block's end`;
    const length = view.getUint32(off, true);
    off += 4 + length;
    if (off > payload.length)
      return `records block: frame ${i} of ${count} announces ${length} bytes, past the block's end`;
  }
  if (off !== payload.length) return `records block: ${payload.length - off} bytes after its ${count} frames`;
  return undefined;
}
