// bun:ffi binding of liblanner.so (native/loader.c documents each function).
import { dlopen, FFIType, type Pointer } from "bun:ffi";
import { loadDependencies, shimPath } from "./native-libs.ts";

const { ptr, u32, u64, i32 } = FFIType;

const SYMBOLS = {
  lanner_open: { args: [ptr, u64, u32, u32, ptr], returns: ptr },
  lanner_rodata_set: { args: [ptr, ptr, ptr, u32], returns: i32 },
  lanner_rodata_get: { args: [ptr, ptr, ptr, u32], returns: i32 },
  lanner_load: { args: [ptr], returns: i32 },
  lanner_attach: { args: [ptr], returns: i32 },
  lanner_detach: { args: [ptr], returns: FFIType.void },
  lanner_drain: { args: [ptr, ptr, u32, ptr], returns: i32 },
  lanner_counters: { args: [ptr, ptr, u32], returns: i32 },
  lanner_boot_offset: { args: [ptr], returns: i32 },
  lanner_failed_program: { args: [ptr, ptr, u32], returns: u32 },
  lanner_log_tail: { args: [ptr, u32], returns: u32 },
  lanner_close: { args: [ptr], returns: FFIType.void },
  lanner_select: { args: [ptr, ptr, u32], returns: i32 },
  lanner_open_filter: { args: [ptr, u32, ptr, u32], returns: i32 },
  lanner_agent_host: { args: [ptr], returns: u32 },
  lanner_misses: { args: [ptr, ptr], returns: i32 },
  lanner_set_rings: { args: [ptr, ptr, u32, u32], returns: i32 },
  lanner_ring_count: { args: [ptr], returns: u32 },
  lanner_ring_stats: { args: [ptr, ptr, u32], returns: i32 },
} as const;

export type Shim = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];
export type Handle = Pointer;

let shim: Shim | null = null;

/** Loads the embedded libraries and the shim once per process; throws on dlopen failure. */
export function loadShim(): Shim {
  if (shim === null) {
    loadDependencies();
    shim = dlopen(shimPath(), SYMBOLS).symbols;
  }
  return shim;
}

/** bun:ffi types pointer results as `Pointer | bigint | null`; user-space pointers on x86_64
 * fit in 47 bits, so a bigint would mean a broken binding. */
export function asPointer(p: Pointer | bigint | null): Pointer | null {
  if (typeof p === "bigint") throw new Error(`pointer 0x${p.toString(16)} does not fit a JS number`);
  return p;
}

export function cString(s: string): Buffer {
  return Buffer.from(s + "\0", "utf8");
}

/** A NUL-terminated string the shim wrote into `buf`, `length` bytes long. */
export function readText(buf: Uint8Array, length: number): string {
  return new TextDecoder().decode(buf.subarray(0, Math.min(length, buf.length)));
}

/** libbpf's last messages (verifier log tail included), at most `maxBytes`. */
export function logTail(s: Shim, maxBytes = 8192): string {
  const buf = new Uint8Array(maxBytes);
  return readText(buf, s.lanner_log_tail(buf, buf.length));
}

export function failedProgram(s: Shim, handle: Handle): string {
  const buf = new Uint8Array(128);
  return readText(buf, s.lanner_failed_program(handle, buf, buf.length));
}
