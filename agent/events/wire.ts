// The direct record reader: the generated FAST_DECODERS (kinds.gen.ts) read a record's
// MessagePack straight from the bytes through one reused Cursor, without building the generic
// array msgpackr would (measured: docs/PERFORMANCE.md, Replay). It accepts only the encodings the
// probe and the capture writer produce (ints, ASCII str, bin, arrays, nil); anything else, and any
// malformed record, makes it give up (FALLBACK), and decode.ts decodes the record again through
// msgpackr and the checked readers (readers.ts), which give the same event or the exact error.
// So this file never decides that a record is bad: it only recognises good ones.
import { ipv6, orientTuple, PATH_DEPTH_MAX, type WireTypeName } from "./readers.ts";
import type { SockAddr, SocketTuple } from "./types.ts";

/** Thrown (one preallocated instance) when the fast path cannot decode a record. */
export const FALLBACK: Error = new Error("record needs the generic decoder");

/** Bun's Buffer has native latin1Slice (absent from its type declarations). */
interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

const EMPTY = new Uint8Array(0);
const AF_INET = 2;
const AF_INET6 = 10;
/** Deeper nesting in an unknown trailing parameter goes to the generic decoder. */
const SKIP_DEPTH_MAX = 8;
/** Longest joined path built in the scratch buffer; longer ones take the generic decoder. */
const SCRATCH_MAX = 1 << 16;
const utf8 = new TextDecoder("utf-8", { fatal: false });

/** The record being read: bytes[pos, end). One per decoder, reused for every record. */
export class Cursor {
  bytes: Uint8Array = EMPTY;
  /** A Buffer view of `bytes` (same memory), for native string slicing. */
  text: Latin1Slicer = Buffer.alloc(0) as unknown as Latin1Slicer;
  pos = 0;
  end = 0;
  /** Parameters the record carries (elements after the header, without the cut bitmask). */
  present = 0;
  /** Scratch for joining path names without intermediate strings. */
  scratch = new Uint8Array(4096);
  private scratchText: Latin1Slicer = Buffer.from(this.scratch.buffer) as unknown as Latin1Slicer;

  /** Points the cursor at bytes[start, end); the Buffer view is made once per batch. */
  reset(bytes: Uint8Array, start: number, end: number): void {
    if (bytes !== this.bytes) {
      this.bytes = bytes;
      this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as unknown as Latin1Slicer;
    }
    this.pos = start;
    this.end = end;
  }

  scratchString(length: number): string {
    return this.scratchText.latin1Slice(0, length);
  }

  growScratch(min: number): void {
    this.scratch = new Uint8Array(Math.max(min, Math.min(this.scratch.length * 2, SCRATCH_MAX)));
    this.scratchText = Buffer.from(this.scratch.buffer) as unknown as Latin1Slicer;
  }
}

/** Any MessagePack integer, as msgpackr reads it with int64AsType "number". */
function int(c: Cursor): number {
  const b = c.bytes;
  const p = c.pos;
  if (p >= c.end) throw FALLBACK;
  const t = b[p];
  if (t < 0x80) {
    c.pos = p + 1;
    return t;
  }
  if (t >= 0xe0) {
    c.pos = p + 1;
    return t - 0x100;
  }
  let size: number;
  let v: number;
  switch (t) {
    case 0xcc:
      size = 2;
      v = b[p + 1];
      break;
    case 0xcd:
      size = 3;
      v = (b[p + 1] << 8) | b[p + 2];
      break;
    case 0xce:
      size = 5;
      v = ((b[p + 1] << 24) | (b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4]) >>> 0;
      break;
    case 0xcf:
      size = 9;
      v = u32At(b, p + 1) * 0x100000000 + u32At(b, p + 5);
      break;
    case 0xd0:
      size = 2;
      v = (b[p + 1] << 24) >> 24;
      break;
    case 0xd1:
      size = 3;
      v = (((b[p + 1] << 8) | b[p + 2]) << 16) >> 16;
      break;
    case 0xd2:
      size = 5;
      v = (b[p + 1] << 24) | (b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4];
      break;
    case 0xd3:
      size = 9;
      v = (u32At(b, p + 1) | 0) * 0x100000000 + u32At(b, p + 5);
      break;
    default:
      throw FALLBACK;
  }
  if (p + size > c.end) throw FALLBACK;
  c.pos = p + size;
  return v;
}

function u32At(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

// i32 and u32 read the common encodings themselves, as int does, and call int for the rest: the
// call was not inlined into the generated decoders, and these two are most of a record's fields
// (record decode alone 20 % faster, docs/PERFORMANCE.md).
export function i32(c: Cursor): number {
  const p = c.pos;
  if (p < c.end) {
    const t = c.bytes[p];
    if (t < 0x80) {
      c.pos = p + 1;
      return t;
    }
    if (t >= 0xe0) {
      c.pos = p + 1;
      return t - 0x100;
    }
    // int8: AT_FDCWD (-100) in every *at record's dirfd, and errnos beyond -32.
    if (t === 0xd0 && p + 2 <= c.end) {
      c.pos = p + 2;
      return (c.bytes[p + 1] << 24) >> 24;
    }
  }
  const v = int(c);
  if (v < -0x80000000 || v > 0x7fffffff) throw FALLBACK;
  return v;
}
export function u32(c: Cursor): number {
  const b = c.bytes;
  const p = c.pos;
  if (p < c.end) {
    const t = b[p];
    if (t < 0x80) {
      c.pos = p + 1;
      return t;
    }
    if (t === 0xcd && p + 3 <= c.end) {
      c.pos = p + 3;
      return (b[p + 1] << 8) | b[p + 2];
    }
    if (t === 0xce && p + 5 <= c.end) {
      c.pos = p + 5;
      return ((b[p + 1] << 24) | (b[p + 2] << 16) | (b[p + 3] << 8) | b[p + 4]) >>> 0;
    }
  }
  const v = int(c);
  if (v < 0 || v > 0xffffffff) throw FALLBACK;
  return v;
}
export function i64(c: Cursor): number {
  const v = int(c);
  if (v < -(2 ** 63) || v > 2 ** 63) throw FALLBACK;
  return v;
}
export function u64(c: Cursor): number {
  const v = int(c);
  if (v < 0 || v > 2 ** 64) throw FALLBACK;
  return v;
}

/** An array header: the element count. */
export function arrayHeader(c: Cursor): number {
  const b = c.bytes;
  const p = c.pos;
  if (p >= c.end) throw FALLBACK;
  const t = b[p];
  let count: number;
  if (t >= 0x90 && t <= 0x9f) {
    count = t - 0x90;
    c.pos = p + 1;
  } else if (t === 0xdc && p + 3 <= c.end) {
    count = (b[p + 1] << 8) | b[p + 2];
    c.pos = p + 3;
  } else if (t === 0xdd && p + 5 <= c.end) {
    count = u32At(b, p + 1);
    c.pos = p + 5;
  } else throw FALLBACK;
  // Every element takes at least one byte.
  if (count > c.end - c.pos) throw FALLBACK;
  return count;
}

/** Start of a str's bytes (its length in strLength); the cursor moves past it. */
let strLength = 0;
function strStart(c: Cursor): number {
  const b = c.bytes;
  const p = c.pos;
  if (p >= c.end) throw FALLBACK;
  const t = b[p];
  let s: number;
  if (t >= 0xa0 && t <= 0xbf) {
    strLength = t - 0xa0;
    s = p + 1;
  } else if (t === 0xd9 && p + 2 <= c.end) {
    strLength = b[p + 1];
    s = p + 2;
  } else if (t === 0xda && p + 3 <= c.end) {
    strLength = (b[p + 1] << 8) | b[p + 2];
    s = p + 3;
  } else if (t === 0xdb && p + 5 <= c.end) {
    strLength = u32At(b, p + 1);
    s = p + 5;
  } else throw FALLBACK;
  if (s + strLength > c.end) throw FALLBACK;
  c.pos = s + strLength;
  return s;
}

/**
 * Only ASCII: msgpackr's decoding of other UTF-8 (and of invalid bytes) is its own. Short strings
 * come from a direct-mapped cache (the same paths, comms and names recur): a hit costs a byte
 * compare instead of a new string, and equal strings are then one string for the rules.
 */
function ascii(c: Cursor, s: number, e: number): string {
  if (!hashAscii(c.bytes, s, e)) throw FALLBACK;
  return cachedAscii(c, s, e);
}

/** The hash hashAscii computed last (a module variable, as strLength: no object per string). */
let asciiHash = 0;
/** Whether bytes[s, e) are all ASCII; if so, their hash is left in asciiHash. */
function hashAscii(b: Uint8Array, s: number, e: number): boolean {
  let h = e - s;
  for (let k = s; k < e; k++) {
    const byte = b[k];
    if (byte >= 0x80) return false;
    h = Math.imul(h ^ byte, 0x01000193);
  }
  asciiHash = h;
  return true;
}

/** bytes[s, e), which hashAscii has just found ASCII, as a string: from the cache when it holds them. */
function cachedAscii(c: Cursor, s: number, e: number): string {
  const b = c.bytes;
  const h = asciiHash;
  const length = e - s;
  if (length === 0) return "";
  if (length > STRING_CACHE_LENGTH) return c.text.latin1Slice(s, e);
  const slot = (h ^ (h >>> 15)) & (STRING_CACHE_SLOTS - 1);
  const hit = STRING_CACHE[slot];
  if (hit.length === length) {
    let k = 0;
    while (k < length && hit.charCodeAt(k) === b[s + k]) k++;
    if (k === length) return hit;
  }
  const fresh = c.text.latin1Slice(s, e);
  STRING_CACHE[slot] = fresh;
  return fresh;
}
/** Bounded: at most STRING_CACHE_SLOTS strings of at most STRING_CACHE_LENGTH characters. */
const STRING_CACHE_SLOTS = 4096;
const STRING_CACHE_LENGTH = 128;
const STRING_CACHE: string[] = new Array(STRING_CACHE_SLOTS).fill("");

export function str(c: Cursor): string {
  const s = strStart(c);
  return ascii(c, s, s + strLength);
}

/** Start of a bin's bytes (its length in binLength); the cursor moves past it. */
let binLength = 0;
function binStart(c: Cursor): number {
  const b = c.bytes;
  const p = c.pos;
  if (p >= c.end) throw FALLBACK;
  const t = b[p];
  let s: number;
  if (t === 0xc4 && p + 2 <= c.end) {
    binLength = b[p + 1];
    s = p + 2;
  } else if (t === 0xc5 && p + 3 <= c.end) {
    binLength = (b[p + 1] << 8) | b[p + 2];
    s = p + 3;
  } else if (t === 0xc6 && p + 5 <= c.end) {
    binLength = u32At(b, p + 1);
    s = p + 5;
  } else throw FALLBACK;
  if (s + binLength > c.end) throw FALLBACK;
  c.pos = s + binLength;
  return s;
}

/** One argument or environment string: ASCII ones through ascii()'s cache (argv[0], flags and
 * file names recur from exec to exec), others UTF-8 decoded. */
function piece(c: Cursor, s: number, e: number): string {
  return hashAscii(c.bytes, s, e) ? cachedAscii(c, s, e) : utf8.decode(c.bytes.subarray(s, e));
}

/** NUL-separated strings (readers.ts argv): the same split, UTF-8 decoded like it. */
export function argv(c: Cursor): string[] {
  const s = binStart(c);
  const e = s + binLength;
  const b = c.bytes;
  const out: string[] = [];
  let from = s;
  for (let k = s; k < e; k++) {
    if (b[k] === 0) {
      out.push(piece(c, from, k));
      from = k + 1;
    }
  }
  if (from < e) out.push(piece(c, from, e));
  return out;
}

/** Names leaf first to "/root/.../leaf" ("/" when none), built in the scratch buffer. */
function leafFirstPath(c: Cursor): string {
  const count = arrayHeader(c);
  if (count > PATH_DEPTH_MAX) throw FALLBACK;
  if (count === 0) return "/";
  // Name offsets first (leaf first), then copy root first.
  const starts = NAME_STARTS;
  const lengths = NAME_LENGTHS;
  let total = 0;
  for (let k = 0; k < count; k++) {
    starts[k] = strStart(c);
    lengths[k] = strLength;
    total += strLength + 1;
  }
  if (total > c.scratch.length) {
    if (total > SCRATCH_MAX) throw FALLBACK;
    c.growScratch(total);
  }
  const b = c.bytes;
  const out = c.scratch;
  let o = 0;
  for (let k = count - 1; k >= 0; k--) {
    out[o++] = 0x2f;
    const s = starts[k];
    const e = s + lengths[k];
    for (let i = s; i < e; i++) {
      const byte = b[i];
      if (byte >= 0x80) throw FALLBACK;
      out[o++] = byte;
    }
  }
  return c.scratchString(o);
}
const NAME_STARTS = new Int32Array(PATH_DEPTH_MAX);
const NAME_LENGTHS = new Int32Array(PATH_DEPTH_MAX);

export const cgroup = leafFirstPath;
export const dentry_path = leafFirstPath;

function isNil(c: Cursor): boolean {
  if (c.pos < c.end && c.bytes[c.pos] === 0xc0) {
    c.pos++;
    return true;
  }
  return false;
}

function ipv4(b: Uint8Array, s: number): string {
  return `${b[s]}.${b[s + 1]}.${b[s + 2]}.${b[s + 3]}`;
}

/** A socket address as readers.ts shows it: str (unix path) or bin of the family's size. */
function address(c: Cursor, family: number): string {
  const t = c.pos < c.end ? c.bytes[c.pos] : 0;
  if ((t >= 0xa0 && t <= 0xbf) || (t >= 0xd9 && t <= 0xdb)) return str(c);
  const s = binStart(c);
  const b = c.bytes;
  if (family === AF_INET && binLength === 4) return ipv4(b, s);
  if (family === AF_INET6 && binLength === 16) return ipv6(b.subarray(s, s + 16));
  if (binLength === 0) return "";
  throw FALLBACK;
}

function port(c: Cursor): number {
  const v = int(c);
  if (v < 0 || v > 0xffff) throw FALLBACK;
  return v;
}

export function tuple(c: Cursor, inbound: boolean): SocketTuple | null {
  if (isNil(c)) return null;
  if (arrayHeader(c) !== 5) throw FALLBACK;
  const family = int(c);
  const local = address(c, family);
  const localPort = port(c);
  const remote = address(c, family);
  const remotePort = port(c);
  return orientTuple(family, local, localPort, remote, remotePort, inbound);
}

export function sockaddr(c: Cursor): SockAddr | null {
  if (isNil(c)) return null;
  if (arrayHeader(c) !== 3) throw FALLBACK;
  const family = int(c);
  const addr = address(c, family);
  return { family, addr, port: port(c) };
}

/** Steps over one value this agent does not know (a newer probe's extra parameter). */
function skip(c: Cursor, depth: number): void {
  if (c.pos >= c.end) throw FALLBACK;
  const t = c.bytes[c.pos];
  if (t < 0x80 || t >= 0xe0 || (t >= 0xcc && t <= 0xd3)) {
    int(c);
  } else if ((t >= 0xa0 && t <= 0xbf) || (t >= 0xd9 && t <= 0xdb)) {
    strStart(c);
  } else if (t >= 0xc4 && t <= 0xc6) {
    binStart(c);
  } else if (t >= 0xc0 && t <= 0xc3 && t !== 0xc1) {
    c.pos++; // nil, false, true
  } else if (t === 0xca || t === 0xcb) {
    const size = t === 0xca ? 5 : 9;
    if (c.pos + size > c.end) throw FALLBACK;
    c.pos += size;
  } else if ((t >= 0x90 && t <= 0x9f) || t === 0xdc || t === 0xdd) {
    if (depth >= SKIP_DEPTH_MAX) throw FALLBACK;
    const count = arrayHeader(c);
    for (let k = 0; k < count; k++) skip(c, depth + 1);
  } else throw FALLBACK;
}

/**
 * After a kind's `known` parameters: steps over newer ones, reads the cut bitmask (the last
 * element) with decode.ts's check, and requires the record to end there. Returns the bitmask.
 */
export function finish(c: Cursor, known: number): number {
  for (let k = known; k < c.present; k++) skip(c, 0);
  const cut = u32(c);
  if (c.present < 31 && cut >>> c.present !== 0) throw FALLBACK;
  if (c.pos !== c.end) throw FALLBACK;
  return cut;
}

/** Wire types this reader handles: all of them (the generator checks against this list). */
export const WIRE_TYPES: readonly WireTypeName[] = [
  "i32",
  "u32",
  "i64",
  "u64",
  "str",
  "argv",
  "cgroup",
  "dentry_path",
  "tuple",
  "sockaddr",
];
