// Kernel records (one MessagePack array each, docs/EVENTS.md) to Event objects.
// Two paths with one result. The direct path (wire.ts, FAST_DECODERS) reads the fixed layouts
// straight from the bytes: msgpackr's generic arrays and per-character strings were about a
// quarter of replay CPU (docs/PERFORMANCE.md, Replay). Whatever it does not recognise as a good
// record goes to the reference path: msgpackr parses, this file checks the shape (kind, arity,
// type of each element) and builds the event, or names what is wrong. A record that fails any
// check is a DecodeError; decodeFrames reports it and goes on.
import { Unpackr } from "msgpackr/unpack";
import { DecodeError } from "./decode-error.ts";
import { DECODERS, FAST_DECODERS, PARAM_COUNT } from "./kinds.gen.ts";
import type { Base } from "./readers.ts";
import { typeName } from "./readers.ts";
import { HEADER_FIELDS, SCHEMA_VERSION, SCHEMA_VERSIONS_READ } from "./schema.ts";
import type { Event } from "./types.ts";
import { Cursor, FALLBACK, arrayHeader, u32 } from "./wire.ts";

export { DecodeError };

// "msgpackr/unpack" is the pure-JS decoder: no native addon to carry into the compiled executable.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: "number" });
const FRAME_HEADER_BYTES = 4;

/** Turns records into events. Not thread-safe; one per stream, since it numbers the events. */
export class RecordDecoder {
  /** false: every record takes the reference path (for benchmarks comparing the two). */
  static directPath = true;

  /** generic: records the direct path handed to the reference path (non-ASCII text, other
   * encodings, and every malformed one). */
  readonly stats = { decoded: 0, malformed: 0, generic: 0 };
  private lastNum = 0;
  // Reused for every unpack call: msgpackr reads start/end from it.
  private readonly range = { start: 0, end: 0 };

  /** Throws if the stream's schema version is not the one this agent decodes. */
  constructor(schemaVersion: number = SCHEMA_VERSION) {
    if (!SCHEMA_VERSIONS_READ.includes(schemaVersion)) {
      throw new Error(
        `record schema version ${schemaVersion} is not supported; this agent decodes versions ${SCHEMA_VERSIONS_READ.join(", ")}`,
      );
    }
  }

  /** Decodes the record in bytes[start, end). Throws DecodeError with offset = start. */
  decode(bytes: Uint8Array, start: number, end: number): Event {
    try {
      let event = this.direct(bytes, start, end);
      if (event === undefined) {
        this.stats.generic++;
        event = this.build(this.unpack(bytes, start, end), start);
      }
      this.stats.decoded++;
      return event;
    } catch (error) {
      this.stats.malformed++;
      throw error;
    }
  }

  /**
   * Decodes `count` frames ([u32 little-endian length][record]) from the start of `frames`.
   * A bad record goes to onError and decoding continues with the next frame; a frame whose
   * length runs past the buffer ends the batch (the rest cannot be framed).
   */
  decodeFrames(
    frames: Uint8Array,
    count: number,
    onEvent: (e: Event) => void,
    onError: (e: DecodeError) => void,
  ): void {
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const start = offset + FRAME_HEADER_BYTES;
      if (start > frames.length) {
        this.stats.malformed++;
        onError(
          new DecodeError(offset, `frame ${i} of ${count}: length prefix cut off by the end of the batch`),
        );
        return;
      }
      const length =
        (frames[offset] |
          (frames[offset + 1] << 8) |
          (frames[offset + 2] << 16) |
          (frames[offset + 3] << 24)) >>>
        0;
      const end = start + length;
      if (end > frames.length) {
        this.stats.malformed++;
        onError(
          new DecodeError(
            start,
            `frame ${i} of ${count}: ${length} bytes announced, ${frames.length - start} left`,
          ),
        );
        return;
      }
      offset = end;
      let event: Event;
      try {
        event = this.decode(frames, start, end);
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        onError(error);
        continue;
      }
      onEvent(event);
    }
  }

  /** The reference path alone (msgpackr and the checked readers), for comparison in tests. */
  decodeGeneric(bytes: Uint8Array, start: number, end: number): Event {
    try {
      const event = this.build(this.unpack(bytes, start, end), start);
      this.stats.decoded++;
      return event;
    } catch (error) {
      this.stats.malformed++;
      throw error;
    }
  }

  private readonly cursor = new Cursor();

  /** The direct path: the event, or undefined when the record needs the reference path. */
  private direct(bytes: Uint8Array, start: number, end: number): Event | undefined {
    if (!(RecordDecoder.directPath && start >= 0 && end <= bytes.length && start < end)) return undefined;
    const c = this.cursor;
    c.reset(bytes, start, end);
    try {
      const count = arrayHeader(c);
      if (count < HEADER_FIELDS + 1) return undefined;
      const decode = FAST_DECODERS[u32(c)];
      if (decode === undefined) return undefined;
      const b = this.base;
      b.num = this.lastNum + 1;
      b.bootSec = u32(c);
      b.bootNsec = u32(c);
      b.tid = u32(c);
      b.pid = u32(c);
      c.present = count - HEADER_FIELDS - 1;
      const event = decode(c, b);
      this.lastNum = b.num;
      return event;
    } catch (error) {
      if (error === FALLBACK) return undefined;
      throw error;
    }
  }

  private unpack(bytes: Uint8Array, start: number, end: number): unknown {
    if (!(start >= 0 && end <= bytes.length && start < end)) {
      throw new DecodeError(
        start,
        `empty or out-of-bounds record [${start}, ${end}) in ${bytes.length} bytes`,
      );
    }
    this.range.start = start;
    this.range.end = end;
    try {
      return unpackr.unpack(bytes, this.range);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new DecodeError(start, `not one MessagePack value: ${message}`);
    }
  }

  // Reused for every record: the generated decoders copy the fields out of it.
  private readonly base: Base = { num: 0, bootSec: 0, bootNsec: 0, tid: 0, pid: 0, cut: 0 };

  /**
   * Records only ever grow at the end: one with fewer parameters than this agent knows (from an
   * older probe or capture) decodes with the table's defaults for the missing tail; one with more
   * (a newer probe) keeps the parameters this agent knows and ignores the rest.
   */
  private build(value: unknown, at: number): Event {
    if (!Array.isArray(value)) throw new DecodeError(at, "not a MessagePack array");
    const record: unknown[] = value;
    const kindId = uint(record, 0, at);
    const decode = DECODERS[kindId];
    if (decode === undefined) throw new DecodeError(at, `unknown kind ${kindId}`);
    if (record.length < HEADER_FIELDS + 1) {
      throw new DecodeError(
        at,
        `record has ${record.length} elements, at least ${HEADER_FIELDS + 1} expected`,
      );
    }
    const present = record.length - HEADER_FIELDS - 1;
    const cut = uint(record, record.length - 1, at);
    if (present < 31 && cut >>> present !== 0) {
      throw new DecodeError(at, `cut bitmask ${cut} names a parameter the record does not have`);
    }
    const b = this.base;
    b.num = this.lastNum + 1;
    b.bootSec = uint(record, 1, at);
    b.bootNsec = uint(record, 2, at);
    b.tid = uint(record, 3, at);
    b.pid = uint(record, 4, at);
    b.cut = cut;
    const event = decode(record, at, Math.min(present, 255), b);
    this.lastNum = b.num;
    return event;
  }
}

function uint(r: unknown[], i: number, at: number): number {
  const v = r[i];
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new DecodeError(at, `element ${i}: expected uint32, got ${typeName(v)}`);
  return v;
}

/** Parameters a current record of `kind` carries. */
export function paramCount(kind: Event["kind"]): number {
  return PARAM_COUNT[kind];
}
