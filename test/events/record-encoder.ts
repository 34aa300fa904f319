// A test-side MessagePack writer that produces exactly the byte layouts the probe writes
// (native/msgpack.bpf.h): array16 records, smallest integer encodings, str16 strings, bin16
// argv blobs, array16 cgroup lists. Independent of msgpackr on purpose. encodeEvent is driven by
// the event table, so every kind has an encoder the moment it has a row.
import { EXEC_PARAM, HEADER_FIELDS, KIND_ID, OPEN_PARAM } from "../../agent/events/schema.ts";
import { EVENT_TABLE, type ParamSpec } from "../../agent/events/table.ts";
import type { Event, EventKind, SockAddr, SocketTuple } from "../../agent/events/types.ts";

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

  nil(): this {
    return this.u8(0xc0);
  }

  uint(v: number): this {
    if (v > 0xffffffff && Number.isSafeInteger(v)) {
      return this.u8(0xcf)
        .be32(Math.floor(v / 2 ** 32))
        .be32(v >>> 0);
    }
    if (v < 0 || v > 0xffffffff) throw new Error(`uint out of range: ${v}`);
    if (v < 0x80) return this.u8(v);
    if (v <= 0xff) return this.u8(0xcc, v);
    if (v <= 0xffff) return this.u8(0xcd).be16(v);
    return this.u8(0xce).be32(v);
  }

  int(v: number): this {
    if (v >= 0) return this.uint(v);
    if (v < -0x80000000) {
      const hi = Math.floor(v / 2 ** 32);
      return this.u8(0xd3)
        .be32(hi >>> 0)
        .be32((v - hi * 2 ** 32) >>> 0);
    }
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
    .array16(HEADER_FIELDS + params + 1)
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
  envBlob?: Uint8Array;
  cwdLeafFirst?: string[];
  tty?: number;
  loginuid?: number;
  sid?: number;
  pgid?: number;
  capEffective?: number;
  exeFlags?: number;
}

export function argsBlob(args: string[]): Uint8Array {
  return new TextEncoder().encode(args.map((a) => a + "\0").join(""));
}

/** A current (schema 2) exec record: all 16 parameters. */
export function execRecord(p: ExecParams = {}): Uint8Array {
  const w = header(new RecordWriter(), p.kind ?? "execve", 16, p);
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
  w.bin(p.envBlob ?? new Uint8Array());
  const cwd = p.cwdLeafFirst ?? [];
  w.array16(cwd.length);
  for (const name of cwd) w.str(name);
  w.uint(p.tty ?? 0)
    .uint(p.loginuid ?? 0xffffffff)
    .uint(p.sid ?? 0)
    .uint(p.pgid ?? 0)
    .uint(p.capEffective ?? 0)
    .uint(p.exeFlags ?? 0);
  return w.uint(p.cut ?? 0).done();
}

/** An exec record as schema 1 probes wrote it: fixarray, the first 8 parameters only. */
export function execRecordV1(p: ExecParams = {}): Uint8Array {
  const w = new RecordWriter()
    .fixarray(HEADER_FIELDS + 8 + 1)
    .uint(KIND_ID[p.kind ?? "execve"])
    .uint(p.bootSec ?? 100)
    .uint(p.bootNsec ?? 5)
    .uint(p.tid ?? 1234)
    .uint(p.pid ?? 1234);
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

/** A procfork record; without `sharesFds`, as schema 2 wrote it (two parameters). */
export function forkRecord(
  p: Header & { childTid?: number; childPid?: number; sharesFds?: number } = {},
): Uint8Array {
  const w = header(new RecordWriter(), "procfork", p.sharesFds === undefined ? 2 : 3, p)
    .uint(p.childTid ?? 2000)
    .uint(p.childPid ?? 2000);
  if (p.sharesFds !== undefined) w.uint(p.sharesFds);
  return w.uint(p.cut ?? 0).done();
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

const SPECS: ReadonlyMap<string, readonly ParamSpec[]> = new Map(EVENT_TABLE.map((k) => [k.name, k.params]));

function leafFirst(w: RecordWriter, path: string): void {
  const names = path === "/" || path === "" ? [] : path.slice(1).split("/").toReversed();
  w.array16(names.length);
  for (const name of names) w.str(name);
}

function ipBytes(family: number, text: string): Uint8Array {
  if (text === "") return new Uint8Array();
  if (family === 2) return Uint8Array.from(text.split(".").map(Number));
  const out = new Uint8Array(16);
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const mapped = tail?.includes(".") ? tail : undefined;
  const front = groups(head);
  const back = mapped === undefined ? groups(tail ?? "") : ["ffff"];
  front.forEach((g, i) => {
    out[2 * i] = Number.parseInt(g, 16) >> 8;
    out[2 * i + 1] = Number.parseInt(g, 16) & 0xff;
  });
  const start = mapped === undefined ? 8 - back.length : 5;
  back.forEach((g, i) => {
    out[2 * (start + i)] = Number.parseInt(g, 16) >> 8;
    out[2 * (start + i) + 1] = Number.parseInt(g, 16) & 0xff;
  });
  if (mapped !== undefined) out.set(mapped.split(".").map(Number), 12);
  return out;
}

function address(w: RecordWriter, family: number, text: string): void {
  if (family === 1) w.str(text);
  else w.bin(ipBytes(family, text));
}

function writeTuple(w: RecordWriter, t: SocketTuple | null, inbound: boolean): void {
  if (t === null) {
    w.nil();
    return;
  }
  // The wire holds local then remote; inbound kinds decode the remote end as source. A unix
  // tuple keeps one path, the server side's: local for inbound kinds, remote otherwise.
  const unix = t.family === 1;
  const [la, lp, ra, rp] = unix
    ? inbound
      ? [t.path, 0, "", 0]
      : ["", 0, t.path, 0]
    : inbound
      ? [t.dstIp, t.dstPort, t.srcIp, t.srcPort]
      : [t.srcIp, t.srcPort, t.dstIp, t.dstPort];
  w.array16(5).uint(t.family);
  address(w, t.family, la);
  w.uint(lp);
  address(w, t.family, ra);
  w.uint(rp);
}

function writeSockaddr(w: RecordWriter, a: SockAddr | null): void {
  if (a === null) {
    w.nil();
    return;
  }
  w.array16(3).uint(a.family);
  address(w, a.family, a.addr);
  w.uint(a.port);
}

/** The record the probe would have written for a decoded event (inverse of RecordDecoder). */
export function encodeEvent(e: Event): Uint8Array {
  const params = SPECS.get(e.kind);
  if (params === undefined) throw new Error(`no kind ${e.kind}`);
  const w = header(new RecordWriter(), e.kind, params.length, e);
  const fields = e as unknown as Record<string, unknown>;
  params.forEach((p, i) => {
    const v = fields[p.name] ?? p.default;
    switch (p.type) {
      case "i32":
      case "i64":
        w.int(v as number);
        break;
      case "u32":
      case "u64":
        w.uint(v as number);
        break;
      case "str":
        w.str(v as string);
        break;
      case "argv": {
        const list = (v ?? []) as string[];
        const cut = (e.cut & (1 << i)) !== 0;
        w.bin(cut ? new TextEncoder().encode(list.join("\0")) : argsBlob(list));
        break;
      }
      case "cgroup":
      case "dentry_path":
        leafFirst(w, v as string);
        break;
      case "tuple":
        writeTuple(w, v as SocketTuple | null, p.source.from === "sock" && p.source.inbound);
        break;
      case "sockaddr":
        writeSockaddr(w, v as SockAddr | null);
        break;
    }
  });
  return w.uint(e.cut).done();
}
