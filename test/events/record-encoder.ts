// A test-side MessagePack writer that produces exactly the byte layouts the probe writes
// (native/msgpack.bpf.h): fixarray records, smallest integer encodings, str16 strings, bin16
// argv blobs, array16 cgroup lists. Independent of msgpackr on purpose.
import { EXEC_PARAM, HEADER_FIELDS, KIND_ID, OPEN_PARAM } from "../../agent/events/schema.ts";
import type { Event, EventKind } from "../../agent/events/types.ts";

export class RecordWriter {
  private bytes: number[] = [];

  u8(...values: number[]): this {
    for (const v of values) this.bytes.push(v & 0xff);
    return this;
  }

  private be16(v: number): this {
    return this.u8(v >> 8, v);
  }

  private be32(v: number): this {
    return this.u8(v >>> 24, v >>> 16, v >>> 8, v);
  }

  fixarray(n: number): this {
    if (n > 15) throw new Error("fixarray holds at most 15");
    return this.u8(0x90 | n);
  }

  array16(n: number): this {
    return this.u8(0xdc).be16(n);
  }

  uint(v: number): this {
    if (v < 0 || v > 0xffffffff) throw new Error(`uint out of range: ${v}`);
    if (v < 0x80) return this.u8(v);
    if (v <= 0xff) return this.u8(0xcc, v);
    if (v <= 0xffff) return this.u8(0xcd).be16(v);
    return this.u8(0xce).be32(v);
  }

  int(v: number): this {
    if (v >= 0) return this.uint(v);
    if (v >= -32) return this.u8(v);
    if (v >= -128) return this.u8(0xd0, v);
    if (v >= -32768) return this.u8(0xd1).be16(v);
    return this.u8(0xd2).be32(v);
  }

  str(s: string): this {
    const utf8 = new TextEncoder().encode(s);
    return this.u8(0xda)
      .be16(utf8.length)
      .u8(...utf8);
  }

  bin(data: Uint8Array): this {
    return this.u8(0xc5)
      .be16(data.length)
      .u8(...data);
  }

  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

export interface Header {
  bootSec?: number;
  bootNsec?: number;
  tid?: number;
  pid?: number;
  cut?: number;
}

function header(w: RecordWriter, kind: EventKind, params: number, h: Header): RecordWriter {
  return w
    .fixarray(HEADER_FIELDS + params + 1)
    .uint(KIND_ID[kind])
    .uint(h.bootSec ?? 100)
    .uint(h.bootNsec ?? 5)
    .uint(h.tid ?? 1234)
    .uint(h.pid ?? 1234);
}

export interface ExecParams extends Header {
  kind?: "execve" | "execveat";
  res?: number;
  ppid?: number;
  uid?: number;
  gid?: number;
  comm?: string;
  filename?: string;
  /** The raw blob: NUL after each argument (as the kernel keeps argv). */
  argsBlob?: Uint8Array;
  /** Leaf first, as the probe sends them. */
  cgroupLeafFirst?: string[];
}

export function argsBlob(args: string[]): Uint8Array {
  return new TextEncoder().encode(args.map((a) => a + "\0").join(""));
}

export function execRecord(p: ExecParams = {}): Uint8Array {
  const w = header(new RecordWriter(), p.kind ?? "execve", 8, p);
  const names = p.cgroupLeafFirst ?? [];
  w.int(p.res ?? 0)
    .uint(p.ppid ?? 1)
    .uint(p.uid ?? 0)
    .uint(p.gid ?? 0)
    .str(p.comm ?? "true")
    .str(p.filename ?? "/bin/true")
    .bin(p.argsBlob ?? argsBlob(["/bin/true"]))
    .array16(names.length);
  for (const name of names) w.str(name);
  return w.uint(p.cut ?? 0).done();
}

export interface OpenParams extends Header {
  kind?: "open" | "openat" | "openat2";
  res?: number;
  dirfd?: number;
  path?: string;
  flags?: number;
  mode?: number;
  resolve?: number;
}

export function openRecord(p: OpenParams = {}): Uint8Array {
  return header(new RecordWriter(), p.kind ?? "openat", 6, p)
    .int(p.res ?? 3)
    .int(p.dirfd ?? -100)
    .str(p.path ?? "/etc/hostname")
    .uint(p.flags ?? 0)
    .uint(p.mode ?? 0)
    .uint(p.resolve ?? 0)
    .uint(p.cut ?? 0)
    .done();
}

export function exitRecord(p: Header & { exitCode?: number } = {}): Uint8Array {
  return header(new RecordWriter(), "procexit", 1, p)
    .int(p.exitCode ?? 0)
    .uint(p.cut ?? 0)
    .done();
}

export function forkRecord(p: Header & { childTid?: number; childPid?: number } = {}): Uint8Array {
  return header(new RecordWriter(), "procfork", 2, p)
    .uint(p.childTid ?? 2000)
    .uint(p.childPid ?? 2000)
    .uint(p.cut ?? 0)
    .done();
}

/** Frames as the shim writes them: [u32 little-endian length][record]. */
export function frames(records: Uint8Array[]): Uint8Array {
  const total = records.reduce((n, r) => n + 4 + r.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const r of records) {
    view.setUint32(at, r.length, true);
    out.set(r, at + 4);
    at += 4 + r.length;
  }
  return out;
}

export { EXEC_PARAM, OPEN_PARAM };

/** The record the probe would have written for a decoded event (inverse of RecordDecoder). */
export function encodeEvent(e: Event): Uint8Array {
  const header = { bootSec: e.bootSec, bootNsec: e.bootNsec, tid: e.tid, pid: e.pid, cut: e.cut };
  switch (e.kind) {
    case "execve":
    case "execveat": {
      const argsCut = (e.cut & (1 << EXEC_PARAM.args)) !== 0;
      const blob = argsCut ? new TextEncoder().encode(e.args.join("\0")) : argsBlob(e.args);
      const names = e.cgroup === "/" ? [] : e.cgroup.slice(1).split("/").toReversed();
      return execRecord({ ...header, ...e, argsBlob: blob, cgroupLeafFirst: names });
    }
    case "open":
    case "openat":
    case "openat2":
      return openRecord({ ...header, ...e });
    case "procexit":
      return exitRecord({ ...header, exitCode: e.exitCode });
    case "procfork":
      return forkRecord({ ...header, childTid: e.childTid, childPid: e.childPid });
  }
}
