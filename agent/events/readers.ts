// Element readers for the generated decoders (kinds.gen.ts): each checks the MessagePack value's
// type and turns it into the decoded form. A wrong type is a DecodeError naming the element.
import { DecodeError } from "./decode-error.ts";
import type { SockAddr, SocketTuple } from "./types.ts";

export type WireTypeName =
  | "i32"
  | "u32"
  | "i64"
  | "u64"
  | "str"
  | "argv"
  | "cgroup"
  | "dentry_path"
  | "tuple"
  | "sockaddr";

/** The header fields every decoder copies. */
export interface Base {
  num: number;
  bootSec: number;
  bootNsec: number;
  tid: number;
  pid: number;
  cut: number;
}

/** Most names a cgroup or cwd list may carry (LANNER_CGROUP_DEPTH / LANNER_CWD_DEPTH). */
export const PATH_DEPTH_MAX = 16;
const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const utf8 = new TextDecoder("utf-8", { fatal: false });

export function typeName(v: unknown): string {
  if (v === null) return "nil";
  if (v instanceof Uint8Array) return "bin";
  if (Array.isArray(v)) return "array";
  if (v instanceof Map) return "map";
  return typeof v;
}

function wrongType(r: unknown[], i: number, at: number, expected: string): DecodeError {
  const v = r[i];
  const shown = typeof v === "number" ? ` ${v}` : "";
  return new DecodeError(
    at,
    `element ${i}: expected ${expected}, got ${typeName(v)}${shown} (kind ${String(r[0])})`,
  );
}

function integer(r: unknown[], i: number, at: number, min: number, max: number, name: string): number {
  const v = r[i];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw wrongType(r, i, at, name);
  return v;
}

export const i32 = (r: unknown[], i: number, at: number): number =>
  integer(r, i, at, -0x80000000, 0x7fffffff, "int32");
export const u32 = (r: unknown[], i: number, at: number): number =>
  integer(r, i, at, 0, 0xffffffff, "uint32");
/** 64-bit values beyond 2^53 lose precision (msgpackr decodes them as doubles). */
export const i64 = (r: unknown[], i: number, at: number): number =>
  integer(r, i, at, -(2 ** 63), 2 ** 63, "int64");
export const u64 = (r: unknown[], i: number, at: number): number => integer(r, i, at, 0, 2 ** 64, "uint64");

export function str(r: unknown[], i: number, at: number): string {
  const v = r[i];
  if (typeof v !== "string") throw wrongType(r, i, at, "str");
  return v;
}

/** NUL-separated strings as the kernel keeps argv and environ. A blob cut to its bound ends
 * without NUL; its last, partial string is kept. */
export function argv(r: unknown[], i: number, at: number): string[] {
  const blob = r[i];
  if (!(blob instanceof Uint8Array)) throw wrongType(r, i, at, "bin");
  const out: string[] = [];
  let from = 0;
  for (let k = 0; k < blob.length; k++) {
    if (blob[k] === 0) {
      out.push(utf8.decode(blob.subarray(from, k)));
      from = k + 1;
    }
  }
  if (from < blob.length) out.push(utf8.decode(blob.subarray(from)));
  return out;
}

/** Names sent leaf first; the path is "/" + root-first names joined by "/" ("/" when empty). */
function leafFirstPath(r: unknown[], i: number, at: number): string {
  const v = r[i];
  if (!Array.isArray(v)) throw wrongType(r, i, at, "array of str");
  const names: unknown[] = v;
  if (names.length > PATH_DEPTH_MAX) {
    throw new DecodeError(at, `element ${i}: ${names.length} path names, at most ${PATH_DEPTH_MAX}`);
  }
  let path = "";
  for (let k = names.length - 1; k >= 0; k--) {
    const name = names[k];
    if (typeof name !== "string")
      throw new DecodeError(at, `element ${i}: name ${k} is ${typeName(name)}, not str`);
    path += "/" + name;
  }
  return path === "" ? "/" : path;
}

export const cgroup = leafFirstPath;
export function dentry_path(r: unknown[], i: number, at: number): string {
  return leafFirstPath(r, i, at);
}

function ipv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** RFC 5952 text: lowercase, longest run of zero groups (2+) as "::", IPv4-mapped as ::ffff:a.b.c.d. */
export function ipv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let k = 0; k < 16; k += 2) g.push((b[k] << 8) | b[k + 1]);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `::ffff:${ipv4(b.subarray(12))}`;
  let best = -1;
  let bestLen = 1;
  for (let k = 0; k < 8; ) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) {
      best = k;
      bestLen = e - k;
    }
    k = e;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

function address(family: number, v: unknown, r: unknown[], i: number, at: number): string {
  if (typeof v === "string") return v; // AF_UNIX path
  if (!(v instanceof Uint8Array)) throw new DecodeError(at, `element ${i}: address is ${typeName(v)}`);
  if (family === AF_INET && v.length === 4) return ipv4(v);
  if (family === AF_INET6 && v.length === 16) return ipv6(v);
  if (v.length === 0) return "";
  throw new DecodeError(at, `element ${i}: ${v.length}-byte address for family ${family} in ${typeName(r)}`);
}

function port(v: unknown, i: number, at: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffff) {
    throw new DecodeError(at, `element ${i}: port ${String(v)} is not a uint16`);
  }
  return v;
}

/** [family, local addr, local port, remote addr, remote port]; `inbound` puts the peer first
 * (Falco's source is the side that initiated: the peer for accept and receive). */
export function tuple(r: unknown[], i: number, at: number, inbound: boolean): SocketTuple | null {
  const v = r[i];
  if (v === null) return null;
  if (!Array.isArray(v) || v.length !== 5 || typeof v[0] !== "number") throw wrongType(r, i, at, "tuple[5]");
  const family = v[0];
  const local = address(family, v[1], r, i, at);
  const localPort = port(v[2], i, at);
  const remote = address(family, v[3], r, i, at);
  const remotePort = port(v[4], i, at);
  return orientTuple(family, local, localPort, remote, remotePort, inbound);
}

/** A socket's two ends as Falco names them: the source is the side that initiated (the peer for
 * accept and receive); a unix socket keeps only the server side's path. */
export function orientTuple(
  family: number,
  local: string,
  localPort: number,
  remote: string,
  remotePort: number,
  inbound: boolean,
): SocketTuple {
  if (family === AF_UNIX) {
    // The server side's path: the peer's when this end connected, this end's when it accepted.
    const server = inbound ? local : remote;
    return {
      family,
      srcIp: "",
      srcPort: 0,
      dstIp: "",
      dstPort: 0,
      path: server !== "" ? server : inbound ? remote : local,
    };
  }
  return inbound
    ? { family, srcIp: remote, srcPort: remotePort, dstIp: local, dstPort: localPort, path: "" }
    : { family, srcIp: local, srcPort: localPort, dstIp: remote, dstPort: remotePort, path: "" };
}

export function sockaddr(r: unknown[], i: number, at: number): SockAddr | null {
  const v = r[i];
  if (v === null) return null;
  if (!Array.isArray(v) || v.length !== 3 || typeof v[0] !== "number")
    throw wrongType(r, i, at, "sockaddr[3]");
  return { family: v[0], addr: address(v[0], v[1], r, i, at), port: port(v[2], i, at) };
}

export const FAMILY = { unix: AF_UNIX, inet: AF_INET, inet6: AF_INET6 } as const;
