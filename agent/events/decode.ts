// Kernel records (one MessagePack array each, docs/EVENTS.md) to Event objects.
// msgpackr parses; this file checks the shape (kind, arity, type of each element) and builds
// the event. A record that fails any check is a DecodeError; decodeFrames reports it and goes on.
import { Unpackr } from "msgpackr/unpack";
import { BOUNDS, EXEC_PARAM, HEADER_FIELDS, KIND_BY_ID, PARAM_COUNT, SCHEMA_VERSION } from "./schema.ts";
import type { Event, ExecEvent, ExitEvent, ForkEvent, OpenEvent } from "./types.ts";

export class DecodeError extends Error {
  /** Byte offset of the record (its first MessagePack byte) in the stream or batch. */
  readonly offset: number;
  /** What is wrong, without the offset. */
  readonly reason: string;
  constructor(offset: number, reason: string) {
    super(`malformed record at byte ${offset}: ${reason}`);
    this.name = "DecodeError";
    this.offset = offset;
    this.reason = reason;
  }
}

// "msgpackr/unpack" is the pure-JS decoder: no native addon to carry into the compiled executable.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: "number" });
const utf8 = new TextDecoder("utf-8", { fatal: false });
const FRAME_HEADER_BYTES = 4;

/** Turns records into events. Not thread-safe; one per stream, since it numbers the events. */
export class RecordDecoder {
  readonly stats = { decoded: 0, malformed: 0 };
  private lastNum = 0;
  // Reused for every unpack call: msgpackr reads start/end from it.
  private readonly range = { start: 0, end: 0 };

  /** Throws if the stream's schema version is not the one this agent decodes. */
  constructor(schemaVersion: number = SCHEMA_VERSION) {
    if (schemaVersion !== SCHEMA_VERSION) {
      throw new Error(
        `record schema version ${schemaVersion} is not supported; this agent decodes version ${SCHEMA_VERSION}`,
      );
    }
  }

  /** Decodes the record in bytes[start, end). Throws DecodeError with offset = start. */
  decode(bytes: Uint8Array, start: number, end: number): Event {
    try {
      const event = this.build(this.unpack(bytes, start, end), start);
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

  private build(value: unknown, at: number): Event {
    if (!Array.isArray(value)) throw new DecodeError(at, "not a MessagePack array");
    const record: unknown[] = value;
    const kindId = uint(record, 0, at);
    const kind = KIND_BY_ID.get(kindId);
    if (kind === undefined) throw new DecodeError(at, `unknown kind ${kindId}`);
    const params = PARAM_COUNT[kind];
    const expected = HEADER_FIELDS + params + 1;
    if (record.length !== expected) {
      throw new DecodeError(at, `${kind} record has ${record.length} elements, expected ${expected}`);
    }
    const cut = uint(record, expected - 1, at);
    if (cut >>> params !== 0)
      throw new DecodeError(at, `cut bitmask ${cut} names a parameter ${kind} does not have`);
    const num = this.lastNum + 1;
    const bootSec = uint(record, 1, at);
    const bootNsec = uint(record, 2, at);
    const tid = uint(record, 3, at);
    const pid = uint(record, 4, at);
    let event: Event;
    switch (kind) {
      case "execve":
      case "execveat":
        event = execEvent(record, at, kind, num, bootSec, bootNsec, tid, pid, cut);
        break;
      case "open":
      case "openat":
      case "openat2":
        event = openEvent(record, at, kind, num, bootSec, bootNsec, tid, pid, cut);
        break;
      case "procexit":
        event = {
          kind,
          num,
          bootSec,
          bootNsec,
          tid,
          pid,
          cut,
          exitCode: int(record, 5, at),
        } satisfies ExitEvent;
        break;
      case "procfork":
        event = {
          kind,
          num,
          bootSec,
          bootNsec,
          tid,
          pid,
          cut,
          childTid: uint(record, 5, at),
          childPid: uint(record, 6, at),
        } satisfies ForkEvent;
        break;
    }
    this.lastNum = num;
    return event;
  }
}

function execEvent(
  r: unknown[],
  at: number,
  kind: ExecEvent["kind"],
  num: number,
  bootSec: number,
  bootNsec: number,
  tid: number,
  pid: number,
  cut: number,
): ExecEvent {
  const p = HEADER_FIELDS;
  return {
    kind,
    num,
    bootSec,
    bootNsec,
    tid,
    pid,
    cut,
    res: int(r, p + EXEC_PARAM.res, at),
    ppid: uint(r, p + EXEC_PARAM.ppid, at),
    uid: uint(r, p + EXEC_PARAM.uid, at),
    gid: uint(r, p + EXEC_PARAM.gid, at),
    comm: str(r, p + EXEC_PARAM.comm, at),
    filename: str(r, p + EXEC_PARAM.filename, at),
    args: splitArgs(bin(r, p + EXEC_PARAM.args, at)),
    cgroup: cgroupPath(r, p + EXEC_PARAM.cgroup, at),
  };
}

function openEvent(
  r: unknown[],
  at: number,
  kind: OpenEvent["kind"],
  num: number,
  bootSec: number,
  bootNsec: number,
  tid: number,
  pid: number,
  cut: number,
): OpenEvent {
  const p = HEADER_FIELDS;
  return {
    kind,
    num,
    bootSec,
    bootNsec,
    tid,
    pid,
    cut,
    res: int(r, p, at),
    dirfd: int(r, p + 1, at),
    path: str(r, p + 2, at),
    flags: uint(r, p + 3, at),
    mode: uint(r, p + 4, at),
    resolve: uint(r, p + 5, at),
  };
}

function typeName(v: unknown): string {
  if (v === null) return "nil";
  if (v instanceof Uint8Array) return "bin";
  if (Array.isArray(v)) return "array";
  if (v instanceof Map) return "map";
  return typeof v;
}

function wrongType(r: unknown[], i: number, at: number, expected: string): DecodeError {
  return new DecodeError(at, `element ${i}: expected ${expected}, got ${typeName(r[i])}`);
}

function int(r: unknown[], i: number, at: number): number {
  const v = r[i];
  if (typeof v !== "number" || !Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
    throw wrongType(r, i, at, "int32");
  }
  return v;
}

function uint(r: unknown[], i: number, at: number): number {
  const v = r[i];
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw wrongType(r, i, at, "uint32");
  return v;
}

function str(r: unknown[], i: number, at: number): string {
  const v = r[i];
  if (typeof v !== "string") throw wrongType(r, i, at, "str");
  return v;
}

function bin(r: unknown[], i: number, at: number): Uint8Array {
  const v = r[i];
  if (!(v instanceof Uint8Array)) throw wrongType(r, i, at, "bin");
  return v;
}

/** argv as the kernel keeps it: each argument followed by NUL. A blob cut to its bound ends
 * without NUL; its last, partial argument is kept. */
function splitArgs(blob: Uint8Array): string[] {
  const args: string[] = [];
  let from = 0;
  for (let i = 0; i < blob.length; i++) {
    if (blob[i] === 0) {
      args.push(utf8.decode(blob.subarray(from, i)));
      from = i + 1;
    }
  }
  if (from < blob.length) args.push(utf8.decode(blob.subarray(from)));
  return args;
}

/** The probe sends cgroup names leaf first; the path is "/" + root-first names joined by "/". */
function cgroupPath(r: unknown[], i: number, at: number): string {
  const v = r[i];
  if (!Array.isArray(v)) throw wrongType(r, i, at, "array of str");
  const names: unknown[] = v;
  if (names.length > BOUNDS.cgroupDepth) {
    throw new DecodeError(at, `element ${i}: ${names.length} cgroup names, at most ${BOUNDS.cgroupDepth}`);
  }
  let path = "";
  for (let k = names.length - 1; k >= 0; k--) {
    const name = names[k];
    if (typeof name !== "string")
      throw new DecodeError(at, `element ${i}: cgroup name ${k} is ${typeName(name)}, not str`);
    path += "/" + name;
  }
  return path === "" ? "/" : path;
}
